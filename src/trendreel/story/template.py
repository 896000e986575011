"""The offline default: a spoken script cut from the item's own sentences, no model needed.

- lines: every sentence of the item cleaned and cut into short spoken lines (speech.py: asides,
  datelines and bylines dropped, long sentences split at clause joints, Korean spoken endings);
  a line that does not fit story.max_scene_seconds is left out;
- hook: the title's first phrase (a headline is written to make people read on) when it is said
  within story.max_hook_seconds, else the item's strongest short line (a number, the trend's words,
  a sentence's own subject); it cites its sentence;
- scenes: the best remaining lines (frequent content words, a lead bonus, words of the trend) as
  many as fit the scene count and story.max_seconds, told in the item's order, one or two lines a
  scene within story.max_scene_seconds;
- closing: a question to the viewer ("..., 여러분은 어떻게 생각하세요?") or a pointer to what comes next,
  about the topic (the trend's line or the title's first phrase, whichever is short and backed by the
  item; else the question alone); it adds no claim: its other words are the spoken frame's
  (text.SPOKEN_FRAMES);
- on-screen text: the scene's key phrase (its first clause with a number, else its first clause);
- media: the item's stored images and videos in turn; the story service then picks each scene's
  visuals from the whole trend (visuals.py);
- when the text has too few lines, media captions become scenes of their own;
- hashtags: the trend's key phrases, then the item's most frequent content words.
Every line says what one sentence of the item says, with the same numbers, so every scene is
supported by the sentences it cites.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from trendreel.errors import StoryError, StoryInvalid
from trendreel.settings import StorySettings
from trendreel.story.build import cite_media, cite_sentence, media_ref, story_seconds
from trendreel.story.grounding import best_sources
from trendreel.story.models import Citation, MediaRef, Scene, Story
from trendreel.story.source import StoryItem, TrendBrief
from trendreel.story.speech import fit_line, headline, key_phrase, speech_lines
from trendreel.story.text import ON_SCREEN_FRAMES, SPOKEN_FRAMES, content_words, has_hangul, numbers, shorten
from trendreel.story.timing import scene_seconds, speech_seconds
from trendreel.story.validate import check

ON_SCREEN_CHARS = {"ko": 30, "en": 48}
MAX_HASHTAGS = 5
MAX_LINES_PER_SCENE = 2
# A topic said in the closing line is short: the frame around it already takes two seconds or more.
TOPIC_SECONDS = 4.5
# A sentence's later lines often lack their subject (Korean drops it): a hook prefers a first line.
_LATER_LINE_HOOK_WEIGHT = 0.7
_FORWARD = re.compile(r"예정|계획|전망|앞으로|내년|다음 달|\bwill\b|\bplans?\b|\bexpect|\bnext\b", re.IGNORECASE)


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
    """Spoken stories from the item alone; works offline and is deterministic."""

    name = "template"
    # The model name is part of the story id: kept, so that stories written earlier keep their ids.
    model = "extractive-v1"
    translates = False  # it says the item's own sentences: a story in the item's language only

    def __init__(self, settings: StorySettings):
        self.settings = settings

    def write(self, trend: TrendBrief, item: StoryItem, *, lang: str | None = None, on_progress=None) -> Story:
        cfg = self.settings
        lang = lang or item.lang
        if lang.split("-")[0] != item.lang.split("-")[0]:
            raise StoryError(f"the template writer says the item's own sentences, so it tells item {item.article_id} "
                             f"only in its language ({item.lang}), "
                             f"not in {lang}; pick an item in {lang} or use a language model backend",
                             hint="`trendreel story --trend ID --lang LANG`, or --backend openai")
        if on_progress:
            on_progress("writing", 0, 1)
        lines = self._lines(trend, item)
        if not lines:
            raise StoryError(f"item {item.article_id} has no sentence short enough for a scene "
                             f"(story.max_scene_seconds = {cfg.max_scene_seconds:g}, story.max_scene_chars = {cfg.max_scene_chars})")
        hook, hook_cites, lines = self._hook(trend, item, lines)
        closing = self._closing(trend, item, lang, lines)
        budget = cfg.max_seconds - speech_seconds(hook) - (scene_seconds(closing[0]) if closing else 0.0)
        groups = self._choose(lines, budget, cfg.max_scenes - (1 if closing else 0))
        narrations: list[tuple[str, list]] = [(" ".join(l.text for l in g), sorted({l.sentence for l in g})) for g in groups]
        wanted = cfg.min_scenes - len(narrations) - (1 if closing else 0)
        if wanted > 0:
            used = sum(scene_seconds(n) for n, _ in narrations)
            narrations += self._caption_scenes(item, wanted, budget - used)
        if len(narrations) + (1 if closing else 0) < cfg.min_scenes:
            raise StoryError(f"item {item.article_id} has too little text for a story of {cfg.min_scenes} scenes "
                             f"within {cfg.max_seconds:g} s; pick another item or lower story.min_scenes")
        scenes = self._scenes(narrations, item, lang)
        if closing:
            scenes.append(self._closing_scene(closing, item, len(scenes)))
        story = Story(title=item.title, hook=hook, hook_citations=hook_cites, scenes=scenes,
                      hashtags=hashtags(trend, item), lang=lang, duration_s=story_seconds(hook, scenes),
                      trend_id=trend.id, article_id=item.article_id, backend=self.name, model=self.model)
        story, problems = check(story, item, cfg)
        if problems:  # a bug in this writer, not a model's mistake: say so plainly
            raise StoryInvalid("the template story failed validation: " + "; ".join(problems), problems=problems)
        if on_progress:
            on_progress("writing", 1, 1)
        return story

    # ---- lines ---------------------------------------------------------------------------------

    def _lines(self, trend: TrendBrief, item: StoryItem) -> list[_Line]:
        """Every spoken line that fits a scene, scored by its sentence (and a bonus for numbers)."""
        cfg = self.settings
        split = {i: speech_lines(s, item.lang) for i, s in enumerate(item.sentences) if i > 0}
        indices = [i for i, parts in split.items() if parts]
        scores = dict(zip(indices, rank_sentences([" ".join(split[i]) for i in indices], set(content_words(trend.text)))))
        out = []
        for i in indices:
            for part, text in enumerate(split[i]):
                text = fit_line(text, item.lang, cfg.max_scene_seconds)
                if not text or len(text) > cfg.max_scene_chars or not content_words(text):
                    continue
                weight = 1.15 if numbers(text) else 1.0
                out.append(_Line(text=text, sentence=i, part=part, score=scores[i] * weight,
                                 seconds=speech_seconds(text)))
        return out

    def _hook(self, trend: TrendBrief, item: StoryItem, lines: list[_Line]) -> tuple[str, list[Citation], list[_Line]]:
        """(hook, its citations, the lines left for the scenes). A headline is written to make people
        read on: the title's first phrase when it is short enough, else the item's strongest short line
        (which then leaves the scenes), else the title's first phrase shortened."""
        title_phrase = headline(item.title)
        if 1.0 <= speech_seconds(title_phrase) <= self.settings.max_hook_seconds and content_words(title_phrase):
            return title_phrase, [cite_sentence(item, 0)], lines
        line = self._hook_line(lines, trend)
        if line is not None:
            return line.text, [cite_sentence(item, line.sentence)], [l for l in lines if l is not line]
        return shorten(title_phrase, int(self.settings.max_hook_seconds * 10)), [cite_sentence(item, 0)], lines

    def _hook_line(self, lines: list[_Line], trend: TrendBrief) -> _Line | None:
        """The strongest short line: informative, with a number, with the trend's words, a sentence's first."""
        trend_words = set(content_words(trend.text))
        short = [l for l in lines if 1.5 <= l.seconds <= self.settings.max_hook_seconds]

        def strength(line: _Line) -> float:
            words = set(content_words(line.text))
            overlap = len(words & trend_words) / len(words) if words else 0.0
            later = 1.0 if line.part == 0 else _LATER_LINE_HOOK_WEIGHT
            return line.score * (1.5 if numbers(line.text) else 1.0) * (1.0 + 2 * overlap) * later

        return max(short, key=lambda l: (strength(l), -l.sentence, -l.part), default=None)

    def _choose(self, lines: list[_Line], budget: float, max_scenes: int) -> list[list[_Line]]:
        """The best lines while their scenes fit the scene count and the time budget, grouped in item order."""
        chosen: list[_Line] = []
        groups: list[list[_Line]] = []
        for line in sorted(lines, key=lambda l: (-l.score, l.sentence, l.part)):
            trial = self._group(chosen + [line])
            if len(trial) <= max_scenes and sum(scene_seconds(_said(g)) for g in trial) <= budget:
                chosen.append(line)
                groups = trial
        return groups

    def _group(self, lines: list[_Line]) -> list[list[_Line]]:
        """Lines in item order, two to a scene when they are neighbours and fit a scene together."""
        groups: list[list[_Line]] = []
        for line in sorted(lines, key=lambda l: (l.sentence, l.part)):
            last = groups[-1] if groups else None
            if (last and len(last) < MAX_LINES_PER_SCENE and line.sentence - last[-1].sentence <= 1
                    and speech_seconds(_said(last + [line])) <= self.settings.max_scene_seconds
                    and len(_said(last + [line])) <= self.settings.max_scene_chars):
                last.append(line)
            else:
                groups.append([line])
        return groups

    # ---- closing line -----------------------------------------------------------------------------

    def _closing(self, trend: TrendBrief, item: StoryItem, lang: str, lines: list[_Line]) -> tuple[str, list[int]] | None:
        """(the closing line, the sentences backing its topic), or None for a language without frames."""
        frames = SPOKEN_FRAMES.get(lang.split("-")[0])
        if not frames:
            return None
        topics = [headline(item.title)]
        if trend.text and same_language(trend.text, trend.lang, item.lang):
            topics.insert(0, trend.text)
        candidates = dict(enumerate(item.sentences))
        frame = frames[1] if any(_FORWARD.search(l.text) for l in lines) else frames[0]
        for topic in topics:
            line = frame.format(topic=topic.rstrip(".!?"))
            if speech_seconds(topic) > TOPIC_SECONDS or speech_seconds(line) > self.settings.max_scene_seconds:
                continue
            found = best_sources([topic], candidates, given=[item.sentences[0]], threshold=self.settings.grounding_threshold)
            if found is not None:
                return line, sorted({0, *found})
        return frames[2], [0]  # no short topic the item backs: the question alone

    def _closing_scene(self, closing: tuple[str, list[int]], item: StoryItem, n: int) -> Scene:
        text, sentences = closing
        duration = scene_seconds(text)
        refs = []
        if item.media:
            refs.append(media_ref(item.media[n % len(item.media)], duration, {}))
        on_screen = ON_SCREEN_FRAMES.get(item.lang.split("-")[0], "")
        return Scene(narration=text, on_screen_text=on_screen, duration_s=duration, media=refs,
                     citations=[cite_sentence(item, i) for i in sentences])

    # ---- scenes ----------------------------------------------------------------------------------

    def _caption_scenes(self, item: StoryItem, wanted: int, budget: float) -> list[tuple[str, list]]:
        """Captions said as scenes, for items whose text is too short on its own."""
        out, used = [], 0.0
        for m in item.media:
            if len(out) >= wanted or not m.caption:
                continue
            text = shorten(m.caption, self.settings.max_scene_chars)
            seconds = scene_seconds(text)
            if used + seconds <= budget and speech_seconds(text) <= self.settings.max_scene_seconds:
                out.append((text, [m.id]))
                used += seconds
        return out

    def _scenes(self, narrations: list[tuple[str, list]], item: StoryItem, lang: str) -> list[Scene]:
        media = list(item.media)
        by_id = item.media_by_id()
        cursor: dict[str, float] = {}  # how far into each video earlier scenes went
        chars = ON_SCREEN_CHARS.get(lang.split("-")[0], ON_SCREEN_CHARS["en"])
        scenes = []
        for n, (narration, sources) in enumerate(narrations):
            duration = scene_seconds(narration)
            citations: list[Citation] = [cite_sentence(item, s) if isinstance(s, int) else cite_media(item, by_id[s])
                                         for s in sources]
            refs: list[MediaRef] = []
            if media:
                refs.append(media_ref(media[n % len(media)], duration, cursor))
            scenes.append(Scene(narration=narration, on_screen_text=key_phrase(narration, chars), duration_s=duration,
                                media=refs, citations=citations))
        return scenes


@dataclass(frozen=True, eq=False)
class _Line:
    """One spoken line: its text, the sentence it says (and which part of it), how good, how long."""

    text: str
    sentence: int
    part: int
    score: float
    seconds: float


def _said(lines: list[_Line]) -> str:
    return " ".join(l.text for l in lines)


def template_writer(story: StorySettings, llm=None, chat=None) -> TemplateWriter:
    """The registry's `template` story writer (offline: no language model)."""
    return TemplateWriter(story)
