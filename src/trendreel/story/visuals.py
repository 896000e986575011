"""Which stored pictures a story shows: candidates from the whole trend, ranked for each scene.

Candidates are the told item's stored images and videos, those of every evidence item of the
trend, and stored media related to each scene by vector search: the scene's narration vector
against `video_text` vectors and, with the default `caption-text` image embedder (image vectors
are caption text in the text space), `image` vectors; a searched medium must be at least
MIN_RELATED similar to some scene. Only media that are stored, not purged and whose file is there
(videos with a probed duration) are used; the same file stored for two items counts once.

For each scene, a candidate scores

    relevance   cosine of its caption's vector (else its transcript's, else its item's title) to the
                scene's narration vector
    + 0.15 x quality   the short side over 720 px (at most 1; unknown 0.5), a video shorter than its
                       slot scaled down (the render holds its last frame)
    + 0.10 for a video (moving pictures hold a viewer), + 0.05 for the told item's own
    + 0.30 for a medium the scene's narration cites (a caption said as the scene)
    - 0.50 for each scene that already showed it

and the best is shown, never the one of the scene before. A scene longer on air than
TWO_VISUALS_OVER_S (the first carries the hook too) shows two. So a story shows as many distinct
visuals as the trend has, up to one or two a scene.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select

from trendreel.db.tables import Article, TrendItem
from trendreel.index.vectors import SearchFilter
from trendreel.story.build import media_ref
from trendreel.story.models import MediaRef, Story
from trendreel.story.source import SourceMedia, StoryItem, load_media
from trendreel.story.timing import speech_seconds

MIN_RELATED = 0.3
SEARCH_LIMIT = 8
TWO_VISUALS_OVER_S = 7.5
QUALITY_WEIGHT, VIDEO_BONUS, OWN_BONUS, CITED_BONUS, REUSE_PENALTY = 0.15, 0.10, 0.05, 0.30, 0.50
_GOOD_SHORT_SIDE_PX = 720


@dataclass(frozen=True)
class Candidate:
    media: SourceMedia
    vector: np.ndarray
    own: bool


def quality(media: SourceMedia, slot_s: float) -> float:
    """0..1: resolution, and for a video whether it lasts its slot."""
    if media.width and media.height:
        q = min(1.0, min(media.width, media.height) / _GOOD_SHORT_SIDE_PX)
    else:
        q = 0.5
    if media.kind == "video" and media.duration_s:
        q *= 0.5 + 0.5 * min(1.0, media.duration_s / max(slot_s, 0.1))
    return q


def scene_texts(story: Story) -> list[str]:
    """What each scene is about: its narration (the first scene also says the hook)."""
    return [(f"{story.hook} {s.narration}" if i == 0 else s.narration) for i, s in enumerate(story.scenes)]


def assign(story: Story, candidates: list[Candidate], scene_vectors: np.ndarray) -> Story:
    """The story with each scene's media chosen among `candidates` (see the module docstring)."""
    if not candidates:
        return story
    hook_s = speech_seconds(story.hook)
    uses: Counter[str] = Counter()
    previous: set[str] = set()
    cursor: dict[str, float] = {}
    scenes = []
    for i, scene in enumerate(story.scenes):
        on_air = scene.duration_s + (hook_s if i == 0 else 0.0)
        slots = 2 if on_air > TWO_VISUALS_OVER_S and len(candidates) > 2 else 1
        slot_s = on_air / slots
        cited = {c.media_id for c in scene.citations if c.media_id}
        relevance = [float(np.dot(scene_vectors[i], c.vector)) for c in candidates]

        def score(k: int) -> float:
            c = candidates[k]
            return (relevance[k] + QUALITY_WEIGHT * quality(c.media, slot_s)
                    + (VIDEO_BONUS if c.media.kind == "video" else 0.0) + (OWN_BONUS if c.own else 0.0)
                    + (CITED_BONUS if c.media.id in cited else 0.0) - REUSE_PENALTY * uses[c.media.id])

        chosen: list[SourceMedia] = []
        for _ in range(slots):
            free = [k for k, c in enumerate(candidates) if c.media.id not in previous and c.media not in chosen]
            if not free:  # a single medium for the whole story: repeating it beats a blank screen
                free = [k for k, c in enumerate(candidates) if c.media not in chosen]
            if not free:
                break
            best = max(free, key=lambda k: (score(k), -k))
            chosen.append(candidates[best].media)
            uses[candidates[best].media.id] += 1
        refs: list[MediaRef] = [media_ref(m, slot_s, cursor) for m in chosen]
        previous = {m.id for m in chosen}
        scenes.append(scene.model_copy(update={"media": refs}))
    return story.model_copy(update={"scenes": scenes})


# ---- gathering candidates from the index ---------------------------------------------------------

def _unit_rows(mat) -> np.ndarray:
    mat = np.asarray(mat, dtype=np.float32)
    norms = np.linalg.norm(mat, axis=1, keepdims=True)
    return np.divide(mat, norms, out=np.zeros_like(mat), where=norms > 0)


def _searched(app, vectors: np.ndarray) -> set[str]:
    """Media ids whose vectors are close to some scene's (see MIN_RELATED)."""
    kinds = ["video_text"]
    if app.settings.index.image_embedder == "caption-text":  # CLIP vectors live in another space
        kinds.append("image")
    store = app.vectors()
    found: set[str] = set()
    for vec in vectors:
        for hit in store.search(vec, limit=SEARCH_LIMIT, filter=SearchFilter(kinds=kinds)):
            media_id = hit.payload.get("media_id")
            if media_id and hit.score >= MIN_RELATED:
                found.add(media_id)
    return found


def _titles(app, article_ids: set[str]) -> dict[str, str]:
    if not article_ids:
        return {}
    with app.db.session() as s:
        return dict(s.execute(select(Article.id, Article.title).where(Article.id.in_(article_ids))).all())


def pick_visuals(app, story: Story, item: StoryItem) -> tuple[Story, StoryItem]:
    """The story with media from the whole trend, and the item knowing them (for validation)."""
    texts = scene_texts(story)
    embedder = app.text_embedder()
    scene_vectors = _unit_rows(embedder.embed(texts))
    with app.db.session() as s:
        evidence = set(s.scalars(select(TrendItem.article_id).where(TrendItem.trend_id == story.trend_id))) \
            if story.trend_id else set()
    evidence.discard(item.article_id)
    pool = load_media(app.db, app.files, media_ids=_searched(app, scene_vectors) - set(item.media_by_id()),
                      article_ids=evidence)
    media: list[SourceMedia] = []
    seen_files: set[str] = set()
    for m in (*item.media, *pool):  # the told item's first: its copy of a shared file wins
        if m.sha256 and m.sha256 in seen_files or any(m.id == x.id for x in media):
            continue
        if m.sha256:
            seen_files.add(m.sha256)
        media.append(m)
    if not media:
        return story, item
    titles = _titles(app, {m.article_id for m in media if not m.caption and not m.transcript})
    described = [m.caption or m.transcript or titles.get(m.article_id) or item.title for m in media]
    vectors = _unit_rows(embedder.embed(described))
    own = set(item.media_by_id())
    candidates = [Candidate(media=m, vector=v, own=m.id in own) for m, v in zip(media, vectors)]
    related = tuple(m for m in media if m.id not in own)
    return assign(story, candidates, scene_vectors), StoryItem(
        article_id=item.article_id, title=item.title, lang=item.lang, sentences=item.sentences, media=item.media,
        related_media=related)


def distinct_visuals(story: Story) -> int:
    return len(story.media_ids())
