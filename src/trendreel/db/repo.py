"""Data functions over the tables; keyword-only, each takes the session it works in."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Iterable

from sqlalchemy import JSON, Row, Text, bindparam, cast, delete, func, insert, literal, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from trendreel.db.tables import Article, ArticleLsh, Category, CrawlRun, CrawlUrl, Event, MediaItem, Source, utcnow
from trendreel.ids import url_hash


def _insert(session: Session, table):
    return (pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert)(table)


def append_event(session: Session, *, type: str, subject_type: str, subject_id: str, dedupe_key: str, payload: dict | None = None) -> bool:
    """Append an event once; the same dedupe_key again is a no-op. Returns whether it was new."""
    params = {"at": utcnow(), "type": type, "subject_type": subject_type, "subject_id": subject_id,
              "dedupe_key": dedupe_key, "payload": payload or {}}
    return session.execute(_event_insert(session.bind.dialect.name), params).scalar() is not None


# Statements the crawl runs for every page are built once and executed with parameters: building one
# per call (`.values(...)` with fresh values) cost more than the database did, ~2 ms a page.
@lru_cache(maxsize=4)
def _event_insert(dialect: str):
    table = Event.__table__
    return _dialect_insert(dialect, table).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(table.c.id)


def _dialect_insert(dialect: str, table):
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


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


_ENQUEUE_BATCH = 10_000  # rows per statement: bounded memory per statement, few round trips
# What the crawl queue needs of a frontier row: plain rows, no ORM objects (100,000 of those took a minute).
_QUEUE_COLUMNS = [CrawlUrl.__table__.c[name] for name in ("id", "source_id", "url", "kind", "depth", "etag", "last_modified")]


def enqueue_urls(session: Session, *, source_id: int, urls: Iterable[tuple[str, str, int, str | None]]) -> list[Row]:
    """Add (url, kind, depth, discovered_from) rows that are new for this source; returns the new rows
    (id, source_id, url, kind, depth, etag, last_modified) in id order."""
    rows = []
    seen = set()
    for url, kind, depth, parent in urls:
        h = url_hash(url)
        if h not in seen:
            seen.add(h)
            rows.append((url, h, kind, depth, parent))  # in the order of _PER_ROW
    if not rows:
        return []
    now = utcnow()
    same = {"source_id": source_id, "status": "queued", "attempts": 0, "created_at": now, "updated_at": now}
    stmt = _enqueue_statement(session)
    new_rows: list[Row] = []
    for start in range(0, len(rows), _ENQUEUE_BATCH):
        new_rows += session.execute(stmt, _enqueue_params(session, rows[start:start + _ENQUEUE_BATCH], same)).all()
    new_rows.sort(key=lambda r: r.id)
    return new_rows


# Per-row values; the rest is the same for every row of one call.
_PER_ROW = ("url", "url_hash", "kind", "depth", "discovered_from")
_SAME_FOR_ALL = ("source_id", "status", "attempts", "created_at", "updated_at")


def _enqueue_statement(session: Session):
    """INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING the queue's columns, with the rows in one parameter.

    Row-by-row parameters were the cost: 100,000 rows are a million bound values, each typed and converted
    by SQLAlchemy (and parsed again by psycopg in a multi-row VALUES). Instead the rows go as one JSON
    array of rows (json.dumps is C), which the database reads in C: json_array_elements on PostgreSQL,
    json_each on SQLite. (One array per column, unnested, cost 1.8 s per 100,000 rows in psycopg's array
    quoting.)"""
    table = CrawlUrl.__table__
    same = [bindparam(c, type_=table.c[c].type) for c in _SAME_FOR_ALL]
    if session.bind.dialect.name == "postgresql":
        each = func.json_array_elements(cast(bindparam("rows", type_=Text), JSON)).table_valued("value").alias("each_row")
        per_row = [cast(each.c.value.op("->>")(literal(i)), table.c[c].type) for i, c in enumerate(_PER_ROW)]
        rows = select(*per_row, *same).select_from(each)
        stmt = pg_insert(table)
    else:
        each = func.json_each(bindparam("rows")).table_valued("value").alias("each_row")
        per_row = [func.json_extract(each.c.value, f"$[{i}]") for i in range(len(_PER_ROW))]
        # `WHERE true`: without a WHERE, SQLite reads ON CONFLICT as part of the SELECT's join.
        rows = select(*per_row, *same).select_from(each).where(true())
        stmt = sqlite_insert(table)
    return (stmt.from_select([*_PER_ROW, *_SAME_FOR_ALL], rows)
            .on_conflict_do_nothing(index_elements=["source_id", "url_hash"]).returning(*_QUEUE_COLUMNS))


def _enqueue_params(session: Session, rows: list[tuple], same: dict) -> dict:
    return {**same, "rows": json.dumps(rows)}


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


def queued_urls(session: Session, *, source_id: int) -> list[Row]:
    """The source's queued rows (id, source_id, url, kind, depth, etag, last_modified), shallowest first."""
    return list(session.execute(select(*_QUEUE_COLUMNS).where(CrawlUrl.source_id == source_id, CrawlUrl.status == "queued")
                                .order_by(CrawlUrl.depth, CrawlUrl.id)).all())


def finish_url(session: Session, *, url_id: int, status: str, bump_attempts: bool = False, **fields) -> None:
    """Record a URL's outcome (`fields`: columns of crawl_url); `bump_attempts` counts one more attempt."""
    values = {"status": status, "updated_at": utcnow(), **fields}
    params = {f"new_{k}": v for k, v in values.items()}
    params["url_id"] = url_id
    session.execute(_finish_statement(tuple(values), bump_attempts), params)


@lru_cache(maxsize=32)
def _finish_statement(columns: tuple[str, ...], bump_attempts: bool):
    table = CrawlUrl.__table__
    values = {c: bindparam(f"new_{c}", type_=table.c[c].type) for c in columns}
    if bump_attempts:
        values["attempts"] = table.c.attempts + 1
    return update(table).where(table.c.id == bindparam("url_id")).values(values)


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


def upsert_article(session: Session, *, article_id: str, values: dict) -> None:
    """Insert the crawled article or update its crawled fields (`values`: columns of article); no ORM object."""
    now = utcnow()
    params = {"id": article_id, "crawled_at": now, "updated_at": now, **values}
    session.execute(_article_upsert(session.bind.dialect.name, tuple(params)), params)


@lru_cache(maxsize=8)
def _article_upsert(dialect: str, columns: tuple[str, ...]):
    stmt = _dialect_insert(dialect, Article.__table__)
    keep = ("id", "crawled_at")  # an update keeps when the article was first crawled
    return stmt.on_conflict_do_update(index_elements=["id"],
                                      set_={c: stmt.excluded[c] for c in columns if c not in keep})


_LSH_TABLE = ArticleLsh.__table__
_LSH_DELETE = delete(_LSH_TABLE).where(_LSH_TABLE.c.article_id == bindparam("aid"))


def save_lsh_bands(session: Session, *, article_id: str, bands: list[int]) -> None:
    session.execute(_LSH_DELETE, {"aid": article_id})
    session.execute(insert(_LSH_TABLE), [{"article_id": article_id, "band": i, "key": k} for i, k in enumerate(bands)])


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
