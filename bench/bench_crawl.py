"""Crawl throughput: the full crawler vs plain trafilatura over the same HTML files.

Builds a local site of N article pages, serves it from a separate process on 127.0.0.1, and
measures in one run:
- plain: `trafilatura.extract(html, url=..., with_metadata=True)` over the files, one process;
- ours: `trendreel crawl` of the site's sitemap into a fresh home (fetch over HTTP, robots,
  canonicalisation, extraction, near-duplicate check, files + SQLite rows + events), with
  extraction in the crawler's process and with a pool of extraction processes.
Prints one JSON object; `ratio` = our pages/s / plain pages/s (aim: >= 0.75).

    python bench/bench_crawl.py [--pages 2000] [--workers 0 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import trafilatura

from trendreel.bootstrap import build_app
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


def plain_rate(root: Path, pages: list[str], base: str) -> dict:
    files = [(root / p.lstrip("/"), base + p) for p in pages]
    t0 = time.perf_counter()
    chars = 0
    for path, url in files:
        out = trafilatura.extract(path.read_bytes(), url=url, with_metadata=True)
        chars += len(out or "")
    dt = time.perf_counter() - t0
    return {"pages": len(files), "seconds": round(dt, 2), "pages_per_s": round(len(files) / dt, 1), "chars": chars}


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
            t0 = time.perf_counter()
            stats = crawl_sources(app, extract_workers=workers)
            dt = time.perf_counter() - t0
        finally:
            app.close()
    return {"workers": workers, "pages": stats.fetched, "articles": stats.articles_new, "errors": stats.errors,
            "seconds": round(dt, 2), "pages_per_s": round(stats.fetched / dt, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--workers", type=int, nargs="*", default=[0, 2])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="trendreel-site-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        manifest = build_large_site(root, pages=args.pages)
        print(f"built {len(manifest.articles)} pages in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        proc, base = serve(root)
        try:
            plain = plain_rate(root, [a.path for a in manifest.articles], base)
            print(f"plain trafilatura: {plain['pages_per_s']} pages/s", file=sys.stderr)
            ours = []
            for w in args.workers:
                r = crawl_rate(base, w, args.pages)
                print(f"full crawl, workers={w}: {r['pages_per_s']} pages/s", file=sys.stderr)
                ours.append(r)
        finally:
            proc.terminate()
            proc.wait(10)
    best = max(ours, key=lambda r: r["pages_per_s"])
    print(json.dumps({
        "benchmark": "crawl_throughput", "site_pages": args.pages, "cpus": os.cpu_count(),
        "plain_trafilatura": plain, "trendreel_crawl": ours,
        "ratio_best": round(best["pages_per_s"] / plain["pages_per_s"], 3),
        "ratio_in_process": round(next((r["pages_per_s"] for r in ours if r["workers"] == 0), 0) / plain["pages_per_s"], 3),
    }, indent=2))


if __name__ == "__main__":
    main()
