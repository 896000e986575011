"""Stories from a language model: prompt, JSON schema, answer -> story, validation, retries.

The prompt asks for a Shorts-style script: a hook said in the first two seconds, scenes of one or
two short spoken sentences, a closing line (a question to the viewer or what to watch next) that
adds no fact, in the language asked for (translating when the item is in another one).
The model sees the trend line, the item's sentences with their numbers, and its media with ids.
Its answer is constrained by a JSON schema whose sentence numbers and media ids are enums, so even
a small model cannot cite what does not exist. We then turn sentence numbers into citations (with
the sentence as quote), give each scene a time range of its video, estimate durations, and validate
(scene count, length, known media, grounding). A scene whose cited sentences do not back it, while
other sentences of the item do, cites those instead (marked `citations_fixed`). An answer with problems is sent back with the
problems listed, up to `llm.max_retries` more times; then StoryInvalid names the last problems.
The hook cites sentences too (`hook_sentences`) and is checked like a scene.

A chat backend is anything with `complete(request) -> chat.completion dict`: the llama.cpp server
in-process (`llamacpp.py`) or any OpenAI-compatible server over HTTP (`openai_http.py`). A backend
with `streams = True` also takes `on_token(count)` and reports tokens as they come; progress
(`on_progress(step, done, total)`) then says "attempt 1 of 3: tokens" with the count so far, else
"attempt 1 of 3: waiting" until the answer and its token count arrive.
"""

from __future__ import annotations

import json
import re
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from trendreel.errors import LlmError, StoryInvalid
from trendreel.logs import get_logger
from trendreel.settings import LlmSettings, StorySettings
from trendreel.story.build import cite_media, cite_sentence, media_ref, story_seconds
from trendreel.story.grounding import (
    DEFAULT_CROSS_LINGUAL_THRESHOLD,
    Similarity,
    Support,
    best_sources,
    claims_support,
    cross_lingual_support,
    scene_claims,
)
from trendreel.story.models import Citation, Scene, Story
from trendreel.story.source import StoryItem, TrendBrief
from trendreel.story.template import hashtags as template_hashtags
from trendreel.story.template import rank_sentences
from trendreel.story.timing import CHARS_PER_S, SYLLABLES_PER_S, scene_seconds
from trendreel.story.validate import check

log = get_logger(__name__)

LANGUAGE_NAMES = {"ko": "Korean", "en": "English", "ja": "Japanese", "zh": "Chinese", "es": "Spanish",
                  "fr": "French", "de": "German"}
TITLE_CHARS = 100
HOOK_CHARS = 150
ON_SCREEN_CHARS = 60
MAX_CITED_SENTENCES = 3
MAX_HOOK_SENTENCES = 2

SYSTEM_PROMPT = """You write the voice-over script of a short vertical news video (YouTube Shorts style) from one
stored news item. It is heard, not read: a viewer decides in two seconds whether to keep watching.
Rules:
- Use only facts from the numbered sentences of the item. Never add a fact, name or number; say
  every number exactly as the sentences write it.
- hook: one short spoken line, said in the first two seconds, with the item's most striking fact;
  list the numbers of the sentences it comes from in hook_sentences.
- scenes: each is one or two short spoken sentences (about six seconds). For each scene, first list
  the numbers of the sentences it retells, then write its narration: retell only those sentences,
  shorter and simpler, as a narrator would say them.
- The last scene is a closing line: a question to the viewer or what to watch next, about the
  topic, adding no fact; it lists sentence 0.
- on_screen_text: a few words from the narration.
- media: the id of one stored image or video of the item to show during the scene.
- Write in the language the task names, translating faithfully when the item is in another one.
- Answer with the JSON object only."""


class ChatBackend(Protocol):
    """One chat completion: an OpenAI chat request in, an OpenAI chat.completion dict out."""

    name: str
    model: str

    def complete(self, request: dict) -> dict: ...


# ---- what the model answers ---------------------------------------------------------------------

