"""Fetcher against a real HTTP server on 127.0.0.1 (stdlib http.server in a thread)."""

from __future__ import annotations

import asyncio
import gzip
import threading
import time
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from trendreel.crawl.fetch import Fetcher, FetchResult
from trendreel.crawl.netguard import TargetGuard
from trendreel.errors import BlockedURL, FetchFailed, RobotsDisallowed, ResponseTooLarge, UnsupportedContent
from trendreel.settings import CrawlSettings

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
Route = Callable[["Handler"], None]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "Server"

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        self.server.record(path, self.headers)
        route = self.server.routes.get(path)
        if route is None:
            self.reply(404, b"not here")
        else:
            route(self)

    def reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        headers = {"Content-Type": "text/html; charset=utf-8", **(headers or {})}
        for name, value in headers.items():
            self.send_header(name, value)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def chunked(self, status: int, chunks, content_type: str = "text/html") -> None:
        """A body without Content-Length (Transfer-Encoding: chunked)."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for chunk in chunks:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_message(self, format, *args) -> None:  # keep test output clean
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.routes: dict[str, Route] = {}
        self.hits: list[tuple[float, str, dict[str, str]]] = []
        self._lock = threading.Lock()

    def record(self, path: str, headers) -> None:
        with self._lock:
            self.hits.append((time.monotonic(), path, {k.lower(): v for k, v in headers.items()}))

    def handle_error(self, request, client_address) -> None:
        # clients of these tests hang up on purpose (timeouts, size limits); only report real faults
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def paths(self) -> list[str]:
        return [p for _, p, _ in self.hits]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


@pytest.fixture
def server():
    srv = Server()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=5)


def settings(**overrides) -> CrawlSettings:
    base = dict(delay_s=0.0, retries=0, backoff_s=0.01, timeout_s=2.0, respect_robots=False)
    return CrawlSettings(**{**base, **overrides})


def fetch(srv: Server, path: str, cfg: CrawlSettings | None = None, **kw) -> FetchResult:
    async def go():
        async with Fetcher(cfg or settings()) as f:
            return await f.fetch(srv.url(path), allow_private=True, **kw)

    return asyncio.run(go())


def page(body: bytes = b"<html>hi</html>", status: int = 200, **headers) -> Route:
    return lambda h: h.reply(status, body, headers)


# -- basics ---------------------------------------------------------------------------------


def test_fetch_returns_body_headers_and_user_agent(server):
    server.routes["/a"] = page(b"<p>hello</p>", ETag='"v1"', **{"Last-Modified": "Wed, 01 Jan 2025 00:00:00 GMT"})
    result = fetch(server, "/a?utm_source=x")
    assert result.status == 200 and result.body == b"<p>hello</p>"
    assert result.content_type == "text/html" and result.charset == "utf-8"
    assert result.headers["etag"] == '"v1"' and result.etag == '"v1"'
    assert result.last_modified == "Wed, 01 Jan 2025 00:00:00 GMT"
    assert result.final_url == server.url("/a") and not result.not_modified and result.redirects == []
    assert server.hits[0][2]["user-agent"].startswith("trendreel/")


def test_gzip_body_is_decoded(server):
    server.routes["/z"] = page(gzip.compress(b"<p>zipped</p>" * 100), **{"Content-Encoding": "gzip"})
    assert fetch(server, "/z").body == b"<p>zipped</p>" * 100


def test_conditional_get_gives_not_modified(server):
    def conditional(h: Handler) -> None:
        if h.headers.get("If-None-Match") == '"v1"' or h.headers.get("If-Modified-Since"):
            h.reply(304)
        else:
            h.reply(200, b"fresh", {"ETag": '"v1"'})

    server.routes["/c"] = conditional
    assert fetch(server, "/c").body == b"fresh"
    by_etag = fetch(server, "/c", etag='"v1"')
    by_date = fetch(server, "/c", last_modified="Wed, 01 Jan 2025 00:00:00 GMT")
    for result in (by_etag, by_date):
        assert result.not_modified and result.status == 304 and result.body == b""
    assert server.hits[1][2]["if-none-match"] == '"v1"'
    assert server.hits[2][2]["if-modified-since"] == "Wed, 01 Jan 2025 00:00:00 GMT"


# -- private networks -------------------------------------------------------------------------


def test_loopback_refused_by_default_and_allowed_with_allow_private(server):
    server.routes["/a"] = page()

    async def go():
        async with Fetcher(settings()) as f:
            with pytest.raises(BlockedURL, match="allow-private"):
                await f.fetch(server.url("/a"))
            with pytest.raises(BlockedURL, match="loopback"):
                await f.fetch(f"http://localhost:{server.server_address[1]}/a")
            return await f.fetch(server.url("/a"), allow_private=True)

    assert asyncio.run(go()).status == 200
    assert server.paths() == ["/a"]  # the refused requests never reached the server


def test_allow_private_in_settings_applies_to_every_source(server):
    server.routes["/a"] = page()

    async def go():
        async with Fetcher(settings(allow_private=True)) as f:
            return await f.fetch(server.url("/a"))

    assert asyncio.run(go()).status == 200


class TrustTestServer(TargetGuard):
    """The real guard, except that the test server's own address counts as public."""

    async def addresses(self, host: str, port: int, **policy) -> list[str]:
        if host == "127.0.0.1":
            return [host]
        return await super().addresses(host, port, **policy)


