"""Cross-validate trendreel's categorizer against plain TF-IDF + linear baselines on the YNAT sample.

5-fold stratified cross-validation (shuffled, seed 0) over the 3,000 KLUE YNAT headlines; labels
are mapped to category master slugs (YNAT_TO_CATEGORY). Every system gets the same folds:

- ours: `train_categorizer` on the training folds to a temporary file, `load_categorizer` on it,
  `categorize` on the held-out fold: the public API end to end. Ablations from the same model:
  its n-gram half alone and its sentence-vector half alone.
- ours_alpha_inner_cv: the same model, but its mixing weight alpha is chosen per outer fold by
  macro-F1 of an inner cross-validation over the training folds only. The default alpha (0.7) was
  picked on the outer folds themselves; this line says what to expect when nothing is tuned on
  the headlines that are scored. Skip it with --inner-folds 0 (it trains inner-folds more models per fold).
- baseline_word_lr / baseline_word_svm: `TfidfVectorizer()` (default word tokens) + LogisticRegression / LinearSVC.
- baseline_char_svm: `TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)` + LinearSVC,
  the strongest plain baseline we know of here.

Prints one JSON object: per system macro-F1 (mean ± std over folds), accuracy, per-class F1 (pooled
over folds), predict texts/s and train seconds per fold. Progress goes to stderr.

    python bench/bench_categorize.py [--data DIR] [--folds 5] [--inner-folds 5] [--limit N] [--export PATH]

--export PATH also trains on the whole sample and writes the model file that ships with trendreel.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "ynat-sample"

from trendreel.index.categorize import YNAT_TO_CATEGORY, load_categorizer, mix_proba, train_categorizer  # noqa: E402

ALPHA_GRID = (0.5, 0.6, 0.7, 0.8, 0.9)


def load_sample(data: Path, limit: int | None) -> tuple[list[str], list[str]]:
    rows = [json.loads(line) for line in (data / "ynat_train_sample.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    if limit:
        rows = rows[:limit]
    return [r["title"] for r in rows], [YNAT_TO_CATEGORY[r["label_en"]] for r in rows]


def inner_cv_alpha(texts: np.ndarray, labels: np.ndarray, folds: int, tmp: Path) -> float:
    """The alpha of ALPHA_GRID with the best pooled macro-F1 over an inner cross-validation of these
    (training) headlines: the outer held-out fold is never seen."""
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    truth: list[str] = []
    guesses: dict[float, list[str]] = {a: [] for a in ALPHA_GRID}
    for k, (tr, te) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=1).split(texts, labels)):
        model = load_categorizer(model_path=train_categorizer(zip(texts[tr], labels[tr]), out=tmp / f"inner{k}.npz", source="bench inner fold"))
        held_out = list(texts[te])
        p_char, cov = model.char_proba(held_out)
        p_enc = model.encoder_proba(held_out)
        truth.extend(labels[te])
        for a in ALPHA_GRID:
            p = mix_proba(p_char, p_enc, cov, alpha=a, coverage_none=model.coverage_none, coverage_full=model.coverage_full)
            guesses[a].extend(np.array(model.classes)[p.argmax(1)])
    return max(ALPHA_GRID, key=lambda a: f1_score(truth, guesses[a], average="macro"))


def summarise(name: str, folds: list[dict], y_all: list[str], p_all: list[str]) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    f1 = [f["macro_f1"] for f in folds]
    labels = sorted(set(y_all))
    per_class = f1_score(y_all, p_all, labels=labels, average=None)
    n_pred = sum(f["n"] for f in folds)
    predict_s = sum(f["predict_s"] for f in folds)
    return {
        "macro_f1_mean": round(float(np.mean(f1)), 4),
        "macro_f1_std": round(float(np.std(f1)), 4),
        "macro_f1_folds": [round(v, 4) for v in f1],
        "accuracy": round(float(accuracy_score(y_all, p_all)), 4),
        "per_class_f1": {c: round(float(v), 4) for c, v in zip(labels, per_class)},
        "predict_texts_per_s": round(n_pred / predict_s, 1) if predict_s else None,
        "train_s_per_fold": round(float(np.mean([f["train_s"] for f in folds])), 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--inner-folds", type=int, default=5, help="inner folds to choose alpha on the training folds (0: skip)")
    ap.add_argument("--limit", type=int, default=None, help="use only the first N headlines")
    ap.add_argument("--export", type=Path, default=None, help="also train on all of the sample and save the model here")
    args = ap.parse_args()

    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import LinearSVC

    texts, labels = load_sample(args.data, args.limit)
    X = np.array(texts, dtype=object)
    y = np.array(labels)
    splits = list(StratifiedKFold(args.folds, shuffle=True, random_state=0).split(X, y))
    systems = ["ours", "ours_alpha_inner_cv", "ours_ngrams_only", "ours_sentence_vectors_only", "baseline_word_lr", "baseline_word_svm", "baseline_char_svm"]
    folds: dict[str, list[dict]] = {s: [] for s in systems}
    preds: dict[str, list[str]] = {s: [] for s in systems}
    truth: list[str] = []
    coverage: list[float] = []
    inner_alphas: list[float] = []

    def record(system: str, yt: np.ndarray, yp, train_s: float, predict_s: float) -> None:
        yp = list(yp)
        folds[system].append({"macro_f1": float(f1_score(yt, yp, average="macro")), "n": len(yt), "train_s": train_s, "predict_s": predict_s})
        preds[system].extend(yp)

    with tempfile.TemporaryDirectory() as tmp:
        for k, (tr, te) in enumerate(splits):
            print(f"fold {k + 1}/{len(splits)}", file=sys.stderr, flush=True)
            yt = y[te]
            truth.extend(yt)
            test_texts = list(X[te])

            t0 = time.perf_counter()
            path = train_categorizer(zip(X[tr], y[tr]), out=Path(tmp) / f"fold{k}.npz", source="bench fold")
            train_s = time.perf_counter() - t0
            model = load_categorizer(model_path=path)
            t0 = time.perf_counter()
            guesses = model.categorize(test_texts)
            record("ours", yt, [g.slug for g in guesses], train_s, time.perf_counter() - t0)
            classes = np.array(model.classes)
            t0 = time.perf_counter()
            p_char, cov = model.char_proba(test_texts)
            record("ours_ngrams_only", yt, classes[p_char.argmax(1)], train_s, time.perf_counter() - t0)
            coverage.extend(cov.tolist())
            t0 = time.perf_counter()
            p_enc = model.encoder_proba(test_texts)
            record("ours_sentence_vectors_only", yt, classes[p_enc.argmax(1)], train_s, time.perf_counter() - t0)
            if args.inner_folds:
                t0 = time.perf_counter()
                alpha = inner_cv_alpha(X[tr], y[tr], args.inner_folds, Path(tmp))
                inner_s = time.perf_counter() - t0
                inner_alphas.append(alpha)
                p = mix_proba(p_char, p_enc, cov, alpha=alpha, coverage_none=model.coverage_none, coverage_full=model.coverage_full)
                record("ours_alpha_inner_cv", yt, classes[p.argmax(1)], train_s + inner_s, 0.0)

            for system, vec, clf in [
                ("baseline_word_lr", TfidfVectorizer(), LogisticRegression(max_iter=3000)),
                ("baseline_word_svm", TfidfVectorizer(), LinearSVC()),
                ("baseline_char_svm", TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True), LinearSVC()),
            ]:
                t0 = time.perf_counter()
                clf.fit(vec.fit_transform(X[tr]), y[tr])
                train_s = time.perf_counter() - t0
                t0 = time.perf_counter()
                yp = clf.predict(vec.transform(X[te]))
                record(system, yt, yp, train_s, time.perf_counter() - t0)

    if not inner_alphas:
        systems.remove("ours_alpha_inner_cv")
    result = {
        "data": "KLUE YNAT v1.1 train sample (3,000 headlines, CC BY-SA 4.0)" if not args.limit else f"first {args.limit} YNAT sample headlines",
        "n": len(texts),
        "folds": len(splits),
        "cv": "StratifiedKFold(shuffle=True, random_state=0)",
        "held_out_3gram_coverage": {"mean": round(float(np.mean(coverage)), 3), "p10": round(float(np.percentile(coverage, 10)), 3), "p01": round(float(np.percentile(coverage, 1)), 3)},
        "systems": {s: summarise(s, folds[s], truth, preds[s]) for s in systems},
    }
    if inner_alphas:
        result["inner_cv"] = {"folds": args.inner_folds, "alpha_grid": list(ALPHA_GRID), "alpha_chosen_per_fold": inner_alphas}
    if args.export:
        print(f"training on all {len(texts)} headlines -> {args.export}", file=sys.stderr, flush=True)
        out = train_categorizer(zip(texts, labels), out=args.export, source="KLUE YNAT v1.1 train sample, 3,000 headlines (CC BY-SA 4.0)")
        result["exported"] = {"file": out.name, "bytes": out.stat().st_size}
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
