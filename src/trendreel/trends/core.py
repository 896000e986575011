"""Trend detection on arrays: items (ids, times, vectors, words) in, scored trends out.

No database and no files here, so the same code runs in the stage and in the benchmark.

1. Windows. Items fall into fixed windows aligned to the Unix epoch (`window_s`, e.g. 24 h).
2. Groups. Each window's items are clustered by meaning (cluster.py, average linkage at
   `cluster_similarity`), with a bonus for items published close together that is measured on the
   run's items unless `time_bonus` is set (cluster.measured_time_bonus); a cluster of at least
   `min_items` items is a group, the rest are loose.
3. Chains. Windows are visited oldest first. "Similar" below is always an average similarity
   between two sets of items (the dot product of their mean vectors), the criterion of the
   grouping too. A group joins the open chain whose items of its last RECENT_WINDOWS windows it is
   most similar to (>= `link_similarity`), else it starts a new chain; a chain stays open for
   `lookback_windows` windows after it was last seen. Loose items then join a chain the same way.
   After the pass, loose items of the `lookback_windows` windows before a chain's first group
   join it as its beginnings, when similar enough to that first window's items, and chains that
   run side by side (overlapping windows; often one per language) merge when similar enough.
   A chain is one trend; its windows are its history.
4. Scores, per window of a trend (n = its items in the window):
       background   = items of the `lookback_windows` earlier windows whose average similarity to
                      the window's n items is >= link_similarity, per earlier window (only windows
                      inside the detection range count)
       burst        = n / (background + 1)        (1 when no earlier window is in range)
       window score = burst * log2(1 + n) * (1 + log2(sources in the window))
   and trend score = max over its windows of window score * 0.5 ** (age_h / half_life_h), where
   age_h is the time from the window's newest item to `until`. The trend's burst is the one of
   that window; its spread is the number of distinct sources among all its items.
5. Text, phrases, language and category of the best `max_trends` trends (text.py, phrases.py).

The trend id is "t" + 23 hex of sha256(start of the chain's first group window, that group's
earliest item id): windows are aligned and a window's clustering depends only on its own items
(and the measured time bonus, rounded so that it seldom moves), so running detection again over the
same items, or over more recent ones, keeps the ids (a merge keeps the id of the chain that started
first); identity.py carries a stored trend's id over when its group changes anyway.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from trendreel.ids import trend_id
from trendreel.trends.cluster import cluster_window, measured_time_bonus
from trendreel.trends.phrases import Background, ItemWords, common_age_group, item_words, key_phrases
from trendreel.trends.text import trend_line
from trendreel.trends.windows import to_datetime, window_index

# Key phrases are scored against at most this many items of the range (evenly spaced in time):
# document frequencies from a sample of this size are good enough for ranking phrases, and reading
# the words of items with summaries costs about 1 ms each (20,000 was half of a 100k-item run).
PHRASE_BACKGROUND_MAX = 5_000
# A chain is matched against its items of its last this many windows (a story moves on).
RECENT_WINDOWS = 2
# Rows of earlier windows scored against trend windows at once (bounds memory at ~40 MB per block).
_BLOCK_ROWS = 20_000


@dataclass(frozen=True)
class TrendParams:
    """Detection parameters (see TrendSettings for what each means)."""

    window_s: int = 86400
    lookback_windows: int = 7
    cluster_similarity: float = 0.5
    link_similarity: float = 0.55
    min_items: int = 2
    half_life_h: float = 48.0
    max_window_items: int = 6000
    max_trends: int = 100
    time_bonus: float | None = None  # None: measured on the items of the run (cluster.measured_time_bonus)
    time_scale_s: float = 1200.0
    max_phrases: int = 4


@dataclass
class TrendInput:
    """Items as parallel arrays; `vectors` are one unit-length float32 row per item."""

    ids: Sequence[str]
    times: np.ndarray  # seconds since the Unix epoch (UTC)
    vectors: np.ndarray
    titles: Sequence[str]
    texts: Sequence[str] | None = None  # summaries or leads: more words for the key phrases
    sources: Sequence[str] | None = None  # outlet of each item (spread)
    langs: Sequence[str | None] | None = None
    categories: Sequence[str | None] | None = None
    also_sources: Sequence[Sequence[str]] | None = None  # outlets of each item's near-duplicates
    timed: Sequence[bool] | None = None  # whether each time is a publication time (default: all are)

    def __post_init__(self) -> None:
        n = len(self.ids)
        self.times = np.asarray(self.times, dtype=np.float64)
        vectors = np.asarray(self.vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != n:
            raise ValueError(f"vectors must be a 2-d array with one row per item ({n}), not shape {vectors.shape}")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.vectors = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
        for name in ("times", "titles", "texts", "sources", "langs", "categories", "also_sources", "timed"):
            value = getattr(self, name)
            if value is not None and len(value) != n:
                raise ValueError(f"{name} has {len(value)} entries for {n} items")
        if len(set(self.ids)) != n:
            raise ValueError("item ids must be unique")

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class HistoryEntry:
    window_start: float
    window_end: float
    items: int
    burst: float
    score: float


@dataclass
class Evidence:
    index: int  # row of the input
    similarity: float  # to the trend's centre
    window_start: float


@dataclass
class DetectedTrend:
    id: str
    text: str
    lang: str
    category: str | None
    score: float
    burst: float
    spread: int
    item_count: int
    first_seen: float
    last_seen: float
    key_phrases: list[str]
    history: list[HistoryEntry]
    evidence: list[Evidence]
    centroid: np.ndarray = field(repr=False)


@dataclass
class _Chain:
    """A trend being built: its items (positions in time order) per window."""

    seed_window: int
    seed_position: int
    by_window: dict[int, list[int]]
    sums: dict[int, np.ndarray]  # vector sum per window of the items the forward pass gave it
    last_window: int
    seed_mean: np.ndarray | None = None  # mean vector of its first window

    def add(self, window: int, positions: Sequence[int], vectors: np.ndarray) -> None:
        positions = [int(p) for p in positions]
        self.by_window.setdefault(window, []).extend(positions)
        total = vectors[positions].sum(axis=0)
        self.sums[window] = self.sums[window] + total if window in self.sums else total
        self.last_window = max(self.last_window, window)

    def recent_mean(self) -> np.ndarray:
        """Mean vector of its items in its last RECENT_WINDOWS windows; x . mean is x's average similarity to them."""
        last = sorted(self.sums)[-RECENT_WINDOWS:]
        return sum(self.sums[w] for w in last) / sum(len(self.by_window[w]) for w in last)

    def positions(self) -> list[int]:
        return sorted(p for ps in self.by_window.values() for p in ps)