@pytest.mark.parametrize("target", ["http://localhost:{port}/secret", "http://169.254.169.254/latest/meta-data", "http://[::1]:{port}/secret"])
def test_redirect_to_private_address_refused(server, target):
    port = server.server_address[1]
    server.routes["/go"] = page(b"", 302, Location=target.format(port=port))
    server.routes["/secret"] = page(b"secret")

    async def go():
        async with Fetcher(settings()) as f:
            f.guard = TrustTestServer()
            await f.fetch(server.url("/go"))

    with pytest.raises(BlockedURL, match="not a public address"):
        asyncio.run(go())
    assert server.paths() == ["/go"]


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data", "http://[::ffff:169.254.169.254]/latest"])
def test_allow_private_does_not_open_the_metadata_address(server, target):
    # The site is on the local network (allow_private); its redirect to the cloud metadata service is refused.
    server.routes["/go"] = page(b"", 302, Location=target)

    async def go():
        async with Fetcher(settings()) as f:
            await f.fetch(server.url("/go"), allow_private=True)

    with pytest.raises(BlockedURL, match="link-local.*crawl.allow_networks"):
        asyncio.run(go())
    assert server.paths() == ["/go"]


class FooledURLCheck(TargetGuard):
    """A URL-level check that lets everything through, as if DNS had answered with a public address."""

    async def acheck(self, url: str, *, allow_private: bool, **policy) -> None:
        return None


def test_connection_goes_only_to_checked_addresses(server):
    # DNS rebinding: the name looked public when checked, then resolves to loopback when connecting.
    # The connection uses the guard's own checked addresses, so it is refused all the same.
    server.routes["/secret"] = page(b"secret")

    async def go():
        async with Fetcher(settings()) as f:
            f.guard = FooledURLCheck()
            await f.fetch(f"http://localhost:{server.server_address[1]}/secret")

    with pytest.raises(BlockedURL, match="loopback"):
        asyncio.run(go())
    assert server.paths() == []


def test_redirect_to_other_scheme_refused(server):
    server.routes["/go"] = page(b"", 301, Location="file:///etc/passwd")
    with pytest.raises(BlockedURL, match="only http and https"):
        fetch(server, "/go")


# -- redirects --------------------------------------------------------------------------------


def test_redirects_followed_and_listed(server):
    server.routes["/old"] = page(b"", 301, Location="/mid?utm_medium=x")
    server.routes["/mid"] = page(b"", 307, Location=server.url("/new"))
    server.routes["/new"] = page(b"new")
    result = fetch(server, "/old")
    assert result.body == b"new" and result.final_url == server.url("/new")
    assert result.redirects == [server.url("/mid"), server.url("/new")]
    assert result.url == server.url("/old")


def test_redirect_limit(server):
    for i in range(10):
        server.routes[f"/r{i}"] = page(b"", 302, Location=f"/r{i + 1}")
    with pytest.raises(FetchFailed, match="more than 3 times"):
        fetch(server, "/r0", settings(max_redirects=3))
    assert server.paths() == ["/r0", "/r1", "/r2", "/r3"]


