"""Sources: those of the settings file and those added from the workspace, and a dry look at one.

Sources added from the workspace (or the API) live in the database's `source` table, the same row a
crawl keeps for every source, marked `added_by`; the settings file's `[[sources]]` stay where they are
(read-only here: edit the file). A crawl sees both.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from urllib.parse import urlparse

from pydantic import ValidationError
from sqlalchemy import select

from trendreel.bootstrap import App
from trendreel.crawl.discover import parse_feed, parse_sitemap
from trendreel.crawl.extract import extract
from trendreel.crawl.fetch import Fetcher
from trendreel.crawl.urls import same_site
from trendreel.db.tables import Source
from trendreel.errors import Conflict, CrawlError, InvalidInput, NotFound, TrendreelError, UnknownSource
from trendreel.settings import SourceConfig

SAMPLE_PAGES = 3  # pages a test fetches for their titles
LISTED_URLS = 10


def _managed_rows(session) -> list[Source]:
    rows = session.scalars(select(Source).order_by(Source.name)).all()
    return [r for r in rows if (r.config or {}).get("added_by") and not (r.config or {}).get("removed_at")]


def _config_of(row: Source) -> SourceConfig:
    fields = SourceConfig.model_fields
    return SourceConfig.model_validate({k: v for k, v in (row.config or {}).items() if k in fields})


def _source_dict(src: SourceConfig, origin: str, row: Source | None = None) -> dict:
    out = {**src.model_dump(mode="json"), "origin": origin}
    if row is not None:
        out.update(added_by=row.config.get("added_by"), updated_at=row.updated_at.isoformat() if row.updated_at else None)
    return out


def list_sources(app: App) -> list[dict]:
    """Every source a crawl knows: the settings file's (origin "settings") and the added ones ("workspace")."""
    out = [_source_dict(s, "settings") for s in app.settings.sources]
    with app.db.session() as s:
        out += [_source_dict(_config_of(r), "workspace", r) for r in _managed_rows(s)]
    return out


def find_source(app: App, name: str) -> SourceConfig:
    """The source of this name, from the settings file or added; UnknownSource (a ConfigError) naming the known ones."""
    for src in app.settings.sources:
        if src.name == name:
            return src
    with app.db.session() as s:
        for row in _managed_rows(s):
            if row.name == name:
                return _config_of(row)
    known = ", ".join(x["name"] for x in list_sources(app)) or "none configured"
    raise UnknownSource(f"unknown source {name!r} (known: {known}); add it in the workspace (Sources) or under "
                      "[[sources]] in the settings file")


def all_sources(app: App) -> list[SourceConfig]:
    with app.db.session() as s:
        return list(app.settings.sources) + [_config_of(r) for r in _managed_rows(s)]


def check_source(data: dict) -> SourceConfig:
    """A source definition, validated; InvalidInput with every problem."""
    try:
        src = SourceConfig.model_validate(data)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or 'source'}: {e['msg']}" for e in exc.errors()]
        raise InvalidInput("the source is not valid: " + "; ".join(problems)) from None
    for url in src.urls:
        if urlparse(url).scheme not in ("http", "https") or not urlparse(url).hostname:
            raise InvalidInput(f"the source is not valid: {url!r} is not an http(s) URL")
    return src


def save_source(app: App, data: dict, *, by: str, replace: str | None = None) -> dict:
    """Add a source, or change the added source `replace` (which may get a new name)."""
    src = check_source(data)
    if any(s.name in (src.name, replace) for s in app.settings.sources):
        raise Conflict(f"source {src.name!r} is defined in the settings file; change it there")
    with app.db.session() as s:
        rows = {r.name: r for r in s.scalars(select(Source)).all()}
        if replace is not None and replace not in {r.name for r in _managed_rows(s)}:
            raise NotFound(f"no source {replace!r} was added in the workspace")
        clash = rows.get(src.name)
        if src.name != replace and clash is not None and clash in _managed_rows(s):
            raise Conflict(f"a source named {src.name!r} exists already; pick another name or edit that one")
        row = rows.get(replace) if replace is not None else None
        if row is None:
            row = clash  # a name crawled before (e.g. once in the settings file) keeps its row and its pages
        config = {**src.model_dump(mode="json"), "added_by": by}
        if row is None:
            row = Source(name=src.name, kind=src.kind, config=config)
            s.add(row)
        else:
            row.name, row.kind, row.config = src.name, src.kind, config
        s.flush()
        return {**_source_dict(src, "workspace", row), "created": replace is None}


