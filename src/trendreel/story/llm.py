"""Stories from a language model: prompt, JSON schema, answer -> story, validation, retries.

The model sees the trend line, the item's sentences with their numbers, and its media with ids.
Its answer is constrained by a JSON schema whose sentence numbers and media ids are enums, so even
a small model cannot cite what does not exist. We then turn sentence numbers into citations (with
the sentence as quote), give each scene a time range of its video, estimate durations, and validate
(scene count, length, known media, grounding). A scene whose cited sentences do not back it, while
other sentences of the item do, cites those instead (marked `citations_fixed`). An answer with problems is sent back with the
problems listed, up to `llm.max_retries` more times; then StoryInvalid names the last problems.

A chat backend is anything with `complete(request) -> chat.completion dict`: the llama.cpp server
in-process (`llamacpp.py`) or any OpenAI-compatible server over HTTP (`openai_http.py`).
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
from trendreel.story.grounding import best_sources, scene_claims, scene_support
from trendreel.story.models import Scene, Story
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

SYSTEM_PROMPT = """You write the script of a short vertical video from one stored news item.
Rules:
- Use only facts from the numbered sentences of the item. Never add a fact, name or number.
- For each scene, first list the numbers of the sentences it retells, then write its narration:
  retell only those sentences, shorter and simpler, in the item's language.
- on_screen_text: a few words from the narration.
- media: the id of one stored image or video of the item to show during the scene.
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
            "scenes": {"type": "array", "minItems": story.min_scenes, "maxItems": story.max_scenes,
                       "items": {"type": "object", "properties": scene, "required": list(scene),
                                 "additionalProperties": False}},
            "hashtags": {"type": "array", "items": {"type": "string", "maxLength": 30}, "maxItems": 5},
        },
        "required": ["title", "hook", "scenes", "hashtags"],
        "additionalProperties": False,
    }


def user_prompt(trend: TrendBrief, item: StoryItem, shown: list[int], story: StorySettings) -> str:
    lang = LANGUAGE_NAMES.get(item.lang, item.lang)
    rate = SYLLABLES_PER_S if item.lang in ("ko", "ja", "zh") else CHARS_PER_S
    total = min(int(story.max_seconds * rate * 0.8), story.max_scenes * story.max_scene_chars)
    scenes = f"{story.min_scenes}" if story.min_scenes == story.max_scenes else f"{story.min_scenes} to {story.max_scenes}"
    lines = [f"Trend: {trend.text}", "", "Sentences of the item (0 is its title):"]
    lines += [f"[{i}] {item.sentences[i]}" for i in shown]
    lines += ["", "Media of the item:"]
    for m in item.media:
        length = f", {m.duration_s:.1f} s" if m.kind == "video" else ""
        lines.append(f"- {m.id} ({m.kind}{length}): {m.caption or 'no caption'}")
    if not item.media:
        lines.append("- none")
    lines += ["", f"Task: write a story of {scenes} scenes in {lang} (narration: at most {story.max_scene_chars} "
              f"characters per scene, {total} in all). In each scene, list the numbers of the sentences you use, "
              f"then retell those sentences as its narration."]
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


def fix_citations(scene: Scene, item: StoryItem, media_cites: list, threshold: float) -> Scene:
    """Models often cite the sentence next to the one they retell: when the cited sentences do not back
    the scene but other sentences of the item do, cite those. Nothing unsupported becomes supported."""
    if scene_support(scene, threshold=threshold).supported:
        return scene
    candidates = dict(enumerate(item.sentences))
    found = best_sources(scene_claims(scene), candidates, given=[c.quote for c in media_cites], threshold=threshold)
    if found is None:
        return scene
    citations = [cite_sentence(item, i) for i in sorted(found)] + media_cites
    return scene.model_copy(update={"citations": citations, "citations_fixed": True})


def to_story(answer: _Answer, trend: TrendBrief, item: StoryItem, *, backend: str, model: str,
             threshold: float) -> tuple[Story | None, list[str]]:
    """The answer as a Story, or the problems that make it impossible to build one."""
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
        media_cites = [cite_media(item, m) for m in shown if m.text]
        try:
            scene = Scene(narration=a.narration, on_screen_text=a.on_screen_text, duration_s=duration,
                          media=[media_ref(m, duration, cursor) for m in shown],
                          citations=[cite_sentence(item, i) for i in numbers] + media_cites)
        except ValidationError as exc:
            problems.append(f"scene {n}: {exc.errors()[0]['msg']}")
            continue
        scenes.append(fix_citations(scene, item, media_cites, threshold))
    if problems:
        return None, problems
    # A hashtag is a word: small models fill the list with digits or ids.
    tags = [h for h in answer.hashtags if any(c.isalpha() for c in h) and h not in media]
    try:
        story = Story(title=answer.title[:TITLE_CHARS], hook=answer.hook[:HOOK_CHARS], scenes=scenes,
                      hashtags=tags or template_hashtags(trend, item), lang=item.lang,
                      duration_s=story_seconds(answer.hook, scenes), trend_id=trend.id, article_id=item.article_id,
                      backend=backend, model=model)
    except ValidationError as exc:
        return None, [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]]
    return story, []


# ---- the writer ---------------------------------------------------------------------------------

class LlmStoryWriter:
    """A StoryWriter over any chat backend, with validation and retries."""

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

    def write(self, trend: TrendBrief, item: StoryItem) -> Story:
        shown = prompt_sentences(item, self.story.prompt_sentences)
        schema = answer_schema(item, shown, self.story)
        base = [{"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": user_prompt(trend, item, shown, self.story)}]
        messages = base
        attempts = self.llm.max_retries + 1
        problems: list[str] = []
        for attempt in range(1, attempts + 1):
            content, finish = self._ask(messages, schema)
            story, problems = self._judge(content, finish, trend, item)
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

    def _ask(self, messages: list[dict], schema: dict) -> tuple[str, str | None]:
        answer = self.chat.complete(self.request(messages, schema))
        try:
            choice = answer["choices"][0]
            return choice["message"].get("content") or "", choice.get("finish_reason")
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise LlmError(f"the {self.name} backend answered something that is not a chat completion: "
                           f"{str(answer)[:200]}") from exc

    def _judge(self, content: str, finish: str | None, trend: TrendBrief, item: StoryItem) -> tuple[Story | None, list[str]]:
        try:
            answer = parse_answer(content)
        except ValueError as exc:
            cut = " (the answer was cut off at llm.max_tokens: write shorter scenes)" if finish == "length" else ""
            return None, [f"{exc}{cut}"]
        story, problems = to_story(answer, trend, item, backend=self.name, model=self.model,
                                   threshold=self.story.grounding_threshold)
        if story is None:
            return None, problems
        story, problems = check(story, item, self.story)
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
