"""The metrics source contract and the registry that picks one by platform name.

`fetch(publications) -> {publication_id: Sample}` reads the counts of a batch of publications of one
account (the collect service groups them by account and cuts batches of `metrics.batch_size`). A
publication the platform no longer knows comes back as a Sample with no counts and
`raw["status"] = "not_found"`; one whose counts cannot be read while the others can maps to a
MetricsError (recorded for that publication alone); one left out of the answer gets no sample. A source
that cannot read anything for the batch (credentials, quota, the platform down) raises a
TrendreelError whose message says what to fix; the service records it for that account and goes on.

Platforms register with `register_source(name, factory)`; packages can also declare an entry point in
the group `trendreel.metrics_sources` (name = a factory taking the App). `folder` and `youtube` are
built in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Protocol, runtime_checkable

from trendreel.errors import ConfigError, NotFound, TrendreelError

__all__ = ["MetricsError", "MetricsSource", "Sample", "get_source", "register_source", "source_names"]

ENTRY_POINT_GROUP = "trendreel.metrics_sources"


class MetricsError(TrendreelError):
    """Counts could not be read (or a publication is unknown); the message says what to fix."""


class MetricsNotFound(MetricsError, NotFound):
    """No publication has this id."""


@dataclass
class Sample:
    """Counts of one publication at one time; None = the platform does not say (hidden, unknown)."""

    views: int | None
    likes: int | None
    comments: int | None
    raw: dict = field(default_factory=dict)  # what the platform answered, and "status": ok | not_found | no_stats


@runtime_checkable
class MetricsSource(Protocol):
    name: str

    def fetch(self, publications: list[dict]) -> dict[str, Sample | MetricsError]:
        """Counts of a batch of publications of one account: {publication id: Sample (or MetricsError)}.

        Each publication dict has id, video_id, platform, external_id, url, details, published_at and
        account (id, platform, name, options; never credentials).
        """
        ...


_FACTORIES: dict[str, Callable] = {}


def register_source(name: str, factory: Callable) -> None:
    """Make a platform's counts collectable; factory(app) -> MetricsSource."""
    _FACTORIES[name] = factory


def _builtins() -> None:
    if "folder" not in _FACTORIES:
        from trendreel.metrics.folder import FolderMetrics

        register_source("folder", FolderMetrics)
    if "youtube" not in _FACTORIES:
        from trendreel.metrics.youtube import YouTubeMetrics

        register_source("youtube", YouTubeMetrics)


def source_names() -> list[str]:
    _builtins()
    return sorted(set(_FACTORIES) | {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})


def get_source(name: str, app) -> MetricsSource:
    """The metrics source of platform `name`; ConfigError names the known ones."""
    _builtins()
    if name not in _FACTORIES:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name == name:
                register_source(name, ep.load())
                break
        else:
            raise ConfigError(f"no metrics source for platform {name!r}; known: {', '.join(source_names())} "
                              f"(a package can add one under the entry point group {ENTRY_POINT_GROUP})")
    return _FACTORIES[name](app)