def detect(data: TrendInput, params: TrendParams = TrendParams(), *, since: float | None = None,
           until: float | None = None, categorize: Callable[[str], str | None] | None = None,
           on_window: Callable[[int, int], None] | None = None) -> list[DetectedTrend]:
    """Trends among the items, best first (at most `params.max_trends`)."""
    if len(data) == 0:
        return []
    order = sorted(range(len(data)), key=lambda i: (data.times[i], data.ids[i]))
    view = _TimeOrdered(data, order, params.window_s)
    until = float(until) if until is not None else float(view.times[-1])
    first_window = int(view.windows[0]) if since is None else int(since // params.window_s)
    chains = _build_chains(view, params, on_window)
    scored = [(_score_chain(chain, view, params, first_window), chain) for chain in chains]
    _fill_backgrounds(scored, view, params, first_window)
    ranked = []
    for windows, chain in scored:
        score, burst = _trend_score(windows, params, until)
        ranked.append((score, burst, windows, chain))
    ranked.sort(key=lambda r: (-r[0], _chain_id(r[3], view, params)))
    background = _phrase_background(view)
    return [_describe(chain, windows, score, burst, view, params, background, categorize)
            for score, burst, windows, chain in ranked[: params.max_trends]]


# ---- the time-ordered view ---------------------------------------------------------------------


class _TimeOrdered:
    """The input sorted by (time, id), with window numbers and where each window starts."""

    def __init__(self, data: TrendInput, order: list[int], window_s: int):
        self.data = data
        self.order = np.asarray(order, dtype=np.int64)
        self.times = data.times[self.order]
        self.vectors = data.vectors[self.order]
        self.timed = (np.ones(len(order), dtype=bool) if data.timed is None
                      else np.asarray(data.timed, dtype=bool)[self.order])
        self.windows = window_index(self.times, window_s)
        self.window_s = window_s
        self.window_numbers, starts = np.unique(self.windows, return_index=True)
        self.starts = np.append(starts, len(order))
        self._candidates: dict[int, ItemWords] = {}

    def window_slices(self):
        for k, window in enumerate(self.window_numbers):
            yield int(window), int(self.starts[k]), int(self.starts[k + 1])

    def first_position(self, window: int) -> int:
        """Position of the first item in `window` or later."""
        return int(np.searchsorted(self.windows, window, side="left"))

    def item(self, position: int) -> int:
        return int(self.order[position])

    def field(self, name: str, position: int, default=None):
        values = getattr(self.data, name)
        return default if values is None else values[self.item(position)]

    def words(self, position: int) -> str:
        title = self.field("titles", position, "") or ""
        text = self.field("texts", position, "") or ""
        return f"{title}\n{text}" if text else title

    def phrase_candidates(self, position: int) -> ItemWords:
        if position not in self._candidates:
            self._candidates[position] = item_words(self.field("titles", position, "") or "",
                                                    self.field("texts", position, "") or "",
                                                    self.field("langs", position))
        return self._candidates[position]

    def sources_of(self, positions: Sequence[int]) -> set[str]:
        found: set[str] = set()
        for p in positions:
            source = self.field("sources", p)
            if source:
                found.add(source)
            found.update(s for s in (self.field("also_sources", p) or ()) if s)
        return found


# ---- chains ----------------------------------------------------------------------------------------


def _build_chains(view: _TimeOrdered, params: TrendParams, on_window) -> list[_Chain]:
    chains: list[_Chain] = []
    loose_left: dict[int, np.ndarray] = {}  # window -> positions of loose items no chain took
    time_bonus = params.time_bonus
    if time_bonus is None:
        time_bonus = measured_time_bonus(view.vectors, view.times, view.timed, params.time_scale_s)
    total_windows = len(view.window_numbers)
    for done, (window, lo, hi) in enumerate(view.window_slices(), start=1):
        labels = cluster_window(view.vectors[lo:hi], similarity=params.cluster_similarity,
                                max_items=params.max_window_items, times=view.times[lo:hi],
                                timed=view.timed[lo:hi], time_bonus=time_bonus,
                                time_scale_s=params.time_scale_s)
        groups, loose = _groups(labels, lo, params.min_items)
        open_chains = [c for c in chains if c.last_window >= window - params.lookback_windows]
        new_chains = _link_groups(groups, open_chains, window, view, params)
        chains.extend(new_chains)
        left = _attach(loose, open_chains + new_chains, window, view, params.link_similarity)
        for chain in new_chains:  # loose items of its own first window belong to its beginning
            chain.seed_mean = chain.sums[window] / len(chain.by_window[window])
        if len(left):
            loose_left[window] = left
        if on_window:
            on_window(done, total_windows)
    _attach_beginnings(chains, loose_left, view, params)
    return _merge_side_by_side(chains, view, params.link_similarity)


def _groups(labels: np.ndarray, offset: int, min_items: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Positions of each cluster with at least `min_items` items, and of the rest."""
    counts = np.bincount(labels)
    big = np.flatnonzero(counts >= min_items)
    by_label = np.argsort(labels, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(counts)])
    groups = [by_label[bounds[g] : bounds[g + 1]] + offset for g in big]
    is_loose = counts[labels] < min_items
    return groups, np.flatnonzero(is_loose) + offset


def _link_groups(groups: list[np.ndarray], open_chains: list[_Chain], window: int, view: _TimeOrdered,
                 params: TrendParams) -> list[_Chain]:
    """Each group joins the open chain its items are most similar to on average, or starts a chain."""
    if not groups:
        return []
    means = np.stack([view.vectors[g].mean(axis=0) for g in groups])
    targets = _best_matches(means, [c.recent_mean() for c in open_chains], params.link_similarity)
    new: list[_Chain] = []
    for group, target in zip(groups, targets):
        if target >= 0:
            open_chains[target].add(window, group, view.vectors)
            continue
        chain = _Chain(seed_window=window, seed_position=int(group.min()), by_window={}, sums={}, last_window=window)
        chain.add(window, group, view.vectors)
        new.append(chain)
    return new


def _attach(loose: np.ndarray, chains: list[_Chain], window: int, view: _TimeOrdered, similarity: float) -> np.ndarray:
    """Loose items join the chain they are most similar to on average, when enough; returns the rest."""
    if not len(loose) or not chains:
        return loose
    targets = _best_matches(view.vectors[loose], [c.recent_mean() for c in chains], similarity)
    for target in np.unique(targets[targets >= 0]):
        chains[target].add(window, loose[targets == target], view.vectors)
    return loose[targets < 0]


def _best_matches(rows: np.ndarray, means: list[np.ndarray], similarity: float) -> np.ndarray:
    """Per row, the index of the mean with the highest dot product, -1 where none reaches `similarity`.

    Rows and means are means of unit vectors (an item is a mean of one), so the dot product is the
    average similarity between the two sets of items: the average-linkage criterion the grouping
    uses. A centre of many loosely related items has a short mean vector and attracts little, so a
    chain cannot grow into a catch-all of everything vaguely alike.
    """
    if not means:
        return np.full(len(rows), -1, dtype=np.int64)
    sims = rows @ np.stack(means).T
    best = np.argmax(sims, axis=1)
    return np.where(sims[np.arange(len(rows)), best] >= similarity, best, -1)


def _attach_beginnings(chains: list[_Chain], loose_left: dict[int, np.ndarray], view: _TimeOrdered,
                       params: TrendParams) -> None:
    """Loose items of the windows just before a chain's first group join it, when close to its first items."""
    for window, positions in sorted(loose_left.items()):
        later = [c for c in chains if window < c.seed_window <= window + params.lookback_windows]
        if not later:
            continue
        targets = _best_matches(view.vectors[positions], [c.seed_mean for c in later], params.link_similarity)
        for target in np.unique(targets[targets >= 0]):
            later[target].by_window.setdefault(window, []).extend(int(p) for p in positions[targets == target])


def _merge_side_by_side(chains: list[_Chain], view: _TimeOrdered, similarity: float) -> list[_Chain]:
    """Chains about one thing that run at the same time (often one per language) become one trend.

    Average linkage between chains: the two side-by-side chains (windows that overlap or touch)
    whose items are most similar on average merge, into the one that started first, until no pair
    reaches `similarity`.
    """
    if len(chains) < 2:
        return chains
    sums = np.stack([view.vectors[c.positions()].sum(axis=0) for c in chains])
    counts = np.array([len(c.positions()) for c in chains], dtype=np.float64)
    spans = np.array([[min(c.by_window), max(c.by_window)] for c in chains])
    means = sums / counts[:, None]
    sims = means @ means.T
    alive = np.ones(len(chains), dtype=bool)

    def mask(i: int) -> None:
        """Only pairs that are alive, distinct and side by side in time can merge."""
        barred = ~((spans[:, 0] <= spans[i, 1] + 1) & (spans[i, 0] <= spans[:, 1] + 1) & alive)
        sims[i, barred] = -np.inf
        sims[barred, i] = -np.inf
        sims[i, i] = -np.inf

    for i in range(len(chains)):
        mask(i)
    while True:
        i, j = divmod(int(np.argmax(sims)), len(chains))
        if sims[i, j] < similarity:
            break
        keep, gone = sorted((i, j), key=lambda k: (chains[k].seed_window, chains[k].seed_position))
        for window, positions in chains[gone].by_window.items():
            chains[keep].by_window.setdefault(window, []).extend(positions)
        sums[keep] += sums[gone]
        counts[keep] += counts[gone]
        means[keep] = sums[keep] / counts[keep]
        spans[keep] = [min(spans[keep, 0], spans[gone, 0]), max(spans[keep, 1], spans[gone, 1])]
        alive[gone] = False
        sims[gone, :] = -np.inf
        sims[:, gone] = -np.inf
        row = means @ means[keep]
        sims[keep, :] = row
        sims[:, keep] = row
        mask(keep)
    return [c for c, a in zip(chains, alive) if a]


def _chain_id(chain: _Chain, view: _TimeOrdered, params: TrendParams) -> str:
    start = to_datetime(chain.seed_window * params.window_s)
    return trend_id(start, view.data.ids[view.item(chain.seed_position)])


# ---- scores ------------------------------------------------------------------------------------


@dataclass
class _WindowStats:
    window: int
    positions: list[int]
    mean: np.ndarray  # x . mean is x's average similarity to the window's items
    lookback: int  # earlier windows inside the range
    background: int = 0
    sources: int = 1
    newest: float = 0.0


def _score_chain(chain: _Chain, view: _TimeOrdered, params: TrendParams, first_window: int) -> list[_WindowStats]:
    stats = []
    for window in sorted(chain.by_window):
        positions = sorted(chain.by_window[window])
        lookback = max(0, window - max(window - params.lookback_windows, first_window))
        stats.append(_WindowStats(window=window, positions=positions, mean=view.vectors[positions].mean(axis=0),
                                  lookback=lookback, sources=max(1, len(view.sources_of(positions))),
                                  newest=float(view.times[positions[-1]])))
    return stats


def _fill_backgrounds(scored: list[tuple[list[_WindowStats], _Chain]], view: _TimeOrdered, params: TrendParams,
                      first_window: int) -> None:
    """Count, for every (trend, window), the earlier items similar to that window's items (one product per window)."""
    by_window: dict[int, list[_WindowStats]] = {}
    for windows, _ in scored:
        for w in windows:
            if w.lookback > 0:
                by_window.setdefault(w.window, []).append(w)
    for window, entries in by_window.items():
        lo = view.first_position(max(window - params.lookback_windows, first_window))
        hi = view.first_position(window)
        if hi <= lo:
            continue
        means = np.stack([w.mean for w in entries])
        counts = np.zeros(len(entries), dtype=np.int64)
        for start in range(lo, hi, _BLOCK_ROWS):
            sims = view.vectors[start : min(hi, start + _BLOCK_ROWS)] @ means.T
            counts += (sims >= params.link_similarity).sum(axis=0)
        for w, count in zip(entries, counts):
            w.background = int(count)


def window_burst(items: int, background: int, lookback: int) -> float:
    """Items now against the mean per earlier window (+1, so that a first pair is not infinite)."""
    if lookback <= 0:
        return 1.0
    return items / (background / lookback + 1.0)


def window_score(items: int, burst: float, sources: int) -> float:
    return burst * math.log2(1 + items) * (1 + math.log2(max(1, sources)))


def recency(age_s: float, half_life_h: float) -> float:
    return 0.5 ** (max(0.0, age_s) / 3600.0 / half_life_h)


def _trend_score(windows: list[_WindowStats], params: TrendParams, until: float) -> tuple[float, float]:
    best, best_burst = 0.0, 1.0
    for w in windows:
        burst = window_burst(len(w.positions), w.background, w.lookback)
        score = window_score(len(w.positions), burst, w.sources) * recency(until - w.newest, params.half_life_h)
        if score > best:
            best, best_burst = score, burst
    return best, best_burst


# ---- description -----------------------------------------------------------------------------------


def _phrase_background(view: _TimeOrdered) -> Background:
    n = len(view.times)
    step = max(1, math.ceil(n / PHRASE_BACKGROUND_MAX))
    return Background(view.phrase_candidates(p).keys() for p in range(0, n, step))


def _describe(chain: _Chain, windows: list[_WindowStats], score: float, burst: float, view: _TimeOrdered,
              params: TrendParams, background: Background, categorize) -> DetectedTrend:
    positions = chain.positions()
    centre = _unit(view.vectors[positions].sum(axis=0))
    sims = view.vectors[positions] @ centre
    lang = _majority_language(view, positions, sims)
    in_lang = [p for p in positions if (view.field("langs", p) or "und") == lang] or positions
    distinct = _distinct_titles(view, in_lang)
    phrases = [p.text for p in key_phrases(distinct, background, limit=params.max_phrases)]
    by_similarity = sorted(zip(positions, sims), key=lambda ps: (-ps[1], ps[0]))
    central = next(p for p, _ in by_similarity if p in set(in_lang))
    ages = common_age_group([view.words(p) for p in positions])
    # Phrases of a single title are just its rarest words: the line then quotes the title instead.
    text = trend_line(lang=lang, phrases=phrases if len(distinct) > 1 else [], ages=ages, burst=burst,
                      central_title=view.field("titles", central, "") or "")
    window_of = {p: w.window for w in windows for p in w.positions}
    return DetectedTrend(
        id=_chain_id(chain, view, params), text=text, lang=lang,
        category=_category(view, positions, f"{text}\n{view.words(central)}", categorize),
        score=round(score, 4), burst=round(burst, 4),
        spread=len(view.sources_of(positions)), item_count=len(positions),
        first_seen=float(view.times[positions[0]]), last_seen=float(view.times[positions[-1]]),
        key_phrases=phrases, history=[_history_entry(w, params) for w in windows],
        evidence=[Evidence(index=view.item(p), similarity=round(float(s), 4), window_start=window_of[p] * params.window_s)
                  for p, s in by_similarity],
        centroid=centre)


def _distinct_titles(view: _TimeOrdered, positions: list[int]) -> list[ItemWords]:
    """One entry per distinct title: copies of one wire story must not make its every word a key phrase."""
    merged: dict[str, ItemWords] = {}
    for p in positions:
        words = view.phrase_candidates(p)
        key = " ".join((view.field("titles", p, "") or "").lower().split())
        seen = merged.get(key)
        merged[key] = words if seen is None else ItemWords(title=seen.title, text={**words.text, **seen.text})
    return list(merged.values())


def _history_entry(w: _WindowStats, params: TrendParams) -> HistoryEntry:
    items = len(w.positions)
    burst = window_burst(items, w.background, w.lookback)
    return HistoryEntry(window_start=w.window * params.window_s, window_end=(w.window + 1) * params.window_s,
                        items=items, burst=round(burst, 4), score=round(window_score(items, burst, w.sources), 4))


def _majority_language(view: _TimeOrdered, positions: list[int], sims: np.ndarray) -> str:
    counts = Counter(view.field("langs", p) or "und" for p in positions)
    top = max(counts.values())
    tied = {lang for lang, c in counts.items() if c == top}
    if len(tied) == 1:
        return tied.pop()
    for p in (positions[i] for i in np.argsort(-sims, kind="stable")):  # the most central item decides a tie
        lang = view.field("langs", p) or "und"
        if lang in tied:
            return lang
    return sorted(tied)[0]


def _category(view: _TimeOrdered, positions: list[int], text: str, categorize) -> str | None:
    counts = Counter(c for c in (view.field("categories", p) for p in positions) if c)
    if counts:
        return min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    return categorize(text) if categorize else None


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return (v / n).astype(np.float32) if n > 0 else np.asarray(v, dtype=np.float32)
