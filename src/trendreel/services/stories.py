"""Use cases of stories: write a story for a trend, read stories back, edit one.

A story's id comes from (trend, item, backend, model), so writing again with the same inputs lands
on the same row: the stored story is returned without running the model, unless `force` asks for
a fresh one. Each written story appends one `StoryWritten` event; the same story written twice
appends nothing new.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import select

from trendreel import events
from trendreel.bootstrap import App
from trendreel.db import repo
from trendreel.db.tables import Event, MediaItem, utcnow
from trendreel.db.tables import Story as StoryRow
from trendreel.errors import ConfigError, InvalidInput, StoryInvalid, UnknownStory
from trendreel.ids import story_id
from trendreel.settings import Settings
from trendreel.story.choose import choose_item
from trendreel.story.grounding import grade
from trendreel.story.llamacpp import packaged_model_name
from trendreel.story.models import Story
from trendreel.story.source import load_item, load_trend
from trendreel.story.template import TemplateWriter


def write_story(app: App, *, trend_id: str, item_id: str | None = None, backend: str | None = None,
                force: bool = False) -> dict:
    """A story for the trend, told from `item_id` or the best-matching stored item; stored and returned."""
    name = app.registry.check("story_writer", backend or app.settings.story.backend)
    trend = load_trend(app.db, trend_id)
    article_id = item_id or choose_item(app, trend)
    sid = story_id(trend.id, article_id, name, backend_model(name, app.settings))
    if not force:
        with app.db.session() as s:
            row = s.get(StoryRow, sid)
            if row is not None:
                return _story_dict(row) | {"reused": True}
    item = load_item(app.db, app.files, article_id)
    story = app.story_writer(name).write(trend, item).model_copy(update={"id": sid})
    row = save_story(app, story)
    return _story_dict(row) | {"reused": False}


def get_story(app: App, story_id: str) -> dict:
    """One stored story, whole."""
    with app.db.session() as s:
        row = s.get(StoryRow, story_id)
        if row is None:
            raise UnknownStory(f"unknown story {story_id!r}", hint="list stories with `trendreel stories`")
        return _story_dict(row)


def list_stories(app: App, *, trend_id: str | None = None, limit: int = 50) -> list[dict]:
    """Stored stories, newest first (a summary of each; `get_story` gives the scenes)."""
    if not 1 <= limit <= 1000:
        raise ConfigError("limit must be between 1 and 1000")
    q = select(StoryRow).order_by(StoryRow.created_at.desc(), StoryRow.id).limit(limit)
    if trend_id:
        q = q.where(StoryRow.trend_id == trend_id)
    with app.db.session() as s:
        return [_summary(r) for r in s.scalars(q)]


def backend_model(name: str, settings: Settings) -> str:
    """The model a backend would use, known without loading it (part of the story id)."""
    if name == "template":
        return TemplateWriter.model
    if name == "llamacpp":
        if settings.llm.model_path:
            return Path(settings.llm.model_path).name
        return packaged_model_name()
    return settings.llm.model


def save_story(app: App, story: Story) -> StoryRow:
    """Store a validated, graded story under its id (a new row or the same row changed) with its event."""
    body = story.model_dump(mode="json")
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]
    with app.db.session() as s:
        row = s.get(StoryRow, story.id)
        if row is None:
            row = StoryRow(id=story.id)
            s.add(row)
        row.trend_id, row.article_id = story.trend_id, story.article_id
        row.backend, row.model, row.lang = story.backend, story.model, story.lang
        row.title, row.duration_s, row.grounding = story.title, story.duration_s, story.grounding
        row.body = body
        row.created_at = utcnow()
        s.flush()
        repo.append_event(s, type=events.STORY_WRITTEN, subject_type="story", subject_id=story.id,
                          dedupe_key=f"{events.STORY_WRITTEN}:{story.id}:{digest}",
                          payload={"trend_id": story.trend_id, "article_id": story.article_id, "backend": story.backend,
                                   "model": story.model, "scenes": len(story.scenes), "duration_s": story.duration_s,
                                   "grounding": story.grounding})
        return row


def _story_dict(row: StoryRow) -> dict:
    return {**row.body, "id": row.id, "created_at": row.created_at.isoformat() if row.created_at else None}


def _summary(row: StoryRow) -> dict:
    return {"id": row.id, "trend_id": row.trend_id, "article_id": row.article_id, "backend": row.backend,
            "model": row.model, "lang": row.lang, "title": row.title, "duration_s": row.duration_s,
            "grounding": row.grounding, "scenes": len((row.body or {}).get("scenes", [])),
            "created_at": row.created_at.isoformat() if row.created_at else None}


# ---- editing a stored story --------------------------------------------------------------

EDITABLE = ("title", "hook", "hashtags", "scenes")


def edit_story(app: App, story_id: str, changes: dict, *, by: str | None = None) -> dict:
    """Apply `changes` (title, hook, hashtags, scenes) to a stored story; StoryInvalid lists what is wrong.

    The story keeps its row and id (its trend, item, backend and model do not change), so the video made
    from it is re-rendered into the same video id: render_story sees the story's new hash. What changed
    is in the event log (a StoryWritten event with the new content's digest and `edited_by`). An edit may
    reword, reorder, drop or retime scenes and change media among the item's own; it may cite only
    quotes the story already had, so no edit can invent a source, and every scene must still pass the
    grounding check (story.grounding_threshold).
    """
    if not changes:
        raise InvalidInput("nothing to change: give title, hook, hashtags or scenes")
    current = get_story(app, story_id)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise StoryInvalid(f"these story fields cannot be edited: {', '.join(sorted(unknown))} (editable: {', '.join(EDITABLE)})",
                           problems=sorted(unknown))
    body = {k: v for k, v in current.items() if k not in ("created_at", "reused")}
    body.update({k: v for k, v in changes.items() if v is not None})
    scenes = body.get("scenes") or []
    for scene in scenes:  # the check's verdicts are recomputed, never taken from the caller
        if isinstance(scene, dict):
            scene.pop("support", None)
            scene.pop("supported", None)
    if scenes and all(isinstance(s, dict) and s.get("duration_s") for s in scenes):
        body["duration_s"] = round(sum(float(s["duration_s"]) for s in scenes), 3)
    try:
        story = Story.model_validate(body)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()]
        raise StoryInvalid("the edited story is not valid: " + "; ".join(problems[:5]), problems=problems) from None

    problems = []
    known_quotes = {(c["article_id"], c.get("sentence"), c.get("media_id"), c["quote"])
                    for sc in current["scenes"] for c in sc["citations"]}
    for i, scene in enumerate(story.scenes, 1):
        for c in scene.citations:
            if (c.article_id, c.sentence, c.media_id, c.quote) not in known_quotes:
                problems.append(f"scene {i}: cites a quote the story did not have ({c.quote[:60]!r}); cite one of its sources")
    with app.db.session() as s:
        own_media = set(s.scalars(select(MediaItem.id).where(MediaItem.article_id == story.article_id)))
    own_media |= {m["media_id"] for sc in current["scenes"] for m in sc.get("media", [])}
    for i, scene in enumerate(story.scenes, 1):
        for m in scene.media:
            if m.media_id not in own_media:
                problems.append(f"scene {i}: media {m.media_id} is not one of the item's")
    threshold = app.settings.story.grounding_threshold
    graded = grade(story, threshold=threshold)
    for i, scene in enumerate(graded.scenes, 1):
        if not scene.supported:
            problems.append(f"scene {i} is not backed by its citations (support {scene.support} < {threshold}); "
                            "reword it closer to the quotes or cite other sentences of the story")
    if problems:
        raise StoryInvalid("the edited story was not saved: " + "; ".join(problems[:5]), problems=problems)
    graded = graded.model_copy(update={"id": story_id})
    row = save_story(app, graded)
    _note_editor(app, story_id, by)
    return {**get_story(app, row.id), "edited": True}


def _note_editor(app: App, story_id: str, by: str | None) -> None:
    """Who edited: added to the StoryWritten event the save just appended."""
    if not by:
        return
    with app.db.session() as s:
        ev = s.scalars(select(Event).where(Event.type == "StoryWritten", Event.subject_id == story_id)
                       .order_by(Event.id.desc()).limit(1)).first()
        if ev is not None:
            ev.payload = {**(ev.payload or {}), "edited_by": by}
