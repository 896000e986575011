"""Refuse crawl targets inside private networks (SSRF guard).

A URL is refused when ANY address its host resolves to is private, loopback, link-local
(cloud metadata at 169.254.169.254), multicast, reserved, unspecified, carrier-grade NAT, or an
IPv6 form that embeds one of those (IPv4-mapped, 6to4, NAT64, Teredo). Addresses are cached per
host for `CACHE_TTL_S` so a crawl resolves each host about once a minute, not once a request.

`allow_private` (a source's, or `crawl.allow_private`) opens private and loopback addresses for one's
own sites, but never link-local ones (169.254.0.0/16, fe80::/10, and IPv6 forms embedding them): the
cloud metadata service lives there. Those pass only when their network is named in
`crawl.allow_networks`, which lets exactly the networks it lists through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from urllib.parse import urlsplit

from trendreel.errors import BlockedURL, FetchFailed

__all__ = ["CACHE_TTL_S", "TargetGuard", "blocked_reason", "check_target", "parse_networks"]

CACHE_TTL_S = 60.0
_CACHE_MAX = 4096
_HOW_TO_ALLOW = "set allow_private = true on the source or pass --allow-private"
_HOW_TO_ALLOW_LINK_LOCAL = ("allow_private does not open link-local addresses (the cloud metadata service lives "
                            "there); name the network in crawl.allow_networks to crawl it")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def parse_networks(networks) -> tuple[IPNetwork, ...]:
    """Networks given as CIDR text ("169.254.10.0/24", "fe80::/10") or already parsed."""
    return tuple(n if isinstance(n, (ipaddress.IPv4Network, ipaddress.IPv6Network))
                 else ipaddress.ip_network(str(n), strict=False) for n in networks or ())


def _embedded_v4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    embedded = addr.ipv4_mapped
    if embedded is None and addr in _NAT64:
        embedded = ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    if embedded is None and addr.sixtofour is not None:
        embedded = addr.sixtofour
    if embedded is None and addr.teredo is not None:
        embedded = addr.teredo[1]
    return embedded


def _link_local(addr: IPAddress) -> bool:
    """Link-local itself, or an IPv6 form that embeds a link-local IPv4 address."""
    if addr.is_link_local:
        return True
    if isinstance(addr, ipaddress.IPv6Address):
        inner = _embedded_v4(addr)
        return inner is not None and inner.is_link_local
    return False


def _refusal(addr: IPAddress, allow_private: bool, allowed: tuple[IPNetwork, ...]) -> tuple[str, str] | None:
    """(reason, how to allow it) when the policy refuses `addr`, else None."""
    if any(addr.version == net.version and addr in net for net in allowed):
        return None
    reason = blocked_reason(addr)
    if reason is None:
        return None
    if _link_local(addr):
        return reason if reason.endswith("link-local IPv4 address") else "link-local", _HOW_TO_ALLOW_LINK_LOCAL
    if allow_private:
        return None
    return reason, _HOW_TO_ALLOW


def blocked_reason(addr: IPAddress) -> str | None:
    """Why `addr` is not a public internet address, or None when it is."""
    if isinstance(addr, ipaddress.IPv6Address):
        embedded = _embedded_v4(addr)
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


def _verdict(host: str, addresses: list[str], allow_private: bool = False,
             allowed: tuple[IPNetwork, ...] = ()) -> str | None:
    """None when the policy lets every address through, else the message of the BlockedURL to raise."""
    for text in addresses:
        addr = _parse_ip(text)
        if addr is None:
            continue
        refused = _refusal(addr, allow_private, allowed)
        if refused:
            reason, how = refused
            shown = host if host == text else f"{host} resolves to {text}, which"
            if how is _HOW_TO_ALLOW:
                return f"{shown} is not a public address ({reason}); to crawl it anyway, {how}"
            return f"{shown} is not a public address ({reason}); {how}"
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
        self._cache: dict[str, tuple[float, list[str]]] = {}

    def _lookup(self, host: str) -> list[str] | None:
        """The addresses of an IP literal or from the cache; None when the host must be resolved."""
        if _parse_ip(host) is not None:
            return [host]
        hit = self._cache.get(host)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        return None

    def _store(self, host: str, infos: list) -> list[str]:
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        if len(self._cache) >= _CACHE_MAX:
            now = time.monotonic()
            stale = [k for k, hit in self._cache.items() if hit[0] <= now] or list(self._cache)[: _CACHE_MAX // 4]
            for key in stale:
                self._cache.pop(key, None)
        self._cache[host] = (time.monotonic() + self.ttl_s, addresses)
        return addresses

    @staticmethod
    def _passed(host: str, addresses: list[str], allow_private: bool, allow_networks) -> list[str]:
        verdict = _verdict(host, addresses, allow_private, parse_networks(allow_networks))
        if verdict:
            raise BlockedURL(verdict)
        return addresses

    def resolve(self, host: str, port: int, *, allow_private: bool = False, allow_networks=()) -> list[str]:
        """The addresses of `host` (blocking getaddrinfo on a cache miss); BlockedURL if the policy refuses any."""
        found = self._lookup(host)
        if found is None:
            try:
                infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except (OSError, UnicodeError) as exc:
                raise _unresolvable(host, exc) from None
            found = self._store(host, infos)
        return self._passed(host, found, allow_private, allow_networks)

    async def addresses(self, host: str, port: int, *, allow_private: bool = False, allow_networks=()) -> list[str]:
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
        return self._passed(host, found, allow_private, allow_networks)

    def check(self, url: str, *, allow_private: bool, allow_networks=()) -> None:
        """Blocking check of a URL's host."""
        host, port = _host_port(url)
        self.resolve(host, port, allow_private=allow_private, allow_networks=allow_networks)

    async def acheck(self, url: str, *, allow_private: bool, allow_networks=()) -> None:
        """Check of a URL's host for async code."""
        host, port = _host_port(url)
        await self.addresses(host, port, allow_private=allow_private, allow_networks=allow_networks)


_default_guard = TargetGuard()


def check_target(url: str, *, allow_private: bool, allow_networks=()) -> None:
    """Raise BlockedURL when the policy refuses where `url` points (private networks unless allow_private;
    link-local unless its network is in `allow_networks`), FetchFailed when its host does not resolve."""
    _default_guard.check(url, allow_private=allow_private, allow_networks=allow_networks)
