"""Trend texts from a language model (settings `trends.text_backend = "llamacpp"` or `"openai"`).

The offline line (text.py) is good enough to read but stiff. A model can word it better, but it must
not say more than the items do, so each answer is checked before it replaces the offline line:

- one line, at most MAX_CHARS characters, in the trend's language;
- grounded: its words are found in the trend's key phrases and evidence titles (the same character
  n-gram check stories use, `story.grounding_threshold`), and every number it says is in them.

An answer with problems goes back to the model with the problems listed, up to `llm.max_retries`
more times; after that the offline line stays (and a warning is logged). A model that cannot be
reached is an LlmError: nothing of the run is stored, so the run can simply be repeated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from trendreel.crawl.extract import detect_language
from trendreel.errors import LlmError
from trendreel.logs import get_logger
from trendreel.settings import LlmSettings
from trendreel.story.grounding import support

log = get_logger(__name__)

MAX_CHARS = 90
MAX_TITLES = 8
LANGUAGE_NAMES = {"ko": "Korean", "en": "English", "ja": "Japanese", "zh": "Chinese", "de": "German",
                  "fr": "French", "es": "Spanish"}

SYSTEM_PROMPT = """You name a trend in one line for a team that makes short videos.
Rules:
- Use only words and facts found in the key phrases and headlines given. Never add a name or number.
- One line, at most 80 characters, in the language asked for.
- Say who takes part when the headlines say it (for example an age group), and that it is rising when told so.
- Answer with the JSON object only: {"text": "..."}"""

ANSWER_SCHEMA = {"type": "object", "properties": {"text": {"type": "string", "minLength": 1, "maxLength": MAX_CHARS}},
                 "required": ["text"], "additionalProperties": False}


@dataclass(frozen=True)
class TrendBriefing:
    """What the model is told about one trend."""

    lang: str
    key_phrases: Sequence[str]
    titles: Sequence[str]  # evidence titles, most central first
    rising: bool
    offline_text: str


class LlmTrendTexts:
    """Rewords trend lines with any chat backend (`complete(request) -> chat.completion dict`)."""

    def __init__(self, chat, *, llm: LlmSettings, grounding_threshold: float):
        self.chat = chat
        self.llm = llm
        self.threshold = grounding_threshold
        self.name = chat.name
        self.model = chat.model

    def line(self, brief: TrendBriefing) -> tuple[str, list[str]]:
        """The model's line, or the offline one with the last problems when no answer passed."""
        base = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user_prompt(brief)}]
        messages = base
        problems: list[str] = []
        for _attempt in range(self.llm.max_retries + 1):
            content = self._ask(messages)
            text, problems = judge(content, brief, threshold=self.threshold)
            if text is not None:
                return text, []
            messages = base + [{"role": "assistant", "content": content},
                               {"role": "user", "content": "That line was not accepted:\n"
                                + "\n".join(f"- {p}" for p in problems) + "\nWrite it again as one JSON object."}]
        log.warning("trends.llm_text_rejected", backend=self.name, model=self.model, problems=problems[:3],
                    kept=brief.offline_text)
        return brief.offline_text, problems

    def _ask(self, messages: list[dict]) -> str:
        request = {"model": self.model, "messages": messages, "max_tokens": 200, "temperature": self.llm.temperature,
                   "seed": self.llm.seed,
                   "response_format": {"type": "json_schema", "json_schema": {"name": "trend_text", "schema": ANSWER_SCHEMA}}}
        answer = self.chat.complete(request)
        try:
            return answer["choices"][0]["message"].get("content") or ""
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise LlmError(f"the {self.name} backend answered something that is not a chat completion: "
                           f"{str(answer)[:200]}") from exc


def user_prompt(brief: TrendBriefing) -> str:
    language = LANGUAGE_NAMES.get(brief.lang, brief.lang)
    titles = "\n".join(f"- {t}" for t in brief.titles[:MAX_TITLES])
    return (f"Language: {language}\nKey phrases: {', '.join(brief.key_phrases)}\n"
            f"Rising: {'yes' if brief.rising else 'no'}\nHeadlines:\n{titles}\n"
            f"A plain version of the line: {brief.offline_text}")


def judge(content: str, brief: TrendBriefing, *, threshold: float) -> tuple[str | None, list[str]]:
    """The answer's line when it passes every check, else None and what is wrong."""
    text = content.strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", text, flags=re.DOTALL)
    try:
        data = json.loads(fenced.group(1) if fenced else text)
    except json.JSONDecodeError:
        return None, ["the answer is not a JSON object"]
    line = data.get("text") if isinstance(data, dict) else None
    if not isinstance(line, str) or not line.strip():
        return None, ['the answer needs a non-empty "text"']
    line = " ".join(line.split())
    problems = []
    if len(line) > MAX_CHARS:
        problems.append(f"the line has {len(line)} characters; at most {MAX_CHARS}")
    lang = detect_language(line)
    if brief.lang in LANGUAGE_NAMES and lang != brief.lang:
        problems.append(f"the line must be in {LANGUAGE_NAMES[brief.lang]}")
    found = support(line, [*brief.key_phrases, *brief.titles], threshold=threshold)
    if found.missing_numbers:
        problems.append(f"these numbers are not in the headlines: {', '.join(found.missing_numbers)}")
    elif not found.supported:
        problems.append("use the headlines' own words: too much of the line is not in them")
    return (line, []) if not problems else (None, problems)
