"""The video editor contract and the registry that picks one by name.

One method is the whole contract: `edit(job) -> EditOutput` turns one finished video (with its .srt,
thumbnail, the row's details and the story it tells, when there is one) into an edited video with its
sound, a thumbnail and re-timed subtitles, in the job's work folder. The edit service does everything
around it (finding the source, fetching its files, checking, storing, the RDB row, the event), so a
remote backend (an AI editor behind a model server) only writes `edit`.

Backends register with `register_editor(name, factory)`; packages can also declare an entry point in
the group `trendreel.video_editors` (name = a factory taking EditSettings). `cutter` (ffmpeg on CPU)
is built in and the default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Protocol, runtime_checkable

from trendreel.errors import ConfigError
from trendreel.settings import EditSettings

__all__ = ["EditJob", "EditOutput", "Editor", "editor_names", "get_editor", "register_editor"]

ENTRY_POINT_GROUP = "trendreel.video_editors"


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


_FACTORIES: dict[str, Callable[[EditSettings], Editor]] = {}


def register_editor(name: str, factory: Callable[[EditSettings], Editor]) -> None:
    """Make a backend available as `edit.backend = name` (and `--backend name`)."""
    _FACTORIES[name] = factory


def _builtins() -> None:
    if "cutter" not in _FACTORIES:
        from trendreel.edit.cutter import Cutter

        register_editor("cutter", Cutter)


def editor_names() -> list[str]:
    _builtins()
    names = set(_FACTORIES)
    names.update(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    return sorted(names)


def get_editor(name: str, settings: EditSettings) -> Editor:
    """The backend called `name`, built from the edit settings; ConfigError names the known ones."""
    _builtins()
    if name not in _FACTORIES:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name == name:
                register_editor(name, ep.load())
                break
        else:
            raise ConfigError(f"unknown video editor {name!r}; known: {', '.join(editor_names())} (edit.backend)")
    return _FACTORIES[name](settings)
