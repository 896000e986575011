"""Queueing sitemap URLs: the crawler's frontier inserts vs a plain executemany of the same rows.

Writes a sitemap index of N page URLs (one in ten with a query string; sitemaps of at most 50,000 URLs, the protocol's limit),
serves it on 127.0.0.1 and measures, on SQLite and on PostgreSQL (when reachable), in one run:
- ours: `crawl_sources` of the sitemap source with `max_pages = 1` into a fresh database: fetch and
  parse the sitemaps, canonicalize every URL, insert the new frontier rows, hand them to the crawl queue
  (the one page fetched is a 404: the pages do not exist);
- plain: lxml parse of the same sitemap files and one DBAPI `executemany` of
  `INSERT ... ON CONFLICT DO NOTHING` into a fresh `crawl_url` table (no canonicalization, no HTTP).
Prints one JSON object; aim: 100,000 URLs queued in <= 5 s.

    python bench/bench_queue.py [--urls 100000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from lxml import etree

from trendreel.bootstrap import build_app
from trendreel.db import repo
from trendreel.db.engine import Database
from trendreel.demo.server import serve_site
from trendreel.demo.site import SITE_ORIGIN
from trendreel.ids import url_hash
from trendreel.services import crawl_sources
from trendreel.settings import Settings, SourceConfig

PG_URL = os.environ.get("TRENDREEL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PER_SITEMAP = 50_000
QUERY = "?page=2&amp;utm_source=feed"  # on every tenth URL: parameters to sort, a tracking one to drop


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def write_sitemaps(root: Path, urls: int) -> list[Path]:
    files = []
    for n, start in enumerate(range(0, urls, PER_SITEMAP), start=1):
        locs = "".join(f"<url><loc>{SITE_ORIGIN}/news/2026/12/story-{i}.html{QUERY if i % 10 == 0 else ''}</loc></url>\n"
                       for i in range(start, min(start + PER_SITEMAP, urls)))
        path = root / f"sitemap-{n}.xml"
        path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n'
                        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{locs}</urlset>\n')
        files.append(path)
    index = "".join(f"<sitemap><loc>{SITE_ORIGIN}/{p.name}</loc></sitemap>\n" for p in files)
    (root / "sitemap_index.xml").write_text('<?xml version="1.0" encoding="UTF-8"?>\n'
                                            f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
                                            f"{index}</sitemapindex>\n")
    return files


class PgSchema:
    """A fresh PostgreSQL schema for one measurement, dropped after it; None when no server answers."""

    def __init__(self) -> None:
        self.name = "bench_queue_" + uuid.uuid4().hex[:10]
        self.engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})

    def __enter__(self) -> str:
        with self.engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{self.name}"'))
        return f"{PG_URL}?options=-csearch_path%3D{self.name}"

    def __exit__(self, *exc) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE'))
        self.engine.dispose()


def pg_reachable() -> bool:
    try:
        eng = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with eng.connect():
            pass
        eng.dispose()
        return True
    except Exception:  # noqa: BLE001 - no server: SQLite only
        return False


def ours(base: str, home: Path, database_url: str, profile: bool) -> dict:
    settings = Settings(home=home, database_url=database_url,
                        crawl={"delay_s": 0.0, "retries": 0, "per_host_concurrency": 8},
                        sources=[SourceConfig(name="bench", kind="sitemap", urls=[f"{base}/sitemap_index.xml"],
                                              max_pages=1, allow_private=True)])
    app = build_app(settings)
    try:
        with app.db.session() as s:  # migrations run here, not in the timed part
            repo.counts(s)
        prof = cProfile.Profile() if profile else None
        t0 = time.perf_counter()
        if prof:
            prof.enable()
        stats = crawl_sources(app)
        if prof:
            prof.disable()
        dt = time.perf_counter() - t0
        with app.db.session() as s:
            queued = repo.counts(s)["urls_queued"]
    finally:
        app.close()
    if prof:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(35)
        say(out.getvalue())
    return {"seconds": round(dt, 2), "urls_queued": queued, "urls_per_s": round(queued / dt), "errors": stats.errors}


def plain(files: list[Path], base: str, database_url: str) -> dict:
    """Parse the same sitemaps and insert the same rows with one DBAPI executemany."""
    db = Database(database_url)
    try:
        with db.session() as s:  # a current schema, outside the timed part
            source_id = repo.upsert_source(s, name="plain", kind="sitemap", config={}).id
        t0 = time.perf_counter()
        now = datetime.now(timezone.utc)
        rows = []
        for path in files:
            for loc in etree.parse(str(path)).getroot().iter("{*}loc"):
                url = loc.text.strip().replace(SITE_ORIGIN, base)
                rows.append((source_id, url, url_hash(url), "page", 1, "queued", 0, now, now))
        raw = db.engine.raw_connection()
        try:
            cur = raw.cursor()
            mark = "?" if db.engine.dialect.name == "sqlite" else "%s"
            cur.executemany("INSERT INTO crawl_url (source_id, url, url_hash, kind, depth, status, attempts, created_at,"
                            f" updated_at) VALUES ({', '.join([mark] * 9)}) ON CONFLICT DO NOTHING", rows)
            raw.commit()
        finally:
            raw.close()
        dt = time.perf_counter() - t0
    finally:
        db.dispose()
    return {"seconds": round(dt, 2), "urls_queued": len(rows), "urls_per_s": round(len(rows) / dt)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--urls", type=int, default=100_000)
    ap.add_argument("--backends", nargs="*", default=["sqlite", "postgresql"])
    ap.add_argument("--profile", action="store_true", help="print a cProfile of our run to stderr")
    args = ap.parse_args()
    result: dict = {"benchmark": "queue_sitemap_urls", "urls": args.urls, "cpus": os.cpu_count(), "aim_s": 5.0}
    backends = [b for b in args.backends if b != "postgresql" or pg_reachable()]
    with tempfile.TemporaryDirectory(prefix="trendreel-bench-queue-") as tmp:
        site = Path(tmp) / "site"
        site.mkdir()
        files = write_sitemaps(site, args.urls)
        with serve_site(site) as base:
            for backend in backends:
                for name in ("plain", "trendreel"):
                    home = Path(tmp) / f"{backend}-{name}"
                    if backend == "sqlite":
                        url = f"sqlite:///{home / 'trendreel.db'}"
                        home.mkdir()
                        r = plain(files, base, url) if name == "plain" else ours(base, home, url, args.profile)
                    else:
                        with PgSchema() as url:
                            r = plain(files, base, url) if name == "plain" else ours(base, home, url, args.profile)
                    say(f"{backend} {name}: {r}")
                    result.setdefault(backend, {})[name] = r
                result[backend]["ratio_seconds"] = round(result[backend]["trendreel"]["seconds"]
                                                         / result[backend]["plain"]["seconds"], 2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
