"""Measure trendreel's categorizer on KLUE YNAT: cross-validation and a fixed held-out split, apart.

The 3,000-headline YNAT sample is split once, stratified by label: 20% (600 headlines,
`train_test_split(test_size=0.2, stratify=labels, random_state=HOLDOUT_SEED)`) is the held-out
split, never used to choose anything; the other 80% (2,400) is the development split. The
labelled supplement (bench/data/categorizer_supplement.jsonl: entertainment, culture and a few
life headlines, which YNAT lacks) is split the same way (20% held out, stratified by category).

1. Cross-validation on the development split only (5 folds, stratified, shuffled, seed 0): what
   settings are chosen on. Every fold trains `ours` with `train_categorizer` on the training folds
   plus the supplement's training part, loads it with `load_categorizer` and scores `categorize`
   on the fold's YNAT headlines; the halves alone, the same model without the supplement and the
   plain baselines (trained on the same YNAT folds) are scored on the same folds.
2. Held-out: every system is trained on the whole development split (ours: plus the supplement's
   training part) and scored once on the 600 held-out headlines. This `ours` model is the one that
   ships (`--export PATH` writes it), so the held-out figure is about the shipped model. Its
   entertainment / culture / life F1 on the supplement's held-out part is reported apart (the
   supplement is hand-written, not public data).
3. The bundled demo site's 30 articles: the shipped model's category for each, beside the site's.

YNAT macro-F1 is the mean F1 over YNAT's seven categories; a headline filed as entertainment or
culture counts as a miss for its YNAT category. Prints one JSON object; progress goes to stderr.

    python bench/bench_categorize.py [--data DIR] [--supplement FILE] [--folds 5] [--limit N] [--export PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "ynat-sample"
DEFAULT_SUPPLEMENT = REPO_ROOT / "bench" / "data" / "categorizer_supplement.jsonl"
HOLDOUT_SEED = 20261207
HOLDOUT_SHARE = 0.2
HANGUL = re.compile("[\uac00-\ud7a3]")

from trendreel.index.categorize import YNAT_TO_CATEGORY, load_categorizer, read_examples, train_categorizer  # noqa: E402

YNAT_CLASSES = sorted(set(YNAT_TO_CATEGORY.values()))
SHIPPED_SOURCE = (
    "KLUE YNAT v1.1 train sample: the 2,400-headline development split (CC BY-SA 4.0), "
    "plus the training part of trendreel's hand-written entertainment/culture/life supplement"
)


def load_sample(data: Path, limit: int | None) -> tuple[list[str], list[str], list[str]]:
    rows = [json.loads(line) for line in (data / "ynat_train_sample.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    if limit:
        rows = rows[:limit]
    return [r["id"] for r in rows], [r["title"] for r in rows], [YNAT_TO_CATEGORY[r["label_en"]] for r in rows]


def holdout_split(ids: list[str], labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the development (80%) and held-out (20%) splits: fixed, stratified, seeded."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(ids))
    dev, held = train_test_split(idx, test_size=HOLDOUT_SHARE, stratify=labels, random_state=HOLDOUT_SEED)
    return np.sort(dev), np.sort(held)


def scores(truth, predicted, labels: list[str]) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    per_class = f1_score(truth, predicted, labels=labels, average=None, zero_division=0)
    return {
        "macro_f1": round(float(np.mean(per_class)), 4),
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "per_class_f1": {c: round(float(v), 4) for c, v in zip(labels, per_class)},
    }


def baselines():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    return [
        ("baseline_word_lr", TfidfVectorizer(), LogisticRegression(max_iter=3000)),
        ("baseline_word_svm", TfidfVectorizer(), LinearSVC()),
        ("baseline_char_svm", TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True), LinearSVC()),
    ]


def run_ours(train_x, train_y, test_texts: list[str], out: Path, *, with_halves: bool, source: str, sentence_only=()) -> tuple[dict[str, list[str]], object, float, float]:
    t0 = time.perf_counter()
    model = load_categorizer(model_path=train_categorizer(zip(train_x, train_y), out=out, source=source, sentence_only=sentence_only))
    train_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    out_preds = {"ours": [g.slug for g in model.categorize(test_texts)]}
    predict_s = time.perf_counter() - t0
    if with_halves:
        classes = np.array(model.classes)
        p_char, _ = model.char_proba(test_texts)
        out_preds["ours_ngrams_only"] = list(classes[p_char.argmax(1)])
        out_preds["ours_sentence_vectors_only"] = list(classes[model.encoder_proba(test_texts).argmax(1)])
    return out_preds, model, train_s, predict_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--supplement", type=Path, default=DEFAULT_SUPPLEMENT)
    ap.add_argument("--folds", type=int, default=5, help="cross-validation folds on the development split (0: skip CV)")
    ap.add_argument("--limit", type=int, default=None, help="use only the first N YNAT headlines")
    ap.add_argument("--export", type=Path, default=None, help="save the held-out-scored model (the one to ship) here")
    args = ap.parse_args()

    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold, train_test_split

    ids, texts, labels = load_sample(args.data, args.limit)
    X = np.array(texts, dtype=object)
    y = np.array(labels)
    dev, held = holdout_split(ids, labels)
    supplement = read_examples(args.supplement)
    SX = np.array([t for t, _ in supplement], dtype=object)
    Sy = np.array([c for _, c in supplement])
    korean = np.array([bool(HANGUL.search(t)) for t in SX])
    s_train, s_held = train_test_split(
        np.arange(len(SX)), test_size=HOLDOUT_SHARE, stratify=[f"{c}-{k}" for c, k in zip(Sy, korean)], random_state=HOLDOUT_SEED
    )
    # Korean supplement rows train both halves; English ones the sentence-vector half only (sentence_only).
    ko_train, en_train = s_train[korean[s_train]], s_train[~korean[s_train]]
    supp_x, supp_y = SX[ko_train], Sy[ko_train]
    supp_en = list(zip(SX[en_train], Sy[en_train]))
    result: dict = {
        "data": "KLUE YNAT v1.1 train sample (CC BY-SA 4.0)" + (f", first {args.limit}" if args.limit else ""),
        "split": {
            "how": f"train_test_split(test_size={HOLDOUT_SHARE}, stratify=labels, random_state={HOLDOUT_SEED})",
            "development": len(dev),
            "held_out": len(held),
            "held_out_ids_sha256": hashlib.sha256("\n".join(ids[i] for i in held).encode()).hexdigest()[:16],
            "supplement_train": len(s_train),
            "supplement_held_out": len(s_held),
        },
    }
    Xd, yd = X[dev], y[dev]

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if args.folds:
            preds: dict[str, list[str]] = {}
            fold_f1: dict[str, list[float]] = {}
            truth: list[str] = []
            timing = {"ours_train_s": [], "ours_predict_texts_per_s": []}

            def record(system: str, yt, yp) -> None:
                preds.setdefault(system, []).extend(yp)
                fold_f1.setdefault(system, []).append(float(np.mean(f1_score(yt, yp, labels=YNAT_CLASSES, average=None, zero_division=0))))

            splits = StratifiedKFold(args.folds, shuffle=True, random_state=0).split(Xd, yd)
            # The supplement's training part is cross-validated alongside: fold k of it is left out of
            # fold k's training and scored (entertainment / culture / life figures from CV).
            supp_folds = list(StratifiedKFold(args.folds, shuffle=True, random_state=0).split(s_train, Sy[s_train]))
            supp_truth: list[str] = []
            supp_pred: list[str] = []
            for k, (tr, te) in enumerate(splits):
                print(f"cv fold {k + 1}/{args.folds}", file=sys.stderr, flush=True)
                yt, test_texts = yd[te], list(Xd[te])
                truth.extend(yt)
                s_in, s_out = s_train[supp_folds[k][0]], s_train[supp_folds[k][1]]
                ko_in, en_in = s_in[korean[s_in]], s_in[~korean[s_in]]
                got, model, train_s, predict_s = run_ours(
                    np.concatenate([Xd[tr], SX[ko_in]]), np.concatenate([yd[tr], Sy[ko_in]]), test_texts, tmp / f"fold{k}.npz",
                    with_halves=True, source="bench fold", sentence_only=list(zip(SX[en_in], Sy[en_in])),
                )
                timing["ours_train_s"].append(train_s)
                timing["ours_predict_texts_per_s"].append(len(te) / predict_s)
                for system, yp in got.items():
                    record(system, yt, yp)
                supp_truth.extend(Sy[s_out])
                supp_pred.extend(g.slug for g in model.categorize(list(SX[s_out])))
                got, _, _, _ = run_ours(Xd[tr], yd[tr], test_texts, tmp / f"fold{k}-ynat.npz", with_halves=False, source="bench fold")
                record("ours_without_supplement", yt, got["ours"])
                for system, vec, clf in baselines():
                    clf.fit(vec.fit_transform(Xd[tr]), yd[tr])
                    record(system, yt, list(clf.predict(vec.transform(Xd[te]))))
            result["cross_validation"] = {
                "on": f"development split ({len(dev)} YNAT headlines), StratifiedKFold({args.folds}, shuffle=True, random_state=0)",
                "systems": {
                    s: {"macro_f1_mean": round(float(np.mean(f)), 4), "macro_f1_std": round(float(np.std(f)), 4), "macro_f1_folds": [round(v, 4) for v in f]}
                    | {k: v for k, v in scores(truth, preds[s], YNAT_CLASSES).items() if k != "macro_f1"}
                    for s, f in fold_f1.items()
                },
                "ours_on_supplement_folds": scores(supp_truth, supp_pred, sorted(set(Sy))),
                "ours_train_s_per_fold": round(float(np.mean(timing["ours_train_s"])), 1),
                "ours_predict_texts_per_s": round(float(np.mean(timing["ours_predict_texts_per_s"])), 0),
            }

        print("held-out: training on the development split", file=sys.stderr, flush=True)
        held_texts = list(X[held])
        model_path = tmp / "shipped.npz"
        got, model, _, _ = run_ours(
            np.concatenate([Xd, supp_x]), np.concatenate([yd, supp_y]), held_texts, model_path, with_halves=True, source=SHIPPED_SOURCE,
            sentence_only=supp_en,
        )
        held_out = {s: scores(y[held], yp, YNAT_CLASSES) for s, yp in got.items()}
        ynat_only, _, _, _ = run_ours(Xd, yd, held_texts, tmp / "ynat-only.npz", with_halves=False, source="bench")
        held_out["ours_without_supplement"] = scores(y[held], ynat_only["ours"], YNAT_CLASSES)
        for system, vec, clf in baselines():
            clf.fit(vec.fit_transform(Xd), yd)
            held_out[system] = scores(y[held], list(clf.predict(vec.transform(X[held]))), YNAT_CLASSES)
        predicted = [g.slug for g in model.categorize(held_texts)]
        result["held_out"] = {
            "on": f"{len(held)} held-out YNAT headlines, scored once; macro-F1 over YNAT's 7 categories",
            "systems": held_out,
            "ours_filed_as_entertainment_or_culture": sum(p in ("entertainment", "culture") for p in predicted),
        }
        s_pred = [g.slug for g in model.categorize(list(SX[s_held]))]
        s_korean = korean[s_held]
        result["supplement_held_out"] = {
            "accuracy_korean": round(float(np.mean(np.array(s_pred)[s_korean] == Sy[s_held][s_korean])), 4),
            "accuracy_english": round(float(np.mean(np.array(s_pred)[~s_korean] == Sy[s_held][~s_korean])), 4),
            "on": f"{len(s_held)} held-out supplement headlines (hand-written)",
            "per_class_f1_recall": {
                c: {
                    "f1": round(float(f1_score(Sy[s_held], s_pred, labels=[c], average="macro", zero_division=0)), 4),
                    "recall": round(float(np.mean([p == c for p, t in zip(s_pred, Sy[s_held]) if t == c])), 4),
                    "n": int((Sy[s_held] == c).sum()),
                }
                for c in sorted(set(Sy))
            },
            "accuracy": round(float(np.mean(np.array(s_pred) == Sy[s_held])), 4),
        }
        try:
            from trendreel.demo.content import ARTICLES
        except ImportError:
            ARTICLES = []
        if ARTICLES:
            guesses = model.categorize([a.title for a in ARTICLES])
            result["demo"] = {
                "agree_with_site": sum(g.slug == a.category for g, a in zip(guesses, ARTICLES)),
                "articles": len(ARTICLES),
                "rows": [
                    {"title": a.title, "site": a.category, "predicted": g.slug, "score": g.score,
                     "runner_up": sorted(g.scores.items(), key=lambda kv: -kv[1])[1]}
                    for a, g in zip(ARTICLES, guesses)
                ],
            }
        if args.export:
            args.export.parent.mkdir(parents=True, exist_ok=True)
            args.export.write_bytes(model_path.read_bytes())
            result["exported"] = {"file": args.export.name, "bytes": args.export.stat().st_size, "classes": model.classes}
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
