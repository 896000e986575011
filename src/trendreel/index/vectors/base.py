"""The VectorStore contract: records, filters, hits, and the checks every backend shares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Protocol, runtime_checkable
from urllib.parse import unquote, urlparse

import numpy as np

from trendreel.errors import ConfigError

KINDS = ("article", "chunk", "image", "video", "video_text", "article_repr")
# Which named vector (embedding space) each kind lives in; Qdrant keeps one named vector per modality.
MODALITY = {"article": "text", "chunk": "text", "video_text": "text", "article_repr": "text",
            "image": "image", "video": "video"}

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_US = timedelta(microseconds=1)


@dataclass
class VectorRecord:
    """One vector and the metadata that filters and hits need; `id` is unique in the store."""

    id: str
    vector: np.ndarray
    kind: str
    article_id: str
    category: str | None = None
    published_at: datetime | None = None
    lang: str | None = None
    payload: dict = field(default_factory=dict)


@dataclass
class SearchFilter:
    """All given conditions must hold; `since` is inclusive, `until` exclusive (since <= t < until)."""

    kinds: list[str] | None = None
    category: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    article_id: str | None = None


@dataclass
class SearchHit:
    """One result; `score` is the cosine similarity (higher = closer)."""

    id: str
    score: float
    kind: str
    article_id: str
    category: str | None
    published_at: datetime | None
    lang: str | None
    payload: dict


@runtime_checkable
class VectorStore(Protocol):
    """A vector index with metadata filters; every backend behaves the same for these calls."""

    url: str
    dim: int

    def upsert(self, records: Sequence[VectorRecord]) -> None: ...
    def delete(self, ids: Sequence[str]) -> int: ...
    def delete_article(self, article_id: str) -> int: ...
    def search(self, vector: np.ndarray, *, limit: int = 10, filter: SearchFilter | None = None) -> list[SearchHit]: ...
    def get(self, id: str) -> VectorRecord | None: ...
    def get_many(self, ids: Sequence[str]) -> dict[str, VectorRecord]: ...
    def count(self, filter: SearchFilter | None = None) -> int: ...
    def close(self) -> None: ...


def check_vector(vector, dim: int, what: str = "vector") -> np.ndarray:
    """The vector as float32 of shape (dim,); a different length means a different embedding model."""
    arr = np.asarray(vector, dtype=np.float32)
    if arr.ndim != 1 or arr.shape[0] != dim:
        raise ConfigError(
            f"{what} has shape {arr.shape}, but this vector store holds {dim}-d vectors; "
            "use the embedding model the store was built with, or a new vector store URL and re-index")
    if not np.isfinite(arr).all():
        raise ValueError(f"{what} contains NaN or infinity")
    return arr


def check_record(rec: VectorRecord, dim: int) -> np.ndarray:
    """Validate one record; returns its vector as float32."""
    if not rec.id:
        raise ValueError("a vector record needs a non-empty id")
    if rec.kind not in KINDS:
        raise ValueError(f"record {rec.id!r}: unknown kind {rec.kind!r} (known: {', '.join(KINDS)})")
    if not rec.article_id:
        raise ValueError(f"record {rec.id!r} needs an article_id")
    if rec.published_at is not None:
        to_us(rec.published_at)
    return check_vector(rec.vector, dim, f"vector of {rec.id!r}")


def check_filter(flt: SearchFilter | None) -> None:
    """Unknown kinds and naive datetimes are caller bugs, not empty results."""
    if flt is None:
        return
    for kind in flt.kinds or ():
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r} in filter (known: {', '.join(KINDS)})")
    for dt in (flt.since, flt.until):
        if dt is not None:
            to_us(dt)


def check_limit(limit: int) -> int:
    if not isinstance(limit, (int, np.integer)) or limit < 1:
        raise ValueError(f"limit must be a positive integer, not {limit!r}")
    return int(limit)


def to_us(dt: datetime) -> int:
    """Microseconds since the Unix epoch of a timezone-aware datetime."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"datetime {dt.isoformat()} has no timezone; pass timezone-aware UTC datetimes")
    return (dt - _EPOCH) // _US


def from_us(us: int | None) -> datetime | None:
    return None if us is None else _EPOCH + timedelta(microseconds=int(us))


def dedupe_last(records: Sequence[VectorRecord]) -> list[VectorRecord]:
    """One record per id, the last one given winning (as if upserted one by one)."""
    by_id: dict[str, VectorRecord] = {}
    for rec in records:
        by_id.pop(rec.id, None)
        by_id[rec.id] = rec
    return list(by_id.values())


def folder_of(url: str) -> Path:
    """The folder of a `scheme:///absolute/path` store URL; ConfigError for any other shape."""
    parsed = urlparse(url)
    if parsed.netloc not in ("", "localhost") or not parsed.path.startswith("/"):
        raise ConfigError(f"vector store URL {url!r}: a folder is {parsed.scheme}:///absolute/path (three slashes)")
    return Path(unquote(parsed.path))
