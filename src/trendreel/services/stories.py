"""Use cases of stories: write a story for a trend, read stories back, edit one.

A story's id comes from (trend, item, backend, model, and the language when it is not the item's),
so writing again with the same inputs lands on the same row: the stored story is returned without
running the model, unless `force` asks for a fresh one. A story is told in the trend's language
unless another is asked for. After the writer, each scene's visuals are picked from the whole trend
(story/visuals.py), the story is checked again and its verbatim share recorded. Each written story
appends one `StoryWritten` event; the same story written twice appends nothing new.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydantic import ValidationError
from sqlalchemy import select

from trendreel import events
from trendreel.bootstrap import App
from trendreel.db import repo
from trendreel.db.tables import Event, MediaItem, TrendItem, utcnow
from trendreel.db.tables import Story as StoryRow
from trendreel.errors import ConfigError, InvalidInput, StoryError, StoryInvalid, UnknownStory
from trendreel.ids import story_id
from trendreel.settings import Settings
from trendreel.story.choose import choose_item, item_languages, same_base_language
from trendreel.story.grounding import Similarity, best_sources, grade, is_cross_lingual
from trendreel.story.llamacpp import packaged_model_name
from trendreel.story.models import Citation, Story
from trendreel.story.source import load_item, load_trend
from trendreel.story.template import TemplateWriter
from trendreel.story.validate import check
from trendreel.story.verbatim import story_verbatim_share
from trendreel.story.visuals import pick_visuals

Progress = Callable[[str, int, int], None]


def write_story(app: App, *, trend_id: str, item_id: str | None = None, backend: str | None = None,
                lang: str | None = None, force: bool = False, on_progress: Progress | None = None) -> dict:
    """A story for the trend in `lang` (default: the trend's language), told from `item_id` or the
    best-matching stored item (one in that language when there is one); stored and returned.

    `on_progress(step, done, total)` hears the steps: "choosing the item", "writing" (the template) or a
    model's "attempt 1 of 3: waiting" and "attempt 1 of 3: tokens" (done = tokens so far of
    llm.max_tokens), "choosing visuals"."""
    report = on_progress or (lambda step, done, total: None)
    name = app.registry.check("story_writer", backend or app.settings.story.backend)
    trend = load_trend(app.db, trend_id)
    wanted = _language(lang) or _language(trend.lang)
    report("choosing the item", 0, 1)
    article_id = item_id or choose_item(app, trend, lang=wanted)
    report("choosing the item", 1, 1)
    item_lang = item_languages(app, [article_id]).get(article_id)
    told_in = wanted or _language(item_lang) or "und"
    translated = item_lang is not None and not same_base_language(item_lang, told_in)
    sid = story_id(trend.id, article_id, name, backend_model(name, app.settings), lang=told_in if translated else None)
    if not force:
        with app.db.session() as s:
            row = s.get(StoryRow, sid)
            if row is not None:
                return _story_dict(row) | {"reused": True}
    item = load_item(app.db, app.files, article_id)
    writer = app.story_writer(name)
    warnings = []
    if translated:
        if not getattr(writer, "translates", False):
            raise StoryError(
                f"no stored item in {told_in} {'was named' if item_id else 'matches trend ' + trend.id}: item {article_id} "
                f"is in {item.lang}, and the {name} writer tells a story only in its item's language",
                hint=f"`trendreel story --trend {trend.id} --lang {item.lang}`, or a language model: --backend openai")
        warnings.append(f"told from item {article_id} in {item.lang}: "
                        + ("it was named" if item_id else f"no stored item in {told_in} matches the trend"))
    similarity = _similarity(app) if translated else None
    story = _write(writer, trend, item, lang=told_in, on_progress=report, similarity=similarity)
    report("choosing visuals", 0, 1)
    story, known = pick_visuals(app, story, item)
    report("choosing visuals", 1, 1)
    story = story.model_copy(update={"id": sid, "warnings": [*warnings, *story.warnings],
                                     "source_lang": item.lang if translated else None})
    story, problems = check(story, known, app.settings.story, similarity=similarity)
    if problems:  # the writer's story was valid: a problem here is the visuals' bug, said plainly
        raise StoryInvalid("the story failed validation after its visuals were chosen: " + "; ".join(problems[:5]),
                           problems=problems)
    row = save_story(app, story.model_copy(update={"verbatim_share": story_verbatim_share(story)}))
    return _story_dict(row) | {"reused": False}


def _language(lang: str | None) -> str | None:
    """'ko', 'en': the base language; None for none or 'und'."""
    base = (lang or "").split("-")[0].strip().casefold()
    return base if base and base != "und" else None


def _write(writer, trend, item, **options) -> Story:
    """The writer's story, passing only the options its `write` takes (a plugin may take none)."""
    accepted = inspect.signature(writer.write).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
        options = {k: v for k, v in options.items() if k in accepted}
    return writer.write(trend, item, **options)


def _similarity(app: App) -> Similarity:
    """Cosine similarity of a claim and its quotes in the text embedder's (multilingual) space."""
    embedder = app.text_embedder()
    cache: dict[str, np.ndarray] = {}

    def vector(text: str) -> np.ndarray:
        if text not in cache:
            v = np.asarray(embedder.embed([text])[0], dtype=np.float32)
            n = float(np.linalg.norm(v))
            cache[text] = v / n if n else v
        return cache[text]

    def similarity(claim: str, sources: list[str]) -> float:
        c = vector(claim)
        return max(float(np.dot(c, vector(q))) for q in [*sources, "\n".join(sources)])

    return similarity


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
                                   "model": story.model, "lang": story.lang, "scenes": len(story.scenes),
                                   "duration_s": story.duration_s, "grounding": story.grounding,
                                   "verbatim_share": story.verbatim_share})
        return row


