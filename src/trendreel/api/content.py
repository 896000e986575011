"""Read helpers of the API over the service functions: one article, and trend lists cached briefly."""

from __future__ import annotations

import threading
import time

from trendreel.errors import NotFound

TREND_CACHE_S = 2.0
_cache: dict = {}
_cache_lock = threading.Lock()


def get_article(app, article_id: str) -> dict:
    """One stored article with its media, in the shape of services.list_articles."""
    from trendreel.db import repo
    from trendreel.db.tables import Article

    with app.db.session() as s:
        a = s.get(Article, article_id)
        if a is None:
            raise NotFound(f"unknown article {article_id}", hint="list articles with `trendreel articles`")
        cats = {c.id: c.slug for c in repo.list_categories(s)}
        media = repo.media_of(s, article_id=a.id)
        return {
            "id": a.id, "url": a.canonical_url, "title": a.title, "lang": a.lang, "author": a.author,
            "published_at": a.published_at.isoformat() if a.published_at else None,
            "category": cats.get(a.category_id), "duplicate_of": a.duplicate_of, "text_chars": a.text_chars,
            "summary": getattr(a, "summary", None), "text_path": a.text_path,
            "media": [{"id": m.id, "kind": m.kind, "status": m.status, "path": m.path, "url": m.source_url,
                       "bytes": m.bytes, "caption": m.caption or m.alt} for m in media],
        }


def cached_trends_json(app, *, since=None, until=None, limit: int = 50) -> tuple[bytes, str]:
    """list_trends as JSON bytes and their ETag, kept TREND_CACHE_S seconds per query: a dashboard polling
    the list costs one query per period, and an unchanged list answers 304 to If-None-Match."""
    import hashlib
    import json

    from trendreel import services

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
