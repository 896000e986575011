"""The crawler's only way onto the network: polite, size-capped, SSRF-guarded HTTP GETs.

Every hop of a redirect chain is canonicalized, checked against private networks and checked
against robots.txt again. Requests to one host ('scheme://host:port') are limited to
`per_host_concurrency` at a time and start at least max(delay_s, robots Crawl-delay <= 30 s)
apart; all hosts together share `concurrency` slots. Network errors, timeouts, 429 and 5xx
are retried with doubling backoff (Retry-After honoured up to `RETRY_AFTER_CAP_S`). Bodies are
decompressed here, in bounded steps, so a gzip bomb stops at the size limit without being
inflated in memory. Only trendreel.errors leave this module.
"""

from __future__ import annotations

import asyncio
import email.utils
import os
import pathlib
import sys
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
import httpcore
import httpx

from trendreel.crawl.netguard import TargetGuard, parse_networks
from trendreel.crawl.robots import RobotsCache
from trendreel.crawl.urls import canonicalize, host_key
from trendreel.errors import CrawlError, FetchFailed, RobotsDisallowed, StorageError, ResponseTooLarge, UnsupportedContent
from trendreel.settings import CrawlSettings

try:
    import sniffio  # noqa: F401
except ImportError:
    # httpcore tries `import sniffio` on every request; without it each try scans sys.path
    # (about 0.2 ms). Marking it absent makes the failed import instant; httpcore then assumes asyncio.
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]

__all__ = ["FetchResult", "Fetcher", "RETRY_AFTER_CAP_S", "MAX_CRAWL_DELAY_S", "sniff_media_type"]

RETRY_AFTER_CAP_S = 60.0
MAX_CRAWL_DELAY_S = 30.0
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_RAW_CHUNK = 64 * 1024
# An attempt may take this many timeouts in all (a server dripping one byte per read timeout is cut off).
_DEADLINE_TIMEOUTS = 4
# Big downloads get extra time at this minimum rate on top of the deadline.
_MIN_RATE_BPS = 256 * 1024
_GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream", "application/unknown", "application/binary", "application/x-download", "application/force-download"})


@dataclass
class FetchResult:
    url: str  # as asked for
    final_url: str  # canonical URL of the last hop
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes
    content_type: str | None  # media type only, lower-case ("text/html"); parameters stay in headers
    etag: str | None
    last_modified: str | None
    not_modified: bool
    redirects: list[str] = field(default_factory=list)  # canonical URLs of the hops after the first
    elapsed_s: float = 0.0

    @property
    def charset(self) -> str | None:
        """The charset parameter of Content-Type, when the server sent one."""
        for param in self.headers.get("content-type", "").split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset":
                return value.strip().strip('"').lower() or None
        return None


def _media_type(value: str | None) -> str | None:
    if not value:
        return None
    return value.split(";", 1)[0].strip().lower() or None