def _verbatim_share(body: dict) -> float | None:
    """The body's verbatim share; stories stored before it was recorded get it computed from their quotes."""
    if body.get("verbatim_share") is not None:
        return body["verbatim_share"]
    try:
        return story_verbatim_share(Story.model_validate(body))
    except ValidationError:
        return None


def _story_dict(row: StoryRow) -> dict:
    body = dict(row.body or {})
    body["verbatim_share"] = _verbatim_share(body)
    return {**body, "id": row.id, "created_at": row.created_at.isoformat() if row.created_at else None}


def _summary(row: StoryRow) -> dict:
    body = row.body or {}
    return {"id": row.id, "trend_id": row.trend_id, "article_id": row.article_id, "backend": row.backend,
            "model": row.model, "lang": row.lang, "title": row.title, "duration_s": row.duration_s,
            "grounding": row.grounding, "verbatim_share": _verbatim_share(body), "scenes": len(body.get("scenes", [])),
            "created_at": row.created_at.isoformat() if row.created_at else None}


# ---- editing a stored story --------------------------------------------------------------

EDITABLE = ("title", "hook", "hashtags", "scenes")


def edit_story(app: App, story_id: str, changes: dict, *, by: str | None = None) -> dict:
    """Apply `changes` (title, hook, hashtags, scenes) to a stored story; StoryInvalid lists what is wrong.

    The story keeps its row and id (its trend, item, backend and model do not change), so the video made
    from it is re-rendered into the same video id: render_story sees the story's new hash. What changed
    is in the event log (a StoryWritten event with the new content's digest and `edited_by`). An edit may
    reword, reorder, drop or retime scenes and change media among the item's own and those of the
    trend's other items; it may cite only quotes the story already had, so no edit can invent a source,
    and every scene (and a reworded hook, against those quotes) must still pass the grounding check
    (story.grounding_threshold). The verbatim share is measured again.
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
    for key in ("hook_support", "hook_supported", "verbatim_share"):
        body.pop(key, None)
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
        articles = {story.article_id}
        if story.trend_id:  # media of the trend's other items may be shown too
            articles |= set(s.scalars(select(TrendItem.article_id).where(TrendItem.trend_id == story.trend_id)))
        allowed_media = set(s.scalars(select(MediaItem.id).where(MediaItem.article_id.in_(articles))))
    allowed_media |= {m["media_id"] for sc in current["scenes"] for m in sc.get("media", [])}
    for i, scene in enumerate(story.scenes, 1):
        for m in scene.media:
            if m.media_id not in allowed_media:
                problems.append(f"scene {i}: media {m.media_id} is not one of the item's or its trend's")
    if "hook" in changes and changes["hook"] != current.get("hook"):
        story, problem = _recite_hook(app, story, current)
        problems += [problem] if problem else []
    threshold = app.settings.story.grounding_threshold
    graded = grade(story, threshold=threshold, similarity=_similarity(app) if is_cross_lingual(story) else None,
                   cross_threshold=app.settings.story.cross_lingual_threshold)
    for i, scene in enumerate(graded.scenes, 1):
        if not scene.supported:
            problems.append(f"scene {i} is not backed by its citations (support {scene.support} < {threshold}); "
                            "reword it closer to the quotes or cite other sentences of the story")
    if graded.hook_supported is False:
        problems.append(f"the hook is not backed by its citations (support {graded.hook_support} < {threshold}); "
                        "say only what the story's sources say")
    if problems:
        raise StoryInvalid("the edited story was not saved: " + "; ".join(problems[:5]), problems=problems)
    graded = graded.model_copy(update={"id": story_id, "verbatim_share": story_verbatim_share(graded)})
    row = save_story(app, graded)
    _note_editor(app, story_id, by)
    return {**get_story(app, row.id), "edited": True}


def _recite_hook(app: App, story: Story, current: dict) -> tuple[Story, str | None]:
    """A reworded hook cites the fewest of the story's own sentence quotes that back it (or says it cannot)."""
    quotes: dict[int, Citation] = {}
    for c in [*current.get("hook_citations", []), *(c for sc in current["scenes"] for c in sc["citations"])]:
        cite = Citation.model_validate(c)
        if cite not in quotes.values():
            quotes[len(quotes)] = cite
    if is_cross_lingual(story):  # no n-grams to compare across languages: keep the hook's own citations
        return story, None
    found = best_sources([story.hook], {k: c.quote for k, c in quotes.items()},
                         threshold=app.settings.story.grounding_threshold)
    if found is None:
        return story, "the new hook is not backed by any of the story's quotes; say only what its sources say"
    return story.model_copy(update={"hook_citations": [quotes[k] for k in sorted(found)]}), None


def _note_editor(app: App, story_id: str, by: str | None) -> None:
    """Who edited: added to the StoryWritten event the save just appended."""
    if not by:
        return
    with app.db.session() as s:
        ev = s.scalars(select(Event).where(Event.type == "StoryWritten", Event.subject_id == story_id)
                       .order_by(Event.id.desc()).limit(1)).first()
        if ev is not None:
            ev.payload = {**(ev.payload or {}), "edited_by": by}
