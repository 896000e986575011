"""Do trends find real events? Trend detection against plain clustering on a real news-desk stream.

Data: bench/data/reportedly-2015/posts.jsonl — 2,931 public posts of the Reportedly news desk
(Aug-Sep 2015: short, lower-case, hashtags, no headline), each labelled with the story thread
(event) it belongs to; 514 events of 1 to 40+ posts that run for hours to days, many at once.
Nothing here was written for trendreel, and the grouping is the desk's own.

Split by time: August is the development half (every parameter of trendreel was chosen on it),
September is held out (scored once parameters are fixed; never tuned on). Each half is scored on
the events with at least --min-event posts in that half.

Both systems see the same usem vectors (the index stage's default text embedder) of the same posts:

- ours: trend detection run the way a user runs it from cron: once a day, `until` = the end of
  that day, over the last 30 days (trends.core.detect with the settings' parameters), every run's
  trends stored by id in one store (identity.continued_ids decides which stored trend a detected
  one continues, as the stage does). Every stored trend is judged at the end, with the evidence of
  the last run that saw it.
- baseline: plain agglomerative clustering per UTC day (scikit-learn, cosine, average linkage,
  distance threshold 0.6), clusters of at least 3 posts kept.

An event counts as found when one trend (cluster) has >= 50% of its items from that event and covers
>= 30% of the event's posts. Figures per system: event recall, purity (items of each trend that
belong to its majority event, over all items of all trends), trends, trends per found event, and
seconds (embedding excluded: shared).

Prints one JSON object; progress to stderr.

    python bench/bench_events.py [--split dev|heldout|both] [--min-event 5] [--set trends.cluster_similarity=0.5 ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "reportedly-2015" / "posts.jsonl"
DAY = 86400
SPLITS = {"dev": ("2015-08-01", "2015-09-01"), "heldout": ("2015-09-01", "2015-10-01")}

from trendreel.settings import TrendSettings  # noqa: E402
from trendreel.trends.core import TrendInput, detect  # noqa: E402
from trendreel.trends.identity import continued_ids  # noqa: E402
from trendreel.trends.stage import params_from_settings  # noqa: E402


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def seconds(iso: str) -> float:
    return datetime.fromisoformat(iso).replace(tzinfo=timezone.utc).timestamp()


def load_posts(path: Path) -> list[dict]:
    posts = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for p in posts:
        p["id"], p["event_id"], p["t"] = str(p["id"]), str(p["event_id"]), seconds(p["published"])
    return sorted(posts, key=lambda p: (p["t"], p["id"]))


def embed(posts: list[dict], cache: Path) -> np.ndarray:
    if cache.exists():
        vectors = np.load(cache)
        if len(vectors) == len(posts):
            return vectors
    from trendreel.index.embedders import load_text_embedder

    model = load_text_embedder("usem")
    texts = [p["content"] for p in posts]
    out = []
    for start in range(0, len(texts), 256):
        out.append(np.asarray(model.embed(texts[start : start + 256]), dtype=np.float32))
        log(f"embedded {min(start + 256, len(texts))}/{len(texts)}")
    vectors = np.concatenate(out)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, vectors)
    return vectors


# ---- the two systems ---------------------------------------------------------------------------------


def ours(posts: list[dict], vectors: np.ndarray, settings: TrendSettings, start: float, end: float) -> list[set[str]]:
    """Daily cron runs over [day end - history, day end) for each day in [start, end); the final store."""
    params = replace(params_from_settings(settings), max_trends=10_000)
    times = np.array([p["t"] for p in posts])
    ids = [p["id"] for p in posts]
    store: dict[str, set[str]] = {}
    for day_end in np.arange(start + DAY, end + 1, DAY):
        lo = int(np.searchsorted(times, day_end - settings.history_days * DAY, side="left"))
        hi = int(np.searchsorted(times, day_end, side="left"))
        if hi - lo == 0:
            continue
        data = TrendInput(ids=ids[lo:hi], times=times[lo:hi], vectors=vectors[lo:hi],
                          titles=[first_sentence(p["content"]) for p in posts[lo:hi]],
                          texts=[p["content"] for p in posts[lo:hi]], langs=["en"] * (hi - lo))
        found = detect(data, params, since=day_end - settings.history_days * DAY, until=day_end)
        detected = {t.id: {data.ids[e.index] for e in t.evidence} for t in found}
        renamed = continued_ids(detected, store)
        for tid, items in detected.items():
            store[renamed[tid]] = items
    return list(store.values())


def baseline(posts: list[dict], vectors: np.ndarray, start: float, end: float, *, threshold: float = 0.6,
             min_size: int = 3) -> list[set[str]]:
    from sklearn.cluster import AgglomerativeClustering

    clusters: list[set[str]] = []
    by_day: dict[int, list[int]] = defaultdict(list)
    for i, p in enumerate(posts):
        if start <= p["t"] < end:
            by_day[int(p["t"] // DAY)].append(i)
    for _day, rows in sorted(by_day.items()):
        if len(rows) < 2:
            continue
        labels = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                         distance_threshold=threshold).fit_predict(vectors[rows])
        for label, n in Counter(labels).items():
            if n >= min_size:
                clusters.append({posts[rows[k]]["id"] for k in range(len(rows)) if labels[k] == label})
    return clusters


def first_sentence(text: str) -> str:
    words = text.split()
    return " ".join(words[:12])


# ---- judging -----------------------------------------------------------------------------------------


def judge(groups: list[set[str]], posts: list[dict], start: float, end: float, min_event: int) -> dict:
    event_of = {p["id"]: p["event_id"] for p in posts}
    events: dict[str, set[str]] = defaultdict(set)
    for p in posts:
        if start <= p["t"] < end:
            events[p["event_id"]].add(p["id"])
    eligible = {e: items for e, items in events.items() if len(items) >= min_event}
    in_range = set().union(*events.values()) if events else set()
    groups = [g & in_range for g in groups]
    groups = [g for g in groups if g]
    found: dict[str, int] = Counter()
    majority_items = total_items = 0
    for g in groups:
        counts = Counter(event_of[i] for i in g)
        top_event, top = counts.most_common(1)[0]
        majority_items += top
        total_items += len(g)
        for event, n in counts.items():
            if event in eligible and n >= 0.5 * len(g) and n >= 0.3 * len(eligible[event]):
                found[event] += 1
    sizes = Counter(len(g) for g in groups)
    return {
        "events": len(eligible), "events_found": len(found),
        "event_recall": round(len(found) / max(1, len(eligible)), 3),
        "purity": round(majority_items / max(1, total_items), 3),
        "trends": len(groups),
        "trends_per_found_event": round(sum(found.values()) / max(1, len(found)), 2),
        "trends_of_2_items": sizes.get(2, 0), "trends_of_3_items": sizes.get(3, 0),
    }


def run_split(name: str, posts, vectors, settings, min_event: int) -> dict:
    start, end = (seconds(SPLITS[name][0] + " 00:00:00"), seconds(SPLITS[name][1] + " 00:00:00"))
    n = sum(1 for p in posts if start <= p["t"] < end)
    log(f"{name}: {n} posts")
    t0 = time.perf_counter()
    mine = ours(posts, vectors, settings, start, end)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    plain = baseline(posts, vectors, start, end)
    t_plain = time.perf_counter() - t0
    return {"posts": n,
            "ours": {**judge(mine, posts, start, end, min_event), "seconds": round(t_ours, 2)},
            "baseline_agglomerative": {**judge(plain, posts, start, end, min_event), "seconds": round(t_plain, 2)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--split", choices=["dev", "heldout", "both"], default="both")
    parser.add_argument("--min-event", type=int, default=5)
    parser.add_argument("--set", action="append", default=[], metavar="trends.NAME=VALUE",
                        help="a trend setting for this run (development split only: tune there)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "trendreel-bench-events-usem.npy",
                        help="where the posts' vectors are kept between runs")
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"no data at {args.data}: the benchmark reads bench/data/reportedly-2015/posts.jsonl")
    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key.removeprefix("trends.")] = json.loads(value)
    settings = TrendSettings(**overrides)
    posts = load_posts(args.data)
    t0 = time.perf_counter()
    vectors = embed(posts, args.cache)
    log(f"vectors: {time.perf_counter() - t0:.1f} s")
    splits = ["dev", "heldout"] if args.split == "both" else [args.split]
    out = {"data": str(args.data.relative_to(REPO_ROOT)) if args.data.is_relative_to(REPO_ROOT) else str(args.data),
           "posts": len(posts), "events": len({p["event_id"] for p in posts}), "min_event_posts": args.min_event,
           "settings": {k: getattr(settings, k) for k in ("window", "cluster_similarity", "link_similarity",
                                                          "min_items", "lookback_windows", "time_bonus", "time_scale")},
           "splits": {name: run_split(name, posts, vectors, settings, args.min_event) for name in splits}}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
