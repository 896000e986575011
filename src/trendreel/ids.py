"""Stable ids derived from content keys, so re-running a stage lands on the same rows and files."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone


def _digest(*parts: str, length: int) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:length]


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def article_id(canonical_url: str) -> str:
    """'a' + 23 hex chars of sha256(canonical URL): 92 bits, collision-free at 100M articles."""
    return "a" + _digest(canonical_url, length=23)


def media_id(article_id: str, kind: str, source_url: str) -> str:
    return "m" + _digest(article_id, kind, source_url, length=23)


def story_id(trend_id: str, article_id: str, backend: str, model: str, lang: str | None = None) -> str:
    """'s' + 23 hex chars of sha256(trend, item, backend, model[, lang]): the same inputs land on the same story
    row. `lang` is given only for a story told in another language than its item's, so that a story in
    the item's own language keeps the id it had before languages were asked for."""
    return "s" + _digest(trend_id, article_id, backend, model, *([lang] if lang else []), length=23)


def video_id(story_id: str, backend: str, settings_key: str) -> str:
    """'v' + 23 hex chars of sha256(story, backend, render settings key): a re-render lands on the same row."""
    return "v" + _digest(story_id, backend, settings_key, length=23)


def edited_video_id(parent_id: str, backend: str, settings_key: str, target_seconds: float | None) -> str:
    """'v' + 23 hex chars of sha256(source video, editor, its settings key, target length): a re-edit lands on the same row."""
    target = "none" if target_seconds is None else f"{float(target_seconds):g}"
    return "v" + _digest("edit", parent_id, backend, settings_key, target, length=23)


def trend_id(window_start: datetime, earliest_item_id: str) -> str:
    """'t' + 23 hex chars of sha256(start of the trend's first window, its earliest item): re-detection keeps it."""
    return "t" + _digest(window_start.astimezone(timezone.utc).isoformat(), earliest_item_id, length=23)


def account_id(platform: str, name: str) -> str:
    """'c' + 23 hex chars of sha256(platform, account name): one row per named account of a platform."""
    return "c" + _digest(platform, name, length=23)


def publication_id(video_id: str, account_id: str) -> str:
    """'p' + 23 hex chars of sha256(video, account): a video has at most one publication per account."""
    return "p" + _digest(video_id, account_id, length=23)


def scheduled_post_id(video_id: str, account_id: str) -> str:
    """'q' + 23 hex chars of sha256(video, account): a video is planned at most once per account."""
    return "q" + _digest("schedule", video_id, account_id, length=23)
