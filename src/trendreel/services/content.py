"""Use cases of reading what is collected: articles with their media, crawl errors, counts, the category master.

Light on purpose: listing articles imports no crawler, extractor or model (crawling is services/crawl.py)."""

from __future__ import annotations

from sqlalchemy import select

from trendreel.bootstrap import App
from trendreel.db import repo
from trendreel.db.tables import Article, Category, CrawlUrl
from trendreel.errors import InvalidInput, NotFound


def list_articles(app: App, *, limit: int = 50, source: str | None = None, lang: str | None = None) -> list[dict]:
    """Stored articles with their media, newest first."""
    with app.db.session() as s:
        cats = {c.id: c.slug for c in repo.list_categories(s)}
        return [_article_dict(s, a, cats) for a in repo.list_articles(s, limit=limit, source=source, lang=lang)]


def get_article(app: App, article_id: str) -> dict:
    """One stored article with its media (and summary), in the shape of list_articles."""
    with app.db.session() as s:
        a = s.get(Article, article_id)
        if a is None:
            raise NotFound(f"unknown article {article_id}", hint="list articles with `trendreel articles`")
        cats = {c.id: c.slug for c in repo.list_categories(s)}
        return {**_article_dict(s, a, cats), "summary": a.summary}


def _article_dict(s, a: Article, cats: dict) -> dict:
    return {
        "id": a.id, "url": a.canonical_url, "title": a.title, "lang": a.lang, "author": a.author,
        "published_at": a.published_at.isoformat() if a.published_at else None,
        "category": cats.get(a.category_id), "duplicate_of": a.duplicate_of, "text_chars": a.text_chars,
        "text_path": a.text_path,
        "media": [{"id": m.id, "kind": m.kind, "status": m.status, "path": m.path, "url": m.source_url,
                   "bytes": m.bytes, "caption": m.caption or m.alt} for m in repo.media_of(s, article_id=a.id)],
    }


def storage_counts(app: App) -> dict[str, int]:
    with app.db.session() as s:
        return repo.counts(s)


def list_categories(app: App) -> list[dict]:
    with app.db.session() as s:
        return [{"slug": c.slug, "name": c.name, "name_ko": c.name_ko, "description": c.description}
                for c in repo.list_categories(s)]


def save_category(app: App, *, slug: str, name: str | None = None, name_ko: str | None = None,
                  description: str | None = None) -> dict:
    """Add a category or change one (the master table is editable)."""
    if not slug or not slug.replace("-", "").replace("_", "").isalnum() or len(slug) > 40:
        raise InvalidInput(f"category slug {slug!r} must be 1-40 letters, digits, '-' or '_'")
    with app.db.session() as s:
        cat = s.query(Category).filter_by(slug=slug).one_or_none()
        if cat is None:
            cat = Category(slug=slug, name=name or slug)
            s.add(cat)
        if name:
            cat.name = name
        if name_ko is not None:
            cat.name_ko = name_ko
        if description is not None:
            cat.description = description
        s.flush()
        return {"slug": cat.slug, "name": cat.name, "name_ko": cat.name_ko, "description": cat.description}


def crawl_errors(app: App, *, limit: int = 50) -> list[dict]:
    """URLs whose last crawl failed, newest first, with why."""
    with app.db.session() as s:
        rows = s.scalars(select(CrawlUrl).where(CrawlUrl.status == "error").order_by(CrawlUrl.updated_at.desc()).limit(limit))
        return [{"url": r.url, "kind": r.error_kind, "error": r.error, "http_status": r.http_status,
                 "attempts": r.attempts} for r in rows]
