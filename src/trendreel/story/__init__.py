"""The story stage: a trend plus one stored item in, a validated short-video story with provenance out.

    >>> from trendreel.story import write_story
    >>> story = write_story(app, trend_id="t...", backend="template")
    >>> story["scenes"][0]["citations"][0]["quote"]

Backends (settings `story.backend`): `template` (offline, extractive), `llamacpp` (a GGUF model
in-process), `openai` (any OpenAI-compatible server). See docs/stories.md.
"""

from trendreel.story.grounding import grade, scene_support, support
from trendreel.story.models import Citation, MediaRef, Scene, Story
from trendreel.story.service import get_story, list_stories, write_story
from trendreel.story.source import SourceMedia, StoryItem, TrendBrief, load_item, load_trend
from trendreel.story.writers import STORY_WRITERS, StoryWriter, load_story_writer

__all__ = [
    "STORY_WRITERS",
    "Citation",
    "MediaRef",
    "Scene",
    "SourceMedia",
    "Story",
    "StoryItem",
    "StoryWriter",
    "TrendBrief",
    "get_story",
    "grade",
    "list_stories",
    "load_item",
    "load_story_writer",
    "load_trend",
    "scene_support",
    "support",
    "write_story",
]