class _AnswerScene(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sentences: list[int] = Field(min_length=1)
    narration: str = Field(min_length=1)
    on_screen_text: str = ""
    media: list[str] = Field(default_factory=list)


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title: str = Field(min_length=1)
    hook: str = Field(min_length=1)
    hook_sentences: list[int] = Field(default_factory=list)
    scenes: list[_AnswerScene] = Field(min_length=1)
    hashtags: list[str] = Field(default_factory=list)


def prompt_sentences(item: StoryItem, limit: int) -> list[int]:
    """Numbers of the sentences shown to the model: the title and the most informative ones, in order."""
    numbers = list(range(1, len(item.sentences)))
    if len(numbers) > limit - 1:
        scores = rank_sentences([item.sentences[i] for i in numbers])
        numbers = sorted(sorted(numbers, key=lambda i: (-scores[i - 1], i))[: limit - 1])
    return [0, *numbers]


def answer_schema(item: StoryItem, shown: list[int], story: StorySettings) -> dict:
    """The JSON schema of an answer; enums make unknown sentences and media impossible to write."""
    scene = {
        "sentences": {"type": "array", "items": {"enum": shown}, "minItems": 1, "maxItems": MAX_CITED_SENTENCES},
        "narration": {"type": "string", "minLength": 1, "maxLength": story.max_scene_chars},
        "on_screen_text": {"type": "string", "maxLength": ON_SCREEN_CHARS},
    }
    if item.media:
        scene["media"] = {"type": "array", "items": {"enum": [m.id for m in item.media]}, "minItems": 1, "maxItems": 1}
    return {
        "type": "object",
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": TITLE_CHARS},
            "hook": {"type": "string", "minLength": 1, "maxLength": HOOK_CHARS},
            "hook_sentences": {"type": "array", "items": {"enum": shown}, "minItems": 1, "maxItems": MAX_HOOK_SENTENCES},
            "scenes": {"type": "array", "minItems": story.min_scenes, "maxItems": story.max_scenes,
                       "items": {"type": "object", "properties": scene, "required": list(scene),
                                 "additionalProperties": False}},
            "hashtags": {"type": "array", "items": {"type": "string", "maxLength": 30}, "maxItems": 5},
        },
        "required": ["title", "hook", "hook_sentences", "scenes", "hashtags"],
        "additionalProperties": False,
    }


def language_name(lang: str) -> str:
    return LANGUAGE_NAMES.get(lang.split("-")[0], lang)


def user_prompt(trend: TrendBrief, item: StoryItem, shown: list[int], story: StorySettings,
                lang: str | None = None) -> str:
    lang = lang or item.lang
    name = language_name(lang)
    rate = SYLLABLES_PER_S if lang.split("-")[0] in ("ko", "ja", "zh") else CHARS_PER_S
    total = min(int(story.max_seconds * rate * 0.8), story.max_scenes * story.max_scene_chars)
    per_scene = min(story.max_scene_chars, int(story.max_scene_seconds * rate))
    hook = int(story.max_hook_seconds * rate * 0.6)
    scenes = f"{story.min_scenes}" if story.min_scenes == story.max_scenes else f"{story.min_scenes} to {story.max_scenes}"
    lines = [f"Trend: {trend.text}", "", "Sentences of the item (0 is its title):"]
    lines += [f"[{i}] {item.sentences[i]}" for i in shown]
    lines += ["", "Media of the item:"]
    for m in item.media:
        length = f", {m.duration_s:.1f} s" if m.kind == "video" else ""
        lines.append(f"- {m.id} ({m.kind}{length}): {m.caption or 'no caption'}")
    if not item.media:
        lines.append("- none")
    unit = "syllables" if rate == SYLLABLES_PER_S else "characters"
    lines += ["", f"Task: write a story of {scenes} scenes in {name} (hook: about {hook} {unit}; narration: at most "
              f"{per_scene} {unit} per scene, {total} in all; the last scene is the closing line). In each scene, list "
              f"the numbers of the sentences you use, then retell those sentences as its narration."]
    if lang.split("-")[0] != item.lang.split("-")[0]:
        lines.append(f"The item is in {language_name(item.lang)}: write the title, hook, narration, on-screen text and "
                     f"hashtags in {name}, translating faithfully and keeping every number.")
    return "\n".join(lines)


# ---- answer -> story ------------------------------------------------------------------------------

def parse_answer(content: str) -> _Answer:
    """The model's JSON (code fences tolerated); ValueError says what is wrong."""
    text = content.strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", text, flags=re.DOTALL)
    if fenced:
        text = fenced.group(1)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the answer is not valid JSON ({exc.msg}, character {exc.pos})") from exc
    try:
        return _Answer.model_validate(data)
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in exc.errors()[:5])
        raise ValueError(f"the JSON does not have the story's fields ({where})") from exc


class _Judge:
    """How claims are checked against quotes: character n-grams, or vector similarity across languages."""

    def __init__(self, threshold: float, similarity: Similarity | None = None,
                 cross_threshold: float = DEFAULT_CROSS_LINGUAL_THRESHOLD):
        self.threshold, self.similarity, self.cross_threshold = threshold, similarity, cross_threshold

    def support(self, claims: list[str], quotes: list[str]) -> Support:
        if self.similarity is not None:
            return cross_lingual_support(claims, quotes, self.similarity, threshold=self.cross_threshold)
        return claims_support(claims, quotes, threshold=self.threshold)

    def sources(self, claims: list[str], sentences: tuple[str, ...], given: list[str]) -> list[int] | None:
        """The item's sentences that back the claims (see grounding.best_sources), or None."""
        candidates = dict(enumerate(sentences))
        if self.similarity is None:
            return best_sources(claims, candidates, given=given, threshold=self.threshold)
        best = max(candidates, key=lambda i: min(self.similarity(c, [candidates[i]]) for c in claims))
        return [best] if self.support(claims, [*given, candidates[best]]).supported else None


