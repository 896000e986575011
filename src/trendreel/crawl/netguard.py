"""Refuse crawl targets inside private networks (SSRF guard).

A URL is refused when ANY address its host resolves to is private, loopback, link-local
(cloud metadata at 169.254.169.254), multicast, reserved, unspecified, carrier-grade NAT, or an
IPv6 form that embeds one of those (IPv4-mapped, 6to4, NAT64, Teredo). Verdicts are cached per
host for `CACHE_TTL_S` so a crawl resolves each host about once a minute, not once a request.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from urllib.parse import urlsplit

from trendreel.errors import BlockedURL, FetchFailed

__all__ = ["CACHE_TTL_S", "TargetGuard", "blocked_reason", "check_target"]

CACHE_TTL_S = 60.0
_CACHE_MAX = 4096
_HOW_TO_ALLOW = "set allow_private = true on the source or pass --allow-private"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def blocked_reason(addr: IPAddress) -> str | None:
    """Why `addr` is not a public internet address, or None when it is."""
    if isinstance(addr, ipaddress.IPv6Address):
        embedded = addr.ipv4_mapped
        if embedded is None and addr in _NAT64:
            embedded = ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
        if embedded is None and addr.sixtofour is not None:
            embedded = addr.sixtofour
        if embedded is None and addr.teredo is not None:
            embedded = addr.teredo[1]
        if embedded is not None:
            inner = blocked_reason(embedded)
            if inner:
                return f"IPv6 form of a {inner} IPv4 address"
    for flag, reason in (
        ("is_unspecified", "unspecified"),
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_private", "private"),
        ("is_reserved", "reserved"),
    ):
        if getattr(addr, flag):
            return reason
    if not addr.is_global:
        return "non-public"
    return None


def _parse_ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise BlockedURL(f"URL has no host: {url}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise BlockedURL(f"URL has an invalid port: {url}") from None
    return host, port


def _verdict(host: str, addresses: list[str]) -> str | None:
    """None when every address is public, else the message of the BlockedURL to raise."""
    for text in addresses:
        addr = _parse_ip(text)
        if addr is None:
            continue
        reason = blocked_reason(addr)
        if reason:
            shown = host if host == text else f"{host} resolves to {text}, which"
            return f"{shown} is not a public address ({reason}); to crawl it anyway, {_HOW_TO_ALLOW}"
    return None


def _unresolvable(host: str, exc: Exception) -> FetchFailed:
    # only a temporary resolver failure is worth retrying; "no such host" stays so
    temporary = isinstance(exc, socket.gaierror) and exc.errno == socket.EAI_AGAIN
    return FetchFailed(f"cannot resolve host {host}: {exc}", retryable=temporary)


class TargetGuard:
    """Checks crawl targets, caching each host's addresses and verdict for `ttl_s` seconds.

    `addresses` gives the checked addresses themselves, so a connection can be made to exactly the
    address that was checked (the fetcher does this), leaving no window for DNS rebinding.
    """

    def __init__(self, ttl_s: float = CACHE_TTL_S, *, resolve_timeout_s: float = 10.0):
        self.ttl_s = ttl_s
        self.resolve_timeout_s = resolve_timeout_s
        self._cache: dict[str, tuple[float, str | None, list[str]]] = {}

    def _lookup(self, host: str) -> tuple[str | None, list[str]] | None:
        """(verdict, addresses) from an IP literal or the cache; None when the host must be resolved."""
        if _parse_ip(host) is not None:
            return _verdict(host, [host]), [host]
        hit = self._cache.get(host)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1], hit[2]
        return None

    def _store(self, host: str, infos: list) -> tuple[str | None, list[str]]:
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        verdict = _verdict(host, addresses)
        if len(self._cache) >= _CACHE_MAX:
            now = time.monotonic()
            stale = [k for k, hit in self._cache.items() if hit[0] <= now] or list(self._cache)[: _CACHE_MAX // 4]
            for key in stale:
                self._cache.pop(key, None)
        self._cache[host] = (time.monotonic() + self.ttl_s, verdict, addresses)
        return verdict, addresses

    @staticmethod
    def _passed(found: tuple[str | None, list[str]]) -> list[str]:
        verdict, addresses = found
        if verdict:
            raise BlockedURL(verdict)
        return addresses

    def resolve(self, host: str, port: int) -> list[str]:
        """Public addresses of `host` (blocking getaddrinfo on a cache miss); BlockedURL if any is not public."""
        found = self._lookup(host)
        if found is None:
            try:
                infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except (OSError, UnicodeError) as exc:
                raise _unresolvable(host, exc) from None
            found = self._store(host, infos)
        return self._passed(found)

    async def addresses(self, host: str, port: int) -> list[str]:
        """Same as `resolve`, resolving in the event loop's resolver thread."""
        found = self._lookup(host)
        if found is None:
            loop = asyncio.get_running_loop()
            try:
                infos = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), self.resolve_timeout_s)
            except asyncio.TimeoutError:
                raise FetchFailed(f"resolving host {host} timed out", retryable=True) from None
            except (OSError, UnicodeError) as exc:
                raise _unresolvable(host, exc) from None
            found = self._store(host, infos)
        return self._passed(found)

    def check(self, url: str, *, allow_private: bool) -> None:
        """Blocking check of a URL's host."""
        host, port = _host_port(url)
        if not allow_private:
            self.resolve(host, port)

    async def acheck(self, url: str, *, allow_private: bool) -> None:
        """Check of a URL's host for async code."""
        host, port = _host_port(url)
        if not allow_private:
            await self.addresses(host, port)


_default_guard = TargetGuard()


def check_target(url: str, *, allow_private: bool) -> None:
    """Raise BlockedURL when `url` points into a private network, FetchFailed when its host does not resolve."""
    _default_guard.check(url, allow_private=allow_private)
