"""Extractive summaries: the article's own most central sentences, in its own language, offline.

Sentences are scored by how many of the article's frequent content words they carry (a classic
frequency summariser, Luhn 1958), with a small bonus for the lead, then the best are returned in their
original order within a character budget. Works for Korean and English alike because it needs only
word boundaries. Short articles (fewer than `min_sentences`) get no summary: their text is short enough.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Protocol

from trendreel.index.chunking import split_paragraphs
from trendreel.index.chunking import split_sentences as chunk_sentences

_WORD = re.compile(r"\w+", re.UNICODE)
# Very common function words; content words carry the topic.
_STOP = set("""the a an and or but of to in on at for with by from as is are was were be been being it its this that these those
he she they we you i his her their our your not no so if then than there here have has had do does did will would can could
should may might must also just more most said says about after before over into out up down new one two""".split()) | {
    "그", "이", "저", "것", "수", "등", "및", "또", "더", "그리고", "하지만", "있다", "했다", "한다", "된다", "밝혔다", "말했다", "위해", "통해"}


class Summarizer(Protocol):
    name: str

    def summarize(self, text: str, *, lang: str | None = None) -> str | None: ...


def split_sentences(text: str) -> list[str]:
    """Sentences of a whole text, with the same rules the chunker uses."""
    return [s for p in split_paragraphs(text) for s in chunk_sentences(p) if len(s) > 1]


class ExtractiveSummarizer:
    name = "extractive"

    def __init__(self, *, max_chars: int = 320, min_sentences: int = 4):
        self.max_chars = max_chars
        self.min_sentences = min_sentences

    def summarize(self, text: str, *, lang: str | None = None) -> str | None:
        sentences = split_sentences(text)
        if len(sentences) < self.min_sentences:
            return None
        words = [[w.lower() for w in _WORD.findall(s)] for s in sentences]
        freq = Counter(w for ws in words for w in ws if w not in _STOP and len(w) > 1 and not w.isdigit())
        if not freq:
            return None
        top = max(freq.values())
        scores = []
        for i, ws in enumerate(words):
            content = [freq[w] / top for w in ws if w in freq]
            score = sum(content) / (len(ws) ** 0.5 or 1)
            if i == 0:
                score *= 1.3  # news leads carry the story
            scores.append(score)
        chosen: list[int] = []
        used = 0
        for i in sorted(range(len(sentences)), key=lambda i: -scores[i]):
            if used + len(sentences[i]) > self.max_chars and chosen:
                continue
            chosen.append(i)
            used += len(sentences[i]) + 1
            if used >= self.max_chars * 0.8:
                break
        return " ".join(sentences[i] for i in sorted(chosen))
