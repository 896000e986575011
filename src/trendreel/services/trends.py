"""The trend stage as use cases: detect trends, list them, show one. The CLI and the API call these.

Every function returns plain dicts (JSON-ready, times in ISO 8601 UTC):

    id, text, lang, category, score, burst, spread, item_count, window, first_seen_at, last_seen_at,
    detected_at, key_phrases, history [{window_start, window_end, items, burst, score}],
    evidence [{id, url, external_id, title, published_at, source, similarity}]

Evidence is ordered by similarity to the trend's centre; `external_id` is the id an imported item
came with (None for crawled items).
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone

from sqlalchemy import select

from trendreel.bootstrap import App
from trendreel.db.tables import Article, Category, Source, Trend, TrendItem
from trendreel.errors import ConfigError
from trendreel.trends.errors import UnknownTrend
from trendreel.trends.stage import Progress, outlet, run_detection
from trendreel.units import format_window

MAX_LIMIT = 1000


def detect_trends(app: App, *, window: str | None = None, since=None, until=None,
                  on_progress: Progress | None = None) -> list[dict]:
    """Detect trends among the stored items in [since, until), store them, return them best first.

    `window` overrides `trends.window` ("30m", "6h", "24h", "7d"); `since`/`until` are datetimes,
    dates or ISO strings (default: `trends.history_days` up to the newest item). `on_progress(step,
    done, total)` is called with step "vectors", "windows" and "saving".
    """
    settings = app.settings.trends
    run = run_detection(db=app.db, vectors=app.vectors(), settings=settings, embedder=app.settings.index.text_embedder,
                        window=window, since=as_utc(since, "--since"), until=as_utc(until, "--until"),
                        categorize=lambda text: app.categorizer().categorize([text])[0].slug,
                        on_progress=on_progress, texts=app.trend_texts())
    return _trend_dicts(app, [t.id for t in run.trends])


def list_trends(app: App, *, since=None, until=None, limit: int = 50) -> list[dict]:
    """Stored trends seen in [since, until) (any overlap), best score first."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ConfigError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    since, until = as_utc(since, "--since"), as_utc(until, "--until")
    query = select(Trend.id)
    if since is not None:
        query = query.where(Trend.last_seen_at >= since)
    if until is not None:
        query = query.where(Trend.first_seen_at < until)
    with app.db.session() as s:
        ids = list(s.scalars(query.order_by(Trend.score.desc(), Trend.last_seen_at.desc(), Trend.id).limit(limit)))
    return _trend_dicts(app, ids)


def get_trend(app: App, trend_id: str) -> dict:
    """One stored trend with its history and evidence."""
    found = _trend_dicts(app, [trend_id])
    if not found:
        raise UnknownTrend(f"unknown trend {trend_id!r}", hint="list trends with `trendreel trends`")
    return found[0]


def as_utc(value, option: str) -> datetime | None:
    """A datetime (naive = UTC), a date (its midnight UTC) or an ISO string as an aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ConfigError(f"{option}: {value!r} is not a date or time; write e.g. 2026-11-20 or "
                              "2026-11-20T09:30:00+09:00") from None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time(0), tzinfo=timezone.utc)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _trend_dicts(app: App, trend_ids: list[str]) -> list[dict]:
    if not trend_ids:
        return []
    with app.db.session() as s:
        rows = {t.id: (t, slug) for t, slug in s.execute(
            select(Trend, Category.slug).join(Category, Category.id == Trend.category_id, isouter=True)
            .where(Trend.id.in_(trend_ids)))}
        evidence = _evidence(s, list(rows))
    return [_trend_dict(rows[tid][0], rows[tid][1], evidence.get(tid, [])) for tid in trend_ids if tid in rows]


def _evidence(s, trend_ids: list[str]) -> dict[str, list[dict]]:
    query = (select(TrendItem.trend_id, TrendItem.similarity, Article.id, Article.canonical_url, Article.external_id,
                    Article.title, Article.published_at, Article.sitename, Source.name)
             .join(Article, Article.id == TrendItem.article_id)
             .join(Source, Source.id == Article.source_id, isouter=True)
             .where(TrendItem.trend_id.in_(trend_ids))
             .order_by(TrendItem.trend_id, TrendItem.similarity.desc(), Article.id))
    out: dict[str, list[dict]] = {}
    for tid, similarity, aid, url, external_id, title, published, sitename, source_name in s.execute(query):
        out.setdefault(tid, []).append({
            "id": aid, "url": url, "external_id": external_id, "title": title,
            "published_at": _iso(published), "source": outlet(sitename, url, source_name),
            "similarity": round(float(similarity), 4)})
    return out


def _trend_dict(t: Trend, category: str | None, evidence: list[dict]) -> dict:
    return {
        "id": t.id, "text": t.text, "lang": t.lang, "category": category, "score": round(float(t.score), 4),
        "burst": round(float(t.burst), 4), "spread": t.spread, "item_count": t.item_count,
        "window": format_window(t.window_s), "first_seen_at": _iso(t.first_seen_at),
        "last_seen_at": _iso(t.last_seen_at), "detected_at": _iso(t.detected_at),
        "key_phrases": list(t.key_phrases or []), "history": list(t.history or []), "evidence": evidence,
    }


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat() if value is not None else None
