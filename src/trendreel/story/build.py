"""Pieces both kinds of writer assemble stories from: citations, media time ranges, the total length."""

from __future__ import annotations

from trendreel.story.models import Citation, MediaRef, Scene
from trendreel.story.source import SourceMedia, StoryItem
from trendreel.story.timing import speech_seconds

# A video scene does not start in the last half second of its video: it starts over instead.
_MIN_VIDEO_LEFT_S = 0.5


def cite_sentence(item: StoryItem, number: int) -> Citation:
    return Citation(article_id=item.article_id, sentence=number, quote=item.sentences[number])


def cite_media(item: StoryItem, media: SourceMedia) -> Citation:
    return Citation(article_id=item.article_id, media_id=media.id, quote=media.text)


def media_ref(media: SourceMedia, duration: float, cursor: dict[str, float]) -> MediaRef:
    """An image as is; a video from where the previous scene left it (wrapping to the start), for
    `duration` seconds or to its end. `cursor` remembers how far into each video earlier scenes went."""
    if media.kind == "image":
        return MediaRef(media_id=media.id, kind="image")
    length = float(media.duration_s)
    start = cursor.get(media.id, 0.0)
    if start >= length - _MIN_VIDEO_LEFT_S:
        start = 0.0
    end = min(length, start + duration)
    cursor[media.id] = end
    return MediaRef(media_id=media.id, kind="video", start_s=round(start, 3), end_s=round(end, 3))


def story_seconds(hook: str, scenes: list[Scene]) -> float:
    """The hook is said first, then every scene."""
    return round(speech_seconds(hook) + sum(s.duration_s for s in scenes), 1)
