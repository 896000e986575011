"""The registry's `ridge` views model (kind views_model), and how any views model is evaluated.

A views model is a pair: a forecaster (views at a later time from the samples known so far) and a
cold-start predictor (views from what is known before publishing). `RidgeViews` makes and loads the
ridge pair of `trendreel.learn.models`; another package can register its own pair under another name
(`learn.model`) with the same four methods.

`evaluate_split` is the evaluation every fit prints: split by time, both tasks, each beside its plain
baseline from the same run (log-linear growth from the first sample; the account's, else the
category's, mean), mean squared error of log10 views and Spearman.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

from trendreel.learn.baselines import AccountMean, LogLinearGrowth
from trendreel.learn.evaluate import (
    cold_start_cases,
    early_cases,
    score,
    split_by_time,
    truths,
)
from trendreel.learn.history import History
from trendreel.learn.models import (
    ColdStartModel,
    EmbeddingCache,
    Forecaster,
    load_model,
)

__all__ = ["RidgeViews", "default_split", "evaluate_split"]


class RidgeViews:
    """The ridge forecaster and cold-start predictor (docs/learning.md), built with the App's text embedder."""

    name = "ridge"

    def __init__(self, settings, *, text_embedder):
        self.settings = settings
        self.cache = EmbeddingCache(text_embedder)  # one embedding per distinct text, across fits and forecasts

    def forecaster(self) -> Forecaster:
        return Forecaster()

    def cold_start(self) -> ColdStartModel:
        return ColdStartModel(self.cache.embedder, target=self.settings.cold_start_target, cache=self.cache)

    def load(self, data: bytes):
        return load_model(data, self.cache.embedder)


def default_split(histories: Sequence[History], share: float = 0.8) -> datetime | None:
    """The time that leaves the oldest `share` of histories (by first sample) for training; None when
    there are too few histories to hold any out."""
    firsts = sorted(h.samples[0].at for h in histories if h.samples)
    if len(firsts) < 10:
        return None
    return firsts[min(len(firsts) - 1, int(len(firsts) * share))]


def _figures(truth, ours, baseline) -> dict:
    mine, theirs = score(truth, ours), score(truth, baseline)
    ratio = round(mine["mse_log10"] / theirs["mse_log10"], 3) if theirs["mse_log10"] else None
    return {"ours": mine, "baseline": theirs, "mse_ratio": ratio}


def evaluate_split(views, histories: Sequence[History], split_at: datetime) -> dict:
    """Both tasks on the histories split at `split_at` (first sample before: training), each beside its
    baseline; `views` is a views model (RidgeViews or a registered one)."""
    train, test = split_by_time(histories, split_at)
    out: dict = {"split_at": split_at.isoformat(), "train": len(train), "test": len(test)}
    cases = early_cases(test)
    if train and cases:
        started = time.perf_counter()
        model = views.forecaster().fit(train)
        seen, at = [c.seen for c in cases], [c.at for c in cases]
        out["from_early_samples"] = {
            **_figures(truths(cases), model.predict_log10(seen, at), LogLinearGrowth().fit(train).predict_log10(seen, at)),
            "baseline_name": "log-linear growth from the first sample (Szabo & Huberman 2008)",
            "seconds": round(time.perf_counter() - started, 3)}
    target = views.settings.cold_start_target
    cases = cold_start_cases(test, target)
    if train and cases:
        started = time.perf_counter()
        model = views.cold_start().fit(train)
        seen = [c.seen for c in cases]
        out["from_metadata"] = {
            **_figures(truths(cases), model.predict_log10(seen), AccountMean(target).fit(train).predict_log10(seen, None)),
            "target": f"views of the {target} sample",
            "baseline_name": "the account's mean, else the category's",
            "seconds": round(time.perf_counter() - started, 3)}
    return out
