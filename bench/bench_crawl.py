"""Crawl throughput: the full crawler vs plain trafilatura over the same HTML files.

Builds a local site of N article pages, serves it from a separate process on 127.0.0.1, and
measures in one run:
- plain: `trafilatura.extract(html, url=..., with_metadata=True)` over the files, one process;
- ours: `trendreel crawl` of the site's sitemap into a fresh home (fetch over HTTP, robots,
  canonicalisation, extraction, near-duplicate check, files + SQLite rows + events), with
  extraction in the crawler's process and with a pool of extraction processes.
And the HTTP client's share: the same pages fetched (no extraction, no storage) by our Fetcher (robots,
private-network guard, politeness, size limits) beside a plain `httpx.AsyncClient` loop and, when it is
installed, a plain `aiohttp` loop, each with 8 requests in flight.
Prints one JSON object; `ratio` = our pages/s / plain pages/s (aim: >= 0.75). `cpu_ratio` = plain's CPU
time per page / ours (crawler and extraction processes, not the site server): what the ratio would be with
one core each and nothing else running, which a shared machine's wall-clock ratio can hide either way.

    python bench/bench_crawl.py [--pages 2000] [--workers 0 2] [--runs 1] [--no-http]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import trafilatura

from trendreel.bootstrap import build_app
from trendreel.crawl.fetch import Fetcher
from trendreel.demo.site import build_large_site
from trendreel.services import crawl_sources
from trendreel.settings import Settings, SourceConfig


def serve(root: Path) -> tuple[subprocess.Popen, str]:
    """The site server in its own process, so it does not share the crawler's (or worker's) CPU time slice."""
    proc = subprocess.Popen([sys.executable, "-m", "trendreel.demo.server", str(root), "--port", "0", "--print-url"],
                            stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        proc.kill()
        raise RuntimeError(f"site server did not start: {url!r}")
    return proc, url


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the crawl's extraction processes, once joined)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def plain_rate(root: Path, pages: list[str], base: str) -> dict:
    files = [(root / p.lstrip("/"), base + p) for p in pages]
    c0 = cpu_seconds()
    t0 = time.perf_counter()
    chars = 0
    for path, url in files:
        out = trafilatura.extract(path.read_bytes(), url=url, with_metadata=True)
        chars += len(out or "")
    dt = time.perf_counter() - t0
    return {"pages": len(files), "seconds": round(dt, 2), "pages_per_s": round(len(files) / dt, 1), "chars": chars,
            "cpu_ms_per_page": round((cpu_seconds() - c0) * 1000 / len(files), 2)}


CONCURRENCY = 8


async def _fetch_all(urls: list[str], get) -> float:
    """Seconds to fetch every URL with CONCURRENCY loops pulling from one list."""
    todo = list(reversed(urls))

    async def loop():
        while todo:
            await get(todo.pop())

    t0 = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(CONCURRENCY)))
    return time.perf_counter() - t0


async def http_rates(urls: list[str]) -> dict:
    out = {}
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=CONCURRENCY), trust_env=False) as client:
        async def plain_get(url):
            (await client.get(url)).raise_for_status()
        out["plain_httpx"] = len(urls) / await _fetch_all(urls, plain_get)
    try:
        import aiohttp
    except ImportError:
        out["plain_aiohttp"] = "not installed"
    else:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as session:
            async def aio_get(url):
                async with session.get(url) as resp:
                    resp.raise_for_status()
                    await resp.read()
            out["plain_aiohttp"] = len(urls) / await _fetch_all(urls, aio_get)
    settings = Settings(crawl={"delay_s": 0.0, "per_host_concurrency": CONCURRENCY, "concurrency": CONCURRENCY,
                               "retries": 0})
    async with Fetcher(settings.crawl) as fetcher:
        async def our_get(url):
            await fetcher.fetch(url, allow_private=True)
        out["trendreel_fetcher"] = len(urls) / await _fetch_all(urls, our_get)
    return {k: (round(v, 1) if isinstance(v, float) else v) for k, v in out.items()}


def crawl_rate(base: str, workers: int, pages: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="trendreel-bench-") as home:
        settings = Settings(
            home=Path(home),
            crawl={"delay_s": 0.0, "per_host_concurrency": 8, "concurrency": 8, "retries": 0},
            sources=[SourceConfig(name="bench", kind="sitemap", urls=[f"{base}/sitemap.xml"], max_pages=pages + 10,
                                  allow_private=True)],
        )
        app = build_app(settings)
        try:
            c0 = cpu_seconds()
            t0 = time.perf_counter()
            stats = crawl_sources(app, extract_workers=workers)
            dt = time.perf_counter() - t0
            cpu = cpu_seconds() - c0
        finally:
            app.close()
    return {"workers": workers, "pages": stats.fetched, "articles": stats.articles_new, "errors": stats.errors,
            "seconds": round(dt, 2), "pages_per_s": round(stats.fetched / dt, 1),
            # the crawler and its extraction processes; not the site server, which runs on to the end
            "cpu_ms_per_page": round(cpu * 1000 / stats.fetched, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--workers", type=int, nargs="*", default=[0, 2])
    ap.add_argument("--runs", type=int, default=1, help="measure plain and each crawl this many times (best, median)")
    ap.add_argument("--no-http", action="store_true", help="skip the HTTP client comparison")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="trendreel-site-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        manifest = build_large_site(root, pages=args.pages)
        print(f"built {len(manifest.articles)} pages in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        proc, base = serve(root)
        try:
            http = None if args.no_http else asyncio.run(http_rates([base + a.path for a in manifest.articles]))
            if http:
                print(f"HTTP only, pages/s: {http}", file=sys.stderr)
            plains, ours = [], {w: [] for w in args.workers}
            for _ in range(args.runs):
                # Plain and ours alternate, so a noisy stretch of the shared machine hits both.
                plains.append(plain_rate(root, [a.path for a in manifest.articles], base))
                print(f"plain trafilatura: {plains[-1]['pages_per_s']} pages/s", file=sys.stderr)
                for w in args.workers:
                    r = crawl_rate(base, w, args.pages)
                    r["ratio"] = round(r["pages_per_s"] / plains[-1]["pages_per_s"], 3)
                    r["cpu_ratio"] = round(plains[-1]["cpu_ms_per_page"] / r["cpu_ms_per_page"], 3)
                    print(f"full crawl, workers={w}: {r['pages_per_s']} pages/s, ratio {r['ratio']}", file=sys.stderr)
                    ours[w].append(r)
        finally:
            proc.terminate()
            proc.wait(10)
    by_workers = {str(w): {"runs": rs, "ratio_best": max(r["ratio"] for r in rs),
                           "ratio_median": round(statistics.median(r["ratio"] for r in rs), 3),
                           "cpu_ratio_median": round(statistics.median(r["cpu_ratio"] for r in rs), 3)}
                  for w, rs in ours.items()}
    print(json.dumps({
        "benchmark": "crawl_throughput", "site_pages": args.pages, "cpus": os.cpu_count(),
        "plain_trafilatura": plains, "trendreel_crawl_by_workers": by_workers, "http_only_pages_per_s": http,
        "ratio_best": max(v["ratio_best"] for v in by_workers.values()),
        "ratio_median_best_workers": max(v["ratio_median"] for v in by_workers.values()),
    }, indent=2))


if __name__ == "__main__":
    main()
