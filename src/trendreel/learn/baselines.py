"""The plain baselines every model is compared with (the dev data README's figures come from these).

- `GrowthTable` / `LogLinearGrowth` (Szabo & Huberman 2008): log10 v(t2) = log10 v(t1) + the mean
  log10 growth over that horizon, learned on the training histories from each one's first sample to
  every later sample, by whole days. Between whole days it is interpolated; past the longest horizon
  seen it stays at that horizon's growth.
- `AccountMean` (cold start): the mean log10 views of the channel's training videos, else of the
  category's, else of all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

import numpy as np

from .evaluate import days_between, log10_views
from .history import History


def target_times(histories: Sequence[History], at: datetime | Sequence[datetime] | None) -> list[datetime]:
    """One time per history from `at`: a single time for all, one each, or None for each one's
    reference time (its last sample, else published_at)."""
    if at is None:
        out = []
        for h in histories:
            when = h.samples[-1].at if h.samples else h.published_at
            if when is None:
                raise ValueError(f"history {h.id!r}: no sample and no published_at, so `at` must be given")
            out.append(when)
        return out
    if isinstance(at, datetime):
        return [at] * len(histories)
    times = list(at)
    if len(times) != len(histories):
        raise ValueError(f"`at` has {len(times)} times for {len(histories)} histories")
    return times


class GrowthTable:
    """Mean log10 growth of views by horizon in days, from training histories' first samples."""

    def __init__(self, days: Sequence[float] = (), growth: Sequence[float] = (), counts: Sequence[int] = ()):
        self.days = np.asarray(days, dtype=float)
        self.growth = np.asarray(growth, dtype=float)
        self.counts = np.asarray(counts, dtype=int)

    @classmethod
    def fit(cls, histories: Sequence[History]) -> GrowthTable:
        by_day: dict[int, list[float]] = defaultdict(list)
        for h in histories:
            first = h.samples[0]
            for s in h.samples[1:]:
                by_day[round(days_between(first.at, s.at))].append(log10_views(s.views) - log10_views(first.views))
        days = sorted(d for d in by_day if d > 0)
        return cls(days, [float(np.mean(by_day[d])) for d in days], [len(by_day[d]) for d in days])

    def __call__(self, horizon_days, *, monotone: bool = False) -> np.ndarray:
        """Mean growth at each horizon (0 at 0; linear between the days seen; flat past the last).
        monotone: never less than at a shorter horizon (a mean over fewer, different videos may dip;
        views do not)."""
        h = np.asarray(horizon_days, dtype=float)
        if not len(self.days):
            return np.zeros_like(h)
        xs = np.concatenate([[0.0], self.days])
        ys = np.concatenate([[0.0], self.growth])
        if monotone:
            ys = np.maximum.accumulate(np.maximum(ys, 0.0))
        return np.interp(np.maximum(h, 0.0), xs, ys)

    def to_dict(self) -> dict:
        return {"days": self.days.tolist(), "growth": self.growth.tolist(), "counts": self.counts.tolist()}

    @classmethod
    def from_dict(cls, data: dict) -> GrowthTable:
        return cls(data["days"], data["growth"], data["counts"])


class LogLinearGrowth:
    """Forecast from the latest known sample: its log10 views plus the mean growth to `at`."""

    name = "log_linear_growth"

    def __init__(self):
        self.table = GrowthTable()

    def fit(self, histories: Sequence[History]) -> LogLinearGrowth:
        self.table = GrowthTable.fit(histories)
        return self

    def predict_log10(self, histories: Sequence[History], at: datetime | Sequence[datetime] | None = None) -> np.ndarray:
        times = target_times(histories, at)
        base = np.array([log10_views(h.samples[-1].views) for h in histories], dtype=float)
        horizon = np.array([days_between(h.samples[-1].at, t) for h, t in zip(histories, times)], dtype=float)
        return base + self.table(horizon)

    def predict(self, histories: Sequence[History], at=None) -> np.ndarray:
        return 10.0 ** self.predict_log10(histories, at)


class AccountMean:
    """Cold start: mean log10 views (of each training video's first or last sample) of the account,
    else of the category, else of every training video."""

    name = "account_mean"

    def __init__(self, target: str = "first"):
        if target not in ("first", "last"):
            raise ValueError(f"target must be 'first' or 'last', got {target!r}")
        self.target = target
        self.by_account: dict[str, float] = {}
        self.by_category: dict[str, float] = {}
        self.overall = 0.0

    def fit(self, histories: Sequence[History]) -> AccountMean:
        accounts, categories, values = defaultdict(list), defaultdict(list), []
        for h in histories:
            v = log10_views((h.samples[0] if self.target == "first" else h.samples[-1]).views)
            accounts[h.account].append(v)
            categories[h.category].append(v)
            values.append(v)
        self.by_account = {k: float(np.mean(v)) for k, v in accounts.items() if k}
        self.by_category = {k: float(np.mean(v)) for k, v in categories.items() if k}
        self.overall = float(np.mean(values)) if values else 0.0
        return self

    def predict_log10(self, histories: Sequence[History], at=None) -> np.ndarray:
        # `at` is accepted for the common signature; a mean has no notion of time.
        return np.array([self.by_account.get(h.account, self.by_category.get(h.category, self.overall))
                         for h in histories], dtype=float)

    def predict(self, histories: Sequence[History], at=None) -> np.ndarray:
        return 10.0 ** self.predict_log10(histories, at)
