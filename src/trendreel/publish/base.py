"""The publisher contract and the registry that picks one by platform name.

`publish(job) -> PublishResult` puts one video on one account. The publish service does everything
around it (the approval gate, the duplicate guard, the publication row and its event, the trends
snapshot), so a platform only writes `publish`. A publisher that can be interrupted half-way keeps what
it needs to resume in `job.save_state(dict)`; the next `publish` of the same job gets it back in
`job.state` and must continue there (never start a second upload).

Platforms register with `register_publisher(name, factory)`; packages can also declare an entry point
in the group `trendreel.publishers` (name = a factory taking the App). `folder` and `youtube` are built in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Protocol, runtime_checkable

from trendreel.errors import ConfigError

__all__ = ["PublishJob", "PublishResult", "Publisher", "get_publisher", "publisher_names", "register_publisher"]

ENTRY_POINT_GROUP = "trendreel.publishers"


@dataclass
class PublishJob:
    """One video for one account, with its local files and the metadata to send."""

    publication_id: str
    video_id: str
    account: dict  # id, platform, name, options (never the credentials)
    video: Path
    thumbnail: Path | None
    subtitles: Path | None
    metadata: dict  # title, description, tags, language, story_id, trend_id, ...
    privacy: str
    state: dict = field(default_factory=dict)  # what an interrupted earlier attempt saved
    save_state: Callable[[dict], None] = lambda state: None
    on_progress: Callable[[int, int], None] | None = None  # bytes sent, bytes in all


@dataclass
class PublishResult:
    external_id: str
    url: str
    details: dict = field(default_factory=dict)  # what was sent, quota units, resumed, ...


@runtime_checkable
class Publisher(Protocol):
    name: str

    def publish(self, job: PublishJob) -> PublishResult:
        """Put the job's video on the job's account (resuming from job.state); the platform's id and URL."""
        ...


_FACTORIES: dict[str, Callable] = {}


def register_publisher(name: str, factory: Callable) -> None:
    """Make a platform available as `--to name:ACCOUNT`; factory(app) -> Publisher."""
    _FACTORIES[name] = factory


def _builtins() -> None:
    if "folder" not in _FACTORIES:
        from trendreel.publish.folder import FolderPublisher

        register_publisher("folder", FolderPublisher)
    if "youtube" not in _FACTORIES:
        from trendreel.publish.youtube import YouTubePublisher

        register_publisher("youtube", YouTubePublisher)


def publisher_names() -> list[str]:
    _builtins()
    names = set(_FACTORIES)
    names.update(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    return sorted(names)


def get_publisher(name: str, app) -> Publisher:
    """The platform called `name` for this app; ConfigError names the known ones."""
    _builtins()
    if name not in _FACTORIES:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name == name:
                register_publisher(name, ep.load())
                break
        else:
            raise ConfigError(f"unknown platform {name!r}; known: {', '.join(publisher_names())}")
    return _FACTORIES[name](app)
