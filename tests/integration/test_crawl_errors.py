"""The crawl stage on hostile and failing pages: each gets an error row, the crawl goes on, nothing stored is lost."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from trendreel import services
from trendreel.bootstrap import App
from trendreel.db.tables import Article, CrawlUrl
from trendreel.errors import ConfigError
from trendreel.files import open_file_store
from trendreel.settings import SourceConfig

GOOD = """<!doctype html><html lang="en"><head><title>Harbour cranes return - Port News</title>
<meta property="article:published_time" content="2026-11-19T08:00:00Z"><meta name="author" content="Mina Park"></head>
<body><nav><a href="/">Home</a></nav><article><h1>Harbour cranes return</h1>
<p>The old harbour cranes were brought back into service on Thursday after a two-year repair programme that cost the city
more than it had planned, but which the dock workers say was worth every won.</p>
<p>Crews worked through the night to test the lifting gear, and the first container ship was unloaded before dawn.
Local shop owners hope the busier port will bring back the lunchtime crowds that disappeared during the works.</p>
<p>Officials said a second pair of cranes will follow in spring if the budget allows it.</p>
</article></body></html>"""

PAGES = {
    "/robots.txt": (200, "text/plain", b"User-agent: *\nDisallow: /private/\n"),
    "/good.html": (200, "text/html; charset=utf-8", GOOD.encode()),
    "/private/secret.html": (200, "text/html", GOOD.replace("Harbour", "Secret").encode()),
    "/junk.html": (200, "text/html", bytes(range(256)) * 40),
    "/empty.html": (200, "text/html", b""),
    "/broken.html": (200, "text/html", b"<html><body><article><h1>Half a page<p>unclosed <b><i><div>" * 50 + b"\x00\x00"),
    "/huge.html": (200, "text/html", b"<html><body>" + b"<p>word </p>" * 200_000 + b"</body></html>"),
    "/image.html": (200, "image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100),
    "/gone.html": (404, "text/html", b"not here"),
    # 10,000 URLs, about 0.7 MB: over the fixture's 0.5 MB page limit, far under the protocol's 50 MB.
    "/big-sitemap.xml": (200, "application/xml", (
        '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(f"<url><loc>/news/2026/11/story-number-{n:05d}.html</loc><lastmod>2026-11-19</lastmod></url>\n"
                  for n in range(10_000)) + "</urlset>").encode()),
}


class _Handler(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        self.hits.append(self.path)
        if self.path == "/slow.html":
            time.sleep(4.0)
        status, ctype, body = PAGES.get(self.path, (200, "text/html", GOOD.encode()) if self.path == "/slow.html" else (404, "text/plain", b"no"))
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


@contextmanager
def _server():
    _Handler.hits = []
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.fixture
def app(database, make_settings):
    settings = make_settings(crawl={"timeout_s": 1.5, "retries": 0, "max_response_bytes": 500_000})
    return App(settings=settings, db=database, files=open_file_store("memory://"))


def _rows(app) -> dict[str, CrawlUrl]:
    with app.db.session() as s:
        return {r.url.rsplit("/", 1)[-1]: r for r in s.scalars(select(CrawlUrl))}


def test_each_bad_page_gets_an_error_row_and_the_good_one_is_stored(app):
    names = ["good.html", "private/secret.html", "junk.html", "empty.html", "broken.html", "huge.html",
             "image.html", "gone.html", "slow.html"]
    with _server() as base:
        stats = services.crawl_sources(app, urls=[f"{base}/{n}" for n in names], allow_private=True)
        hits = list(_Handler.hits)
    rows = _rows(app)
    assert rows["good.html"].status == "done"
    assert rows["secret.html"].error_kind == "robots_disallowed"
    assert "/private/secret.html" not in hits
    assert rows["junk.html"].error_kind == "extraction_failed"
    assert rows["empty.html"].error_kind == "extraction_failed"
    assert rows["huge.html"].error_kind == "too_large"
    assert rows["image.html"].error_kind == "unsupported_content"
    assert rows["gone.html"].error_kind == "fetch_failed" and rows["gone.html"].http_status == 404
    assert rows["slow.html"].error_kind == "fetch_failed" and "tim" in rows["slow.html"].error.lower()
    # Broken-but-readable HTML is either stored or refused with a reason, never a crash.
    assert rows["broken.html"].status in ("done", "skipped") or rows["broken.html"].error_kind == "extraction_failed"
    assert "internal" not in stats.errors_by_kind
    with app.db.session() as s:
        titles = [a.title for a in s.scalars(select(Article))]
    assert "Harbour cranes return" in titles
    assert not any("Secret" in (t or "") for t in titles)


def test_a_sitemap_may_be_larger_than_a_page(database, make_settings):
    body = PAGES["/big-sitemap.xml"][2]
    with _server() as base:
        PAGES["/big-sitemap.xml"] = (200, "application/xml", body.replace(b"<loc>/", f"<loc>{base}/".encode()))
        try:
            source = SourceConfig(name="big", kind="sitemap", urls=[f"{base}/big-sitemap.xml"], max_pages=2,
                                  allow_private=True)
            settings = make_settings(crawl={"retries": 0, "max_response_bytes": 500_000}, sources=[source])
            assert len(body) > settings.crawl.max_response_bytes
            app = App(settings=settings, db=database, files=open_file_store("memory://"))
            first = services.crawl_sources(app)
            rows = _rows(app)
            # the next run goes on from the queued rows: two more pages, none fetched twice
            second = services.crawl_sources(app)
        finally:
            PAGES["/big-sitemap.xml"] = (200, "application/xml", body)
    assert rows["big-sitemap.xml"].status == "done"
    assert len(rows) == 10_001
    assert sum(r.status == "queued" for r in rows.values()) == 9_998  # max_pages=2: the rest wait for the next run
    # each run: the sitemap (fetched again every run) and two pages, which this server does not have
    assert (first.fetched, first.errors) == (second.fetched, second.errors) == (1, 2)
    assert sum(r.status == "queued" for r in _rows(app).values()) == 9_996


def test_private_addresses_are_refused_unless_allowed(app):
    with _server() as base:
        services.crawl_sources(app, urls=[f"{base}/good.html"])
        assert _Handler.hits == []
    row = _rows(app)["good.html"]
    assert row.status == "error" and row.error_kind == "blocked_url"
    assert "allow" in row.error  # the message says how to allow it


def test_error_then_success_keeps_what_was_stored(app):
    with _server() as base:
        services.crawl_sources(app, urls=[f"{base}/good.html"], allow_private=True)
        PAGES["/good.html"], saved = (500, "text/html", b"down"), PAGES["/good.html"]
        try:
            app.settings.crawl.retries = 0
            services.crawl_sources(app, urls=[f"{base}/good.html"], allow_private=True)
        finally:
            PAGES["/good.html"] = saved
    with app.db.session() as s:
        article = s.scalars(select(Article)).one()
    assert "The old harbour cranes were brought back" in app.files.get(article.text_path).decode()


def test_unknown_source_names_the_fix(app):
    app.settings.sources = [SourceConfig(name="one", kind="feed", urls=["https://example.com/feed"])]
    with pytest.raises(ConfigError, match="unknown source 'two'"):
        services.crawl_sources(app, source_names=["two"])


def test_bad_source_url_is_a_clear_error(app):
    from trendreel.errors import BlockedURL

    app.settings.sources = [SourceConfig(name="bad", kind="feed", urls=["ftp://example.com/feed"])]
    with pytest.raises(BlockedURL, match="source 'bad'"):
        services.crawl_sources(app)


def test_passing_failures_are_retried_on_the_next_run_and_refusals_are_not(app):
    with _server() as base:
        PAGES["/flaky.html"] = (503, "text/html", b"busy")
        try:
            services.crawl_sources(app, urls=[f"{base}/flaky.html", f"{base}/gone.html"], allow_private=True)
            assert _rows(app)["flaky.html"].status == "error"
            PAGES["/flaky.html"] = (200, "text/html; charset=utf-8", GOOD.replace("Harbour", "Flaky").encode())
            _Handler.hits = []
            # The next run of the same source gives the 503 page another try; the 404 stays failed.
            services.crawl_sources(app, urls=[f"{base}/other.html"], allow_private=True)
            assert "/flaky.html" in _Handler.hits and "/gone.html" not in _Handler.hits
        finally:
            PAGES.pop("/flaky.html", None)
    assert _rows(app)["flaky.html"].status == "done"
