"""The import shape of a views-over-time history: one video, its metadata and its samples.

One JSON object per line:

    {"id", "platform", "account", "title", "category", "tags": [...], "language",
     "published_at": ISO | null, "samples": [{"at": ISO, "views", "likes", "comments"}]}

`parse_line` checks one object and raises ValueError naming the field that is wrong; `read_jsonl`
reads a file and yields each line's History or the reason it was skipped, so a caller can report bad
lines and go on. Times become aware UTC datetimes (a time without a zone is taken as UTC); samples
are sorted by time and samples at the same time collapse into one (the last one given wins).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path


@dataclass(frozen=True)
class Sample:
    """What was counted at one time. likes/comments are None when the source did not give them."""

    at: datetime
    views: int
    likes: int | None = None
    comments: int | None = None


@dataclass(frozen=True)
class History:
    """One video: metadata known before publishing, and its samples sorted by time (at least one)."""

    id: str
    samples: tuple[Sample, ...]
    platform: str = ""
    account: str = ""
    title: str = ""
    category: str = ""
    tags: tuple[str, ...] = ()
    language: str = ""
    published_at: datetime | None = None
    extra: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def first(self) -> Sample:
        return self.samples[0]

    @property
    def last(self) -> Sample:
        return self.samples[-1]

    def known_at(self, when: datetime) -> History:
        """This history as it was known at `when`: only the samples taken at or before it (may be none
        left, which a caller that needs a sample must check)."""
        return History(self.id, tuple(s for s in self.samples if s.at <= when), self.platform, self.account,
                       self.title, self.category, self.tags, self.language, self.published_at, self.extra)


KNOWN_FIELDS = {"id", "platform", "account", "title", "category", "tags", "language", "published_at", "samples"}


def parse_time(value, where: str) -> datetime:
    """An ISO 8601 text (a trailing Z allowed) as an aware UTC datetime; anything else -> ValueError."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: expected an ISO 8601 time, got {value!r}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{where}: not an ISO 8601 time: {value!r}") from None
    # A time without a zone is taken as UTC, the zone every sample source writes.
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _count(value, where: str, *, required: bool) -> int | None:
    if value is None:
        if required:
            raise ValueError(f"{where}: missing")
        return None
    # bool is an int in Python; a count of True is a mistake in the file.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where}: expected a whole number, got {value!r}")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"{where}: expected a whole number, got {value!r}")
    if value < 0:
        raise ValueError(f"{where}: must not be negative, got {value!r}")
    return int(value)


def _text(obj: dict, key: str) -> str:
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{key}: expected a string, got {type(value).__name__}")
    return value


def parse_sample(obj, index: int) -> Sample:
    """One element of `samples`; ValueError names it as samples[index].field."""
    where = f"samples[{index}]"
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: expected an object, got {type(obj).__name__}")
    if "at" not in obj:
        raise ValueError(f"{where}.at: missing")
    return Sample(at=parse_time(obj["at"], f"{where}.at"),
                  views=_count(obj.get("views"), f"{where}.views", required=True),
                  likes=_count(obj.get("likes"), f"{where}.likes", required=False),
                  comments=_count(obj.get("comments"), f"{where}.comments", required=False))


def parse_line(obj) -> History:
    """A History from one decoded JSON line; ValueError names the bad field ("samples[2].views: ...")."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    hid = obj.get("id")
    if hid is None or (isinstance(hid, str) and not hid.strip()):
        raise ValueError("id: missing")
    if not isinstance(hid, (str, int)) or isinstance(hid, bool):
        raise ValueError(f"id: expected a string, got {type(hid).__name__}")
    raw_samples = obj.get("samples")
    if raw_samples is None:
        raise ValueError("samples: missing")
    if not isinstance(raw_samples, list):
        raise ValueError(f"samples: expected a list, got {type(raw_samples).__name__}")
    if not raw_samples:
        raise ValueError("samples: empty (a history needs at least one sample)")
    by_time: dict[datetime, Sample] = {}
    for i, raw in enumerate(raw_samples):
        sample = parse_sample(raw, i)
        by_time[sample.at] = sample  # a repeated time: the later line of the list wins
    tags = obj.get("tags")
    if tags is None:
        tags = []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValueError("tags: expected a list of strings")
    published = obj.get("published_at")
    return History(
        id=str(hid),
        samples=tuple(by_time[t] for t in sorted(by_time)),
        platform=_text(obj, "platform"),
        account=_text(obj, "account"),
        title=_text(obj, "title"),
        category=_text(obj, "category"),
        tags=tuple(tags),
        language=_text(obj, "language"),
        published_at=None if published is None else parse_time(published, "published_at"),
        extra={k: v for k, v in obj.items() if k not in KNOWN_FIELDS},
    )


def read_jsonl(path: str | Path) -> Iterator[tuple[int, History | str]]:
    """(line number, History) for each good non-empty line and (line number, reason) for each bad one,
    so a long import reports its bad lines and keeps the rest. A missing file raises FileNotFoundError."""
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                yield n, f"not UTF-8 text ({exc.reason} at byte {exc.start})"
                continue
            except json.JSONDecodeError as exc:
                yield n, f"not JSON ({exc.msg})"
                continue
            try:
                yield n, parse_line(obj)
            except ValueError as exc:
                yield n, str(exc)


def load_histories(path: str | Path) -> list[History]:
    """Every good history of a file; a bad line raises ValueError with its line number (for data that
    is expected to be clean, such as a bench's)."""
    out = []
    for n, item in read_jsonl(path):
        if isinstance(item, str):
            raise ValueError(f"{path}:{n}: {item}")
        out.append(item)
    return out
