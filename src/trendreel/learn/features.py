"""Features as plain functions of a History and the training-period stats, each with the time it was known.

Written so that the same numbers can be computed from database rows (a feature store): a feature
function takes one History (metadata and the samples known so far), the `TrainingStats` learned from
the training histories, and for a forecast the time asked about; it returns {name: Feature(value,
known_at)}. A value is a float, or a str for a categorical one (category, language, weekday) that the model
one-hot encodes with the vocabulary it learned.

When each is known:
- metadata (title, tags, category, language, account): at publishing, `published_at` (else the
  first sample's time, the first moment this data shows the video);
- counts (views, likes, comments and their ratios): at the sample they come from;
- the horizon and the growth the baseline expects over it (its table made non-decreasing): when the
  forecast is asked;
- account and category stats: at `TrainingStats.known_at`, the last training sample's time. For a
  training history itself the account's leave that history out, so a model does not learn from its
  own answer.

The text a cold-start model embeds is `text_of(history)` (title and tags); the embedding itself is
the model's business (an injected embedder), cached by the text's hash.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from .baselines import GrowthTable
from .evaluate import days_between, log10_views
from .history import History, Sample

# How many videos of its own an account needs before its mean counts as much as its category's:
# a channel seen once is mostly luck (empirical-Bayes style shrinkage).
ACCOUNT_PRIOR_WEIGHT = 1.0
# The same for a category's mean against the overall one.
CATEGORY_PRIOR_WEIGHT = 5.0
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Feature:
    """A feature's value and when it was known (None: known at any time, such as a constant)."""

    value: float | str
    known_at: datetime | None


@dataclass
class GroupSums:
    """Running sums over a group's training videos (an account, a category, all), so one video can be
    left out by subtraction."""

    n: int = 0
    first: float = 0.0       # sum of log10 views of the first sample
    last: float = 0.0        # sum of log10 views of the last sample
    resid_n: int = 0         # videos with a later sample
    resid: float = 0.0       # sum of (log10 growth first -> last) minus the growth table's

    def add(self, other: GroupSums, sign: int = 1) -> GroupSums:
        return GroupSums(self.n + sign * other.n, self.first + sign * other.first, self.last + sign * other.last,
                         self.resid_n + sign * other.resid_n, self.resid + sign * other.resid)

    def to_list(self) -> list:
        return [self.n, self.first, self.last, self.resid_n, self.resid]


def _sums_of(history: History, growth: GrowthTable) -> GroupSums:
    first, last = history.samples[0], history.samples[-1]
    s = GroupSums(1, log10_views(first.views), log10_views(last.views))
    horizon = days_between(first.at, last.at)
    if horizon > 0:
        s.resid_n, s.resid = 1, log10_views(last.views) - log10_views(first.views) - float(growth(horizon))
    return s


class TrainingStats:
    """What the training histories say about accounts, categories and growth; stored with a model so
    predicting needs no training data."""

    def __init__(self, growth: GrowthTable, accounts: dict[str, GroupSums], categories: dict[str, GroupSums],
                 overall: GroupSums, known_at: datetime | None):
        self.growth = growth
        self.accounts = accounts
        self.categories = categories
        self.overall = overall
        self.known_at = known_at

    @classmethod
    def fit(cls, histories: Sequence[History]) -> TrainingStats:
        growth = GrowthTable.fit(histories)
        accounts: dict[str, GroupSums] = {}
        categories: dict[str, GroupSums] = {}
        overall = GroupSums()
        for h in histories:
            s = _sums_of(h, growth)
            if h.account:
                accounts[h.account] = accounts.get(h.account, GroupSums()).add(s)
            categories[h.category] = categories.get(h.category, GroupSums()).add(s)
            overall = overall.add(s)
        known_at = max((h.samples[-1].at for h in histories), default=None)
        return cls(growth, accounts, categories, overall, known_at)

    def groups(self, history: History, leave_out: History | None = None) -> tuple[GroupSums, GroupSums, GroupSums]:
        """(account, category, overall) sums for `history`. `leave_out` is a training history (whole,
        as it was fitted) whose own part is taken out of its ACCOUNT's sums, so a training row does not
        see its own answer there. Category and overall sums keep it: one value per category is no
        leak, whereas a leave-one-out category mean varies with the row's own answer and, beside the
        category itself, gives that answer away."""
        account = self.accounts.get(history.account, GroupSums()) if history.account else GroupSums()
        if (leave_out is not None and leave_out.samples and leave_out.account
                and leave_out.account == history.account and history.account in self.accounts):
            account = account.add(_sums_of(leave_out, self.growth), -1)
        return account, self.categories.get(history.category, GroupSums()), self.overall

    def to_dict(self) -> dict:
        return {"growth": self.growth.to_dict(),
                "accounts": {k: v.to_list() for k, v in self.accounts.items()},
                "categories": {k: v.to_list() for k, v in self.categories.items()},
                "overall": self.overall.to_list(),
                "known_at": self.known_at.isoformat() if self.known_at else None}

    @classmethod
    def from_dict(cls, data: dict) -> TrainingStats:
        known = data.get("known_at")
        return cls(GrowthTable.from_dict(data["growth"]),
                   {k: GroupSums(*v) for k, v in data["accounts"].items()},
                   {k: GroupSums(*v) for k, v in data["categories"].items()},
                   GroupSums(*data["overall"]),
                   datetime.fromisoformat(known) if known else None)