def fix_citations(scene: Scene, item: StoryItem, media_cites: list, judge: _Judge) -> Scene:
    """Models often cite the sentence next to the one they retell: when the cited sentences do not back
    the scene but other sentences of the item do, cite those. Nothing unsupported becomes supported."""
    if judge.support(scene_claims(scene), [c.quote for c in scene.citations]).supported:
        return scene
    found = judge.sources(scene_claims(scene), item.sentences, [c.quote for c in media_cites])
    if found is None:
        return scene
    citations = [cite_sentence(item, i) for i in sorted(found)] + media_cites
    return scene.model_copy(update={"citations": citations, "citations_fixed": True})


def hook_citations(answer: _Answer, item: StoryItem, judge: _Judge) -> list[Citation]:
    """The sentences the hook cites, or those that back it when the cited ones do not."""
    last = len(item.sentences) - 1
    cited = [cite_sentence(item, i) for i in dict.fromkeys(answer.hook_sentences) if 0 <= i <= last]
    if cited and judge.support([answer.hook], [c.quote for c in cited]).supported:
        return cited
    found = judge.sources([answer.hook], item.sentences, [])
    return [cite_sentence(item, i) for i in sorted(found)] if found is not None else cited or [cite_sentence(item, 0)]


def to_story(answer: _Answer, trend: TrendBrief, item: StoryItem, *, backend: str, model: str,
             threshold: float, lang: str | None = None, similarity: Similarity | None = None,
             cross_threshold: float = DEFAULT_CROSS_LINGUAL_THRESHOLD) -> tuple[Story | None, list[str]]:
    """The answer as a Story, or the problems that make it impossible to build one. `similarity` judges
    a story told in another language than its item's."""
    lang = lang or item.lang
    translated = lang.split("-")[0] != item.lang.split("-")[0]
    judge = _Judge(threshold, similarity if translated else None, cross_threshold)
    problems: list[str] = []
    media = item.media_by_id()
    last = len(item.sentences) - 1
    cursor: dict[str, float] = {}
    next_media = 0
    scenes = []
    for n, a in enumerate(answer.scenes, start=1):
        numbers = list(dict.fromkeys(a.sentences))
        bad = [i for i in numbers if not 0 <= i <= last]
        unknown = [m for m in a.media if m not in media]
        if bad:
            problems.append(f"scene {n} cites sentence {bad[0]}; the item has sentences 0 to {last}")
        if unknown:
            problems.append(f"scene {n} uses media {unknown[0]}, which is not a stored image or video of this item "
                            f"(use one of: {', '.join(media) or 'none'})")
        if bad or unknown:
            continue
        shown = [media[m] for m in dict.fromkeys(a.media)]
        if not shown and item.media:  # the model chose none: show the next one in order
            shown = [item.media[next_media % len(item.media)]]
            next_media += 1
        duration = scene_seconds(a.narration)
        # A caption backs a scene only in the language it is written in.
        media_cites = [cite_media(item, m) for m in shown if m.text] if not translated else []
        try:
            scene = Scene(narration=a.narration, on_screen_text=a.on_screen_text, duration_s=duration,
                          media=[media_ref(m, duration, cursor) for m in shown],
                          citations=[cite_sentence(item, i) for i in numbers] + media_cites)
        except ValidationError as exc:
            problems.append(f"scene {n}: {exc.errors()[0]['msg']}")
            continue
        scenes.append(fix_citations(scene, item, media_cites, judge))
    if problems:
        return None, problems
    # A hashtag is a word: small models fill the list with digits or ids.
    tags = [h for h in answer.hashtags if any(c.isalpha() for c in h) and h not in media]
    try:
        story = Story(title=answer.title[:TITLE_CHARS], hook=answer.hook[:HOOK_CHARS],
                      hook_citations=hook_citations(answer, item, judge), scenes=scenes,
                      hashtags=tags or (template_hashtags(trend, item) if not translated else []), lang=lang,
                      source_lang=item.lang if translated else None,
                      duration_s=story_seconds(answer.hook, scenes), trend_id=trend.id, article_id=item.article_id,
                      backend=backend, model=model)
    except ValidationError as exc:
        return None, [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]]
    return story, []


