"""The story stage: a trend plus one stored item in, a validated short-video story with provenance out.

The use cases (write, list, read, edit stories) are in trendreel.services.stories:

    >>> from trendreel import services
    >>> story = services.write_story(app, trend_id="t...", backend="template")
    >>> story["scenes"][0]["citations"][0]["quote"]

Writers are registry backends of kind story_writer (settings `story.backend`): `template` (offline,
extractive), `llamacpp` (a GGUF model in-process), `openai` (any OpenAI-compatible server). See
docs/stories.md.
"""

from trendreel.story.grounding import grade, scene_support, support
from trendreel.story.models import Citation, MediaRef, Scene, Story
from trendreel.story.source import SourceMedia, StoryItem, TrendBrief, load_item, load_trend
from trendreel.story.writers import StoryWriter

__all__ = ["Citation", "MediaRef", "Scene", "SourceMedia", "Story", "StoryItem", "StoryWriter", "TrendBrief", "grade",
           "load_item", "load_trend", "scene_support", "support"]