def _shrunk(total: float, n: float, prior: float, weight: float) -> float:
    return (total + weight * prior) / (n + weight)


def reference_time(history: History) -> datetime | None:
    """When the metadata is known: published_at, else the first sample's time, else None."""
    if history.published_at is not None:
        return history.published_at
    return history.samples[0].at if history.samples else None


def text_of(history: History) -> str:
    """The text a cold-start model embeds: the title, then the tags."""
    tags = ", ".join(t.strip() for t in history.tags if t.strip())
    return f"{history.title.strip()}\n{tags}" if tags else history.title.strip()


def text_key(text: str) -> str:
    """The cache key of a text's embedding."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def metadata_features(history: History, stats: TrainingStats, *, leave_out: History | None = None) -> dict[str, Feature]:
    """What is known before publishing: text shape, category, language, time of day and week, and the
    account's and category's training-period record (shrunk towards the broader group's)."""
    when = reference_time(history)
    account, category, overall = stats.groups(history, leave_out)
    overall_first = overall.first / overall.n if overall.n else 0.0
    overall_last = overall.last / overall.n if overall.n else 0.0
    cat_first = _shrunk(category.first, category.n, overall_first, CATEGORY_PRIOR_WEIGHT)
    cat_last = _shrunk(category.last, category.n, overall_last, CATEGORY_PRIOR_WEIGHT)
    cat_resid = _shrunk(category.resid, category.resid_n, 0.0, CATEGORY_PRIOR_WEIGHT)
    title = history.title.strip()
    out = {
        "category": Feature(history.category or "(none)", when),
        "platform": Feature(history.platform or "(none)", when),
        "language": Feature(history.language or "(none)", when),
        "title_chars": Feature(math.log1p(len(title)), when),
        "title_words": Feature(float(len(title.split())), when),
        "title_caps_share": Feature(sum(c.isupper() for c in title) / max(1, sum(c.isalpha() for c in title)), when),
        "title_has_question_or_bang": Feature(float("?" in title or "!" in title), when),
        "tag_count": Feature(math.log1p(len(history.tags)), when),
        "account_videos": Feature(math.log1p(account.n), stats.known_at),
        "account_first_mean": Feature(_shrunk(account.first, account.n, cat_first, ACCOUNT_PRIOR_WEIGHT), stats.known_at),
        "account_last_mean": Feature(_shrunk(account.last, account.n, cat_last, ACCOUNT_PRIOR_WEIGHT), stats.known_at),
        "account_growth_resid": Feature(_shrunk(account.resid, account.resid_n, cat_resid, ACCOUNT_PRIOR_WEIGHT), stats.known_at),
        "category_first_mean": Feature(cat_first, stats.known_at),
        "category_last_mean": Feature(cat_last, stats.known_at),
    }
    if when is not None:
        # the day of the week as a category: its effect need not grow from Monday to Sunday
        out["weekday"] = Feature(WEEKDAYS[when.weekday()], when)
        out["hour"] = Feature(float(when.hour), when)
    # Our own publications also carry what the pipeline knew (trend, story, video, trends live at upload;
    # trendreel.learn.rows): numbers as they are, words as categories. Imported histories have none.
    for name, value in (history.extra.get("features") or {}).items():
        if isinstance(value, (int, float, str)) and not isinstance(value, bool):
            out[f"own_{name}"] = Feature(value if isinstance(value, str) else float(value), when)
    return out


def _log_count(value: int | None) -> float:
    return math.log10(value + 1.0) if value is not None else 0.0


def sample_features(sample: Sample) -> dict[str, Feature]:
    """Counts of one sample on a log scale, and engagement as ratios to views (log10 of the ratio)."""
    views = _log_count(sample.views)
    out = {"log_views": Feature(log10_views(sample.views), sample.at),
           "has_likes": Feature(float(sample.likes is not None), sample.at),
           "has_comments": Feature(float(sample.comments is not None), sample.at)}
    # a missing count gets the typical ratio (-2: about 1 like per 100 views) with has_* saying so
    out["like_ratio"] = Feature(_log_count(sample.likes) - views if sample.likes is not None else -2.0, sample.at)
    out["comment_ratio"] = Feature(_log_count(sample.comments) - views if sample.comments is not None else -3.0, sample.at)
    return out


def early_features(history: History, stats: TrainingStats, at: datetime, *,
                   leave_out: History | None = None) -> dict[str, Feature]:
    """Features for forecasting the views at `at` from the LATEST sample of `history` (a history cut
    at the time of the forecast, see History.known_at), plus its metadata features. For a training
    row, `leave_out` is the whole training history that `history` was cut from."""
    if not history.samples:
        raise ValueError(f"history {history.id!r}: no sample to forecast from")
    latest = history.samples[-1]
    horizon = max(0.0, days_between(latest.at, at))
    start = history.published_at or history.samples[0].at
    out = metadata_features(history, stats, leave_out=leave_out)
    out.update(sample_features(latest))
    out.update({
        "horizon_days": Feature(horizon, at),
        "baseline_growth": Feature(float(stats.growth(horizon, monotone=True)), at),
        "age_days": Feature(max(0.0, days_between(start, latest.at)), latest.at),
        "samples_seen": Feature(float(len(history.samples)), latest.at),
    })
    return out
