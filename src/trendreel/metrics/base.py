"""The metrics source contract and the registry that picks one by platform name.

`fetch(publications) -> {publication_id: Sample}` reads the counts of a batch of publications of one
account (the collect service groups them by account and cuts batches of `metrics.batch_size`). A
publication the platform no longer knows comes back as a Sample with no counts and
`raw["status"] = "not_found"`; one whose counts cannot be read while the others can maps to a
MetricsError (recorded for that publication alone); one left out of the answer gets no sample. A source
that cannot read anything for the batch (credentials, quota, the platform down) raises a
TrendreelError whose message says what to fix; the service records it for that account and goes on.

Sources are registry backends of kind metrics_source (trendreel.registry): a factory taking the App,
registered in code or as an entry point in the group `trendreel.metrics_sources`. `folder`,
`youtube`, `tiktok` and `instagram` are built in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from trendreel.errors import NotFound, TrendreelError

__all__ = ["MetricsError", "MetricsNotFound", "MetricsSource", "Sample"]


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
