"""How forecasts are scored: the time split, the two tasks, cross-validation folds and the figures.

The split is by each history's FIRST sample time: before `split_at` is training, on or after it is
test, so every test video was first seen after everything the models learned from started.

- Task A, "from early samples" (`early_cases`): every history with a sample at least `min_days`
  (2) after its first one; the model sees the first sample only (views, likes, comments, its time)
  and the metadata, and predicts the views of the LAST sample, at that sample's time.
- Task B, "from metadata alone" (`cold_start_cases`): every history; the model sees the metadata
  and the time the video was first counted (never a count) and predicts log10 views of one sample.
  The README's baseline (0.377 / 0.517 on 746 videos) scores the FIRST sample (the views on the
  first trending day): that is target="first", the default. target="last" scores the last sample.

Figures: mean squared error of log10 views (a view count of 0 is counted as 1) and Spearman's rank
correlation between truth and prediction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
from scipy.stats import spearmanr

from .history import History

# The split date of the dev data's README (train 990 videos, test 746).
DEV_SPLIT_AT = datetime(2017, 10, 3, tzinfo=timezone.utc)
DAY_SECONDS = 86400.0


def log10_views(views: float) -> float:
    """log10 of a view count, with 0 counted as 1 (so a video nobody watched yet scores 0, not -inf)."""
    return math.log10(max(float(views), 1.0))


def days_between(earlier: datetime, later: datetime) -> float:
    return (later - earlier).total_seconds() / DAY_SECONDS


def split_by_time(histories: Sequence[History], split_at: datetime = DEV_SPLIT_AT) -> tuple[list[History], list[History]]:
    """(train, test): first sample before `split_at` -> train, on or after -> test."""
    train = [h for h in histories if h.first.at < split_at]
    test = [h for h in histories if h.first.at >= split_at]
    return train, test


@dataclass(frozen=True)
class Case:
    """One question of a task: what the model may see (`seen`), the time asked about and the answer."""

    seen: History
    at: datetime
    truth_log10: float
    source: History


def early_cases(histories: Sequence[History], min_days: float = 2.0) -> list[Case]:
    """Task A: histories with a sample >= min_days after the first; seen = the first sample only,
    asked = the last sample's views at its time."""
    out = []
    for h in histories:
        if days_between(h.first.at, h.last.at) >= min_days:
            out.append(Case(seen=h.known_at(h.first.at), at=h.last.at,
                            truth_log10=log10_views(h.last.views), source=h))
    return out


def metadata_only(history: History) -> History:
    """The history as known before publishing: metadata, no samples. The time it was first counted is
    kept as the reference time (published_at, when the source did not give one), since a cold-start
    forecast is asked for a given day."""
    reference = history.published_at or (history.samples[0].at if history.samples else None)
    return History(history.id, (), history.platform, history.account, history.title, history.category,
                   history.tags, history.language, reference, history.extra)


def cold_start_cases(histories: Sequence[History], target: str = "first") -> list[Case]:
    """Task B: every history; seen = metadata only (see `metadata_only`), asked = the first (README)
    or the last sample's views."""
    if target not in ("first", "last"):
        raise ValueError(f"target must be 'first' or 'last', got {target!r}")
    out = []
    for h in histories:
        sample = h.first if target == "first" else h.last
        out.append(Case(seen=metadata_only(h), at=sample.at, truth_log10=log10_views(sample.views), source=h))
    return out


def truths(cases: Sequence[Case]) -> np.ndarray:
    return np.array([c.truth_log10 for c in cases], dtype=float)


def mse(truth: Sequence[float], predicted: Sequence[float]) -> float:
    t, p = np.asarray(truth, dtype=float), np.asarray(predicted, dtype=float)
    return float(np.mean((t - p) ** 2))


def spearman(truth: Sequence[float], predicted: Sequence[float]) -> float:
    t, p = np.asarray(truth, dtype=float), np.asarray(predicted, dtype=float)
    if len(t) < 2 or np.all(p == p[0]) or np.all(t == t[0]):
        return float("nan")  # undefined for a constant side
    return float(spearmanr(t, p).correlation)


def score(truth: Sequence[float], predicted: Sequence[float]) -> dict:
    """{"n", "mse_log10", "spearman"} rounded for a report."""
    return {"n": len(truth), "mse_log10": round(mse(truth, predicted), 4), "spearman": round(spearman(truth, predicted), 4)}


def time_folds(histories: Sequence[History], k: int = 5) -> list[tuple[list[int], list[int]]]:
    """k (train indices, validation indices) folds of contiguous blocks of first-sample DAYS, about
    equal in size: each validation block is a stretch of time, as the held-out test is, and videos of
    the same channel fall on both sides as they do in the test (a grouped-by-account split would hide
    what the channel's history is worth). A day is never cut in two."""
    days = sorted({h.first.at.date() for h in histories})
    per_day = {d: 0 for d in days}
    for h in histories:
        per_day[h.first.at.date()] += 1
    block_of, filled, share = {}, 0, len(histories) / k
    for d in days:
        # a day goes to the block its middle video falls in
        block_of[d] = min(k - 1, int((filled + per_day[d] / 2) // share))
        filled += per_day[d]
    folds = []
    for b in range(k):
        val = [i for i, h in enumerate(histories) if block_of[h.first.at.date()] == b]
        train = [i for i, h in enumerate(histories) if block_of[h.first.at.date()] != b]
        if val:
            folds.append((train, val))
    return folds
