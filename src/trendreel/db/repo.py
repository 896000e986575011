"""Data functions over the tables; keyword-only, each takes the session it works in."""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from trendreel.db.tables import Article, ArticleLsh, Category, CrawlRun, CrawlUrl, Event, MediaItem, Source, utcnow
from trendreel.ids import url_hash


def _insert(session: Session, table):
    return (pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert)(table)


def append_event(session: Session, *, type: str, subject_type: str, subject_id: str, dedupe_key: str, payload: dict | None = None) -> bool:
    """Append an event once; the same dedupe_key again is a no-op. Returns whether it was new."""
    stmt = _insert(session, Event).values(
        at=utcnow(), type=type, subject_type=subject_type, subject_id=subject_id, dedupe_key=dedupe_key, payload=payload or {}
    ).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(Event.id)
    return session.execute(stmt).scalar() is not None


def upsert_source(session: Session, *, name: str, kind: str, config: dict) -> Source:
    source = session.scalar(select(Source).where(Source.name == name))
    if source is not None:  # who added it in the workspace (and whether it was removed) outlives a crawl
        config = {**config, **{k: v for k, v in (source.config or {}).items() if k in ("added_by", "removed_at")}}
    if source is None:
        source = Source(name=name, kind=kind, config=config)
        session.add(source)
        session.flush()
    elif source.kind != kind or source.config != config:
        source.kind, source.config = kind, config
    return source


_ENQUEUE_SLICE = 2000  # rows per INSERT: 10 columns each, well under the parameter limit


def enqueue_urls(session: Session, *, source_id: int, urls: Iterable[tuple[str, str, int, str | None]]) -> list[CrawlUrl]:
    """Add (url, kind, depth, discovered_from) rows that are new for this source; returns the new rows."""
    rows = []
    seen = set()
    for url, kind, depth, parent in urls:
        h = url_hash(url)
        if h in seen:
            continue
        seen.add(h)
        rows.append({"source_id": source_id, "url": url, "url_hash": h, "kind": kind, "depth": depth,
                     "discovered_from": parent, "status": "queued", "attempts": 0,
                     "created_at": utcnow(), "updated_at": utcnow()})
    new_rows: list[CrawlUrl] = []
    # In slices: one statement may carry at most 65,535 parameters (PostgreSQL) and a sitemap lists up to 50,000 URLs.
    for start in range(0, len(rows), _ENQUEUE_SLICE):
        stmt = (_insert(session, CrawlUrl).values(rows[start:start + _ENQUEUE_SLICE])
                .on_conflict_do_nothing(index_elements=["source_id", "url_hash"]).returning(CrawlUrl.id))
        new_ids = list(session.execute(stmt).scalars())
        if new_ids:
            new_rows += session.scalars(select(CrawlUrl).where(CrawlUrl.id.in_(new_ids)).order_by(CrawlUrl.id)).all()
    return new_rows


def requeue(session: Session, *, source_id: int, urls: list[str]) -> None:
    """Queue hub URLs (feeds, sitemaps, start pages) again at the start of a new run."""
    hashes = [url_hash(u) for u in urls]
    session.execute(update(CrawlUrl).where(CrawlUrl.source_id == source_id, CrawlUrl.url_hash.in_(hashes),
                                           CrawlUrl.status != "queued").values(status="queued", updated_at=utcnow()))


RETRYABLE_ERRORS = ("fetch_failed", "internal")


def requeue_failed(session: Session, *, source_id: int, max_attempts: int = 3) -> None:
    """Give URLs that failed for a passing reason (network, server error) another run, up to max_attempts."""
    session.execute(update(CrawlUrl).where(
        CrawlUrl.source_id == source_id, CrawlUrl.status == "error", CrawlUrl.error_kind.in_(RETRYABLE_ERRORS),
        CrawlUrl.attempts < max_attempts, or_(CrawlUrl.http_status.is_(None), CrawlUrl.http_status >= 500),
    ).values(status="queued", updated_at=utcnow()).execution_options(synchronize_session=False))


