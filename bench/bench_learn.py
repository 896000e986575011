"""Views forecasting benchmark: trendreel.learn's models beside the plain baselines on real trending
histories, cross-validated inside the training period and scored once on the held-out period; and a
scale check at 100,000 histories.

Data: the popularity-dev release (1,736 YouTube UK trending histories, Sep-Oct 2017; read its
README.md), split by each history's first sample: before --split (2017-10-03) is training (990),
on or after is test (746).

Tasks (trendreel.learn.evaluate):
- A, from early samples: histories with a sample >= 2 days after the first; from the first sample,
  the views of the last one. Ours: `Forecaster`; baseline: log-linear growth (Szabo & Huberman).
- B, from metadata alone: ours `ColdStartModel` (text embedder --embedder, usem by default);
  baseline: the channel's mean, else the category's. `task_b` scores the first sample's views, as the
  README's baseline does (0.377 / 0.517); `task_b_last` the last sample's.

(a) Cross-validation: 5 folds INSIDE the training part, each a contiguous block of first-sample days
(`time_folds`): a validation block is a stretch of time, like the held-out test, and channels fall on
both sides as they do between train and test (grouping by channel would make the channel's record,
the strongest cold-start signal, useless in validation, unlike in the test). The features and
settings of the models were chosen on these folds only. Scores are pooled over the folds' videos;
per-fold figures come with them.
(b) Held-out: fitted on all training histories, scored once on the test part. `heldout_strict`
repeats it with training histories cut at the split (no training sample on or after it: the README's
protocol lets a training video's later samples run into the test period, for the baseline too).

Each block gives, for our model and the baseline from the same run: n, mse_log10, spearman and
mse_ratio (ours / baseline); and fit and predict seconds (cold start: embedding seconds apart).

(c) Scale: --scale-histories (100,000) histories resampled from the dev data (new ids, counts
scaled, channels split into look-alikes), each model fitted on them, and --scale-forecast (10,000)
others forecast. The cold-start model embeds through a cache keyed by the text's hash: resampled
texts repeat, so embedding is timed apart, with the embedder's throughput on distinct texts to say
what 100,000 distinct texts would cost.

Prints one JSON object; progress goes to stderr.

    python bench/bench_learn.py [--data FILE] [--split 2017-10-03] [--folds 5] [--embedder usem]
                                [--scale-histories 100000] [--scale-forecast 10000] [--skip-scale]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "popularity-dev" / "youtube-trending-gb-2017.jsonl"

from trendreel.index.embedders import load_text_embedder  # noqa: E402
from trendreel.learn.baselines import AccountMean, LogLinearGrowth  # noqa: E402
from trendreel.learn.evaluate import (  # noqa: E402
    cold_start_cases,
    early_cases,
    score,
    split_by_time,
    time_folds,
    truths,
)
from trendreel.learn.features import text_of  # noqa: E402
from trendreel.learn.history import History, read_jsonl  # noqa: E402
from trendreel.learn.models import ColdStartModel, EmbeddingCache, Forecaster  # noqa: E402
from trendreel.learn.synthetic import resample_histories  # noqa: E402


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def load(path: Path) -> tuple[list[History], list[str]]:
    histories, bad = [], []
    for n, item in read_jsonl(path):
        if isinstance(item, str):
            bad.append(f"line {n}: {item}")
        else:
            histories.append(item)
    return histories, bad


def timed(fn, *args):
    started = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - started


# ---- one task: fit ours and the baseline, predict, score ---------------------------------------------


def run_task(task: str, train: list[History], test: list[History], cache: EmbeddingCache) -> dict:
    """Truths and both systems' predictions for `test`, and our fit/predict seconds."""
    if task == "a":
        cases = early_cases(test)
        seen, at = [c.seen for c in cases], [c.at for c in cases]
        ours, fit_s = timed(Forecaster().fit, train)
        base = LogLinearGrowth().fit(train)
    else:
        target = "first" if task == "b" else "last"
        cases = cold_start_cases(test, target)
        seen, at = [c.seen for c in cases], None
        ours, fit_s = timed(ColdStartModel(cache.embedder, target=target, cache=cache).fit, train)
        base = AccountMean(target).fit(train)
    predicted, predict_s = timed(ours.predict_log10, seen, at)
    return {"truth": truths(cases), "ours": predicted, "baseline": base.predict_log10(seen, at),
            "fit_s": fit_s, "predict_s": predict_s, "model": ours, "seen": seen, "at": at}