# ---- the writer ---------------------------------------------------------------------------------

class LlmStoryWriter:
    """A StoryWriter over any chat backend, with validation and retries."""

    translates = True  # told to write in the language asked for, whatever the item's

    def __init__(self, chat: ChatBackend, *, story: StorySettings, llm: LlmSettings):
        self.chat = chat
        self.story = story
        self.llm = llm
        self.name = chat.name
        self.model = chat.model

    def request(self, messages: list[dict], schema: dict) -> dict:
        return {"model": self.model, "messages": messages, "max_tokens": self.llm.max_tokens,
                "temperature": self.llm.temperature, "seed": self.llm.seed,
                "response_format": {"type": "json_schema", "json_schema": {"name": "story", "schema": schema}}}

    def write(self, trend: TrendBrief, item: StoryItem, *, lang: str | None = None, on_progress=None,
              similarity: Similarity | None = None) -> Story:
        lang = lang or item.lang
        report = on_progress or (lambda step, done, total: None)
        shown = prompt_sentences(item, self.story.prompt_sentences)
        schema = answer_schema(item, shown, self.story)
        base = [{"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": user_prompt(trend, item, shown, self.story, lang)}]
        messages = base
        attempts = self.llm.max_retries + 1
        problems: list[str] = []
        for attempt in range(1, attempts + 1):
            content, finish = self._ask(messages, schema, f"attempt {attempt} of {attempts}", report)
            story, problems = self._judge(content, finish, trend, item, lang, similarity)
            if story is not None:
                return story.model_copy(update={"attempts": attempt})
            log.info("story.answer_rejected", backend=self.name, attempt=attempt, problems=problems[:3])
            # Only the last answer goes back: the context stays small for small models.
            messages = base + [{"role": "assistant", "content": content},
                               {"role": "user", "content": feedback(problems)}]
        raise StoryInvalid(
            f"the {self.name} model {self.model!r} gave no valid story for item {item.article_id} in {attempts} "
            f"attempts (llm.max_retries = {self.llm.max_retries}); last problems: " + "; ".join(problems[:5]),
            problems=problems)

    def _ask(self, messages: list[dict], schema: dict, step: str, report) -> tuple[str, str | None]:
        request = self.request(messages, schema)
        limit = self.llm.max_tokens
        if getattr(self.chat, "streams", False):
            report(f"{step}: tokens", 0, limit)
            answer = self.chat.complete(request, on_token=lambda count: report(f"{step}: tokens", count, limit))
        else:
            report(f"{step}: waiting", 0, limit)
            answer = self.chat.complete(request)
        try:
            choice = answer["choices"][0]
            content, finish = choice["message"].get("content") or "", choice.get("finish_reason")
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise LlmError(f"the {self.name} backend answered something that is not a chat completion: "
                           f"{str(answer)[:200]}") from exc
        used = (answer.get("usage") or {}).get("completion_tokens")
        report(f"{step}: tokens", int(used) if isinstance(used, (int, float)) else 0, limit)
        return content, finish

    def _judge(self, content: str, finish: str | None, trend: TrendBrief, item: StoryItem, lang: str,
               similarity: Similarity | None) -> tuple[Story | None, list[str]]:
        try:
            answer = parse_answer(content)
        except ValueError as exc:
            cut = " (the answer was cut off at llm.max_tokens: write shorter scenes)" if finish == "length" else ""
            return None, [f"{exc}{cut}"]
        story, problems = to_story(answer, trend, item, backend=self.name, model=self.model,
                                   threshold=self.story.grounding_threshold, lang=lang, similarity=similarity,
                                   cross_threshold=self.story.cross_lingual_threshold)
        if story is None:
            return None, problems
        story, problems = check(story, item, self.story, similarity=similarity)
        return (story, []) if not problems else (None, problems)


def feedback(problems: list[str]) -> str:
    listed = "\n".join(f"- {p}" for p in problems[:8])
    return f"That story was not accepted:\n{listed}\nWrite the whole story again as one JSON object, fixing these."


__all__ = ["ChatBackend", "LlmStoryWriter", "answer_schema", "parse_answer", "prompt_sentences", "to_story",
           "user_prompt"]


def llamacpp_writer(story: StorySettings, llm: LlmSettings, chat) -> LlmStoryWriter:
    """The registry's `llamacpp` story writer: a GGUF model in this process."""
    return LlmStoryWriter(chat("llamacpp"), story=story, llm=llm)


def openai_writer(story: StorySettings, llm: LlmSettings, chat) -> LlmStoryWriter:
    """The registry's `openai` story writer: any OpenAI-compatible server."""
    return LlmStoryWriter(chat("openai"), story=story, llm=llm)
