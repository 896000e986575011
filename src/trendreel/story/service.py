"""The story stage as use cases: write a story for a trend, read stories back.

A story's id comes from (trend, item, backend, model), so writing again with the same inputs lands
on the same row: the stored story is returned without running the model, unless `force` asks for
a fresh one. Each written story appends one `StoryWritten` event; the same story written twice
appends nothing new.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sqlalchemy import select

from trendreel import events
from trendreel.db import repo
from trendreel.db.tables import Story as StoryRow
from trendreel.db.tables import utcnow
from trendreel.errors import ConfigError, UnknownStory
from trendreel.ids import story_id
from trendreel.settings import Settings
from trendreel.story.choose import choose_item
from trendreel.story.models import Story
from trendreel.story.source import load_item, load_trend
from trendreel.story.writers import STORY_WRITERS, StoryWriter, load_story_writer


def write_story(app, *, trend_id: str, item_id: str | None = None, backend: str | None = None,
                force: bool = False) -> dict:
    """A story for the trend, told from `item_id` or the best-matching stored item; stored and returned."""
    name = backend or app.settings.story.backend
    if name not in STORY_WRITERS:
        raise ConfigError(f"unknown story backend {name!r} (known: {', '.join(STORY_WRITERS)})")
    trend = load_trend(app.db, trend_id)
    article_id = item_id or choose_item(app, trend)
    sid = story_id(trend.id, article_id, name, backend_model(name, app.settings))
    if not force:
        with app.db.session() as s:
            row = s.get(StoryRow, sid)
            if row is not None:
                return _story_dict(row) | {"reused": True}
    item = load_item(app.db, app.files, article_id)
    story = _writer(app, name).write(trend, item).model_copy(update={"id": sid})
    row = save_story(app, story)
    return _story_dict(row) | {"reused": False}


def get_story(app, story_id: str) -> dict:
    """One stored story, whole."""
    with app.db.session() as s:
        row = s.get(StoryRow, story_id)
        if row is None:
            raise UnknownStory(f"unknown story {story_id!r}", hint="list stories with `trendreel stories`")
        return _story_dict(row)


def list_stories(app, *, trend_id: str | None = None, limit: int = 50) -> list[dict]:
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
        from trendreel.story.template import TemplateWriter

        return TemplateWriter.model
    if name == "llamacpp":
        if settings.llm.model_path:
            return Path(settings.llm.model_path).name
        from trendreel.story.llamacpp import packaged_model_name

        return packaged_model_name()
    return settings.llm.model


def _writer(app, name: str) -> StoryWriter:
    """One writer per backend per app: a local model is loaded once."""
    key = f"story_writer:{name}"
    if key not in app._cache:
        app._cache[key] = load_story_writer(name, app.settings)
    return app._cache[key]


def save_story(app, story: Story) -> StoryRow:
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
