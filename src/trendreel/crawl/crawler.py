"""The crawl stage: sources in, articles + media files + index rows + events out.

The frontier lives in the `crawl_url` table, so a crawl that is killed half-way resumes from
its queued rows. Ids come from canonical URLs and file keys from ids, so fetching a page twice
lands on the same article row and the same files: no duplicates, whatever the crash point.
Files are written before the row that points at them; a URL is marked done only after its
article and media are stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import multiprocessing
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable
from urllib.parse import urlparse

import numpy as np
from sqlalchemy import select, update

from trendreel import events
from trendreel.crawl import dedupe
from trendreel.crawl.discover import parse_feed, parse_sitemap
from trendreel.crawl.extract import Extraction, extract
from trendreel.crawl.fetch import Fetcher, FetchResult
from trendreel.crawl.urls import canonicalize, same_site
from trendreel.crawl.writer import BatchWriter
from trendreel.db import repo
from trendreel.db.engine import Database
from trendreel.db.tables import Article, CrawlUrl, MediaItem
from trendreel.errors import (
    BlockedURL,
    CrawlError,
    ExtractionFailed,
    StorageError,
    UnsupportedContent,
)
from trendreel.files.layout import article_file, media_file
from trendreel.files.media import extension_for, image_size
from trendreel.files.store import FileStore, open_local
from trendreel.ids import article_id as make_article_id
from trendreel.ids import media_id as make_media_id
from trendreel.logs import get_logger
from trendreel.settings import Settings, SourceConfig

log = get_logger(__name__)

# Links with these endings are never pages; skipping them saves a request each.
_NOT_PAGES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".mp4", ".webm", ".mov", ".mp3", ".pdf",
              ".zip", ".gz", ".css", ".js", ".ico", ".woff", ".woff2", ".xml", ".rss")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
MIN_ARTICLE_CHARS = 150  # with a date or og:type=article
MIN_UNDATED_ARTICLE_CHARS = 1000
SITEMAP_MAX_BYTES = 50_000_000  # uncompressed, by the sitemaps protocol
# Pages remembered per half of the run's dedupe memory: 3-4 KB each (16 band keys), so a run of any
# length keeps at most ~80 MB for it; older pages are found in the database.
RUN_MEMORY_PAGES = 10_000


@dataclass
class CrawlStats:
    fetched: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    duplicates: int = 0
    near_duplicates: int = 0
    not_articles: int = 0
    not_modified: int = 0
    media_stored: int = 0
    media_linked: int = 0
    errors: int = 0
    errors_by_kind: dict[str, int] = field(default_factory=dict)
    queued: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Work:
    url_id: int
    url: str
    kind: str
    depth: int
    source: SourceConfig
    source_id: int
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class _Parsed:
    """What the page job hands back: the extraction and everything derived from it alone, so the crawler's
    process only decides (dedupe) and queues rows. `ext.text` is emptied once article.txt is written."""

    ext: Extraction
    text_chars: int
    content_hash: str
    minhash: np.ndarray
    lsh: list[int]
    canonical: str
    article_id: str
    is_article: bool
    links: list[str]  # same-site page links to follow (site sources), else empty
    files_written: bool  # article.html, article.txt and meta.json are stored under the article's id


def _page_job(body: bytes, final_url: str, header: str | None, fetch_meta: dict, *, files_root: str | None,
              is_start_page: bool, follow_domains: tuple[str, ...]) -> _Parsed:
    """Everything per page that needs no database: extract, hash, MinHash, canonical id, link filter and,
    for a local file store, the article's three files. Top-level so a worker process can run it.

    Files are written before the crawler decides about duplicates; an exact copy's files are removed again
    (see Crawler._store_article), which is rarer and cheaper than sending the page back to be written."""
    ext = extract(body, final_url, content_type=header)
    sig = dedupe.minhash(ext.text)
    canonical = _canonical(ext, final_url)
    aid = make_article_id(canonical)
    is_article = _looks_like_article(ext, is_start_page=is_start_page)
    links = [u for u in ext.links if any(same_site(u, d) for d in follow_domains)
             and not urlparse(u).path.lower().endswith(_NOT_PAGES)] if follow_domains else []
    parsed = _Parsed(ext, len(ext.text), hashlib.sha256(ext.text.encode("utf-8")).hexdigest(), sig, dedupe.bands(sig),
                     canonical, aid, is_article, links, files_written=False)
    if is_article and files_root is not None:
        _write_article_files(_local_store(files_root), aid, body, ext, fetch_meta)
        parsed.ext = ext.model_copy(update={"text": ""})
        parsed.files_written = True
    return parsed


def _article_files(aid: str, body: bytes, ext: Extraction, fetch_meta: dict) -> list[tuple[str, bytes]]:
    meta = {"extraction": ext.model_dump(mode="json"), **fetch_meta}
    return [(article_file(aid, "article.html"), body), (article_file(aid, "article.txt"), ext.text.encode("utf-8")),
            (article_file(aid, "meta.json"), json.dumps(meta, ensure_ascii=False, indent=1).encode("utf-8"))]


def _write_article_files(files: FileStore, aid: str, body: bytes, ext: Extraction, fetch_meta: dict) -> None:
    for key, data in _article_files(aid, body, ext, fetch_meta):
        files.put(key, data)


_LOCAL_STORES: dict[str, FileStore] = {}  # per process: a worker opens the home's file store once


def _local_store(url: str) -> FileStore:
    if url not in _LOCAL_STORES:
        _LOCAL_STORES[url] = open_local(url)
    return _LOCAL_STORES[url]


def _canonical(ext: Extraction, final_url: str) -> str:
    """rel=canonical wins only when it points into the same site: a page can't claim another's article."""
    page = canonicalize(final_url)
    if ext.canonical_url:
        try:
            canon = canonicalize(ext.canonical_url, base=final_url)
        except CrawlError:
            return page
        host = urlparse(page).hostname or ""
        if same_site(canon, host) or same_site(page, urlparse(canon).hostname or ""):
            return canon
    return page


class Crawler:
    """Runs sources to completion; one instance per crawl run."""

    def __init__(self, *, db: Database, files: FileStore, settings: Settings,
                 on_progress: Callable[[CrawlStats], None] | None = None,
                 extract_workers: int = 0, fetcher: Fetcher | None = None):
        self.db = db
        self.files = files
        self.settings = settings
        self.cfg = settings.crawl
        self.on_progress = on_progress
        self.stats = CrawlStats()
        self._fetcher = fetcher
        self._extract_workers = extract_workers
        self._pool = None  # multiprocessing.Pool of page-job processes, when extract_workers > 1
        self._pages_per_source: dict[str, int] = {}
        self._categories: dict[str, int | None] = {}  # category slug -> id
        self._pages_handed: dict[str, int] = {}  # page work put on the queue per source (at most its max_pages)
        self._queue: asyncio.Queue[_Work] = asyncio.Queue()
        self._writer = BatchWriter(db)
        # What this run has stored, for dedupe decisions before the batched rows are committed: the pages
        # since the last turn and those of the turn before (see _turn_memory), so memory stays bounded.
        self._recent, self._older = _RunMemory(), _RunMemory()
        self._tmp = Path(tempfile.mkdtemp(prefix="trendreel-crawl-"))
        self._storage_failure: StorageError | None = None

    # ---- entry point -------------------------------------------------------------------
    async def crawl(self, sources: list[SourceConfig], *, allow_private: bool = False) -> CrawlStats:
        self._allow_private_all = allow_private or self.cfg.allow_private
        with self.db.session() as s:
            run = repo.start_run(s, sources=[src.name for src in sources])
            run_id = run.id
            for src in sources:
                self._seed(s, src)
        fetcher = self._fetcher or Fetcher(self.cfg)
        if self._extract_workers > 1:
            # 1 means the crawler's own process, like 0: one page-job process measured slower than none on
            # 2 cores (bench/bench_crawl.py: 0.37-0.94x plain trafilatura against 0.64-0.92x in the same runs).
            # multiprocessing.Pool rather than ProcessPoolExecutor: its submit never blocks the event
            # loop (the executor's wake-up pipe write did, ~3 ms per page under load).
            self._pool = multiprocessing.get_context("spawn").Pool(self._extract_workers)
        log.info("crawl.started", run_id=run_id, sources=[src.name for src in sources], queued=self._queue.qsize())
        status = "failed"
        try:
            workers = [asyncio.create_task(self._worker(fetcher)) for _ in range(self.cfg.concurrency)]
            await self._queue.join()
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            status = "finished" if self._storage_failure is None else "failed"
        finally:
            self._finish(run_id, status)
            if self._fetcher is None:
                await fetcher.aclose()
            if self._pool is not None:
                self._pool.terminate()
                self._pool.join()
            for p in self._tmp.glob("*"):
                p.unlink(missing_ok=True)
            self._tmp.rmdir()
        if self._storage_failure is not None:
            exc = self._storage_failure
            raise StorageError(f"the crawl stopped: {exc} (the pages stored before it are kept; "
                               f"the rest stay queued for the next run)",
                               hint=exc.hint or "fix the storage, then run the same crawl again to go on") from exc
        return self.stats

    def _finish(self, run_id: int, status: str) -> None:
        """Commit the queued writes and close the run's row; after a storage failure, as far as storage lets."""
        try:
            if self._storage_failure is None:
                self._writer.flush()
            else:
                self._writer.drop()
            with self.db.session() as s:
                self.stats.queued = repo.counts(s)["urls_queued"]
                repo.end_run(s, run_id=run_id, status=status, stats=self.stats.as_dict())
        except StorageError as exc:
            if self._storage_failure is None:
                self._storage_failure = exc
            status = "failed"
            log.warning("crawl.end_not_recorded", run_id=run_id, error=str(exc)[:300])
        log.info("crawl.finished", run_id=run_id, status=status, **self.stats.as_dict())

    def _stop_on_storage(self, exc: StorageError) -> None:
        """Storage failed (full, read-only, gone): every later page would fail the same way, so stop the
        crawl here. Pages not done stay queued; the next run goes on from them."""
        if self._storage_failure is None:
            self._storage_failure = exc
            log.error("crawl.storage_failed", error=str(exc)[:300])
        dropped = self._writer.drop()
        while not self._queue.empty():
            self._queue.get_nowait()
            self._queue.task_done()
        log.info("crawl.stopping", dropped_writes=dropped)

    def _seed(self, session, src: SourceConfig) -> None:
        """Queue the source's own URLs (again each run: feeds and start pages change) and resume the rest."""
        config = src.model_dump(mode="json")
        source = repo.upsert_source(session, name=src.name, kind=src.kind, config=config)
        kind = {"feed": "feed", "sitemap": "sitemap", "site": "page", "urls": "page"}[src.kind]
        seeds = []
        for raw in src.urls:
            try:
                seeds.append(canonicalize(raw))
            except BlockedURL as exc:
                raise BlockedURL(f"source {src.name!r} has a bad URL {raw!r}: {exc}") from exc
        repo.enqueue_urls(session, source_id=source.id, urls=[(u, kind, 0, None) for u in seeds])
        repo.requeue(session, source_id=source.id, urls=seeds)
        repo.requeue_failed(session, source_id=source.id)
        self._put(repo.queued_urls(session, source_id=source.id), src)

    def _put(self, rows, src: SourceConfig) -> None:
        """Hand frontier rows to the workers; pages past the source's max_pages stay in the table only:
        every page handed over counts against max_pages, so the rest would be taken off the queue unfetched."""
        room = src.max_pages - self._pages_handed.get(src.name, 0)
        for row in rows:
            if row.kind == "page":
                if room <= 0:
                    continue
                room -= 1
            self._queue.put_nowait(_Work(row.id, row.url, row.kind, row.depth, src, row.source_id, row.etag,
                                         row.last_modified))
        self._pages_handed[src.name] = src.max_pages - room

    # ---- the worker loop -----------------------------------------------------------------
    async def _worker(self, fetcher: Fetcher) -> None:
        while True:
            work = await self._queue.get()
            try:
                if self._storage_failure is None:
                    await self._process(fetcher, work)
            except StorageError as exc:  # storage, not the page: stop instead of failing every page after it
                self._stop_on_storage(exc)
            except CrawlError as exc:
                self._record_error(work, exc.kind, str(exc), getattr(exc, "status", None))
            except Exception as exc:  # a bug or hostile input must not stop the crawl
                log.exception("crawl.internal_error", url=work.url)
                self._record_error(work, "internal", f"{type(exc).__name__}: {exc}", None)
            finally:
                try:
                    if self._storage_failure is None:
                        self._writer.maybe_flush()
                except StorageError as exc:
                    self._stop_on_storage(exc)
                if self.on_progress:
                    self.on_progress(self.stats)
                self._queue.task_done()

    def _record_error(self, work: _Work, kind: str, message: str, status: int | None) -> None:
        log.info("crawl.url_failed", url=work.url, kind=kind, http_status=status, error=message[:300])
        self.stats.errors += 1
        self.stats.errors_by_kind[kind] = self.stats.errors_by_kind.get(kind, 0) + 1
        fields = dict(status="error", error_kind=kind, error=message[:2000], http_status=status,
                      fetched_at=datetime.now(timezone.utc), bump_attempts=True)
        self._writer.add(lambda s: repo.finish_url(s, url_id=work.url_id, **fields))

    def _allow_private(self, src: SourceConfig) -> bool:
        return self._allow_private_all or src.allow_private

    async def _process(self, fetcher: Fetcher, work: _Work) -> None:
        src = work.source
        if work.kind == "page":
            used = self._pages_per_source.get(src.name, 0)
            if used >= src.max_pages:
                return  # stays queued: the next run goes on from here
            self._pages_per_source[src.name] = used + 1
        # A sitemap may hold 50,000 URLs in up to 50 MB by its protocol, more than any page needs.
        limit = max(self.cfg.max_response_bytes, SITEMAP_MAX_BYTES) if work.kind == "sitemap" else None
        result = await fetcher.fetch(work.url, allow_private=self._allow_private(src),
                                     etag=work.etag, last_modified=work.last_modified, max_bytes=limit)
        self.stats.fetched += 1
        if result.not_modified:
            self.stats.not_modified += 1
            fields = dict(status="not_modified", http_status=304, fetched_at=datetime.now(timezone.utc))
            self._writer.add(lambda s: repo.finish_url(s, url_id=work.url_id, **fields))
            return
        if work.kind == "feed":
            found = parse_feed(result.body, result.final_url)
            self._enqueue(work, [(f.url, f.kind) for f in found])
            self._done(work, result)
        elif work.kind == "sitemap":
            found = parse_sitemap(_maybe_gunzip(result.body))
            self._enqueue(work, [(f.url, f.kind) for f in found])
            self._done(work, result)
        else:
            await self._process_page(fetcher, work, result)

    def _enqueue(self, work: _Work, found: list[tuple[str, str]], *, depth: int | None = None) -> None:
        depth = work.depth + 1 if depth is None else depth
        urls = []
        for url, kind in found:
            try:
                urls.append((canonicalize(url, base=work.url), kind, depth, work.url))
            except CrawlError:
                continue  # mailto:, javascript:, junk: not ours to crawl
        with self.db.session() as s:
            self._put(repo.enqueue_urls(s, source_id=work.source_id, urls=urls), work.source)

    def _done(self, work: _Work, result: FetchResult, *, article_id: str | None = None, status: str = "done") -> None:
        fields = dict(status=status, http_status=result.status, etag=result.etag, last_modified=result.last_modified,
                      content_type=result.content_type, article_id=article_id, error_kind=None, error=None,
                      fetched_at=datetime.now(timezone.utc), bump_attempts=True)
        self._writer.add(lambda s: repo.finish_url(s, url_id=work.url_id, **fields))

    # ---- pages ---------------------------------------------------------------------------
    async def _process_page(self, fetcher: Fetcher, work: _Work, result: FetchResult) -> None:
        ctype = (result.content_type or "").split(";")[0].strip().lower()
        if ctype and ctype not in _HTML_TYPES:
            raise UnsupportedContent(f"{result.final_url} is {ctype}, not an HTML page")
        src = work.source
        fetch_meta = {"fetched_url": result.url, "final_url": result.final_url, "http_status": result.status,
                      "content_type": result.content_type, "etag": result.etag,
                      "last_modified": result.last_modified, "redirects": result.redirects}
        follow = tuple(self._domains(src)) if src.kind == "site" and work.depth < src.max_depth else ()
        args = (result.body, result.final_url, result.headers.get("content-type"), fetch_meta)
        # Worker processes write the article's files themselves when they can open the store: a local folder.
        local = self._pool is not None and self.files.local_path("") is not None and self.files.url.startswith("file:")
        kwargs = {"files_root": self.files.url if local else None,
                  "is_start_page": work.depth == 0 and src.kind == "site", "follow_domains": follow}
        if self._pool is not None:
            parsed = await self._in_pool(_page_job, args, kwargs)
        else:
            parsed = _page_job(*args, **kwargs)
        if parsed.links:
            self._enqueue(work, [(u, "page") for u in parsed.links])
        if not parsed.is_article:
            self.stats.not_articles += 1
            self._done(work, result, status="skipped")
            return
        await self._store_article(fetcher, work, result, parsed, fetch_meta)

    def _in_pool(self, fn, args: tuple, kwargs: dict) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        future = loop.create_future()

        def done(value):
            loop.call_soon_threadsafe(lambda: future.done() or future.set_result(value))

        def failed(exc):
            loop.call_soon_threadsafe(lambda: future.done() or future.set_exception(exc))

        self._pool.apply_async(fn, args, kwargs, callback=done, error_callback=failed)
        return future

    def _domains(self, src: SourceConfig) -> set[str]:
        return {h for h in (urlparse(u).hostname for u in src.urls) if h}

    async def _store_article(self, fetcher: Fetcher, work: _Work, result: FetchResult, parsed: _Parsed,
                             fetch_meta: dict) -> None:
        """Files first, then the rows that point at them, then media; the URL is done last."""
        ext, content_hash, sig, lsh = parsed.ext, parsed.content_hash, parsed.minhash, parsed.lsh
        canonical, aid = parsed.canonical, parsed.article_id
        published = _parse_date(ext.published_at)

        media_status: dict[str, str] | None = {}  # None: media already handled in this run
        known = self._recent.articles.get(aid) or self._older.articles.get(aid)
        if known is not None:
            media_status = None
        else:
            with self.db.reading() as s:
                row = s.execute(select(Article.content_hash, Article.duplicate_of).where(Article.id == aid)).first()
                if row is not None:
                    known = (row[0], row[1])
                    media_status = dict(s.execute(select(MediaItem.id, MediaItem.status).where(MediaItem.article_id == aid)).all())
                else:
                    same = (self._recent.hashes.get(content_hash) or self._older.hashes.get(content_hash)
                            or repo.article_id_by_hash(s, content_hash=content_hash))
                    if same is not None:
                        # Exact copy under another URL: index the URL against the original, store nothing.
                        if parsed.files_written:
                            self.files.delete_prefix(article_file(aid, ""))
                        self.stats.duplicates += 1
                        self._done(work, result, article_id=same, status="duplicate")
                        return
                    near = self._near_duplicate_of(s, sig, lsh)
        is_new = known is None
        if not is_new:
            near = known[1]
        unchanged = not is_new and known[0] == content_hash

        # Claim the id before the first await: another worker may hold a page with the same canonical URL.
        self._remember(aid, content_hash, near, sig, lsh)
        if not unchanged:
            if not parsed.files_written:  # a store the page job cannot open (memory://, S3): written here
                await asyncio.gather(*(self.files.put_async(key, data)
                                       for key, data in _article_files(aid, result.body, ext, fetch_meta)))
            log.debug("crawl.article_stored", article_id=aid, url=canonical, new=is_new, duplicate_of=near)
            self._writer.add(lambda s: self._save_article_row(s, work, result, parsed, published, near, is_new))
            self._count_article(is_new, near)

        if media_status is not None:
            new_rows, pending = self._plan_media(aid, ext, media_status)
            if new_rows:
                self._writer.add(lambda s: s.add_all([MediaItem(**r) for r in new_rows]))
            if pending:
                await self._store_media(fetcher, work, aid, pending)
        self._done(work, result, article_id=aid)

    def _remember(self, aid: str, content_hash: str, near: str | None, sig: np.ndarray, lsh: list[int]) -> None:
        if aid in self._recent.articles or aid in self._older.articles:
            return
        self._recent.remember(aid, content_hash, near, sig, lsh)
        if len(self._recent.articles) >= RUN_MEMORY_PAGES:
            self._turn_memory()

    def _turn_memory(self) -> None:
        """Forget the older half: commit every queued write first, so what is forgotten is in the database.

        A page is remembered just before its rows are queued (after its three small files are written), so
        RUN_MEMORY_PAGES pages later the older half's rows are long queued; the flush commits them.
        """
        self._writer.flush()
        self._older, self._recent = self._recent, _RunMemory()

    def _count_article(self, is_new: bool, near: str | None) -> None:
        if not is_new:
            self.stats.articles_updated += 1
            return
        self.stats.articles_new += 1
        if near:
            self.stats.near_duplicates += 1

    def _save_article_row(self, s, work: _Work, result: FetchResult, parsed: _Parsed, published: datetime | None,
                          near: str | None, is_new: bool) -> None:
        ext, aid, content_hash = parsed.ext, parsed.article_id, parsed.content_hash
        values = dict(
            source_id=work.source_id, url=result.final_url, canonical_url=parsed.canonical, title=ext.title,
            lang=ext.lang, author=ext.author, description=ext.description, sitename=ext.sitename,
            published_at=published, key_data={"lead_image": ext.lead_image, "images": len(ext.images),
                                              "videos": len(ext.videos)},
            content_hash=content_hash, minhash=dedupe.to_hex(parsed.minhash), text_chars=parsed.text_chars,
            duplicate_of=near, lead_image_url=ext.lead_image, html_path=article_file(aid, "article.html"),
            text_path=article_file(aid, "article.txt"), meta_path=article_file(aid, "meta.json"))
        if work.source.category:
            values["category_id"] = self._category_id(s, work.source.category)
        repo.upsert_article(s, article_id=aid, values=values)
        if near is None:
            repo.save_lsh_bands(s, article_id=aid, bands=parsed.lsh)
        etype = events.ARTICLE_CRAWLED if is_new else events.ARTICLE_UPDATED
        repo.append_event(s, type=etype, subject_type="article", subject_id=aid,
                          dedupe_key=f"{etype}:{aid}:{content_hash}",
                          payload={"url": parsed.canonical, "title": ext.title, "lang": ext.lang,
                                   "source": work.source.name, "duplicate_of": near})

    def _category_id(self, s, slug: str) -> int | None:
        """Looked up once per run: the category master does not change under a crawl."""
        if slug not in self._categories:
            self._categories[slug] = repo.category_id(s, slug)
        return self._categories[slug]

    def _near_duplicate_of(self, session, sig: np.ndarray, lsh: list[int]) -> str | None:
        """The most similar earlier original article at or above the similarity limit (DB and this run)."""
        candidates = [(aid, dedupe.from_hex(h)) for aid, h in repo.near_duplicate_candidates(session, bands=lsh)]
        candidates += self._recent.candidates(lsh) + self._older.candidates(lsh)
        if not candidates:
            return None
        # One numpy pass: a site of look-alike pages can give thousands of candidates per page.
        sims = dedupe.similarities(sig, np.stack([c[1] for c in candidates]))
        best = int(np.argmax(sims))
        return candidates[best][0] if sims[best] >= self.cfg.near_duplicate_similarity else None

    # ---- media ---------------------------------------------------------------------------
    def _plan_media(self, aid: str, ext: Extraction, status: dict[str, str]) -> tuple[list[dict], list[dict]]:
        """Rows to create (once per image/video/embed) and the media still to download."""
        new_rows, pending = [], []
        for kind, items in (("image", ext.images), ("video", [v for v in ext.videos if v.kind == "video"]),
                            ("embed", [v for v in ext.videos if v.kind == "embed"])):
            for pos, item in enumerate(items[: self.cfg.max_media_per_article], start=1):
                mid = make_media_id(aid, kind, item.url)
                row = {"id": mid, "article_id": aid, "position": pos, "kind": kind, "source_url": item.url,
                       "alt": item.alt, "caption": item.caption, "mime": item.mime, "width": item.width,
                       "height": item.height, "status": "linked" if kind == "embed" else "pending"}
                if mid not in status:
                    new_rows.append(row)
                    if kind == "embed":
                        self.stats.media_linked += 1
                if kind != "embed" and status.get(mid, "pending") in ("pending", "error"):
                    pending.append(row)
        return new_rows, pending

    async def _store_media(self, fetcher: Fetcher, work: _Work, aid: str, rows: list[dict]) -> None:
        for row in rows:
            mid, kind = row["id"], row["kind"]
            tmp = self._tmp / mid
            try:
                res = await fetcher.fetch_to_file(row["source_url"], tmp, allow_private=self._allow_private(work.source),
                                                  max_bytes=self.cfg.max_media_bytes, allowed_types=self.cfg.media_types)
                mime = (res.content_type or row["mime"] or "").split(";")[0].strip().lower() or None
                key = media_file(aid, kind, row["position"], extension_for(mime, row["source_url"]))
                stored = self.files.put_file(key, tmp)
                width, height = image_size(tmp) if kind == "image" else (row["width"], row["height"])
                self._writer.add(lambda s, mid=mid, kind=kind, key=key, mime=mime, stored=stored, width=width, height=height:
                                 _media_stored(s, aid, mid, kind, key, mime, stored, width, height))
                self.stats.media_stored += 1
            except CrawlError as exc:
                # A bad image does not fail the article; its row says why.
                error = f"{exc.kind}: {exc}"[:2000]
                self._writer.add(lambda s, mid=mid, error=error: s.execute(
                    update(MediaItem).where(MediaItem.id == mid).values(status="error", error=error)
                    .execution_options(synchronize_session=False)))
            finally:
                tmp.unlink(missing_ok=True)


