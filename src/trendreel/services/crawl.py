"""Use cases of collecting: crawl sources or pages, extract one page (to debug a site), import dated items."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path
from typing import Callable
from urllib.parse import urlparse

from trendreel.bootstrap import App
from trendreel.crawl.crawler import Crawler, CrawlStats
from trendreel.crawl.extract import Extraction, extract
from trendreel.crawl.fetch import Fetcher
from trendreel.errors import ConfigError
from trendreel.importer import import_jsonl
from trendreel.services.index import index_articles
from trendreel.services.sources import all_sources, find_source
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
            # the settings file's sources and those added in the workspace
            sources = [find_source(app, n) for n in source_names] if source_names else all_sources(app)
        if not sources:
            raise ConfigError("no sources configured: add one in the workspace (Sources) or [[sources]] to the settings file, or pass URLs to crawl")
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


def import_items(app: App, *, path: Path, source: str = "import", index: bool = False,
                 on_progress: Callable[[int, int], None] | None = None, on_index_progress=None) -> dict:
    """Store dated items from a JSON Lines file (and index them when asked)."""
    stats = import_jsonl(db=app.db, files=app.files, settings=app.settings, path=path, source=source,
                         on_progress=on_progress)
    result = {"import": stats.as_dict()}
    if index and stats.article_ids:
        result["index"] = index_articles(app, article_ids=stats.article_ids, on_progress=on_index_progress).as_dict()
    return result