def test_redirect_loop(server):
    server.routes["/a"] = page(b"", 302, Location="/b")
    server.routes["/b"] = page(b"", 302, Location="/a#again")
    with pytest.raises(FetchFailed, match="redirect loop"):
        fetch(server, "/a")


def test_redirect_is_checked_against_robots(server):
    server.routes["/robots.txt"] = page(b"User-agent: *\nDisallow: /private\n", **{"Content-Type": "text/plain"})
    server.routes["/go"] = page(b"", 302, Location="/private/page")
    with pytest.raises(RobotsDisallowed):
        fetch(server, "/go", settings(respect_robots=True))
    assert "/private/page" not in server.paths()


# -- robots.txt -------------------------------------------------------------------------------


def test_robots_disallow(server):
    server.routes["/robots.txt"] = page(
        b"User-agent: trendreel\nDisallow: /no\n\nUser-agent: *\nDisallow: /\n", **{"Content-Type": "text/plain"}
    )
    server.routes["/yes"] = page(b"ok")
    server.routes["/no/page"] = page(b"secret")

    async def go():
        async with Fetcher(settings(respect_robots=True)) as f:
            ok = await f.fetch(server.url("/yes"), allow_private=True)
            with pytest.raises(RobotsDisallowed, match="robots.txt"):
                await f.fetch(server.url("/no/page"), allow_private=True)
            unchecked = await f.fetch(server.url("/no/page"), allow_private=True, check_robots=False)
            return ok, unchecked

    ok, unchecked = asyncio.run(go())
    assert ok.body == b"ok" and unchecked.body == b"secret"
    assert server.paths().count("/robots.txt") == 1  # cached per host
    assert server.paths() == ["/robots.txt", "/yes", "/no/page"]


def test_robots_read_once_for_concurrent_requests(server):
    def slow_robots(h: Handler) -> None:
        time.sleep(0.1)
        h.reply(200, b"User-agent: *\nAllow: /\n", {"Content-Type": "text/plain"})

    server.routes["/robots.txt"] = slow_robots
    server.routes["/p"] = page()

    async def go():
        async with Fetcher(settings(respect_robots=True, per_host_concurrency=4)) as f:
            await asyncio.gather(*(f.fetch(server.url(f"/p?i={i}"), allow_private=True) for i in range(6)))

    asyncio.run(go())
    assert server.paths().count("/robots.txt") == 1 and server.paths().count("/p") == 6


def test_robots_404_allows_everything(server):
    server.routes["/a"] = page(b"ok")
    assert fetch(server, "/a", settings(respect_robots=True)).body == b"ok"
    assert server.paths() == ["/robots.txt", "/a"]


def test_robots_5xx_disallows_the_host(server):
    server.routes["/robots.txt"] = page(b"down", 503)
    server.routes["/a"] = page(b"ok")
    with pytest.raises(RobotsDisallowed, match="unavailable"):
        fetch(server, "/a", settings(respect_robots=True, retries=1))
    assert server.paths() == ["/robots.txt", "/robots.txt"]  # retried once, then the page is not asked for


def test_robots_crawl_delay_is_used(server):
    server.routes["/robots.txt"] = page(b"User-agent: *\nCrawl-delay: 0.3\n", **{"Content-Type": "text/plain"})
    server.routes["/a"] = page()

    async def go():
        async with Fetcher(settings(respect_robots=True)) as f:
            await f.fetch(server.url("/a"), allow_private=True)
            assert f.robots.crawl_delay(server.url("/a")) == 0.3
            await f.fetch(server.url("/a"), allow_private=True)

    asyncio.run(go())
    starts = [t for t, p, _ in server.hits if p == "/a"]
    assert starts[1] - starts[0] >= 0.27


# -- timeouts and retries -----------------------------------------------------------------------


def test_timeout_is_retryable_fetch_failed(server):
    def slow(h: Handler) -> None:
        time.sleep(1.0)
        h.reply(200, b"late")

    server.routes["/slow"] = slow
    t0 = time.monotonic()
    with pytest.raises(FetchFailed, match="timed out") as info:
        fetch(server, "/slow", settings(timeout_s=0.2))
    assert info.value.retryable and time.monotonic() - t0 < 0.9


