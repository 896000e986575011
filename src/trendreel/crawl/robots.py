"""robots.txt per host (RFC 9309), parsed by protego and cached.

- 2xx: the rules apply; cached for `ttl_s` (24 h at most, as the RFC asks).
- 4xx (404, 403, ...): no rules, everything is allowed.
- 5xx, network failure or a blocked redirect: the host is disallowed for `error_ttl_s`, then retried.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from protego import Protego

from trendreel.errors import BlockedURL, CrawlError, FetchFailed
from trendreel.crawl.urls import host_key

if TYPE_CHECKING:
    from trendreel.crawl.fetch import Fetcher

__all__ = ["ROBOTS_MAX_BYTES", "RobotsCache"]

ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309: parse at least the first 500 KiB
_MAX_HOSTS = 10_000


@dataclass
class _Rules:
    parser: Protego | None  # None: allow or disallow everything, see `allow_all`
    allow_all: bool
    expires: float
    reason: str = ""


def _agent_token(user_agent: str) -> str:
    """The product token robots.txt groups are matched against: 'trendreel/0.1 (+...)' -> 'trendreel'."""
    token = user_agent.strip().split("/", 1)[0].split(" ", 1)[0]
    return (token or user_agent).lower()


class RobotsCache:
    """robots.txt rules per 'scheme://host:port', fetched once and shared by every request to that host."""

    def __init__(self, user_agent: str, *, ttl_s: float = 24 * 3600, error_ttl_s: float = 120.0):
        self.agent = _agent_token(user_agent)
        self.ttl_s = ttl_s
        self.error_ttl_s = error_ttl_s
        self._rules: dict[str, _Rules] = {}
        self._pending: dict[str, asyncio.Future[_Rules]] = {}

    async def allowed(self, url: str, fetcher: Fetcher, *, allow_private: bool = False) -> bool:
        """True when robots.txt of the URL's host lets our user agent fetch `url`."""
        rules = await self._rules_for(url, fetcher, allow_private)
        if rules.parser is None:
            return rules.allow_all
        return rules.parser.can_fetch(url, self.agent)

    def reason(self, url: str) -> str:
        """Why the host of `url` is wholly disallowed ('' when its rules were read)."""
        rules = self._rules.get(host_key(url))
        return rules.reason if rules else ""

    def crawl_delay(self, url: str) -> float | None:
        """Crawl-delay (or 1/Request-rate) for our agent at the URL's host, when robots.txt was read and sets one."""
        rules = self._rules.get(host_key(url))
        if rules is None or rules.parser is None:
            return None
        delay = rules.parser.crawl_delay(self.agent)
        rate = rules.parser.request_rate(self.agent)
        if rate is not None and rate.requests > 0:
            per_request = rate.seconds / rate.requests
            delay = max(delay or 0.0, per_request)
        return float(delay) if delay is not None else None

    def sitemaps(self, url: str) -> list[str]:
        """Sitemap URLs listed in the robots.txt of the URL's host (once it was read)."""
        rules = self._rules.get(host_key(url))
        return list(rules.parser.sitemaps) if rules and rules.parser else []

    async def _rules_for(self, url: str, fetcher: Fetcher, allow_private: bool) -> _Rules:
        key = host_key(url)
        rules = self._rules.get(key)
        if rules is not None and rules.expires > time.monotonic():
            return rules
        task = self._pending.get(key)
        if task is None:
            # one download per host, in its own task so a cancelled requester does not cancel it for the others
            task = asyncio.ensure_future(self._load(key, fetcher, allow_private))
            self._pending[key] = task
            task.add_done_callback(lambda t, key=key: self._done(key, t))
        return await asyncio.shield(task)

    def _done(self, key: str, task: asyncio.Future[_Rules]) -> None:
        self._pending.pop(key, None)
        if not task.cancelled() and task.exception() is None:
            self._remember(key, task.result())

    async def _load(self, key: str, fetcher: Fetcher, allow_private: bool) -> _Rules:
        now = time.monotonic()
        robots_url = key + "/robots.txt"
        try:
            result = await fetcher.fetch(
                robots_url, allow_private=allow_private, check_robots=False, max_bytes=ROBOTS_MAX_BYTES, truncate=True
            )
        except FetchFailed as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                return _Rules(None, True, now + self.ttl_s)
            return _Rules(None, False, now + self.error_ttl_s, f"robots.txt unavailable ({exc})")
        except BlockedURL as exc:
            return _Rules(None, False, now + self.error_ttl_s, f"robots.txt redirect refused ({exc})")
        except CrawlError as exc:
            return _Rules(None, False, now + self.error_ttl_s, f"robots.txt unreadable ({exc})")
        text = result.body.decode("utf-8", errors="replace")
        try:
            parser = Protego.parse(text)
        except Exception:  # protego is lenient; anything it still chokes on counts as no rules
            return _Rules(None, True, now + self.ttl_s)
        return _Rules(parser, True, now + self.ttl_s)

    def _remember(self, key: str, rules: _Rules) -> None:
        if len(self._rules) >= _MAX_HOSTS:
            now = time.monotonic()
            stale = [k for k, r in self._rules.items() if r.expires <= now] or list(self._rules)[: _MAX_HOSTS // 4]
            for k in stale:
                self._rules.pop(k, None)
        self._rules[key] = rules