def sniff_media_type(head: bytes) -> str | None:
    """Media type from the first bytes of an image or video file, None when unknown."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    if head[4:8] == b"ftyp":
        return "video/quicktime" if head[8:12] == b"qt  " else "video/mp4"
    return None


def _type_allowed(media_type: str, allowed: list[str]) -> bool:
    for pattern in allowed:
        pattern = pattern.lower()
        if pattern == media_type or (pattern.endswith("/*") and media_type.startswith(pattern[:-1])):
            return True
    return False


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


class _Decoder:
    """Undoes one Content-Encoding (gzip or deflate) giving at most `room`+1 bytes per call, so a
    bomb is never inflated in memory; one byte more than `room` tells the caller it is too large."""

    def __init__(self, encoding: str | None, url: str):
        codings = [c.strip().lower() for c in (encoding or "").split(",") if c.strip() and c.strip().lower() != "identity"]
        self._url = url
        self._zlib = None
        self._started = False
        if len(codings) > 1:
            raise UnsupportedContent(f"{url} uses stacked Content-Encodings {', '.join(codings)}, which are refused")
        if codings:
            if codings[0] in ("gzip", "x-gzip"):
                self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16)
            elif codings[0] == "deflate":
                self._zlib = zlib.decompressobj()
            else:
                raise UnsupportedContent(f"{url} uses Content-Encoding {codings[0]!r}, which trendreel does not decode")
        self._deflate = bool(codings) and codings[0] == "deflate"

    def feed(self, data: bytes, room: int) -> bytes:
        if self._zlib is None:
            return data
        try:
            out = self._zlib.decompress(data, room + 1)
        except zlib.error:
            if not (self._deflate and not self._started):
                raise FetchFailed(f"{self._url} sent a body that is not valid {'deflate' if self._deflate else 'gzip'} data") from None
            # some servers send raw deflate without the zlib header
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
            self._started = True
            return self.feed(data, room)
        self._started = True
        return out

    @property
    def pending(self) -> bool:
        return self._zlib is not None and bool(self._zlib.unconsumed_tail)

    def drain(self, room: int) -> bytes:
        """More output of input that a bounded `feed` held back."""
        return self.feed(self._zlib.unconsumed_tail, room)  # type: ignore[union-attr]

    def flush(self, room: int) -> bytes:
        if self._zlib is None:
            return b""
        try:
            out = self._zlib.flush(room + 1)
        except zlib.error:
            out, truncated = b"", True
        else:
            # deflate streams without their final block are common enough to accept; gzip ones are not
            truncated = not self._deflate and not self._zlib.eof
        if truncated:
            raise FetchFailed(f"{self._url} sent a truncated compressed body")
        return out


async def _decoded_chunks(resp: httpx.Response, max_bytes: int, url: str, truncate: bool = False) -> AsyncIterator[bytes]:
    """Body bytes after Content-Encoding; ResponseTooLarge the moment more than max_bytes come out (or, with
    `truncate`, the first max_bytes and no more)."""
    decoder = _Decoder(resp.headers.get("content-encoding"), url)
    total = 0
    raw_chunks = resp.aiter_raw(_RAW_CHUNK)
    done = False
    while not done:
        try:
            raw = await anext(raw_chunks)
            chunk = decoder.feed(raw, max_bytes - total)
        except StopAsyncIteration:
            chunk = decoder.flush(max_bytes - total)
            done = True
        while True:
            total += len(chunk)
            if total > max_bytes:
                if truncate:
                    yield chunk[: len(chunk) - (total - max_bytes)]
                    return
                raise ResponseTooLarge(f"{url} is larger than the {max_bytes:,} byte limit (decoded body)")
            if chunk:
                yield chunk
            if done or not decoder.pending:
                break
            chunk = decoder.drain(max_bytes - total)


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects to the addresses the guard checked for a host, never to a fresh DNS answer."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend, fetcher: Fetcher, *, allow_private: bool = False):
        self._inner = inner
        self._fetcher = fetcher
        self._allow_private = allow_private

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        addresses = await self._fetcher.guard.addresses(host, port, allow_private=self._allow_private,
                                                        allow_networks=self._fetcher.allow_networks)
        error: Exception | None = None
        for address in addresses[:3]:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error or httpcore.ConnectError(f"no address to connect to for {host}")

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):
        return await self._inner.connect_unix_socket(path, timeout=timeout, socket_options=socket_options)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@dataclass
class _Host:
    semaphore: asyncio.Semaphore
    next_start: float = 0.0


@dataclass
class _Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    location: str | None


class Fetcher:
    """One shared HTTP client for a crawl; use `async with Fetcher(settings) as f:`."""

    def __init__(self, settings: CrawlSettings, *, transport: httpx.AsyncBaseTransport | None = None):
        self.settings = settings
        self.robots = RobotsCache(settings.user_agent)
        self.guard = TargetGuard(resolve_timeout_s=settings.timeout_s)
        self.allow_networks = parse_networks(settings.allow_networks)
        self._global = asyncio.Semaphore(settings.concurrency)
        self._hosts: dict[str, _Host] = {}
        self._transport = transport
        # public targets: connections go only to the addresses the guard checked (no DNS rebinding)
        self._client = self._new_client(transport or self._pinned_transport())
        # allow_private: pinned the same way, to addresses that policy passed (never link-local unless named)
        self._private_client: httpx.AsyncClient | None = None

    def _new_client(self, transport: httpx.AsyncBaseTransport) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=transport,
            follow_redirects=False,
            timeout=httpx.Timeout(self.settings.timeout_s),
            headers={
                "User-Agent": self.settings.user_agent,
                "Accept-Encoding": "gzip, deflate",
                "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            },
            # proxy variables are ignored: the private-network guard must see the real target
            trust_env=False,
        )

    def _limits(self) -> httpx.Limits:
        n = self.settings.concurrency
        return httpx.Limits(max_connections=n, max_keepalive_connections=n)

    def _pinned_transport(self, *, allow_private: bool = False) -> httpx.AsyncHTTPTransport:
        transport = httpx.AsyncHTTPTransport(limits=self._limits(), trust_env=False)
        pool = getattr(transport, "_pool", None)
        # httpx has no public hook for the network backend; without this attribute (another httpx
        # version) the URL-level check before each request still applies
        if isinstance(pool, httpcore.AsyncConnectionPool) and hasattr(pool, "_network_backend"):
            pool._network_backend = _PinnedBackend(pool._network_backend, self, allow_private=allow_private)
        return transport

    def _client_for(self, allow_private: bool) -> httpx.AsyncClient:
        if not allow_private or self._transport is not None:
            return self._client
        if self._private_client is None:
            self._private_client = self._new_client(self._pinned_transport(allow_private=True))
        return self._private_client

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pools."""
        await self._client.aclose()
        if self._private_client is not None:
            await self._private_client.aclose()

    async def fetch(
        self,
        url: str,
        *,
        allow_private: bool = False,
        etag: str | None = None,
        last_modified: str | None = None,
        max_bytes: int | None = None,
        check_robots: bool = True,
        truncate: bool = False,
    ) -> FetchResult:
        """GET `url` into memory; `truncate` keeps the first max_bytes instead of raising ResponseTooLarge."""
        limit = max_bytes if max_bytes is not None else self.settings.max_response_bytes

        async def read(resp: httpx.Response, hop_url: str) -> bytes:
            try:
                declared = int(resp.headers.get("content-length", ""))
            except ValueError:
                declared = -1
            if declared > limit and not truncate:
                raise ResponseTooLarge(f"{hop_url} is {declared:,} bytes, over the {limit:,} byte limit")
            return b"".join([chunk async for chunk in _decoded_chunks(resp, limit, hop_url, truncate)])

        return await self._get(url, allow_private, check_robots, etag, last_modified, limit, read)

    async def fetch_to_file(
        self,
        url: str,
        dest: pathlib.Path,
        *,
        allow_private: bool = False,
        max_bytes: int,
        allowed_types: list[str],
        check_robots: bool = True,
    ) -> FetchResult:
        """Stream `url` into `dest` (atomically); UnsupportedContent for other media types, ResponseTooLarge over max_bytes."""
        dest = pathlib.Path(dest)

        async def read(resp: httpx.Response, hop_url: str) -> bytes:
            declared_type = _media_type(resp.headers.get("content-type"))
            if declared_type not in _GENERIC_TYPES and declared_type is not None:
                if not _type_allowed(declared_type, allowed_types):
                    raise UnsupportedContent(f"{hop_url} is {declared_type}, not one of the stored media types")
            try:
                declared = int(resp.headers.get("content-length", ""))
            except ValueError:
                declared = -1
            if declared > max_bytes:
                raise ResponseTooLarge(f"{hop_url} is {declared:,} bytes, over the {max_bytes:,} byte limit")
            try:
                dest.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"cannot create the folder for {dest}: {exc}") from None
            part = dest.with_name(f".{dest.name}.{os.getpid()}.{id(resp):x}.part")
            checked = declared_type not in _GENERIC_TYPES and declared_type is not None
            head = b""

            def sniff() -> None:
                sniffed = sniff_media_type(head)
                if sniffed is None or not _type_allowed(sniffed, allowed_types):
                    what = sniffed or "no known media type"
                    raise UnsupportedContent(f"{hop_url} has no usable Content-Type and its bytes show {what}")
                resp.headers["content-type"] = sniffed

            try:
                with open(part, "wb") as fh:
                    async for chunk in _decoded_chunks(resp, max_bytes, hop_url):
                        if not checked:
                            head += chunk[:16]
                            if len(head) < 16:
                                fh.write(chunk)
                                continue
                            sniff()
                            checked = True
                        fh.write(chunk)
                if not checked:
                    sniff()
                os.replace(part, dest)
            except OSError as exc:
                part.unlink(missing_ok=True)
                raise StorageError(f"cannot write the download of {hop_url} to {dest}: {exc}") from None
            except BaseException:
                part.unlink(missing_ok=True)
                raise
            return b""

        result = await self._get(url, allow_private, check_robots, None, None, max_bytes, read)
        return result

    # -- internals ---------------------------------------------------------------------------

    async def _get(
        self,
        url: str,
        allow_private: bool,
        check_robots: bool,
        etag: str | None,
        last_modified: str | None,
        limit: int,
        read: Callable[[httpx.Response, str], Awaitable[bytes]],
    ) -> FetchResult:
        started = time.monotonic()
        allow_private = allow_private or self.settings.allow_private
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = canonicalize(url)
        seen = {current}
        redirects: list[str] = []
        while True:
            await self.guard.acheck(current, allow_private=allow_private, allow_networks=self.allow_networks)
            if check_robots and self.settings.respect_robots:
                if not await self.robots.allowed(current, self, allow_private=allow_private):
                    why = self.robots.reason(current) or "robots.txt disallows it"
                    raise RobotsDisallowed(f"{current}: {why} for user agent {self.robots.agent!r}")
            reply = await self._exchange(self._client_for(allow_private), current, headers, read, limit)
            if reply.status not in _REDIRECTS:
                break
            if not reply.location:
                raise FetchFailed(f"{current} redirected (HTTP {reply.status}) without a Location", status=reply.status)
            nxt = canonicalize(reply.location, base=current)
            if nxt in seen:
                raise FetchFailed(f"redirect loop: {current} leads back to {nxt}", status=reply.status)
            if len(redirects) >= self.settings.max_redirects:
                raise FetchFailed(
                    f"{url} redirected more than {self.settings.max_redirects} times (crawl.max_redirects)",
                    status=reply.status,
                )
            seen.add(nxt)
            redirects.append(nxt)
            current = nxt
        hdrs = reply.headers
        return FetchResult(
            url=url,
            final_url=current,
            status=reply.status,
            headers=hdrs,
            body=reply.body,
            content_type=_media_type(hdrs.get("content-type")),
            etag=hdrs.get("etag"),
            last_modified=hdrs.get("last-modified"),
            not_modified=reply.status == 304,
            redirects=redirects,
            elapsed_s=time.monotonic() - started,
        )

    def _interval(self, url: str) -> float:
        delay = self.settings.delay_s
        if self.settings.respect_robots:
            robots_delay = self.robots.crawl_delay(url)
            if robots_delay:
                delay = max(delay, min(robots_delay, MAX_CRAWL_DELAY_S))
        return delay

    @asynccontextmanager
    async def _slot(self, url: str):
        """Hold a per-host and a global slot; starts to one host are at least `_interval` apart."""
        key = host_key(url)
        host = self._hosts.get(key)
        if host is None:
            host = self._hosts[key] = _Host(asyncio.Semaphore(self.settings.per_host_concurrency))
        interval = self._interval(url)
        async with host.semaphore:
            while True:
                wait = host.next_start - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                await self._global.acquire()
                now = time.monotonic()
                # no await between this check and the update: no other request to the host can slip in
                if now >= host.next_start:
                    host.next_start = now + interval
                    break
                self._global.release()
            try:
                yield
            finally:
                self._global.release()

    async def _exchange(
        self, client: httpx.AsyncClient, url: str, headers: dict[str, str], read: Callable[[httpx.Response, str], Awaitable[bytes]], limit: int
    ) -> _Reply:
        """One hop: the request with its retries. 2xx bodies go through `read`; others are not read."""
        settings = self.settings
        deadline = settings.timeout_s * _DEADLINE_TIMEOUTS + limit / _MIN_RATE_BPS
        attempt = 0
        while True:
            retry_after: float | None = None
            try:
                async with self._slot(url):
                    async with asyncio.timeout(deadline):
                        request = client.build_request("GET", url, headers=headers)
                        resp = await client.send(request, stream=True)
                        try:
                            status = resp.status_code
                            resp_headers = {k.lower(): v for k, v in resp.headers.items()}
                            if 200 <= status < 300:
                                body = await read(resp, url)
                                # fetch_to_file may have corrected a generic Content-Type by sniffing
                                resp_headers["content-type"] = resp.headers.get("content-type", "")
                                if not resp_headers["content-type"]:
                                    del resp_headers["content-type"]
                            else:
                                body = b""
                        finally:
                            await resp.aclose()
            except httpx.TimeoutException as exc:
                error = FetchFailed(f"{url} timed out after {settings.timeout_s:g} s ({type(exc).__name__})", retryable=True)
            except TimeoutError:
                error = FetchFailed(f"{url} took longer than {deadline:g} s in all", retryable=True)
            except (CrawlError, StorageError):
                raise
            except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
                error = FetchFailed(f"{url} failed: {exc or type(exc).__name__}", retryable=True)
            else:
                if status == 429 or status >= 500:
                    retry_after = _retry_after(resp_headers.get("retry-after"))
                    error = FetchFailed(f"{url} answered HTTP {status}", status=status, retryable=True)
                elif status >= 400:
                    raise FetchFailed(f"{url} answered HTTP {status}", status=status)
                elif 300 <= status < 400 and status not in _REDIRECTS and status != 304:
                    raise FetchFailed(f"{url} answered HTTP {status}, which the crawler does not follow", status=status)
                else:
                    return _Reply(status, resp_headers, body, resp_headers.get("location"))
            if attempt >= settings.retries:
                if settings.retries:
                    error.args = (f"{error.args[0]} (after {settings.retries} retries)",)
                raise error
            delay = settings.backoff_s * (2**attempt)
            if retry_after is not None:
                delay = max(delay, retry_after)
            await asyncio.sleep(min(delay, RETRY_AFTER_CAP_S))
            attempt += 1