def test_retry_after_503_then_success(server):
    calls = []

    def flaky(h: Handler) -> None:
        calls.append(1)
        if len(calls) < 3:
            h.reply(503, b"busy")
        else:
            h.reply(200, b"ok")

    server.routes["/f"] = flaky
    assert fetch(server, "/f", settings(retries=3, backoff_s=0.05)).body == b"ok"
    starts = [t for t, _, _ in server.hits]
    assert len(starts) == 3
    assert starts[1] - starts[0] >= 0.04 and starts[2] - starts[1] >= 0.09  # backoff doubles


def test_retry_after_header_is_honoured(server):
    calls = []

    def limited(h: Handler) -> None:
        calls.append(1)
        h.reply(429, b"slow down", {"Retry-After": "1"}) if len(calls) == 1 else h.reply(200, b"ok")

    server.routes["/l"] = limited
    assert fetch(server, "/l", settings(retries=1, backoff_s=0.01)).body == b"ok"
    starts = [t for t, _, _ in server.hits]
    assert starts[1] - starts[0] >= 0.9


def test_5xx_gives_up_after_retries(server):
    server.routes["/down"] = page(b"down", 500)
    with pytest.raises(FetchFailed, match="HTTP 500") as info:
        fetch(server, "/down", settings(retries=2, backoff_s=0.01))
    assert info.value.status == 500 and info.value.retryable
    assert len(server.hits) == 3


def test_404_is_not_retried(server):
    with pytest.raises(FetchFailed) as info:
        fetch(server, "/missing", settings(retries=3, backoff_s=0.01))
    assert info.value.status == 404 and not info.value.retryable
    assert server.paths() == ["/missing"]


def test_connection_refused_is_fetch_failed():
    srv = Server()
    url = srv.url("/")
    srv.server_close()  # nothing listens on the port any more

    async def go():
        async with Fetcher(settings()) as f:
            await f.fetch(url, allow_private=True)

    with pytest.raises(FetchFailed) as info:
        asyncio.run(go())
    assert info.value.retryable


# -- size limits -----------------------------------------------------------------------------


def test_too_large_by_content_length(server):
    server.routes["/big"] = page(b"x" * 5000)
    with pytest.raises(ResponseTooLarge, match="4,000"):
        fetch(server, "/big", max_bytes=4000)


def test_too_large_while_streaming_without_content_length(server):
    server.routes["/stream"] = lambda h: h.chunked(200, (b"x" * 1000 for _ in range(50)))
    with pytest.raises(ResponseTooLarge):
        fetch(server, "/stream", max_bytes=10_000)
    assert fetch(server, "/stream", max_bytes=60_000).body == b"x" * 50_000


def test_gzip_bomb_refused(server):
    bomb = gzip.compress(b"\0" * 20_000_000, compresslevel=9)
    assert len(bomb) < 100_000
    server.routes["/bomb"] = page(bomb, **{"Content-Encoding": "gzip"})
    with pytest.raises(ResponseTooLarge, match="decoded"):
        fetch(server, "/bomb", max_bytes=1_000_000)


def test_truncate_keeps_the_first_bytes(server):
    server.routes["/long"] = page(b"a" * 3000)
    assert fetch(server, "/long", max_bytes=1000, truncate=True).body == b"a" * 1000


# -- fetch_to_file ----------------------------------------------------------------------------


def download(srv: Server, path: str, dest, **kw) -> FetchResult:
    kw.setdefault("max_bytes", 1_000_000)
    kw.setdefault("allowed_types", ["image/png", "image/jpeg"])

    async def go():
        async with Fetcher(settings()) as f:
            return await f.fetch_to_file(srv.url(path), dest, allow_private=True, **kw)

    return asyncio.run(go())


def test_fetch_to_file_streams_to_dest(server, tmp_path):
    server.routes["/img.png"] = page(PNG, **{"Content-Type": "image/png"})
    dest = tmp_path / "media" / "img.png"
    result = download(server, "/img.png", dest)
    assert dest.read_bytes() == PNG and result.body == b"" and result.content_type == "image/png"
    assert list(dest.parent.iterdir()) == [dest]


