"""The video generator contract and the registry that picks one by name.

One method is the whole contract: `generate(job) -> RenderOutput` turns a story plus the local files of
the media it cites into one video file with its audio track, a thumbnail and subtitles, in the job's
work folder. The render service does everything around it (loading the story, fetching media,
checking, storing, the RDB row, the event), so a GPU backend only writes `generate`.

Backends register with `register_generator(name, factory)`; packages can also declare an entry point in
the group `trendreel.video_generators` (name = a factory taking RenderSettings). Built in: `compositor`
(ffmpeg on CPU, the default), `remote` (a model server, see trendreel.modelserver) and `ltx2` (LTX-2
through diffusers, GPU).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Protocol, runtime_checkable

from trendreel.errors import ConfigError
from trendreel.settings import RenderSettings

__all__ = ["MediaFile", "RenderJob", "RenderOutput", "VideoGenerator", "generator_names", "get_generator",
           "register_generator"]

ENTRY_POINT_GROUP = "trendreel.video_generators"


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


_FACTORIES: dict[str, Callable[[RenderSettings], VideoGenerator]] = {}


def register_generator(name: str, factory: Callable[[RenderSettings], VideoGenerator]) -> None:
    """Make a backend available as `render.backend = name` (and `--backend name`)."""
    _FACTORIES[name] = factory


def _builtins() -> None:
    if "compositor" not in _FACTORIES:
        from trendreel.render.compositor import Compositor

        register_generator("compositor", Compositor)
    if "remote" not in _FACTORIES:  # a model server (modelserver/), e.g. LTX-2 on a GPU machine
        from trendreel.render.remote import RemoteGenerator

        register_generator("remote", RemoteGenerator)
    if "ltx2" not in _FACTORIES:  # in this process: needs torch, diffusers, a GPU and the weights
        from trendreel.render.ltx2 import Ltx2Generator

        register_generator("ltx2", Ltx2Generator)


def generator_names() -> list[str]:
    _builtins()
    names = set(_FACTORIES)
    names.update(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    return sorted(names)


def get_generator(name: str, settings: RenderSettings) -> VideoGenerator:
    """The backend called `name`, built from the render settings; ConfigError names the known ones."""
    _builtins()
    if name not in _FACTORIES:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name == name:
                register_generator(name, ep.load())
                break
        else:
            raise ConfigError(f"unknown video backend {name!r}; known: {', '.join(generator_names())} (render.backend)")
    return _FACTORIES[name](settings)