def remove_source(app: App, name: str) -> dict:
    """Stop crawling an added source; the articles it brought stay."""
    with app.db.session() as s:
        row = next((r for r in _managed_rows(s) if r.name == name), None)
        if row is None:
            if any(src.name == name for src in app.settings.sources):
                raise InvalidInput(f"source {name!r} is defined in the settings file; remove it there")
            raise NotFound(f"no source {name!r} was added in the workspace")
        row.config = {**row.config, "removed_at": datetime.now(timezone.utc).isoformat()}
        return _source_dict(_config_of(row), "workspace", row)


# ---- a dry look: what a crawl of this source would find ----------------------------------------

def test_source(app: App, source: str | dict) -> dict:
    """Fetch a source's first start page / feed / sitemap once (robots.txt first, as a crawl does) and
    say what a crawl would find: pages found, the first ones with their titles, the robots verdict."""
    src = find_source(app, source) if isinstance(source, str) else check_source(source)
    return asyncio.run(_probe(app, src))


async def _probe(app: App, src: SourceConfig) -> dict:
    cfg = app.settings.crawl
    allow_private = src.allow_private or cfg.allow_private
    start = src.urls[0]
    out: dict = {"source": src.name, "kind": src.kind, "start_url": start, "robots": "", "robots_allowed": True,
                 "status": None, "pages_found": 0, "sitemaps_found": 0, "first": [], "problems": []}
    async with Fetcher(cfg) as fetcher:
        try:
            allowed = await fetcher.robots.allowed(start, fetcher, allow_private=allow_private)
        except TrendreelError as exc:
            allowed, out["robots"] = False, f"cannot check: {exc}"
        reason = fetcher.robots.reason(start)
        out["robots_allowed"] = allowed
        out["robots"] = out["robots"] or ("allowed" if allowed else f"disallowed: {reason or 'robots.txt disallows it'}")
        if not cfg.respect_robots:
            out["robots"] += " (robots.txt is not respected: crawl.respect_robots is off)"
        elif not allowed and not reason:
            return out  # a Disallow rule: a crawl would fetch nothing here
        try:  # when robots.txt could not be read, the start page's own answer says why
            page = await fetcher.fetch(start, allow_private=allow_private, check_robots=False)
        except (CrawlError, TrendreelError) as exc:
            out["problems"].append(f"{start}: {exc}")
            return out
        out["status"] = page.status
        found = _found(src, page)
        if src.kind == "sitemap" and not found["pages"] and found["sitemaps"]:
            child = found["sitemaps"][0]  # a sitemap index: one level down, as a crawl would go
            try:
                found = {**_found(src, await fetcher.fetch(child, allow_private=allow_private)),
                         "sitemaps": found["sitemaps"]}
            except (CrawlError, TrendreelError) as exc:
                out["problems"].append(f"{child}: {exc}")
        pages = list(dict.fromkeys(found["pages"]))
        out["pages_found"], out["sitemaps_found"] = len(pages), len(found["sitemaps"])
        if found.get("problem"):
            out["problems"].append(found["problem"])
        for url in pages[:LISTED_URLS]:
            out["first"].append({"url": url, "title": None})
        for item in out["first"][:SAMPLE_PAGES]:
            try:
                got = await fetcher.fetch(item["url"], allow_private=allow_private)
                item["title"] = extract(got.body, got.final_url, content_type=got.content_type).title
            except (CrawlError, TrendreelError) as exc:
                item["problem"] = str(exc)[:300]
    return out


def _found(src: SourceConfig, page) -> dict:
    """Pages (and sitemaps) the fetched start URL leads to, by the source's kind."""
    try:
        if src.kind == "feed":
            return {"pages": [f.url for f in parse_feed(page.body, page.final_url)], "sitemaps": []}
        if src.kind == "sitemap":
            found = parse_sitemap(page.body)
            return {"pages": [f.url for f in found if f.kind == "page"],
                    "sitemaps": [f.url for f in found if f.kind == "sitemap"]}
    except TrendreelError as exc:
        return {"pages": [], "sitemaps": [], "problem": f"{page.final_url}: {exc}"}
    if src.kind == "urls":
        return {"pages": list(src.urls), "sitemaps": []}
    hosts = {h for h in (urlparse(u).hostname for u in src.urls) if h}
    links = extract(page.body, page.final_url, content_type=page.content_type).links if src.max_depth else []
    return {"pages": [u for u in links if any(same_site(u, h) for h in hosts)], "sitemaps": []}
