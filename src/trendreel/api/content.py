"""HTTP caching of the API: trend lists kept briefly, with an ETag."""

from __future__ import annotations

import hashlib
import json
import threading
import time

from trendreel import services

TREND_CACHE_S = 2.0
_cache: dict = {}
_cache_lock = threading.Lock()


def cached_trends_json(app, *, since=None, until=None, limit: int = 50) -> tuple[bytes, str]:
    """list_trends as JSON bytes and their ETag, kept TREND_CACHE_S seconds per query: a dashboard polling
    the list costs one query per period, and an unchanged list answers 304 to If-None-Match."""
    key = (id(app), since, until, limit)
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
        if hit and now - hit[0] < TREND_CACHE_S:
            return hit[1]
    rows = services.list_trends(app, since=since, until=until, limit=limit)
    body = json.dumps(rows, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")
    value = (body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
    with _cache_lock:
        if len(_cache) > 256:
            _cache.clear()
        _cache[key] = (now, value)
    return value
