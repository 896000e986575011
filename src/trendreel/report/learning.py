"""What the report says about the learning loop: the stored models' forecasts beside what our
publications did, what the models say drives views, and the arms of the recorded trend choices.

Nothing is fitted here. The forecasts come from the models as they were stored, and the baselines
they are compared with from the training stats stored inside them (the account's mean views, the
log-linear growth table), so the report costs a prediction, never a fit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from trendreel.learn.baselines import AccountMean, LogLinearGrowth
from trendreel.learn.evaluate import days_between, log10_views, mse, spearman
from trendreel.learn.features import TrainingStats
from trendreel.learn.history import History

# Readable names of the models' features (trendreel.learn.features, learn.rows); a one-hot column
# "name=value" reads "<name>: value". A name not listed here is shown with its underscores as spaces.
FEATURE_NAMES = {
    "category": "category", "language": "language", "weekday": "weekday", "hour": "hour published",
    "title_chars": "title length", "title_words": "words in title", "title_caps_share": "capitals in title",
    "title_has_question_or_bang": "title has ? or !", "tag_count": "number of tags",
    "account_videos": "channel's videos so far", "account_first_mean": "channel's usual views at first count",
    "account_last_mean": "channel's usual final views", "account_growth_resid": "channel grows faster than usual",
    "category_first_mean": "category's usual views at first count", "category_last_mean": "category's usual final views",
    "text_neighbours": "views of videos with similar titles",
    "log_views": "views so far", "like_ratio": "likes per view", "comment_ratio": "comments per view",
    "has_likes": "likes known", "has_comments": "comments known", "age_days": "days since published",
    "samples_seen": "counts taken so far", "horizon_days": "days ahead", "baseline_growth": "usual growth that far ahead",
    # our own publications: what the pipeline knew (learn.rows.own_features), "own_" in the models
    "own_trend_score": "trend score", "own_trend_burst": "trend burst", "own_trend_spread": "sources on the trend",
    "own_trend_items": "items in the trend", "own_trend_phrases": "trend key phrases", "own_trend_language": "trend language",
    "own_video_seconds": "video length", "own_video_aspect": "video shape", "own_video_voice": "voice",
    "own_story_seconds": "story length", "own_story_scenes": "scenes in story", "own_story_writer": "story writer",
    "own_live_trends": "trends live at upload", "own_live_own_rank": "own trend's rank at upload",
    "own_live_top_score": "top live trend's score",
}


def readable_feature(column: str) -> str:
    """'account_last_mean' -> "channel's usual final views"; 'category=Music' -> 'category: Music'."""
    name, sep, value = column.partition("=")
    label = FEATURE_NAMES.get(name) or name.removeprefix("own_").replace("_", " ")
    if not sep:
        return label
    return f"{label}: {value.capitalize() if name == 'weekday' else value}"


def top_effects(description: dict, k: int = 12) -> list[tuple[str, float]]:
    """The k largest effects per standard deviation of a model's describe(), readable, largest first;
    columns that never varied in training (effect 0) say nothing and are left out."""
    out = []
    for row in description.get("effects") or []:
        effect = next(v for key, v in row.items() if key.startswith("effect_per_sd"))
        if abs(effect) >= 1e-4:
            out.append((readable_feature(row["feature"]), float(effect)))
    return out[:k]


@dataclass
class ForecastRow:
    """One of our publications: what the stored models predicted beside what happened."""

    publication_id: str
    title: str
    account: str
    published_at: datetime | None
    samples: int
    first_at: datetime
    first_views: int
    last_at: datetime
    last_views: int
    # from metadata (cold start): predicted views of its target sample (first or last), and that sample's views
    cold_start: float | None = None
    account_mean: float | None = None
    cold_start_actual: int | None = None
    cold_start_in_training: bool | None = None
    # from the first sample to the latest one (forecaster); None with one sample (nothing to forecast)
    forecaster: float | None = None
    growth_baseline: float | None = None
    forecaster_in_training: bool | None = None


def _account_mean(stats: TrainingStats, target: str) -> AccountMean:
    """The account-mean baseline as evaluate_split fits it, from the sums stored with the model."""
    baseline = AccountMean(target)

    def mean(sums) -> float:
        return (sums.first if target == "first" else sums.last) / sums.n

    baseline.by_account = {k: mean(v) for k, v in stats.accounts.items() if k and v.n}
    baseline.by_category = {k: mean(v) for k, v in stats.categories.items() if k and v.n}
    baseline.overall = mean(stats.overall) if stats.overall.n else 0.0
    return baseline


def _growth_baseline(stats: TrainingStats) -> LogLinearGrowth:
    baseline = LogLinearGrowth()
    baseline.table = stats.growth
    return baseline


def predict_publications(histories: Sequence[History], *, cold_start=None, cold_start_trained_until: datetime | None = None,
                         forecaster=None, forecaster_trained_until: datetime | None = None) -> list[ForecastRow]:
    """Each history's forecasts by the models given (either may be None). A history whose first sample
    is not after a model's `trained_until` was among that model's training histories, so its forecast
    is in-sample (flagged, and scored apart)."""
    rows = [ForecastRow(h.id, h.title, h.account, h.published_at, len(h.samples), h.first.at, h.first.views,
                        h.last.at, h.last.views) for h in histories]
    if not rows:
        return rows
    if cold_start is not None:
        target = getattr(cold_start, "target", "first")
        predicted = cold_start.predict_log10(histories)
        baseline = _account_mean(cold_start.stats, target).predict_log10(histories)
        for row, h, p, b in zip(rows, histories, predicted, baseline):
            row.cold_start, row.account_mean = 10.0 ** float(p), 10.0 ** float(b)
            row.cold_start_actual = (h.first if target == "first" else h.last).views
            row.cold_start_in_training = cold_start_trained_until is not None and h.first.at <= cold_start_trained_until
    if forecaster is not None:
        # Only a history with a later sample has something to forecast: from its first count to its latest.
        asked = [(row, h) for row, h in zip(rows, histories) if days_between(h.first.at, h.last.at) > 0]
        if asked:
            seen = [h.known_at(h.first.at) for _, h in asked]
            at = [h.last.at for _, h in asked]
            predicted = forecaster.predict_log10(seen, at)
            baseline = _growth_baseline(forecaster.stats).predict_log10(seen, at)
            for (row, h), p, b in zip(asked, predicted, baseline):
                row.forecaster, row.growth_baseline = 10.0 ** float(p), 10.0 ** float(b)
                row.forecaster_in_training = forecaster_trained_until is not None and h.first.at <= forecaster_trained_until
    return rows


def _score(truth: list[float], predicted: list[float]) -> dict:
    """MSE of log10 views and Spearman; Spearman only from 3 publications (fewer rank nothing)."""
    if not truth:
        return {"n": 0, "mse_log10": None, "spearman": None}
    rho = spearman(truth, predicted) if len(truth) >= 3 else float("nan")
    return {"n": len(truth), "mse_log10": mse(truth, predicted), "spearman": None if math.isnan(rho) else rho}


def forecast_scores(rows: Sequence[ForecastRow]) -> list[dict]:
    """Each predictor beside its baseline: {task, predictor, all: {n, mse_log10, spearman}, new: {...}},
    `new` counting only publications the model had not trained on (its honest figures)."""
    out = []
    tasks = (("from metadata (cold start)", "cold_start_actual", "cold_start_in_training",
              (("cold-start model", "cold_start"), ("account's mean (baseline)", "account_mean"))),
             ("from the first count (forecaster)", "last_views", "forecaster_in_training",
              (("forecaster", "forecaster"), ("log-linear growth (baseline)", "growth_baseline"))))
    for task, actual, in_training, predictors in tasks:
        for name, attr in predictors:
            done = [r for r in rows if getattr(r, attr) is not None]
            if not done:
                continue
            scored = {}
            for part, chosen in (("all", done), ("new", [r for r in done if not getattr(r, in_training)])):
                scored[part] = _score([log10_views(getattr(r, actual)) for r in chosen],
                                      [float(np.log10(max(getattr(r, attr), 1.0))) for r in chosen])
            out.append({"task": task, "predictor": name, **scored})
    return out