def queued_urls(session: Session, *, source_id: int) -> list[CrawlUrl]:
    return list(session.scalars(select(CrawlUrl).where(CrawlUrl.source_id == source_id, CrawlUrl.status == "queued")
                                .order_by(CrawlUrl.depth, CrawlUrl.id)).all())


def finish_url(session: Session, *, url_id: int, status: str, **fields) -> None:
    session.execute(update(CrawlUrl).where(CrawlUrl.id == url_id).values(status=status, updated_at=utcnow(), **fields)
                    .execution_options(synchronize_session=False))


def article_id_by_hash(session: Session, *, content_hash: str) -> str | None:
    """The first stored article with exactly this text, if any."""
    return session.scalar(select(Article.id).where(Article.content_hash == content_hash).order_by(Article.crawled_at).limit(1))


_LSH_MATCH = (
    select(Article.id, Article.minhash)
    .where(Article.id.in_(select(ArticleLsh.article_id).where(ArticleLsh.key.in_(bindparam("keys", expanding=True)))),
           Article.duplicate_of.is_(None))
    .limit(bindparam("limit"))
)


def near_duplicate_candidates(session: Session, *, bands: list[int], limit: int = 1000) -> list[tuple[str, str]]:
    """(id, MinHash hex) of original articles sharing at least one LSH band key (one index probe per band)."""
    return [(r[0], r[1]) for r in session.execute(_LSH_MATCH, {"keys": bands, "limit": limit})]


def save_lsh_bands(session: Session, *, article_id: str, bands: list[int]) -> None:
    session.execute(delete(ArticleLsh).where(ArticleLsh.article_id == article_id))
    session.execute(insert(ArticleLsh), [{"article_id": article_id, "band": i, "key": k} for i, k in enumerate(bands)])


def category_id(session: Session, slug: str | None) -> int | None:
    if not slug:
        return None
    return session.scalar(select(Category.id).where(Category.slug == slug))


def list_categories(session: Session) -> list[Category]:
    return list(session.scalars(select(Category).order_by(Category.slug)).all())


def list_articles(session: Session, *, limit: int = 50, source: str | None = None, lang: str | None = None) -> list[Article]:
    q = select(Article).order_by(Article.published_at.desc().nulls_last(), Article.crawled_at.desc()).limit(limit)
    if source:
        q = q.join(Source, Source.id == Article.source_id).where(Source.name == source)
    if lang:
        q = q.where(Article.lang == lang)
    return list(session.scalars(q).all())


def media_of(session: Session, *, article_id: str) -> list[MediaItem]:
    return list(session.scalars(select(MediaItem).where(MediaItem.article_id == article_id).order_by(MediaItem.kind, MediaItem.position)).all())


def counts(session: Session) -> dict[str, int]:
    """Row counts a user wants after a crawl."""
    media = dict(session.execute(select(MediaItem.kind, func.count()).where(MediaItem.status.in_(["stored", "linked"])).group_by(MediaItem.kind)).all())
    urls = dict(session.execute(select(CrawlUrl.status, func.count()).group_by(CrawlUrl.status)).all())
    return {
        "articles": session.scalar(select(func.count()).select_from(Article)) or 0,
        "near_duplicates": session.scalar(select(func.count()).select_from(Article).where(Article.duplicate_of.is_not(None))) or 0,
        "images": media.get("image", 0),
        "videos": media.get("video", 0),
        "embeds": media.get("embed", 0),
        "urls_done": urls.get("done", 0) + urls.get("not_modified", 0) + urls.get("duplicate", 0),
        "urls_error": urls.get("error", 0),
        "urls_skipped": urls.get("skipped", 0),
        "urls_queued": urls.get("queued", 0),
        "events": session.scalar(select(func.count()).select_from(Event)) or 0,
    }


def start_run(session: Session, *, sources: list[str]) -> CrawlRun:
    run = CrawlRun(sources=sources, status="running", stats={})
    session.add(run)
    session.flush()
    return run


def end_run(session: Session, *, run_id: int, status: str, stats: dict) -> None:
    session.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(status=status, stats=stats, finished_at=utcnow()))
