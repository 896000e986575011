"""Is a scene backed by what it cites? A check anyone can recompute from the story JSON alone.

A scene's narration and its on-screen text are each cut into content words, and each word into
character n-grams with a start marker: 3-grams for alphabetic scripts, 2-grams for Hangul and other
CJK (Korean particles stripped first, so "캠핑장은" matches "캠핑장이"). `support` is the share of
those n-grams found in the n-grams of the cited quotes. A scene is *supported* when, for its
narration and for its on-screen text alike,

- support >= the threshold (story.grounding_threshold, default 0.6), and
- every number it says appears in the quotes (an invented figure is the worst invention).

Paraphrase keeps most n-grams (same words, other endings and order); a claim from elsewhere
keeps few. `grounding` of a story = share of its scenes that are supported. The hook, when it
cites sentences, is checked the same way against them (`hook_support`, `hook_supported`).

A story told in another language than its item's (a language model translating, `source_lang`
set) cannot share character n-grams with its sources: there `support` is the cosine similarity of
the claim's and the quotes' vectors from the text embedder (multilingual), which must reach
story.cross_lingual_threshold, and numbers must still appear in the quotes. Recomputing that needs
the embedder (`similarity`); without it, those verdicts are kept as stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from trendreel.story.models import Scene, Story
from trendreel.story.text import content_words, is_syllabic, numbers

DEFAULT_THRESHOLD = 0.6
DEFAULT_CROSS_LINGUAL_THRESHOLD = 0.5

# (claim, source quotes) -> cosine similarity of their vectors, for claims in another language.
Similarity = Callable[[str, list[str]], float]


@dataclass(frozen=True)
class Support:
    score: float
    missing_numbers: tuple[str, ...]
    supported: bool


def _ngrams(word: str) -> list[str]:
    n = 2 if is_syllabic(word) else 3
    padded = "\x02" + word
    if len(padded) <= n:
        return [padded]
    return [padded[i:i + n] for i in range(len(padded) - n + 1)]


def ngram_bag(text: str) -> list[str]:
    return [g for w in content_words(text) for g in _ngrams(w)]


def support(claim: str, sources: list[str], *, threshold: float = DEFAULT_THRESHOLD) -> Support:
    """How much of `claim` is found in `sources` (see the module docstring)."""
    source_text = "\n".join(sources)
    known = set(ngram_bag(source_text))
    grams = ngram_bag(claim)
    score = sum(g in known for g in grams) / len(grams) if grams else 1.0
    missing = tuple(sorted(numbers(claim) - numbers(source_text)))
    return Support(score=round(score, 3), missing_numbers=missing, supported=score >= threshold and not missing)


def scene_claims(scene: Scene) -> list[str]:
    """What a scene asserts: its narration, and its on-screen text when there is one."""
    return [c for c in (scene.narration, scene.on_screen_text) if c]


def claims_support(claims: list[str], sources: list[str], *, threshold: float = DEFAULT_THRESHOLD) -> Support:
    """Every claim must be supported on its own: a true narration cannot carry an invented caption."""
    parts = [support(c, sources, threshold=threshold) for c in claims]
    return Support(score=min(p.score for p in parts),
                   missing_numbers=tuple(sorted({n for p in parts for n in p.missing_numbers})),
                   supported=all(p.supported for p in parts))


def cross_lingual_support(claims: list[str], sources: list[str], similarity: Similarity, *,
                          threshold: float = DEFAULT_CROSS_LINGUAL_THRESHOLD) -> Support:
    """Claims in another language than their sources: vector similarity, and numbers found in the sources."""
    source_numbers = numbers("\n".join(sources))
    scores = [max(0.0, float(similarity(c, sources))) if content_words(c) else 1.0 for c in claims]
    missing = tuple(sorted({n for c in claims for n in numbers(c) - source_numbers}))
    score = round(min(scores), 3) if scores else 1.0
    return Support(score=score, missing_numbers=missing, supported=score >= threshold and not missing)


def scene_support(scene: Scene, *, threshold: float = DEFAULT_THRESHOLD) -> Support:
    """A scene checked against the quotes of its own citations."""
    return claims_support(scene_claims(scene), [c.quote for c in scene.citations], threshold=threshold)


def is_cross_lingual(story: Story) -> bool:
    return bool(story.source_lang) and story.source_lang.split("-")[0] != story.lang.split("-")[0]


def grade(story: Story, *, threshold: float = DEFAULT_THRESHOLD, similarity: Similarity | None = None,
          cross_threshold: float = DEFAULT_CROSS_LINGUAL_THRESHOLD) -> Story:
    """The story with each scene's and the hook's support and the story's grounding filled in."""
    cross = is_cross_lingual(story)

    def judge(claims: list[str], quotes: list[str]) -> Support | None:
        if not cross:
            return claims_support(claims, quotes, threshold=threshold)
        if similarity is None:
            return None  # cannot be recomputed without the embedder: keep the stored verdict
        return cross_lingual_support(claims, quotes, similarity, threshold=cross_threshold)

    scenes = []
    for scene in story.scenes:
        s = judge(scene_claims(scene), [c.quote for c in scene.citations])
        scenes.append(scene if s is None else scene.model_copy(update={"support": s.score, "supported": s.supported}))
    update: dict = {"scenes": scenes, "grounding": round(sum(bool(s.supported) for s in scenes) / len(scenes), 3)}
    if story.hook_citations:
        h = judge([story.hook], [c.quote for c in story.hook_citations])
        if h is not None:
            update |= {"hook_support": h.score, "hook_supported": h.supported}
    return story.model_copy(update=update)


def best_sources(claims: list[str], candidates: dict[int, str], *, given: list[str] = (),
                 threshold: float = DEFAULT_THRESHOLD, most: int = 3) -> list[int] | None:
    """The fewest candidates (at most `most`) that, with the `given` quotes, support every claim; None
    if there are none. Greedy: each step adds the candidate that covers most still-unfound n-grams."""
    grams = [g for c in claims for g in ngram_bag(c)]
    claim_numbers = {n for c in claims for n in numbers(c)}
    found = set(ngram_bag("\n".join(given)))
    bags = {k: set(ngram_bag(text)) for k, text in candidates.items()}
    chosen: list[int] = []
    while True:
        sources = [*given, *(candidates[k] for k in chosen)]
        if claims_support(claims, sources, threshold=threshold).supported:
            return chosen
        if len(chosen) == most:
            return None
        gain = {k: sum(g not in found and g in bag for g in grams) + len(numbers(candidates[k]) & claim_numbers)
                for k, bag in bags.items() if k not in chosen}
        gain = {k: v for k, v in gain.items() if v > 0}
        if not gain:
            return None
        best = max(gain, key=lambda k: (gain[k], -k))
        chosen.append(best)
        found |= bags[best]
