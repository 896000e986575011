"""Use cases: the CLI and the HTTP API call these, never the stages' internals."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Callable
from urllib.parse import urlparse

from trendreel.bootstrap import App
from trendreel.crawl.crawler import Crawler, CrawlStats
from trendreel.crawl.extract import Extraction, extract
from trendreel.crawl.fetch import Fetcher
from trendreel.db import repo
from trendreel.errors import ConfigError, NotFound, TrendreelError
from trendreel.settings import SourceConfig

MAX_LOCAL_FILE_BYTES = 50_000_000


def crawl_sources(app: App, *, source_names: list[str] | None = None, urls: list[str] | None = None,
                  allow_private: bool = False, max_pages: int | None = None,
                  on_progress: Callable[[CrawlStats], None] | None = None,
                  extract_workers: int | None = None) -> CrawlStats:
    """Crawl configured sources (all, or the named ones) or the given URLs; extract_workers: default the setting."""
    if urls:
        sources = [SourceConfig(name="cli", kind="urls", urls=urls, max_depth=0,
                                max_pages=max_pages or max(len(urls), 1), allow_private=allow_private)]
    else:
        sources = [app.settings.source(n) for n in source_names] if source_names else list(app.settings.sources)
        if not sources:
            raise ConfigError("no sources configured: add [[sources]] to the settings file, or pass URLs to crawl")
        if max_pages:
            sources = [s.model_copy(update={"max_pages": max_pages}) for s in sources]
    workers = app.settings.crawl.extract_workers if extract_workers is None else extract_workers
    crawler = Crawler(db=app.db, files=app.files, settings=app.settings, on_progress=on_progress,
                      extract_workers=workers)
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
            import gzip

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
    with app.db.session() as s:
        out = []
        cats = {c.id: c.slug for c in repo.list_categories(s)}
        for a in repo.list_articles(s, limit=limit, source=source, lang=lang):
            media = repo.media_of(s, article_id=a.id)
            out.append({
                "id": a.id, "url": a.canonical_url, "title": a.title, "lang": a.lang, "author": a.author,
                "published_at": a.published_at.isoformat() if a.published_at else None,
                "category": cats.get(a.category_id), "duplicate_of": a.duplicate_of, "text_chars": a.text_chars,
                "text_path": a.text_path,
                "media": [{"id": m.id, "kind": m.kind, "status": m.status, "path": m.path, "url": m.source_url,
                           "bytes": m.bytes, "caption": m.caption or m.alt} for m in media],
            })
        return out


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
    from trendreel.db.tables import Category

    if not slug or not slug.replace("-", "").replace("_", "").isalnum() or len(slug) > 40:
        raise TrendreelError(f"category slug {slug!r} must be 1-40 letters, digits, '-' or '_'")
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
    from sqlalchemy import select

    from trendreel.db.tables import CrawlUrl

    with app.db.session() as s:
        rows = s.scalars(select(CrawlUrl).where(CrawlUrl.status == "error").order_by(CrawlUrl.updated_at.desc()).limit(limit))
        return [{"url": r.url, "kind": r.error_kind, "error": r.error, "http_status": r.http_status,
                 "attempts": r.attempts} for r in rows]


def import_items(app: App, *, path: Path, source: str = "import", index: bool = False,
                 on_progress: Callable[[int, int], None] | None = None, on_index_progress=None) -> dict:
    """Store dated items from a JSON Lines file (and index them when asked)."""
    from trendreel.importer import import_jsonl

    stats = import_jsonl(db=app.db, files=app.files, settings=app.settings, path=path, source=source,
                         on_progress=on_progress)
    result = {"import": stats.as_dict()}
    if index and stats.article_ids:
        result["index"] = index_articles(app, article_ids=stats.article_ids, on_progress=on_index_progress).as_dict()
    return result


# ---- index and search --------------------------------------------------------------------

SEARCH_KINDS = {
    "article": ["article", "chunk"],
    "image": ["image"],
    "video": ["video", "video_text"],
}


def index_articles(app: App, *, article_ids: list[str] | None = None, force: bool = False, on_progress=None):
    """Index what is new or changed: vectors, category, summary, captions, transcripts."""
    return app.indexer().index(article_ids=article_ids, force=force, on_progress=on_progress)


def search(app: App, *, query: str | None = None, like: str | None = None, kind: str | None = None,
           category: str | None = None, since=None, until=None, limit: int = 10) -> list[dict]:
    """Search by meaning (a text) or by example (an article, media or vector id)."""
    from trendreel.index.vectors import SearchFilter

    if bool(query) == bool(like):
        raise ConfigError("search needs either a text or --like ITEM_ID, not both")
    if kind is not None and kind not in SEARCH_KINDS:
        raise ConfigError(f"unknown kind {kind!r}: use one of {', '.join(SEARCH_KINDS)}")
    if not 1 <= limit <= 1000:
        raise ConfigError("limit must be between 1 and 1000")
    store = app.vectors()
    exclude = set()
    if query:
        vector = app.text_embedder().embed([query])[0]
    else:
        record = None
        for vid in (like, f"{like}:repr", f"{like}:article", f"{like}:image", f"{like}:video"):
            record = store.get(vid)
            if record is not None:
                break
        if record is None:
            raise NotFound(f"{like} is not indexed: give an article id, a media id or a vector id of an indexed item",
                           hint="run `trendreel index` first")
        vector = record.vector
        exclude = {record.article_id} if record.kind in ("article", "article_repr", "chunk") else {record.payload.get("media_id")}
    kinds = SEARCH_KINDS[kind] if kind else ["article", "chunk", "image", "video", "video_text"]
    flt = SearchFilter(kinds=kinds, category=category, since=since, until=until)
    hits = store.search(vector, limit=limit * 4 + len(exclude), filter=flt)
    out, seen = [], set()
    for h in hits:
        item = h.payload.get("media_id") or h.article_id
        if item in seen or item in exclude or (h.article_id in exclude and not h.payload.get("media_id")):
            continue
        seen.add(item)
        out.append({"id": item, "vector_id": h.id, "kind": "article" if h.kind == "chunk" else h.kind,
                    "score": round(float(h.score), 4), "article_id": h.article_id, "category": h.category,
                    "published_at": h.published_at.isoformat() if h.published_at else None, "lang": h.lang,
                    "title": h.payload.get("title"), "snippet": h.payload.get("snippet") or h.payload.get("caption")})
        if len(out) >= limit:
            break
    if out:
        from sqlalchemy import select

        from trendreel.db.tables import Article

        with app.db.session() as s:
            urls = dict(s.execute(select(Article.id, Article.canonical_url).where(Article.id.in_({o["article_id"] for o in out}))).all())
        for o in out:
            o["url"] = urls.get(o["article_id"])
    return out


def categorize_texts(app: App, texts: list[str]) -> list[dict]:
    """Category of each text, from the category master."""
    from trendreel.index.categorize import load_categorizer

    if not texts:
        raise ConfigError("give at least one text (or --file JSONL)")
    cat = load_categorizer(model_path=app.settings.index.categorizer_model_path)
    return [{"category": g.slug, "score": round(float(g.score), 4)} for g in cat.categorize(texts)]


# ---- trends, stories, videos -------------------------------------------------------------
# Each stage keeps its use cases in its own service module; they are listed here so that the CLI
# and the HTTP API find every use case in one place.

from trendreel.render.service import get_video, list_videos, render_story  # noqa: E402
from trendreel.story.service import get_story, list_stories, write_story  # noqa: E402
from trendreel.trends.service import detect_trends, get_trend, list_trends  # noqa: E402
from trendreel.edit.service import edit_video  # noqa: E402
from trendreel.web.service import effective_settings, event_counts, recent_events  # noqa: E402
from trendreel.metrics.service import collect_metrics, list_metrics  # noqa: E402
from trendreel.report.service import build_report  # noqa: E402
from trendreel.retention.service import collect_garbage, storage_status  # noqa: E402
from trendreel.publish.service import (  # noqa: E402
    add_account,
    approve_video,
    get_publication,
    list_accounts,
    list_publications,
    publish_video,
    reject_video,
    remove_account,
)


def video_file(app: App, video: dict) -> str | None:
    """Where a person opens the video: a local path for a local file store, else the store key; None when
    there is no file (not made yet, or freed by gc)."""
    if not video.get("path") or video.get("files_purged_at"):
        return None
    local = app.files.local_path(video["path"])
    return str(local) if local is not None else video["path"]


__all__ = [name for name in dir() if not name.startswith("_") and callable(globals()[name])]