class _RunMemory:
    """Articles of a stretch of this run by id, text hash and LSH band, for dedupe before their rows commit."""

    def __init__(self) -> None:
        self.articles: dict[str, tuple[str, str | None]] = {}  # id -> (content hash, duplicate_of)
        self.hashes: dict[str, str] = {}  # content hash -> id
        self.originals: list[tuple[str, np.ndarray]] = []  # (id, MinHash) of the original articles
        self.bands: dict[tuple[int, int], list[int]] = {}  # (band, key) -> positions in `originals`

    def remember(self, aid: str, content_hash: str, near: str | None, sig: np.ndarray, lsh: list[int]) -> None:
        self.articles[aid] = (content_hash, near)
        self.hashes.setdefault(content_hash, aid)
        if near is None:
            self.originals.append((aid, sig))
            for key in enumerate(lsh):
                self.bands.setdefault(key, []).append(len(self.originals) - 1)

    def candidates(self, lsh: list[int]) -> list[tuple[str, np.ndarray]]:
        found: set[int] = set()
        for key in enumerate(lsh):
            found.update(self.bands.get(key, ()))
        return [self.originals[i] for i in sorted(found)]


def _media_stored(s, aid: str, mid: str, kind: str, key: str, mime: str | None, stored, width, height) -> None:
    s.execute(update(MediaItem).where(MediaItem.id == mid).values(
        status="stored", path=key, mime=mime, bytes=stored.bytes, sha256=stored.sha256,
        width=width, height=height, error=None).execution_options(synchronize_session=False))
    repo.append_event(s, type=events.MEDIA_STORED, subject_type="media", subject_id=mid,
                      dedupe_key=f"{events.MEDIA_STORED}:{mid}:{stored.sha256}",
                      payload={"article_id": aid, "kind": kind, "path": key, "bytes": stored.bytes})


def _looks_like_article(ext: Extraction, *, is_start_page: bool) -> bool:
    """Store pages that say they are articles; skip listings; judge the rest by text and date."""
    n = len(ext.text)
    if ext.page_type == "article":
        return n >= MIN_ARTICLE_CHARS
    if ext.page_type == "listing" or (is_start_page and n < MIN_UNDATED_ARTICLE_CHARS):
        return False
    if ext.published_at and n >= MIN_ARTICLE_CHARS and ext.title:
        return True
    return n >= MIN_UNDATED_ARTICLE_CHARS


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _maybe_gunzip(body: bytes) -> bytes:
    if body[:2] == b"\x1f\x8b":
        import gzip
        import zlib
        try:
            # Bounded: a sitemap is at most 50 MB uncompressed by the protocol.
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            out = d.decompress(body, SITEMAP_MAX_BYTES)
            if d.unconsumed_tail:
                raise ExtractionFailed("gzipped sitemap is larger than 50 MB uncompressed")
            return out
        except (zlib.error, gzip.BadGzipFile) as exc:
            raise ExtractionFailed(f"broken gzipped sitemap: {exc}") from exc
    return body
