"""Checks of a story against its item and the settings; each problem is a sentence a model can act on.

The same list is the error a user sees and the feedback an LLM gets on its next attempt.
"""

from __future__ import annotations

from trendreel.settings import StorySettings
from trendreel.story.grounding import Similarity, grade
from trendreel.story.models import Story
from trendreel.story.source import StoryItem
from trendreel.story.timing import speech_seconds

# Videos are probed to the millisecond; a range may end a hair past the probed length.
_VIDEO_END_SLACK_S = 0.05
# Estimated speaking times are rounded; a line may be a hair over its limit.
_SECONDS_SLACK = 0.05


def problems(story: Story, item: StoryItem, settings: StorySettings) -> list[str]:
    """Everything wrong with the story (empty when it is valid). The story must be graded first."""
    out: list[str] = []
    n = len(story.scenes)
    if not settings.min_scenes <= n <= settings.max_scenes:
        out.append(f"the story has {n} scenes; it needs {settings.min_scenes} to {settings.max_scenes}")
    if story.duration_s > settings.max_seconds + 1e-6:
        out.append(f"the story takes {story.duration_s:.1f} s to say; at most {settings.max_seconds:g} s: "
                   f"use fewer or shorter scenes")
    if story.article_id != item.article_id:
        out.append(f"the story is about item {story.article_id}, not the given item {item.article_id}")
    hook_s = speech_seconds(story.hook)
    if hook_s > settings.max_hook_seconds + _SECONDS_SLACK:
        out.append(f"the hook takes {hook_s:.1f} s to say; at most {settings.max_hook_seconds:g} s: make it one short line")
    out += [f"hook: {p}" for p in _citation_problems(story.hook_citations, item)]
    if story.hook_supported is False:
        out.append(f"the hook is not supported by the sentences it cites ({story.hook_support:.0%} found there); "
                   "say only what they say")
    media = item.known_media()
    said: dict[str, int] = {}
    for i, scene in enumerate(story.scenes, start=1):
        first = said.setdefault(_flat(scene.narration).casefold(), i)
        if first != i:
            out.append(f"scene {i} repeats the narration of scene {first}; each scene must say something new")
        if len(scene.narration) > settings.max_scene_chars:
            out.append(f"scene {i}: narration has {len(scene.narration)} characters; at most {settings.max_scene_chars}")
        seconds = speech_seconds(scene.narration)
        if seconds > settings.max_scene_seconds + _SECONDS_SLACK:
            out.append(f"scene {i}: narration takes {seconds:.1f} s to say; at most {settings.max_scene_seconds:g} s: "
                       "say less, or split it into two scenes")
        out += [f"scene {i}: {p}" for p in _media_problems(scene.media, media)]
        out += [f"scene {i}: {p}" for p in _citation_problems(scene.citations, item)]
        if scene.supported is False:
            out.append(f"scene {i}: its narration or on-screen text is not supported by the sentences it cites "
                       f"({scene.support:.0%} of its words found there; at least {settings.grounding_threshold:.0%} needed, "
                       f"and every number must be in them); say only what the cited sentences say")
    return out


def _media_problems(refs, media: dict) -> list[str]:
    out = []
    for ref in refs:
        known = media.get(ref.media_id)
        if known is None:
            out.append(f"media {ref.media_id} is not a stored image or video of this item or its trend "
                       f"(known: {', '.join(media) or 'none'})")
        elif known.kind != ref.kind:
            out.append(f"media {ref.media_id} is a {known.kind}, not a {ref.kind}")
        elif ref.kind == "video" and ref.end_s > known.duration_s + _VIDEO_END_SLACK_S:
            out.append(f"video {ref.media_id} is {known.duration_s:.2f} s long; the range ends at {ref.end_s:.2f} s")
    return out


def _citation_problems(citations, item: StoryItem) -> list[str]:
    out = []
    media = item.known_media()
    last = len(item.sentences) - 1
    for c in citations:
        if c.media_id is not None:
            source = media.get(c.media_id)
            if source is None:
                out.append(f"cites media {c.media_id}, which is not a stored image or video of this item or its trend")
                continue
            owner = source.article_id or item.article_id
            if c.article_id != owner:
                out.append(f"cites media {c.media_id} as item {c.article_id}'s; it is item {owner}'s")
            elif c.sentence is None and _flat(c.quote) not in _flat(source.text):
                out.append(f"the quote of media {c.media_id} is not its caption or transcript")
            if c.sentence is None:
                continue
        if c.article_id != item.article_id:
            out.append(f"cites item {c.article_id}, which is not the story's item {item.article_id}")
            continue
        if c.sentence is not None:
            if c.sentence > last:
                out.append(f"cites sentence {c.sentence}; the item has sentences 0 (title) to {last}")
            elif _flat(c.quote) != _flat(item.sentences[c.sentence]):
                out.append(f"the quote of sentence {c.sentence} is not that sentence's text")
    return out


def _flat(text: str) -> str:
    return " ".join(text.split())


def check(story: Story, item: StoryItem, settings: StorySettings, *,
          similarity: Similarity | None = None) -> tuple[Story, list[str]]:
    """Grade the story's grounding, then list its problems."""
    graded = grade(story, threshold=settings.grounding_threshold, similarity=similarity,
                   cross_threshold=settings.cross_lingual_threshold)
    return graded, problems(graded, item, settings)
