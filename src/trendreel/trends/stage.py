"""The trend stage: stored items and their vectors in; trend rows, evidence rows and events out.

Items are the original articles (near-duplicates are left out of the grouping; their outlets still
count toward a trend's spread) whose time, `published_at` or else `crawled_at`, lies in
[since, until). Each needs its `<article_id>:article` vector from the index stage; items without one
are counted and skipped. Trends are upserted by id, their evidence replaced by what this run found,
and one `TrendDetected` event is appended per trend and state, so running the stage again over the
same items changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlparse

import numpy as np
from sqlalchemy import delete, func, insert, select, update

from trendreel import events
from trendreel.db import repo
from trendreel.db.tables import Article, Category, Source, Trend, TrendItem
from trendreel.logs import get_logger
from trendreel.settings import TrendSettings
from trendreel.trends.core import DetectedTrend, TrendInput, TrendParams, detect
from trendreel.trends.errors import TrendError
from trendreel.trends.identity import continued_ids
from trendreel.trends.llm_text import TrendBriefing
from trendreel.trends.text import RISING_BURST
from trendreel.trends.windows import to_datetime, to_seconds
from trendreel.units import format_window, parse_window

log = get_logger(__name__)

_VECTOR_BATCH = 5000
_ID_BATCH = 500
# Bump when what the stage stores for the same input changes.
STAGE_VERSION = "1"
INDEX_FIRST = "`trendreel crawl` or `trendreel import`, then `trendreel index`"

Progress = Callable[[str, int, int], None]


@dataclass
class DetectionRun:
    """What one run looked at and found."""

    trends: list[DetectedTrend]
    since: datetime
    until: datetime
    window_s: int
    items: int  # items with a vector that took part
    without_vector: int  # items in range the index stage has not embedded


def params_from_settings(settings: TrendSettings, window: str | None = None) -> TrendParams:
    window_s = parse_window(window, setting="--window") if window else parse_window(settings.window)
    return TrendParams(window_s=window_s, lookback_windows=settings.lookback_windows,
                       cluster_similarity=settings.cluster_similarity, link_similarity=settings.link_similarity,
                       min_items=settings.min_items, half_life_h=settings.half_life_h,
                       max_window_items=settings.max_window_items, max_trends=settings.max_trends,
                       time_bonus=settings.time_bonus, time_scale_s=parse_window(settings.time_scale))


def detector_key(params: TrendParams, embedder: str, texts=None) -> str:
    """What produced a trend: the stage version, the text embedder, the parameters and (when not the
    offline lines) the language model that worded the texts."""
    key = (f"v{STAGE_VERSION}|{embedder}|{format_window(params.window_s)}|lookback={params.lookback_windows}"
           f"|cluster={params.cluster_similarity}|link={params.link_similarity}|min={params.min_items}"
           f"|half_life_h={params.half_life_h}"
           + (f"|time_bonus={'measured' if params.time_bonus is None else params.time_bonus}"
              f"/{format_window(int(params.time_scale_s))}" if params.time_bonus != 0 else ""))
    return key + (f"|text={texts.name}:{texts.model}" if texts is not None else "")


def run_detection(*, db, vectors, settings: TrendSettings, embedder: str, window: str | None = None,
                  since: datetime | None = None, until: datetime | None = None,
                  categorize: Callable[[str], str | None] | None = None,
                  on_progress: Progress | None = None, texts=None) -> DetectionRun:
    """Detect trends among the stored items in [since, until) and store them.

    `texts` (an LlmTrendTexts) rewords each trend's offline line; a trend stored earlier with the same
    key phrases by the same model keeps its stored line, so re-runs do not ask the model again.
    """
    params = params_from_settings(settings, window)
    since, until = _time_range(db, settings, since, until)
    rows = _load_items(db, since, until)
    if not rows:
        raise TrendError(f"no stored items between {since:%Y-%m-%d %H:%M} and {until:%Y-%m-%d %H:%M} UTC: "
                         "crawl or import items and index them, then detect trends", hint=INDEX_FIRST)
    found = _load_vectors(vectors, [r["id"] for r in rows], on_progress)
    with_vectors = [r for r in rows if r["id"] in found]
    if not with_vectors:
        raise TrendError(f"none of the {len(rows)} items between {since:%Y-%m-%d} and {until:%Y-%m-%d} has a vector "
                         "yet: index them first", hint="run `trendreel index`")
    if len(with_vectors) < len(rows):
        log.warning("trends.items_without_vectors", missing=len(rows) - len(with_vectors),
                    hint="run `trendreel index` to include them")
    data = _trend_input(with_vectors, found, _duplicate_sources(db, [r["id"] for r in with_vectors]))

    def on_window(done: int, total: int) -> None:
        if on_progress:
            on_progress("windows", done, total)

    trends = detect(data, params, since=to_seconds(since), until=to_seconds(until), categorize=categorize,
                    on_window=on_window)
    detector = detector_key(params, embedder, texts)
    if texts is not None:
        _reword(db, trends, data, texts, detector, on_progress)
    _save(db, trends, data, params, detector, on_progress)
    return DetectionRun(trends=trends, since=since, until=until, window_s=params.window_s,
                        items=len(with_vectors), without_vector=len(rows) - len(with_vectors))


def _reword(db, trends: list[DetectedTrend], data: TrendInput, texts, detector: str,
            on_progress: Progress | None) -> None:
    with db.session() as s:
        stored = {r.id: r for r in s.scalars(select(Trend).where(Trend.id.in_([t.id for t in trends])))}
        earlier = {i: (r.detector, list(r.key_phrases or []), r.text) for i, r in stored.items()}
    for n, trend in enumerate(trends, 1):
        detector_then, phrases_then, text_then = earlier.get(trend.id, (None, None, None))
        if detector_then == detector and phrases_then == list(trend.key_phrases):
            trend.text = text_then
        else:
            central = sorted(trend.evidence, key=lambda e: -e.similarity)
            trend.text, _problems = texts.line(TrendBriefing(
                lang=trend.lang, key_phrases=list(trend.key_phrases), titles=[data.titles[e.index] for e in central],
                rising=trend.burst >= RISING_BURST, offline_text=trend.text))
        if on_progress:
            on_progress("texts", n, len(trends))


# ---- reading -----------------------------------------------------------------------------------

_ITEM_TIME = func.coalesce(Article.published_at, Article.crawled_at)


def _time_range(db, settings: TrendSettings, since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    """[since, until): until defaults to just after the newest item, since to `history_days` before until."""
    if until is None:
        with db.session() as s:
            newest = s.scalar(select(func.max(_ITEM_TIME)).where(Article.duplicate_of.is_(None)))
        if newest is None:
            raise TrendError("no stored items yet: crawl or import items and index them, then detect trends", hint=INDEX_FIRST)
        until = to_datetime(to_seconds(newest) + 1)
    until = to_datetime(to_seconds(until))
    since = to_datetime(to_seconds(since)) if since is not None else until - timedelta(days=settings.history_days)
    if since >= until:
        raise TrendError(f"--since ({since:%Y-%m-%d %H:%M}) must be before --until ({until:%Y-%m-%d %H:%M})")
    return since, until


def _load_items(db, since: datetime, until: datetime) -> list[dict]:
    query = (select(Article.id, Article.title, Article.summary, Article.description, Article.lang, Article.sitename,
                    Article.canonical_url, Source.name, Category.slug, _ITEM_TIME, Article.published_at)
             .join(Source, Source.id == Article.source_id, isouter=True)
             .join(Category, Category.id == Article.category_id, isouter=True)
             .where(Article.duplicate_of.is_(None), _ITEM_TIME >= since, _ITEM_TIME < until)
             .order_by(_ITEM_TIME, Article.id))
    with db.session() as s:
        rows = s.execute(query).all()
    return [{"id": r[0], "title": r[1] or "", "text": r[2] or r[3] or "", "lang": r[4],
             "source": outlet(r[5], r[6], r[7]), "category": r[8], "time": to_seconds(r[9]),
             "timed": r[10] is not None} for r in rows]


def outlet(sitename: str | None, url: str | None, source_name: str | None) -> str:
    """Who published an item: its site name, else its host, else the configured source."""
    if sitename:
        return sitename.strip()
    host = urlparse(url or "").hostname
    return host or source_name or "unknown"


def _load_vectors(vectors, article_ids: list[str], on_progress: Progress | None) -> dict[str, np.ndarray]:
    found: dict[str, np.ndarray] = {}
    for start in range(0, len(article_ids), _VECTOR_BATCH):
        part = article_ids[start : start + _VECTOR_BATCH]
        records = vectors.get_many([f"{a}:article" for a in part])
        found.update((r.article_id, r.vector) for r in records.values())
        if on_progress:
            on_progress("vectors", min(start + _VECTOR_BATCH, len(article_ids)), len(article_ids))
    return found


def _duplicate_sources(db, article_ids: list[str]) -> dict[str, set[str]]:
    """Outlets of each item's near-duplicates (syndicated copies count toward spread).

    One pass over the near-duplicates, kept when their original is in the run: `duplicate_of` has no
    index, and on PostgreSQL a query per batch of ids scanned the whole article table each time."""
    wanted = set(article_ids)
    out: dict[str, set[str]] = {}
    with db.session() as s:
        rows = s.execute(select(Article.duplicate_of, Article.sitename, Article.canonical_url, Source.name)
                         .join(Source, Source.id == Article.source_id, isouter=True)
                         .where(Article.duplicate_of.is_not(None)))
        for original, sitename, url, source_name in rows:
            if original in wanted:
                out.setdefault(original, set()).add(outlet(sitename, url, source_name))
    return out


def _trend_input(rows: list[dict], vectors: dict[str, np.ndarray], duplicates: dict[str, set[str]]) -> TrendInput:
    return TrendInput(
        ids=[r["id"] for r in rows], times=np.array([r["time"] for r in rows], dtype=np.float64),
        vectors=np.stack([vectors[r["id"]] for r in rows]), titles=[r["title"] for r in rows],
        texts=[r["text"] for r in rows], sources=[r["source"] for r in rows], langs=[r["lang"] for r in rows],
        categories=[r["category"] for r in rows], timed=[r["timed"] for r in rows],
        also_sources=[sorted(duplicates.get(r["id"], ())) for r in rows])


# ---- writing -----------------------------------------------------------------------------------


def _save(db, trends: list[DetectedTrend], data: TrendInput, params: TrendParams, detector: str,
          on_progress: Progress | None) -> None:
    with db.session() as s:
        _adopt_stored_ids(s, trends, data)
        category_ids = {c.slug: c.id for c in repo.list_categories(s)}
        for done, trend in enumerate(trends, start=1):
            _upsert_trend(s, trend, data, params, detector, category_ids)
            if on_progress:
                on_progress("saving", done, len(trends))


def _adopt_stored_ids(s, trends: list[DetectedTrend], data: TrendInput) -> None:
    """Each detected trend takes the id of the stored trend that is the same event (identity.py)."""
    detected = {t.id: {data.ids[e.index] for e in t.evidence} for t in trends}
    all_items = sorted(set().union(*detected.values())) if detected else []
    holders: set[str] = set()
    for start in range(0, len(all_items), _ID_BATCH):
        part = all_items[start : start + _ID_BATCH]
        holders.update(s.scalars(select(TrendItem.trend_id).where(TrendItem.article_id.in_(part))))
    stored: dict[str, set[str]] = {}
    ordered = sorted(holders)
    for start in range(0, len(ordered), _ID_BATCH):
        part = ordered[start : start + _ID_BATCH]
        for trend_id_, article_id in s.execute(select(TrendItem.trend_id, TrendItem.article_id)
                                               .where(TrendItem.trend_id.in_(part))):
            stored.setdefault(trend_id_, set()).add(article_id)
    if not stored:
        return
    new_ids = continued_ids(detected, stored)
    for trend in trends:
        trend.id = new_ids[trend.id]


def _upsert_trend(s, trend: DetectedTrend, data: TrendInput, params: TrendParams, detector: str,
                  category_ids: dict[str, int]) -> None:
    values = {
        "text": trend.text, "lang": trend.lang, "category_id": category_ids.get(trend.category),
        "score": trend.score, "burst": trend.burst, "spread": trend.spread, "item_count": trend.item_count,
        "first_seen_at": to_datetime(trend.first_seen), "last_seen_at": to_datetime(trend.last_seen),
        "window_s": params.window_s, "key_phrases": list(trend.key_phrases),
        "history": [{"window_start": to_datetime(h.window_start).isoformat(),
                     "window_end": to_datetime(h.window_end).isoformat(),
                     "items": h.items, "burst": h.burst, "score": h.score} for h in trend.history],
        "detector": detector,
    }
    row = s.get(Trend, trend.id)
    if row is None:
        s.add(Trend(id=trend.id, **values))
        s.flush()
    else:
        for name, value in values.items():  # only real changes, so updated_at means something
            if getattr(row, name) != value:
                setattr(row, name, value)
    _replace_evidence(s, trend, data)
    evidence_ids = sorted(data.ids[e.index] for e in trend.evidence)
    # The same text and evidence again is the same fact: no new event.
    state = hashlib.sha256(json.dumps([trend.text, params.window_s, evidence_ids], ensure_ascii=False)
                           .encode("utf-8")).hexdigest()[:16]
    repo.append_event(s, type=events.TREND_DETECTED, subject_type="trend", subject_id=trend.id,
                      dedupe_key=f"{events.TREND_DETECTED}:{trend.id}:{state}",
                      payload={"text": trend.text, "score": trend.score, "items": trend.item_count,
                               "window": format_window(params.window_s),
                               "first_seen_at": values["first_seen_at"].isoformat(),
                               "last_seen_at": values["last_seen_at"].isoformat(),
                               "evidence": evidence_ids[:50]})


def _replace_evidence(s, trend: DetectedTrend, data: TrendInput) -> None:
    """The trend's evidence rows become what this run found: one read, then at most one delete, one
    insert and one update statement (Core), not an ORM object per row."""
    wanted = {data.ids[e.index]: (e.similarity, to_datetime(e.window_start)) for e in trend.evidence}
    existing = {aid: (sim, start) for aid, sim, start in s.execute(
        select(TrendItem.article_id, TrendItem.similarity, TrendItem.window_start).where(TrendItem.trend_id == trend.id))}
    gone = [aid for aid in existing if aid not in wanted]
    for start in range(0, len(gone), _ID_BATCH):
        s.execute(delete(TrendItem).where(TrendItem.trend_id == trend.id,
                                          TrendItem.article_id.in_(gone[start : start + _ID_BATCH])))
    new = [{"trend_id": trend.id, "article_id": aid, "similarity": sim, "window_start": when}
           for aid, (sim, when) in wanted.items() if aid not in existing]
    changed = [{"trend_id": trend.id, "article_id": aid, "similarity": sim, "window_start": when}
               for aid, (sim, when) in wanted.items() if aid in existing and existing[aid] != (sim, when)]
    if new:
        s.execute(insert(TrendItem), new)
    if changed:  # by primary key, many rows in one statement
        s.execute(update(TrendItem), changed)