def figures(truth, ours, baseline) -> dict:
    mine, theirs = score(truth, ours), score(truth, baseline)
    return {"ours": mine, "baseline": theirs,
            "mse_ratio": round(mine["mse_log10"] / theirs["mse_log10"], 3) if theirs["mse_log10"] else None}


def cross_validate(task: str, train: list[History], folds, cache: EmbeddingCache) -> dict:
    pooled = {"truth": [], "ours": [], "baseline": []}
    per_fold, fit_s, predict_s, last = [], 0.0, 0.0, None
    for k, (fit_idx, val_idx) in enumerate(folds):
        run = run_task(task, [train[i] for i in fit_idx], [train[i] for i in val_idx], cache)
        for key in pooled:
            pooled[key] += list(run[key])
        per_fold.append({"fold": k + 1, **figures(run["truth"], run["ours"], run["baseline"])})
        fit_s += run["fit_s"]
        predict_s += run["predict_s"]
        last = run
    out = figures(pooled["truth"], pooled["ours"], pooled["baseline"])
    out.update({"per_fold": per_fold, "fit_s_mean": round(fit_s / len(folds), 3),
                "predict_s_mean": round(predict_s / len(folds), 4)})
    # Feature effects and importance from the last fold's model on its own validation block (training
    # period only; the held-out part is not used to describe the models).
    desc = last["model"].describe(last["seen"], last["at"], last["truth"])
    out["model"] = {k: v for k, v in desc.items() if k not in ("effects", "permutation_importance", "growth_by_day")}
    out["model"]["effects_top"] = desc["effects"][:8]
    out["model"]["permutation_importance_top"] = desc["permutation_importance"][:8]
    return out


def held_out(task: str, train: list[History], test: list[History], cache: EmbeddingCache) -> dict:
    before = cache.seconds
    run = run_task(task, train, test, cache)
    out = figures(run["truth"], run["ours"], run["baseline"])
    out.update({"fit_s": round(run["fit_s"], 3), "predict_s": round(run["predict_s"], 4)})
    if task != "a":
        out["embed_s_in_fit_and_predict"] = round(cache.seconds - before, 3)
    return out


def targets(result: dict) -> dict:
    a, b = result["task_a"], result["task_b"]
    return {
        "task_a_mse_at_most_0.9x_baseline": a["mse_ratio"] <= 0.9,
        "task_a_spearman_at_least_baseline": a["ours"]["spearman"] >= a["baseline"]["spearman"],
        "task_b_mse_below_baseline": b["ours"]["mse_log10"] < b["baseline"]["mse_log10"],
        "task_b_spearman_above_baseline": b["ours"]["spearman"] > b["baseline"]["spearman"],
    }


def example(train: list[History], test: list[History], raw_lines: dict[str, str]) -> dict:
    """One test line and what each model says of it (for docs/learning.md)."""
    case = next(c for c in early_cases(test) if 4 <= (c.at - c.seen.first.at).days <= 6)
    forecaster = Forecaster().fit(train)
    first = case.seen.first
    return {"line": json.loads(raw_lines[case.source.id]),
            "first_sample": {"at": first.at.isoformat(), "views": first.views},
            "asked_at": case.at.isoformat(),
            "forecast_views": int(round(float(forecaster.predict([case.seen], [case.at])[0]))),
            "baseline_views": int(round(float(LogLinearGrowth().fit(train).predict([case.seen], [case.at])[0]))),
            "true_views": case.source.last.views}


# ---- scale -----------------------------------------------------------------------------------------


