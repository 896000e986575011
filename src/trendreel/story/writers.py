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

    def write(self, trend: TrendBrief, item: StoryItem) -> Story: ...
