"""The publisher contract and the registry that picks one by platform name.

`publish(job) -> PublishResult` puts one video on one account. The publish service does everything
around it (the approval gate, the duplicate guard, the publication row and its event, the trends
snapshot), so a platform only writes `publish`. A publisher that can be interrupted half-way keeps what
it needs to resume in `job.save_state(dict)`; the next `publish` of the same job gets it back in
`job.state` and must continue there (never start a second upload).

Platforms are registry backends of kind publisher (trendreel.registry): a factory taking the App,
registered in code or as an entry point in the group `trendreel.publishers`. `folder`, `youtube`,
`tiktok` and `instagram` are built in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable


__all__ = ["PublishJob", "PublishResult", "Publisher"]


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