def scale_check(histories: list[History], n_fit: int, n_forecast: int, embedder) -> dict:
    log(f"scale: resampling {n_fit} + {n_forecast} histories")
    fit_set = resample_histories(histories, n_fit, seed=1)
    ask = early_cases(resample_histories(histories, n_forecast * 2, seed=2))[:n_forecast]
    seen, at = [c.seen for c in ask], [c.at for c in ask]
    out = {"fit_histories": n_fit, "forecast_histories": len(ask), "source": "resampled from the dev data"}
    log("scale: forecaster")
    model, fit_s = timed(Forecaster().fit, fit_set)
    pred, predict_s = timed(model.predict_log10, seen, at)
    out["forecaster"] = {"fit_s": round(fit_s, 2), "predict_s": round(predict_s, 2), "finite": bool(np.isfinite(pred).all()),
                         "alpha_chosen": model.alpha_chosen, "bytes": len(model.to_bytes())}
    log("scale: cold start")
    cache = EmbeddingCache(embedder)
    distinct = list({text_of(h): None for h in fit_set + [c.source for c in ask]})
    _, embed_s = timed(cache.vectors, distinct)
    cold, fit_s = timed(ColdStartModel(embedder, cache=cache).fit, fit_set)
    pred, predict_s = timed(cold.predict_log10, [c.source for c in ask])
    out["cold_start"] = {"embedder": cache.name, "distinct_texts": len(distinct), "embed_s": round(embed_s, 2),
                         "embed_texts_per_s": round(len(distinct) / embed_s, 1) if embed_s else None,
                         "embed_s_for_100k_distinct_texts_est": round(100_000 * embed_s / len(distinct), 0) if distinct else None,
                         "fit_s_cached_embeddings": round(fit_s, 2), "predict_s_cached_embeddings": round(predict_s, 2),
                         "finite": bool(np.isfinite(pred).all()), "alpha_chosen": cold.alpha_chosen,
                         "bytes": len(cold.to_bytes())}
    out["aims"] = {"fit_at_most_60_s": out["forecaster"]["fit_s"] <= 60 and out["cold_start"]["fit_s_cached_embeddings"] <= 60,
                   "forecast_at_most_5_s": out["forecaster"]["predict_s"] <= 5 and out["cold_start"]["predict_s_cached_embeddings"] <= 5}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the popularity-dev JSON Lines file")
    ap.add_argument("--split", default="2017-10-03", help="first-sample date that starts the test part (UTC)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--embedder", default="usem", help="text embedder of the cold-start model (hash: fast, no model)")
    ap.add_argument("--scale-histories", type=int, default=100_000)
    ap.add_argument("--scale-forecast", type=int, default=10_000)
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument("--skip-heldout", action="store_true", help="cross-validation only (while choosing features)")
    args = ap.parse_args()

    split_at = datetime.fromisoformat(args.split).replace(tzinfo=timezone.utc)
    histories, bad = load(args.data)
    raw_lines = {json.loads(line)["id"]: line for line in args.data.read_text(encoding="utf-8").splitlines() if line.strip()}
    train, test = split_by_time(histories, split_at)
    embedder = load_text_embedder(args.embedder)
    cache = EmbeddingCache(embedder)
    result = {"data": {"file": args.data.name, "histories": len(histories), "bad_lines": bad[:10], "split_at": split_at.isoformat(),
                       "train": len(train), "test": len(test)},
              "embedder": {"name": cache.name, "dim": cache.dim}}

    folds = time_folds(train, args.folds)
    result["cv"] = {"folds": "contiguous blocks of first-sample days inside the training part",
                    "fold_days": [[str(min(train[i].first.at.date() for i in v)), str(max(train[i].first.at.date() for i in v))] for _, v in folds],
                    "fold_sizes": [len(v) for _, v in folds]}
    for task, name in (("a", "task_a"), ("b", "task_b"), ("b_last", "task_b_last")):
        log(f"cross-validation: {name}")
        result["cv"][name] = cross_validate(task, train, folds, cache)
    result["cv"]["targets"] = targets(result["cv"])

    if args.skip_heldout:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    result["heldout"] = {}
    for task, name in (("a", "task_a"), ("b", "task_b"), ("b_last", "task_b_last")):
        log(f"held-out: {name}")
        result["heldout"][name] = held_out(task, train, test, cache)
    result["heldout"]["targets"] = targets(result["heldout"])

    # Training histories cut before the split: no training sample from the test period (each keeps its
    # first sample, which is before the split by definition).
    cut = [History(h.id, tuple(s for s in h.samples if s.at < split_at), h.platform, h.account, h.title, h.category,
                   h.tags, h.language, h.published_at, h.extra) for h in train]
    result["heldout_strict"] = {"training_samples_dropped": sum(len(a.samples) - len(b.samples) for a, b in zip(train, cut))}
    for task, name in (("a", "task_a"), ("b", "task_b"), ("b_last", "task_b_last")):
        log(f"held-out, strict: {name}")
        result["heldout_strict"][name] = held_out(task, cut, test, cache)

    result["embedding"] = {"distinct_texts_embedded": cache.embedded, "embed_s_total": round(cache.seconds, 2)}
    result["example"] = example(train, test, raw_lines)
    if not args.skip_scale:
        result["scale"] = scale_check(histories, args.scale_histories, args.scale_forecast, embedder)
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
