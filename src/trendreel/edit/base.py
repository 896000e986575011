"""The video editor contract and the registry that picks one by name.

One method is the whole contract: `edit(job) -> EditOutput` turns one finished video (with its .srt,
thumbnail, the row's details and the story it tells, when there is one) into an edited video with its
sound, a thumbnail and re-timed subtitles, in the job's work folder. The edit service does everything
around it (finding the source, fetching its files, checking, storing, the RDB row, the event), so a
remote backend (an AI editor behind a model server) only writes `edit`.

Editors are registry backends of kind video_editor (trendreel.registry): a factory taking EditSettings,
registered in code or as an entry point in the group `trendreel.video_editors`. `cutter` (ffmpeg on
CPU) is built in and the default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from trendreel.settings import EditSettings

__all__ = ["EditJob", "EditOutput", "Editor"]


@dataclass(frozen=True)
class EditJob:
    """What an editor gets: local copies of the source's files and what is known about it."""

    video_id: str  # the source video
    source: Path  # video.mp4 (H.264 + AAC)
    subtitles: Path | None  # its .srt, when it has one
    thumbnail: Path | None
    details: dict  # the source row's details (render plan with scene timing, warnings, ...)
    story: object | None  # trendreel.story.models.Story the video tells, when it is stored
    target_seconds: float | None  # longest result; None: only dead air is cut
    settings: EditSettings
    workdir: Path


@dataclass
class EditOutput:
    """Files written in the job's work folder, already checked by the editor."""

    video: Path
    thumbnail: Path
    subtitles: Path | None
    duration_s: float
    width: int
    height: int
    # What was cut: {"segments_kept", "segments_removed", "cuts", "removed_s": {reason: s}, "duration_before_s",
    # "duration_after_s", "removed": [{"start_s", "end_s", "reason"}]}; the service adds what is missing.
    summary: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)  # timings, analysis, loudness, checks, warnings, ...


@runtime_checkable
class Editor(Protocol):
    name: str

    def settings_key(self) -> str:
        """A short string that changes whenever the same source would be edited differently."""
        ...

    def edit(self, job: EditJob) -> EditOutput:
        """Edit the job's video into one new video with audio, a thumbnail and (when the source had one) an .srt."""
        ...
