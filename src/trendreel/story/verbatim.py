"""How much of a story's narration is copied word for word from its sources.

A narration word counts as copied when it lies in a run of at least N consecutive words that also
appears, in the same order, in one source quote. N is 5 words for alphabetic text and 4 for Korean
(a Korean word carries its particle, "캠핑장은", so four of them say about as much as five English
words: about three seconds of speech either way). Words are compared case-folded, without
punctuation, exactly as written otherwise: "늘었다" and "늘었습니다" differ, a paraphrase is not a copy.

    verbatim_share = characters of copied words / characters of all words (hook and scenes)

Like the grounding check, it needs only the story JSON (the narration and its cited quotes), so it
can be recomputed at any time. Sources are every quote the story cites: a line copied from a
sentence cited in another scene still counts as copied.
"""

from __future__ import annotations

import re

from trendreel.story.text import has_hangul, normalize

RUN_WORDS = 5
RUN_WORDS_KOREAN = 4

_WORD = re.compile(r"\w+", re.UNICODE)


def _words(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


def _runs(sources: list[str], n: int) -> set[tuple[str, ...]]:
    out: set[tuple[str, ...]] = set()
    for source in sources:
        w = _words(source)
        out.update(tuple(w[i:i + n]) for i in range(len(w) - n + 1))
    return out


def copied_chars(narration: str, sources: list[str]) -> tuple[int, int]:
    """(characters of the narration's words in a copied run, characters of all its words)."""
    words = _words(narration)
    n = RUN_WORDS_KOREAN if has_hangul(narration) else RUN_WORDS
    runs = _runs(sources, n)
    copied = [False] * len(words)
    for i in range(len(words) - n + 1):
        if tuple(words[i:i + n]) in runs:
            copied[i:i + n] = [True] * n
    return sum(len(w) for w, c in zip(words, copied) if c), sum(len(w) for w in words)


def verbatim_share(narrations: list[str], sources: list[str]) -> float:
    """Share of the narrations' word characters said word for word from `sources` (0 when empty)."""
    copied = total = 0
    for narration in narrations:
        c, t = copied_chars(narration, sources)
        copied, total = copied + c, total + t
    return round(copied / total, 3) if total else 0.0


def story_verbatim_share(story) -> float:
    """A Story's share (hook and scenes against every quote it cites)."""
    return verbatim_share(story.narrations(), story.quotes())
