"""Use cases of what is collected: crawl, extract one page, import, and read articles, errors and categories."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path
from typing import Callable
from urllib.parse import urlparse

from sqlalchemy import select

from trendreel.bootstrap import App
from trendreel.crawl.crawler import Crawler, CrawlStats
from trendreel.crawl.extract import Extraction, extract
from trendreel.crawl.fetch import Fetcher
from trendreel.db import repo
from trendreel.db.tables import Article, Category, CrawlUrl
from trendreel.errors import ConfigError, InvalidInput, NotFound
from trendreel.importer import import_jsonl
from trendreel.services.index import index_articles
from trendreel.settings import CrawlSettings, SourceConfig

MAX_LOCAL_FILE_BYTES = 50_000_000


def crawl_sources(app: App, *, source_names: list[str] | None = None, urls: list[str] | None = None,
                  sources: list[SourceConfig] | None = None, crawl: CrawlSettings | None = None,
                  allow_private: bool = False, max_pages: int | None = None,
                  on_progress: Callable[[CrawlStats], None] | None = None,
                  extract_workers: int | None = None) -> CrawlStats:
    """Crawl configured sources (all, or the named ones), the given URLs, or the given `sources`;
    `crawl` replaces the crawl settings for this run; extract_workers: default the setting."""
    if urls:
        sources = [SourceConfig(name="cli", kind="urls", urls=urls, max_depth=0,
                                max_pages=max_pages or max(len(urls), 1), allow_private=allow_private)]
    else:
        if sources is None:
            sources = [app.settings.source(n) for n in source_names] if source_names else list(app.settings.sources)
        if not sources:
            raise ConfigError("no sources configured: add [[sources]] to the settings file, or pass URLs to crawl")
        if max_pages:
            sources = [s.model_copy(update={"max_pages": max_pages}) for s in sources]
    settings = app.settings if crawl is None else app.settings.model_copy(update={"crawl": crawl})
    workers = settings.crawl.extract_workers if extract_workers is None else extract_workers
    crawler = Crawler(db=app.db, files=app.files, settings=settings, on_progress=on_progress, extract_workers=workers)
    return asyncio.run(crawler.crawl(sources, allow_private=allow_private))


def extract_target(app_settings, target: str, *, allow_private: bool = False) -> Extraction:
    """Extraction of one page, from a local file or a URL (for debugging a site)."""
    path = Path(target)
    if "://" not in target:
        if not path.is_file():
            raise ConfigError(f"{target} is neither a file nor an http(s) URL")
        if path.stat().st_size > MAX_LOCAL_FILE_BYTES:
            raise ConfigError(f"{target} is larger than {MAX_LOCAL_FILE_BYTES:,} bytes; is it really an HTML page?")
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        return extract(data, path.resolve().as_uri())
    if urlparse(target).scheme not in ("http", "https"):
        raise ConfigError(f"{target}: only http(s) URLs and local files can be extracted")

    async def _fetch():
        async with Fetcher(app_settings.crawl) as fetcher:
            return await fetcher.fetch(target, allow_private=allow_private or app_settings.crawl.allow_private)

    result = asyncio.run(_fetch())
    return extract(result.body, result.final_url, content_type=result.content_type)


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


def import_items(app: App, *, path: Path, source: str = "import", index: bool = False,
                 on_progress: Callable[[int, int], None] | None = None, on_index_progress=None) -> dict:
    """Store dated items from a JSON Lines file (and index them when asked)."""
    stats = import_jsonl(db=app.db, files=app.files, settings=app.settings, path=path, source=source,
                         on_progress=on_progress)
    result = {"import": stats.as_dict()}
    if index and stats.article_ids:
        result["index"] = index_articles(app, article_ids=stats.article_ids, on_progress=on_index_progress).as_dict()
    return result
