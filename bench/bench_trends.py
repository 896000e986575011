"""Trend detection benchmark: quality on a dated corpus with known events, and speed at 100k items.

(a) Quality. A 30-day corpus (2026-10-22 .. 2026-11-20 UTC): 3,000 KLUE YNAT Korean headlines as
background, spread evenly over the days, plus 20 known events written for this benchmark
(bench/data/trend_events.yaml: Korean and English headlines and sentences, combined at random per
item) that grow and fade over 2-6 days. Every item is embedded with the default text embedder
(`usem`) the way the index stage embeds an article. Both systems run "online": every --step-hours
they see only the items published so far and report their top --top trends:

- ours: `trendreel.trends.core.detect` with the default settings over the last 30 days;
- baseline: k-means (scikit-learn, k = round(items / 8), at least 1) over the items of the last 24
  hours, clusters of at least two items ranked by size.

A reported trend is about the event that holds most of its items (or about nothing, when most are
background headlines). Per system: event recall (events that were ever in a top list), purity (share
of a reported event trend's items that belong to its event), noise share (reported trends about no
event), and hours from an event's first item to the first top list that shows it.

(b) Speed. Detection over 100k items spread over 30 days, core only: synthetic clustered vectors
(512-d; 50% unrelated items, 40% from 3,000 steady topics, 10% from 60 topics that burst) with
synthetic titles, since embedding 100k texts is the index stage's cost, not this one's. Then the
whole stage at --stage-items: the same kind of items as article rows in SQLite and vectors in the
local vector store, through `run_detection` (load, detect, store rows and events). With
--service-db postgresql (or sqlite), the stage is timed instead as the engine's worker runs it:
`services.detect_trends` on an App over that database, items with summaries, categories and
near-duplicates, a vector store with chunk vectors too; --profile-top N adds cProfile's N most
expensive functions of its first run.

Prints one JSON object; progress goes to stderr.

    python bench/bench_trends.py [--corpus-out FILE.jsonl] [--step-hours 3] [--top 10]
                                 [--timing-items 100000] [--stage-items 100000] [--skip-quality] [--skip-timing]
                                 [--service-db postgresql] [--profile-top 30]

--corpus-out writes the quality corpus as JSON Lines that `trendreel import FILE.jsonl` takes
(fields id, url, title, text, published_at, source, lang, category, and `event`, kept as extra data).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_YNAT = REPO_ROOT.parent / "shared" / "data" / "ynat-sample" / "ynat_train_sample.jsonl"
EVENTS_FILE = Path(__file__).resolve().parent / "data" / "trend_events.yaml"

from trendreel.index.categorize import YNAT_TO_CATEGORY  # noqa: E402
from trendreel.settings import TrendSettings  # noqa: E402
from trendreel.trends.core import TrendInput, detect  # noqa: E402
from trendreel.trends.stage import params_from_settings  # noqa: E402

START = datetime(2026, 10, 22, tzinfo=timezone.utc)
DAYS = 30
KO_OUTLETS = ["한빛일보", "서울경제신문", "누리뉴스", "동해방송", "새벽신문", "한강타임스", "바른뉴스", "중앙소식"]
EN_OUTLETS = ["Korea Ledger", "Seoul Wire", "Peninsula Post", "Han River Herald"]
BASELINE_ITEMS_PER_CLUSTER = 8


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---- (a) the corpus ------------------------------------------------------------------------------


def build_corpus(ynat_path: Path, seed: int = 0) -> list[dict]:
    """Background headlines and event items, each with a time in the 30 days and its event (or None)."""
    rng = random.Random(seed)
    items = []
    for line in ynat_path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        when = START + timedelta(days=rng.randrange(DAYS), seconds=rng.randrange(86400))
        items.append({"id": row["id"], "url": f"https://news.example/ynat/{row['id']}", "title": row["title"],
                      "text": "", "published_at": when.isoformat(), "source": rng.choice(KO_OUTLETS), "lang": "ko",
                      "category": YNAT_TO_CATEGORY[row["label_en"]], "event": None})
    for event in yaml.safe_load(EVENTS_FILE.read_text(encoding="utf-8")):
        items.extend(_event_items(event, rng))
    items.sort(key=lambda it: (it["published_at"], it["id"]))
    return items


def _event_items(event: dict, rng: random.Random) -> list[dict]:
    out = []
    for day_offset, count in enumerate(event["counts"]):
        day = event["day"] + day_offset
        if day >= DAYS:
            break
        for _ in range(count):
            korean = rng.random() < event["ko_share"]
            lang = "ko" if korean else "en"
            body = event[f"{lang}_body"]
            # A third of the items are headlines only, like the background.
            text = "" if rng.random() < 1 / 3 else " ".join(rng.sample(body, k=min(2, len(body))))
            when = START + timedelta(days=day, seconds=rng.randrange(86400))
            n = len(out)
            out.append({"id": f"ev-{event['label']}-{n:03d}", "url": f"https://news.example/events/{event['label']}/{n}",
                        "title": rng.choice(event[f"{lang}_titles"]), "text": text, "published_at": when.isoformat(),
                        "source": rng.choice(KO_OUTLETS if korean else EN_OUTLETS), "lang": lang,
                        "category": event["category"], "event": event["label"]})
    return out


def embed(items: list[dict]) -> np.ndarray:
    """Article vectors as the index stage makes them: the normalised mean of the title+text chunks."""
    from trendreel.index.chunking import chunk_text
    from trendreel.index.embedders import load_text_embedder

    model = load_text_embedder("usem")
    chunks, owner = [], []
    for i, it in enumerate(items):
        parts = chunk_text(f"{it['title']}\n\n{it['text']}" if it["text"] else it["title"], max_chars=1000)
        chunks += parts
        owner += [i] * len(parts)
    vectors = np.zeros((len(items), model.dim), dtype=np.float32)
    encoded = model.embed(chunks)
    np.add.at(vectors, np.asarray(owner), encoded)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


# ---- (a) evaluation ----------------------------------------------------------------------------------


def _majority(labels: list[str | None]) -> tuple[str | None, float]:
    """The label most items carry (None = background) and its share."""
    counts = Counter(labels)
    label, count = max(counts.items(), key=lambda kv: (kv[1], kv[0] is not None, kv[0] or ""))
    return label, count / len(labels)


class Tally:
    """What one system reported over all steps."""

    def __init__(self, first_item: dict[str, float]):
        self.first_item = first_item
        self.first_shown: dict[str, float] = {}
        self.purities: list[float] = []
        self.reported = 0
        self.noise = 0
        self.seconds = 0.0

    def add(self, step_time: float, groups: list[list[str | None]]) -> None:
        for labels in groups:
            label, share = _majority(labels)
            self.reported += 1
            if label is None:
                self.noise += 1
                continue
            self.purities.append(share)
            self.first_shown.setdefault(label, step_time)

    def summary(self) -> dict:
        delays = sorted((self.first_shown[e] - t0) / 3600 for e, t0 in self.first_item.items() if e in self.first_shown)
        return {
            "event_recall": round(len(self.first_shown) / len(self.first_item), 3),
            "events_found": len(self.first_shown), "events": len(self.first_item),
            "purity_mean": round(statistics.fmean(self.purities), 3) if self.purities else None,
            "noise_share": round(self.noise / self.reported, 3) if self.reported else None,
            "hours_to_first_show": {"mean": round(statistics.fmean(delays), 1) if delays else None,
                                    "median": round(statistics.median(delays), 1) if delays else None,
                                    "max": round(max(delays), 1) if delays else None},
            "seconds_total": round(self.seconds, 2),
            "missed": sorted(set(self.first_item) - set(self.first_shown)),
        }


def evaluate(items: list[dict], vectors: np.ndarray, *, step_hours: float, top: int, settings) -> dict:
    from sklearn.cluster import KMeans

    times = np.array([datetime.fromisoformat(it["published_at"]).timestamp() for it in items])
    labels = [it["event"] for it in items]
    first_item: dict[str, float] = {}
    for t, label in zip(times, labels):
        if label is not None:
            first_item[label] = min(first_item.get(label, t), t)
    params = params_from_settings(settings)
    ours, baseline = Tally(first_item), Tally(first_item)
    step_s = step_hours * 3600
    steps = np.arange(START.timestamp() + step_s, START.timestamp() + DAYS * 86400 + 1, step_s)
    for n_step, step in enumerate(steps, start=1):
        seen = np.flatnonzero(times < step)
        t0 = time.perf_counter()
        found = detect(_subset(items, vectors, times, seen), params, since=step - DAYS * 86400, until=step)[:top]
        ours.seconds += time.perf_counter() - t0
        ours.add(step, [[labels[seen[e.index]] for e in t.evidence] for t in found])

        recent = np.flatnonzero((times >= step - 86400) & (times < step))
        t0 = time.perf_counter()
        groups = []
        if len(recent) >= 2:
            k = max(1, round(len(recent) / BASELINE_ITEMS_PER_CLUSTER))
            assigned = KMeans(n_clusters=k, n_init=4, random_state=0).fit_predict(vectors[recent])
            sizes = Counter(assigned.tolist())
            ranked = [c for c, size in sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0])) if size >= 2][:top]
            groups = [[labels[recent[i]] for i in np.flatnonzero(assigned == c)] for c in ranked]
        baseline.seconds += time.perf_counter() - t0
        baseline.add(step, groups)
        if n_step % 40 == 0:
            log(f"  step {n_step}/{len(steps)}")
    # The whole corpus at once, every trend kept (not only the best max_trends): how each event came out.
    final = detect(_subset(items, vectors, times, np.arange(len(items))), replace(params, max_trends=100_000),
                   since=START.timestamp(), until=START.timestamp() + DAYS * 86400)
    return {"ours": ours.summary(), "baseline_daily_kmeans": baseline.summary(),
            "final_run": _final_run(final, labels, first_item)}


def _subset(items: list[dict], vectors: np.ndarray, times: np.ndarray, rows: np.ndarray) -> TrendInput:
    return TrendInput(ids=[items[i]["id"] for i in rows], times=times[rows], vectors=vectors[rows],
                      titles=[items[i]["title"] for i in rows], texts=[items[i]["text"] for i in rows],
                      sources=[items[i]["source"] for i in rows], langs=[items[i]["lang"] for i in rows],
                      categories=[items[i]["category"] for i in rows])


def _final_run(trends, labels: list[str | None], first_item: dict[str, float]) -> dict:
    """The detection over the whole corpus: how the events came out, with their trend texts."""
    event_size = Counter(label for label in labels if label is not None)
    best: dict[str, dict] = {}
    for rank, t in enumerate(trends, start=1):
        label, share = _majority([labels[e.index] for e in t.evidence])
        if label is None or label in best:
            continue
        mine = sum(1 for e in t.evidence if labels[e.index] == label)
        best[label] = {"rank": rank, "text": t.text, "lang": t.lang, "category": t.category, "items": t.item_count,
                       "purity": round(share, 3), "event_items_covered": round(mine / event_size[label], 3),
                       "windows": len(t.history)}
    found = list(best.values())
    return {"trends": len(trends), "events_found": len(best), "events": len(first_item),
            "mean_purity_of_event_trends": round(statistics.fmean(b["purity"] for b in found), 3) if found else None,
            "mean_share_of_event_items_in_its_trend": round(statistics.fmean(b["event_items_covered"] for b in found), 3)
            if found else None,
            "by_event": dict(sorted(best.items()))}


# ---- (b) speed ---------------------------------------------------------------------------------------


def synthetic_items(n: int, *, seed: int = 0, dim: int = 512) -> TrendInput:
    """n items over 30 days: unrelated ones, steady topics and bursting topics (see the docstring)."""
    rng = np.random.default_rng(seed)
    n_steady, n_burst = 3000, 60
    kinds = rng.choice(3, size=n, p=[0.5, 0.4, 0.1])
    span = DAYS * 86400
    times = START.timestamp() + rng.uniform(0, span, size=n)
    topic = np.full(n, -1)
    steady = np.flatnonzero(kinds == 1)
    topic[steady] = rng.integers(0, n_steady, size=len(steady))
    burst = np.flatnonzero(kinds == 2)
    topic[burst] = n_steady + rng.integers(0, n_burst, size=len(burst))
    peaks = rng.uniform(0.1 * span, span, size=n_burst)
    times[burst] = START.timestamp() + np.clip(peaks[topic[burst] - n_steady] + rng.normal(0, 1.5 * 86400, len(burst)),
                                               0, span - 1)
    centres = rng.standard_normal((n_steady + n_burst, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    noise = rng.standard_normal((n, dim)).astype(np.float32)
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    vectors = noise.copy()
    on_topic = topic >= 0
    # Same-topic items end up with cosine similarity about 0.6, like news about one story.
    vectors[on_topic] = centres[topic[on_topic]] + 0.8 * noise[on_topic]
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vocab = [f"w{i:04d}" for i in range(5000)]
    words = rng.integers(0, len(vocab), size=(n, 6))
    titles = [" ".join(([f"t{topic[i]}a t{topic[i]}b"] if topic[i] >= 0 else []) + [vocab[w] for w in words[i]])
              for i in range(n)]
    langs = rng.choice(["ko", "en"], size=n, p=[0.7, 0.3]).tolist()
    sources = [f"outlet-{k}" for k in rng.integers(0, 50, size=n)]
    return TrendInput(ids=[f"s{i:07d}" for i in range(n)], times=times, vectors=vectors, titles=titles,
                      sources=sources, langs=langs)


def time_core(n: int, settings) -> dict:
    data = synthetic_items(n)
    params = params_from_settings(settings)
    windows_done = []
    t0 = time.perf_counter()
    trends = detect(data, params, since=START.timestamp(), until=START.timestamp() + DAYS * 86400,
                    on_window=lambda done, total: windows_done.append(time.perf_counter()))
    total = time.perf_counter() - t0
    grouping = windows_done[-1] - t0
    # The plain tool on the same vectors: agglomerative clustering per day (bench_events.py's baseline).
    from bench_events import baseline

    posts = [{"id": i, "t": float(t)} for i, t in zip(data.ids, data.times)]
    t0 = time.perf_counter()
    clusters = baseline(posts, data.vectors, float(data.times.min()), float(data.times.max()) + 1)
    plain = time.perf_counter() - t0
    return {"items": n, "days": DAYS, "window": "24h", "synthetic_vectors": True,
            "seconds": round(total, 2), "seconds_grouping_and_linking": round(grouping, 2),
            "items_per_second": round(n / total), "trends": len(trends),
            "largest_window_items": int(np.bincount((data.times // 86400).astype(int)).max()),
            "baseline_daily_agglomerative": {"seconds": round(plain, 2), "clusters": len(clusters)}}


def time_stage(n: int, settings) -> dict:
    """The whole stage on n synthetic items stored as article rows and local-store vectors."""
    from trendreel.db.engine import Database
    from trendreel.index.vectors import VectorRecord, open_vector_store
    from trendreel.trends.stage import run_detection

    data = synthetic_items(n, seed=1)
    with tempfile.TemporaryDirectory(prefix="trendreel-bench-trends-") as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        store = open_vector_store(f"local://{Path(tmp) / 'vectors'}", dim=data.vectors.shape[1])
        t0 = time.perf_counter()
        _store_items(db, store, data, VectorRecord)
        load_s = time.perf_counter() - t0
        steps: dict[str, float] = {}  # when each step reported first
        t0 = time.perf_counter()
        run = run_detection(db=db, vectors=store, settings=settings, embedder="synthetic",
                            on_progress=lambda step, done, total: steps.setdefault(step, time.perf_counter()))
        t1 = time.perf_counter()
        again = run_detection(db=db, vectors=store, settings=settings, embedder="synthetic")
        rerun = time.perf_counter() - t1
        store.close()
        db.dispose()
    return {"items": n, "days": DAYS, "store": "sqlite + local vector store", "synthetic_vectors": True,
            "seconds_to_store_the_items_first": round(load_s, 1),
            "seconds": round(t1 - t0, 2),
            "seconds_reading_items_and_vectors": round(steps["windows"] - t0, 2),
            "seconds_detecting": round(steps.get("saving", t1) - steps["windows"], 2),
            "seconds_saving_trends": round(t1 - steps["saving"], 2) if "saving" in steps else 0.0,
            "seconds_second_run_same_input": round(rerun, 2), "trends": len(run.trends),
            "same_trend_ids_on_second_run": [t.id for t in run.trends] == [t.id for t in again.trends]}


def _store_items(db, store, data: TrendInput, VectorRecord) -> None:
    from sqlalchemy import insert

    from trendreel.db.tables import Article
    from trendreel.trends.windows import to_datetime

    rows, records = [], []
    for i, aid in enumerate(data.ids):
        when = to_datetime(data.times[i])
        rows.append({"id": aid, "url": f"https://bench.example/{aid}", "canonical_url": f"https://bench.example/{aid}",
                     "title": data.titles[i], "lang": data.langs[i], "sitename": data.sources[i], "published_at": when,
                     "content_hash": aid, "minhash": "0" * 512, "text_chars": 0, "crawled_at": when, "updated_at": when,
                     "key_data": {}})
        records.append(VectorRecord(id=f"{aid}:article", vector=data.vectors[i], kind="article", article_id=aid,
                                    published_at=when, lang=data.langs[i]))
    with db.session() as s:
        for start in range(0, len(rows), 5000):
            s.execute(insert(Article), rows[start : start + 5000])
    for start in range(0, len(records), 5000):
        store.upsert(records[start : start + 5000])


def time_service_stage(n: int, database: str, *, profile_top: int = 0) -> dict:
    """The stage as the engine's worker runs it: `services.detect_trends` on an App over `database`
    ("postgresql" or "sqlite") and a local vector store holding, like an indexed deployment, chunk
    vectors (two per article) beside the article vectors; items carry categories and summaries, and 5% of
    the rows are near-duplicates of others. With `profile_top`, the first run is run under cProfile
    and its most expensive functions (cumulative time) are returned too."""
    import cProfile
    import pstats

    from bench_engine import database_url, drop_schema

    from trendreel import services
    from trendreel.bootstrap import build_app
    from trendreel.index.vectors import VectorRecord
    from trendreel.settings import Settings

    data = synthetic_items(n, seed=1)
    with tempfile.TemporaryDirectory(prefix="trendreel-bench-trends-") as tmp:
        url, schema = database_url(f"bench_trends_{os.getpid()}") if database == "postgresql" else ("", None)
        if database == "postgresql" and not schema:
            sys.exit("no PostgreSQL reachable (set TRENDREEL_TEST_PG_URL)")
        app = build_app(Settings(home=Path(tmp), database_url=url, index={"speech_model": "none"}))
        try:
            t0 = time.perf_counter()
            _store_service_items(app, data, VectorRecord)
            load_s = time.perf_counter() - t0
            app.vectors()  # a warm worker has its store and text model open
            profiler = cProfile.Profile() if profile_top else None
            t0, cpu0 = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
            trends = services.detect_trends(app)
            if profiler:
                profiler.disable()
            first, first_cpu = time.perf_counter() - t0, time.process_time() - cpu0
            t0 = time.perf_counter()
            again = services.detect_trends(app)
            rerun = time.perf_counter() - t0
        finally:
            app.close()
            drop_schema(schema)
    out = {"items": n, "days": DAYS, "database": database, "path": "services.detect_trends (the engine's trends stage)",
           "synthetic_vectors": True, "seconds_to_store_the_items_first": round(load_s, 1),
           "seconds": round(first, 2), "cpu_seconds_of_this_process": round(first_cpu, 2),
           "profiled": bool(profile_top), "seconds_second_run_same_input": round(rerun, 2), "trends": len(trends),
           "same_trend_ids_on_second_run": [t["id"] for t in trends] == [t["id"] for t in again]}
    if profiler:
        stats = pstats.Stats(profiler)
        rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][3])[:profile_top]
        out["profile_cumulative_s"] = [{"function": f"{Path(f).name}:{line} {name}", "calls": calls,
                                        "seconds": round(cum, 2)} for (f, line, name), (_cc, calls, _tt, cum, _) in rows]
    return out


def _store_service_items(app, data: TrendInput, VectorRecord) -> None:
    from sqlalchemy import insert, select

    from trendreel.db.tables import Article, Category
    from trendreel.trends.windows import to_datetime

    with app.db.session() as s:
        categories = list(s.scalars(select(Category.slug)))
        category_ids = dict(s.execute(select(Category.slug, Category.id)).all())
    store = app.vectors()
    rows, records = [], []
    chunk = np.random.default_rng(2).standard_normal((2, data.vectors.shape[1])).astype(np.float32)
    for i, aid in enumerate(data.ids):
        when = to_datetime(data.times[i])
        rows.append({"id": aid, "url": f"https://bench.example/{aid}", "canonical_url": f"https://bench.example/{aid}",
                     "title": data.titles[i], "lang": data.langs[i], "sitename": data.sources[i], "published_at": when,
                     "summary": (data.titles[i] + ". ") * 8, "category_id": category_ids[categories[i % len(categories)]],
                     "content_hash": aid, "minhash": "0" * 512, "text_chars": 3000, "crawled_at": when, "updated_at": when,
                     "key_data": {}, "duplicate_of": data.ids[i - 1] if i % 20 == 19 else None})
        records.append(VectorRecord(id=f"{aid}:article", vector=data.vectors[i], kind="article", article_id=aid,
                                    published_at=when, lang=data.langs[i]))
        records += [VectorRecord(id=f"{aid}:chunk:{k}", vector=chunk[k], kind="chunk", article_id=aid,
                                 published_at=when, lang=data.langs[i]) for k in range(2)]
    with app.db.session() as s:
        for start in range(0, len(rows), 5000):
            s.execute(insert(Article), rows[start : start + 5000])
    for start in range(0, len(records), 20000):
        store.upsert(records[start : start + 20000])


# ---- main ----------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ynat", type=Path, default=DEFAULT_YNAT, help="KLUE YNAT sample (JSON Lines)")
    ap.add_argument("--corpus-out", type=Path, help="also write the quality corpus here (JSON Lines for `trendreel import`)")
    ap.add_argument("--step-hours", type=float, default=3.0)
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--timing-items", type=int, default=100_000)
    ap.add_argument("--stage-items", type=int, default=100_000)
    ap.add_argument("--service-db", choices=["postgresql", "sqlite"],
                    help="time the stage as the engine runs it (services.detect_trends) on this database instead")
    ap.add_argument("--profile-top", type=int, default=0, help="with --service-db: cProfile's N most expensive functions")
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--skip-timing", action="store_true")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="a trends setting other than its default, e.g. --set link_similarity=0.5 (repeatable)")
    args = ap.parse_args()
    settings = TrendSettings(**dict(kv.split("=", 1) for kv in args.set))
    out: dict = {"machine": {"cpus": os.cpu_count()}, "trend_settings": settings.model_dump()}
    if not args.skip_quality:
        items = build_corpus(args.ynat)
        if args.corpus_out:
            with open(args.corpus_out, "w", encoding="utf-8") as fh:
                for it in items:
                    fh.write(json.dumps(it, ensure_ascii=False) + "\n")
        log(f"quality: embedding {len(items)} items")
        t0 = time.perf_counter()
        vectors = embed(items)
        log(f"  embedded in {time.perf_counter() - t0:.0f} s; evaluating every {args.step_hours} h")
        out["quality"] = {"items": len(items), "event_items": sum(1 for it in items if it["event"]),
                          "background_items": sum(1 for it in items if not it["event"]),
                          "step_hours": args.step_hours, "top": args.top,
                          **evaluate(items, vectors, step_hours=args.step_hours, top=args.top, settings=settings)}
    if not args.skip_timing:
        if args.timing_items:
            log(f"speed: core on {args.timing_items} synthetic items")
            out["speed_core"] = time_core(args.timing_items, settings)
        if args.stage_items and args.service_db:
            log(f"speed: the engine's stage on {args.stage_items} synthetic items on {args.service_db}")
            out["speed_service_stage"] = time_service_stage(args.stage_items, args.service_db,
                                                            profile_top=args.profile_top)
        elif args.stage_items:
            log(f"speed: stage on {args.stage_items} synthetic items")
            out["speed_stage"] = time_stage(args.stage_items, settings)
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
