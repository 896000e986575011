"""Editing a stored story: the changed story is validated and graded again before it replaces the old one.

An edit keeps the story's row and id (its trend, item, backend and model do not change), so the
video made from it is re-rendered into the same video id: render_story sees the story's new hash.
What changed is in the event log (a StoryWritten event with the new content's digest and
`edited_by`). An edit may reword, reorder, drop or retime scenes and change media among the item's
own; it may cite only quotes the story already had, so no edit can invent a source, and every scene
must still pass the grounding check (story.grounding_threshold).
"""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy import select

from trendreel.db.tables import MediaItem
from trendreel.errors import StoryInvalid

EDITABLE = ("title", "hook", "hashtags", "scenes")


def edit_story(app, story_id: str, changes: dict, *, by: str | None = None) -> dict:
    """Apply `changes` (title, hook, hashtags, scenes) to a stored story; StoryInvalid lists what is wrong."""
    from trendreel.story import service as story_service
    from trendreel.story.grounding import grade
    from trendreel.story.models import Story

    current = story_service.get_story(app, story_id)
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
    row = story_service.save_story(app, graded)
    _note_editor(app, story_id, by)
    return {**story_service.get_story(app, row.id), "edited": True}


def _note_editor(app, story_id: str, by: str | None) -> None:
    """Who edited: added to the StoryWritten event the save just appended."""
    if not by:
        return
    from trendreel.db.tables import Event

    with app.db.session() as s:
        ev = s.scalars(select(Event).where(Event.type == "StoryWritten", Event.subject_id == story_id)
                       .order_by(Event.id.desc()).limit(1)).first()
        if ev is not None:
            ev.payload = {**(ev.payload or {}), "edited_by": by}