def test_fetch_to_file_sniffs_generic_type(server, tmp_path):
    server.routes["/blob"] = page(PNG, **{"Content-Type": "application/octet-stream"})
    server.routes["/html"] = page(b"<html>not an image</html>", **{"Content-Type": "application/octet-stream"})
    assert download(server, "/blob", tmp_path / "a").content_type == "image/png"
    with pytest.raises(UnsupportedContent):
        download(server, "/html", tmp_path / "b")
    assert [p.name for p in tmp_path.iterdir()] == ["a"]


def test_fetch_to_file_refuses_media_type(server, tmp_path):
    server.routes["/page"] = page(b"<html></html>")
    with pytest.raises(UnsupportedContent, match="text/html"):
        download(server, "/page", tmp_path / "x")
    assert list(tmp_path.iterdir()) == []


def test_fetch_to_file_too_large_leaves_no_partial_file(server, tmp_path):
    server.routes["/huge.png"] = lambda h: h.chunked(200, (PNG * 10 for _ in range(100)), "image/png")
    server.routes["/declared.png"] = page(PNG * 100, **{"Content-Type": "image/png"})
    with pytest.raises(ResponseTooLarge):
        download(server, "/huge.png", tmp_path / "huge.png", max_bytes=50_000)
    with pytest.raises(ResponseTooLarge):
        download(server, "/declared.png", tmp_path / "declared.png", max_bytes=10_000)
    assert list(tmp_path.iterdir()) == []


# -- politeness -------------------------------------------------------------------------------


def test_requests_to_one_host_are_spaced_by_delay(server):
    server.routes["/p"] = page()

    async def go():
        async with Fetcher(settings(delay_s=0.2, per_host_concurrency=1, concurrency=8)) as f:
            # the first request also opens the connection, which delays when the server sees it; leave it out
            await f.fetch(server.url("/warm"), allow_private=True, check_robots=False)
            await asyncio.gather(*(f.fetch(server.url(f"/p?i={i}"), allow_private=True) for i in range(5)))

    server.routes["/warm"] = page()
    asyncio.run(go())
    starts = sorted(t for t, path, _ in server.hits if path == "/p")
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    # the server's clock sees thread-scheduling jitter; single gaps get some slack, the total span little
    assert len(starts) == 5 and min(gaps) >= 0.15 and starts[-1] - starts[0] >= 0.75, gaps


def test_per_host_concurrency_limits_parallel_requests(server):
    active = []
    peak = []
    lock = threading.Lock()

    def slowish(h: Handler) -> None:
        with lock:
            active.append(1)
            peak.append(len(active))
        time.sleep(0.05)
        with lock:
            active.pop()
        h.reply(200, b"ok")

    server.routes["/s"] = slowish

    async def go():
        async with Fetcher(settings(per_host_concurrency=2, concurrency=8)) as f:
            await asyncio.gather(*(f.fetch(server.url(f"/s?i={i}"), allow_private=True) for i in range(8)))

    asyncio.run(go())
    assert len(peak) == 8 and max(peak) <= 2


# -- content encodings ------------------------------------------------------------------------


@pytest.mark.parametrize("wbits", [15, -15], ids=["zlib-deflate", "raw-deflate"])
def test_deflate_bodies_are_decoded(server, wbits):
    packer = zlib.compressobj(wbits=wbits)
    server.routes["/d"] = page(packer.compress(b"deflated " * 50) + packer.flush(), **{"Content-Encoding": "deflate"})
    assert fetch(server, "/d").body == b"deflated " * 50


@pytest.mark.parametrize(
    ("encoding", "body", "error"),
    [
        ("br", b"whatever", UnsupportedContent),
        ("gzip, gzip", gzip.compress(gzip.compress(b"x")), UnsupportedContent),
        ("gzip", b"this is not gzip", FetchFailed),
        ("gzip", gzip.compress(b"y" * 10_000)[:-50], FetchFailed),
    ],
)
def test_bad_encodings_refused(server, encoding, body, error):
    server.routes["/e"] = page(body, **{"Content-Encoding": encoding})
    with pytest.raises(error):
        fetch(server, "/e")


def test_sniffing_survives_tiny_chunks(server, tmp_path):
    server.routes["/tiny"] = lambda h: h.chunked(200, [PNG[i : i + 3] for i in range(0, len(PNG), 3)], "application/octet-stream")
    download(server, "/tiny", tmp_path / "tiny.png")
    assert (tmp_path / "tiny.png").read_bytes() == PNG
