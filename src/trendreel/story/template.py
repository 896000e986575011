"""The offline default: a story cut from the item's own sentences and media, no model needed.

- hook: the trend's line when it is in the item's language, else the item's best sentence;
- title: the item's title;
- scenes: the item's most informative sentences (frequent content words, a lead bonus, words of the
  trend), as many as fit in 3-8 scenes and the length limit, told in the item's order;
- each scene shows the next stored image or video (videos continue where the last scene stopped),
  with its caption as on-screen text, or the start of the narration when there is no caption;
- when the text has too few sentences, media captions become scenes of their own;
- hashtags: the trend's key phrases, then the item's most frequent content words.
Every narration is a sentence of the item (or a caption), so every scene is supported by construction.
"""

from __future__ import annotations

from collections import Counter

from trendreel.errors import StoryError, StoryInvalid
from trendreel.settings import StorySettings
from trendreel.story.build import cite_media, cite_sentence, media_ref, story_seconds
from trendreel.story.models import MediaRef, Scene, Story
from trendreel.story.source import StoryItem, TrendBrief
from trendreel.story.text import content_words, first_clauses, has_hangul, shorten
from trendreel.story.timing import scene_seconds, speech_seconds
from trendreel.story.validate import check

ON_SCREEN_CHARS = 48
MAX_HASHTAGS = 5
HOOK_CHARS = 120


def rank_sentences(sentences: list[str], boost: set[str] = frozenset()) -> list[float]:
    """Informativeness of each sentence: frequent content words (Luhn), the lead, words in `boost`."""
    bags = [content_words(s) for s in sentences]
    freq = Counter(w for bag in bags for w in bag)
    top = max(freq.values(), default=1)
    scores = []
    for i, bag in enumerate(bags):
        if not bag:
            scores.append(0.0)
            continue
        score = sum(freq[w] / top for w in bag) / len(bag) ** 0.5
        score *= 1.0 + 0.5 * sum(w in boost for w in set(bag)) / len(set(bag))
        if i == 0:
            score *= 1.3  # a news lead carries the story
        scores.append(score)
    return scores


def same_language(text: str, lang: str | None, item_lang: str) -> bool:
    if lang:
        return lang.split("-")[0] == item_lang.split("-")[0]
    return has_hangul(text) == (item_lang == "ko")


def hashtags(trend: TrendBrief, item: StoryItem) -> list[str]:
    """The trend's key phrases, then the title's words, then the item's other frequent words."""
    freq = Counter(w for s in item.sentences for w in content_words(s) if len(w) > 2 or has_hangul(w))
    title_words = sorted(set(content_words(item.sentences[0])) & set(freq), key=lambda w: (-freq[w], w))
    words = [p for p in trend.key_phrases if same_language(p, None, item.lang)]
    words += title_words + [w for w, _ in freq.most_common(MAX_HASHTAGS * 2)]
    out: list[str] = []
    for w in words:
        tag = "#" + "".join(w.split())
        if tag not in out and len(tag) > 2:
            out.append(tag)
    return out[:MAX_HASHTAGS]


class TemplateWriter:
    """Extractive stories from the item alone; works offline and is deterministic."""

    name = "template"
    model = "extractive-v1"

    def __init__(self, settings: StorySettings):
        self.settings = settings

    def write(self, trend: TrendBrief, item: StoryItem) -> Story:
        cfg = self.settings
        fitted = {i: first_clauses(s, cfg.max_scene_chars) for i, s in enumerate(item.sentences) if i > 0}
        body = {i: s for i, s in fitted.items() if s}
        indices = list(body)
        if not indices:
            raise StoryError(f"item {item.article_id} has no sentence short enough for a scene "
                             f"(story.max_scene_chars = {cfg.max_scene_chars})")
        scores = dict(zip(indices, rank_sentences([body[i] for i in indices], set(content_words(trend.text)))))
        if trend.text and same_language(trend.text, trend.lang, item.lang):
            hook = shorten(trend.text, HOOK_CHARS)
        else:
            best = max(indices, key=lambda i: scores[i])
            hook = body.pop(best)
            indices.remove(best)
        budget = cfg.max_seconds - speech_seconds(hook)
        chosen = self._choose(indices, body, scores, budget)
        narrations = [(body[i], [i]) for i in sorted(chosen)]
        if len(narrations) < cfg.min_scenes:
            narrations += self._caption_scenes(item, cfg.min_scenes - len(narrations),
                                               budget - sum(scene_seconds(n) for n, _ in narrations))
        if len(narrations) < cfg.min_scenes:
            raise StoryError(f"item {item.article_id} has too little text for a story of {cfg.min_scenes} scenes "
                             f"within {cfg.max_seconds:g} s; pick another item or lower story.min_scenes")
        scenes = self._scenes(narrations, item)
        story = Story(title=item.title, hook=hook, scenes=scenes, hashtags=hashtags(trend, item), lang=item.lang,
                      duration_s=story_seconds(hook, scenes),
                      trend_id=trend.id, article_id=item.article_id, backend=self.name, model=self.model)
        story, problems = check(story, item, cfg)
        if problems:  # a bug in this writer, not a model's mistake: say so plainly
            raise StoryInvalid("the template story failed validation: " + "; ".join(problems), problems=problems)
        return story

    def _choose(self, indices: list[int], body: dict[int, str], scores: dict[int, float], budget: float) -> list[int]:
        """Best sentences first, while they fit the scene count and the time budget."""
        chosen, used = [], 0.0
        for i in sorted(indices, key=lambda i: (-scores[i], i)):
            if len(chosen) >= self.settings.max_scenes:
                break
            seconds = scene_seconds(body[i])
            if used + seconds <= budget:
                chosen.append(i)
                used += seconds
        return chosen

    def _caption_scenes(self, item: StoryItem, wanted: int, budget: float) -> list[tuple[str, list]]:
        """Captions said as scenes, for items whose text is too short on its own."""
        out, used = [], 0.0
        for m in item.media:
            if len(out) >= wanted or not m.caption:
                continue
            seconds = scene_seconds(m.caption)
            if used + seconds <= budget:
                out.append((shorten(m.caption, self.settings.max_scene_chars), [m.id]))
                used += seconds
        return out

    def _scenes(self, narrations: list[tuple[str, list]], item: StoryItem) -> list[Scene]:
        media = list(item.media)
        by_id = item.media_by_id()
        cursor: dict[str, float] = {}  # how far into each video earlier scenes went
        shown_captions: set[str] = set()
        scenes = []
        for n, (narration, sources) in enumerate(narrations):
            duration = scene_seconds(narration)
            citations = [cite_sentence(item, s) if isinstance(s, int) else cite_media(item, by_id[s]) for s in sources]
            refs: list[MediaRef] = []
            on_screen = ""
            if media:
                m = media[n % len(media)]
                refs.append(media_ref(m, duration, cursor))
                if m.caption and m.caption not in shown_captions and m.caption != narration:
                    on_screen = shorten(m.caption, ON_SCREEN_CHARS)
                    shown_captions.add(m.caption)
                    if m.id not in sources:
                        citations.append(cite_media(item, m))
            if not on_screen:
                on_screen = first_clauses(narration, ON_SCREEN_CHARS) or shorten(narration, ON_SCREEN_CHARS)
            scenes.append(Scene(narration=narration, on_screen_text=on_screen, duration_s=duration, media=refs,
                                citations=citations))
        return scenes


def template_writer(story: StorySettings, llm=None, chat=None) -> TemplateWriter:
    """The registry's `template` story writer (offline: no language model)."""
    return TemplateWriter(story)
