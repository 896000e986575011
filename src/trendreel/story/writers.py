"""The StoryWriter contract and the registry that picks one by name (settings `story.backend`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from trendreel.errors import ConfigError
from trendreel.settings import Settings
from trendreel.story.models import Story
from trendreel.story.source import StoryItem, TrendBrief


class StoryWriter(Protocol):
    """Trend + one stored item in, a validated and graded Story out (StoryError when impossible)."""

    name: str
    model: str

    def write(self, trend: TrendBrief, item: StoryItem) -> Story: ...


def _template(settings: Settings) -> StoryWriter:
    from trendreel.story.template import TemplateWriter

    return TemplateWriter(settings.story)


def load_chat(name: str, settings: Settings):
    """The chat backend called `name` (llamacpp: in process; openai: any OpenAI-compatible server),
    built from `settings.llm`. Trend texts use the same backends."""
    if name == "llamacpp":
        from trendreel.story.llamacpp import LlamaCppChat

        return LlamaCppChat(settings.llm, home=settings.home)
    if name == "openai":
        from trendreel.story.openai_http import OpenAIChat

        return OpenAIChat(settings.llm)
    raise ConfigError(f"unknown language model backend {name!r} (known: llamacpp, openai)")


def _llamacpp(settings: Settings) -> StoryWriter:
    from trendreel.story.llm import LlmStoryWriter

    return LlmStoryWriter(load_chat("llamacpp", settings), story=settings.story, llm=settings.llm)


def _openai(settings: Settings) -> StoryWriter:
    from trendreel.story.llm import LlmStoryWriter

    return LlmStoryWriter(load_chat("openai", settings), story=settings.story, llm=settings.llm)


# name -> factory(settings). Imports happen on use: only the chosen backend needs its packages.
STORY_WRITERS: dict[str, Callable[[Settings], StoryWriter]] = {
    "template": _template,
    "llamacpp": _llamacpp,
    "openai": _openai,
}


def load_story_writer(name: str, settings: Settings) -> StoryWriter:
    """The writer registered under `name`, built from the settings."""
    factory = STORY_WRITERS.get(name)
    if factory is None:
        raise ConfigError(f"unknown story backend {name!r} (known: {', '.join(STORY_WRITERS)})")
    return factory(settings)
