"""The video generator contract and the registry that picks one by name.

One method is the whole contract: `generate(job) -> RenderOutput` turns a story plus the local files of
the media it cites into one video file with its audio track, a thumbnail and subtitles, in the job's
work folder. The render service does everything around it (loading the story, fetching media,
checking, storing, the RDB row, the event), so a GPU backend only writes `generate`.

Backends are registry backends of kind video_generator (trendreel.registry): a factory taking
RenderSettings, registered in code or as an entry point in the group `trendreel.video_generators`.
Built in: `compositor` (ffmpeg on CPU, the default), `remote` (a model server, see
trendreel.modelserver) and `ltx2` (LTX-2 through diffusers, GPU).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from trendreel.settings import RenderSettings

__all__ = ["MediaFile", "RenderJob", "RenderOutput", "VideoGenerator"]


@dataclass(frozen=True)
class MediaFile:
    """A medium a story cites, as the service found it: a local file, or why there is none."""

    media_id: str
    kind: str  # image | video
    path: Path | None
    problem: str | None = None  # set when path is None: not in the database, purged, missing from the store
    mime: str | None = None


@dataclass(frozen=True)
class RenderJob:
    story: object  # trendreel.story.models.Story
    media: Mapping[str, MediaFile]
    settings: RenderSettings
    workdir: Path


@dataclass
class RenderOutput:
    """Files written in the job's work folder, already checked by the generator."""

    video: Path
    thumbnail: Path
    subtitles: Path
    duration_s: float
    width: int
    height: int
    details: dict = field(default_factory=dict)  # warnings, timings, voices, font, loudness, ...


@runtime_checkable
class VideoGenerator(Protocol):
    name: str

    def settings_key(self) -> str:
        """A short string that changes whenever the same story would render differently."""
        ...

    def generate(self, job: RenderJob) -> RenderOutput:
        """Render the job's story into one video with audio, a thumbnail and an .srt."""
        ...
