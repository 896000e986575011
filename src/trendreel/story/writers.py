"""The StoryWriter contract. Writers are registry backends of kind story_writer (settings `story.backend`):
a factory(StorySettings, LlmSettings, chat) where `chat(name)` gives the App's chat model of that name."""

from __future__ import annotations

from typing import Protocol

from trendreel.story.models import Story
from trendreel.story.source import StoryItem, TrendBrief


class StoryWriter(Protocol):
    """Trend + one stored item in, a validated and graded Story out (StoryError when impossible)."""

    name: str
    model: str

    translates: bool  # writes in another language than its item's (a language model); default False

    def write(self, trend: TrendBrief, item: StoryItem, *, lang: str | None = None, on_progress=None,
              similarity=None) -> Story:
        """`lang`: the story's language (default the item's); `on_progress(step, done, total)`;
        `similarity`: the embedder's judge of claims in another language than their quotes. A plugin
        may take fewer of these keywords: it is passed only those its `write` names."""
        ...
