"""Use cases of rendering: story id in, a stored, checked video with its RDB row and a VideoRendered event out.

Idempotent: the video id is "v" + 23 hex of sha256(story id, backend, the backend's settings key), so
rendering the same story with the same settings lands on the same row; a finished row is returned as
it is unless `force` (or the story changed since: its content hash is kept in the row's details).
The file is written to a temporary folder, checked with ffprobe, and only then stored under
videos/<yyyy>/<mm>/<dd>/<video_id>/{video.mp4, thumb.jpg, subtitles.srt}; a failed render leaves
a row with status=error and its message, never a broken file in the store.

Per-render choices (`choices`: aspect, subtitle_style, voice, music) are mapped onto a copy of the
render settings and validated there, so each combination has its own settings key and its own video;
`preview_frame` draws the frame after the hook with those choices, cheaply, for the workspace.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import typing
from importlib import import_module
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import select

from trendreel import events
from trendreel.adapters.owner import make_scratch
from trendreel.bootstrap import App
from trendreel.db.tables import MediaItem, Video, utcnow
from trendreel.db.tables import Story as StoryRow
from trendreel.errors import FileMissing
from trendreel.ids import video_id as make_video_id
from trendreel.render.base import MediaFile, RenderJob
from trendreel.render.compositor import Compositor
from trendreel.render.compositor import preview_frame as draw_preview_frame
from trendreel.render.plan import MUSIC_SUFFIXES
from trendreel.render.errors import BadRenderChoice, RenderError, SpeechUnavailable, UnknownVideo
from trendreel.render.tts import speech_for, voice_spec
from trendreel.settings import RenderSettings
from trendreel.services.videos import (
    claim_row,
    finish_row,
    reap_stale,
    run_recorded,
    store_files,
    video_dict,
)
from trendreel.story.models import Story
from trendreel.services.voices import voice_options

__all__ = ["check_render_choices", "load_story", "preview_frame", "render_options", "render_settings_for", "render_story"]

ASPECTS = ("9:16", "1:1", "16:9")
CHOICES = ("aspect", "subtitle_style", "voice", "music")
MUSIC_SUFFIXES = {".mp3", ".wav", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".flac"}
PREVIEW_LONG_SIDE = 960  # preview frames are drawn at most this tall (or wide)


def load_story(app: App, story_id: str) -> Story:
    """The stored story as a `trendreel.story.models.Story`; RenderError when unknown or unreadable."""
    with app.db.session() as s:
        row = s.get(StoryRow, story_id)
        if row is None:
            raise UnknownVideo(f"unknown story {story_id!r}: no stored story has this id", hint="list stories with `trendreel stories`")
        body = dict(row.body or {})
    body.setdefault("id", story_id)
    try:
        return Story.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RenderError(f"story {story_id} cannot be rendered: its stored body is not a valid story "
                          f"({where}: {first['msg']})") from exc


def _story_hash(story) -> str:
    blob = json.dumps(story.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _fetch_media(app: App, story, dest: Path) -> dict[str, MediaFile]:
    """Each cited medium as a local file (the store's own path when it is a folder, else a copy)."""
    ids = sorted(story.media_ids())
    with app.db.session() as s:
        rows = {m.id: m for m in s.scalars(select(MediaItem).where(MediaItem.id.in_(ids)))} if ids else {}
        facts = {i: (r.kind, r.status, r.path, r.files_purged_at, r.mime) for i, r in rows.items()}
    out: dict[str, MediaFile] = {}
    dest.mkdir(parents=True, exist_ok=True)
    for mid in ids:
        if mid not in facts:
            cited = next(m.kind for sc in story.scenes for m in sc.media if m.media_id == mid)
            out[mid] = MediaFile(mid, cited, None, "it is not in the database")
            continue
        kind, status, key, purged, mime = facts[mid]
        if purged is not None:
            out[mid] = MediaFile(mid, kind, None, "its file was purged", mime)
            continue
        if status != "stored" or not key:
            out[mid] = MediaFile(mid, kind, None, f"it was never stored (status {status})", mime)
            continue
        local = app.files.local_path(key)
        if local is not None:
            out[mid] = MediaFile(mid, kind, local if local.is_file() else None,
                                 None if local.is_file() else "its file is missing from the store", mime)
            continue
        try:
            data = app.files.get(key)
        except FileMissing:
            out[mid] = MediaFile(mid, kind, None, "its file is missing from the store", mime)
            continue
        target = dest / f"{mid}{Path(key).suffix[:8]}"
        target.write_bytes(data)
        out[mid] = MediaFile(mid, kind, target, None, mime)
    return out


# ---- per-render choices ----------------------------------------------------------------------

def _music_dir(app: App) -> Path:
    """Where music for the `music` choice is: render.music_dir, else <home>/music."""
    folder = getattr(app.settings.render, "music_dir", None)
    return Path(folder).expanduser() if folder else Path(app.settings.home) / "music"


def _music_files(app: App) -> list[str]:
    """The file names the `music` choice accepts (audio files directly in the music folder)."""
    folder = _music_dir(app)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in MUSIC_SUFFIXES
                  and not p.name.startswith("."))


def _subtitle_styles() -> list[str]:
    """The preset names of render.subtitle_style, when this build's render settings have that field."""
    field = RenderSettings.model_fields.get("subtitle_style")
    if field is None:
        return []
    names = [a for a in typing.get_args(field.annotation) if isinstance(a, str)]
    if not names:  # a plain str field: the presets are a table of the subtitles module
        module = import_module("trendreel.render.subtitles")
        for attr in ("SUBTITLE_STYLES", "STYLES", "PRESETS"):
            table = getattr(module, attr, None)
            if isinstance(table, dict):
                names = [str(k) for k in table]
                break
    default = field.default if isinstance(field.default, str) else None
    return sorted(names, key=lambda n: (n != default, n))


def _frame_for(settings: RenderSettings, aspect: str) -> tuple[int, int]:
    """Width and height of `aspect` keeping the frame's short side (render settings without an aspect field)."""
    short, long = sorted((settings.width, settings.height))
    return {"9:16": (short, long), "16:9": (long, short), "1:1": (short, short)}[aspect]


def _clean(choices: dict | None) -> dict:
    out = {}
    for key, value in (choices or {}).items():
        if key not in CHOICES:
            raise BadRenderChoice(f"unknown render choice {key!r}; the choices are {', '.join(CHOICES)}")
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if not isinstance(value, str):
            raise BadRenderChoice(f"render choice {key}: give a text, not {value!r}")
        out[key] = value.strip()
    return out


def render_defaults(app: App) -> RenderSettings:
    """The render settings, with `<home>/music` as the music folder when no music is configured and that
    folder holds music files: drop files there and every video gets a bed (the demo puts its loops there);
    and with `keep_seconds` from `edit.target_seconds`: what the editor would cut is not rendered."""
    base = app.settings.render
    target = app.settings.edit.target_seconds
    if base.keep_seconds is None and target is not None and target < base.max_seconds:
        base = base.model_copy(update={"keep_seconds": target})
    if base.music_path is not None or base.music_dir is not None:
        return base
    folder = Path(app.settings.home) / "music"
    if folder.is_dir() and any(f.suffix.lower() in MUSIC_SUFFIXES for f in folder.iterdir() if f.is_file()):
        return base.model_copy(update={"music_dir": folder})
    return base


def render_settings_for(app: App, lang: str, choices: dict | None) -> RenderSettings:
    """A copy of the render settings with `choices` applied and validated; BadRenderChoice names the choice.

    aspect -> render.aspect (or the frame's width and height while the settings have no such field),
    subtitle_style -> render.subtitle_style, voice -> render.voices[lang], music -> render.music_path
    (a file of the music folder) or none.
    """
    base = render_defaults(app)
    picked = _clean(choices)
    if not picked:
        return base
    fields = RenderSettings.model_fields
    data = base.model_dump()
    where: dict[str, str] = {}  # settings field -> the choice that set it
    if "aspect" in picked:
        aspect = picked["aspect"]
        if aspect not in ASPECTS:
            raise BadRenderChoice(f"render choice aspect {aspect!r} is not one of {', '.join(ASPECTS)}")
        if "aspect" in fields:
            data["aspect"], where["aspect"] = aspect, "aspect"
        else:
            data["width"], data["height"] = _frame_for(base, aspect)
            where.update(width="aspect", height="aspect")
    if "subtitle_style" in picked:
        if "subtitle_style" not in fields:
            raise BadRenderChoice("render choice subtitle_style: this version has no subtitle styles "
                                  "(render.subtitle_style); leave the choice out")
        styles = _subtitle_styles()
        if styles and picked["subtitle_style"] not in styles:
            raise BadRenderChoice(f"render choice subtitle_style {picked['subtitle_style']!r} is not a preset; "
                                  f"the presets are {', '.join(styles)}")
        data["subtitle_style"], where["subtitle_style"] = picked["subtitle_style"], "subtitle_style"
    if "voice" in picked and picked["voice"] == voice_spec(lang, base.voices):
        picked.pop("voice")  # the settings' own voice: the same video as without the choice
    if "voice" in picked:
        spec = picked["voice"]
        if ":" not in spec or not spec.partition(":")[2]:
            raise BadRenderChoice(f"render choice voice {spec!r}: write ENGINE:VOICE, e.g. espeak-ng:ko, "
                                  "piper:en_US-joe-medium, openai:alloy or modelserver:ko")
        data["voices"] = {**data["voices"], lang: spec}
        where["voices"] = "voice"
    if "music" in picked:
        name = picked["music"]
        if name.lower() == "none":
            data["music_path"] = None
        else:
            files = _music_files(app)
            if name not in files:
                have = f"the files there: {', '.join(files)}" if files else "it has no audio files yet"
                raise BadRenderChoice(f"render choice music {name!r} is not a file in the music folder "
                                      f"(render.music_dir, else <home>/music; {have}); give a file name from there, "
                                      "or none")
            data["music_path"] = _music_dir(app) / name
        where["music_path"] = "music"
    try:
        settings = RenderSettings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first.get("loc") else ""
        choice = where.get(field, field or "settings")
        raise BadRenderChoice(f"render choice {choice} {picked.get(choice, '')!r}: {first['msg']}") from None
    if "voice" in picked:
        try:
            speech_for(lang, settings.voices, rate=settings.speech_rate, settings=settings, registry=app.registry)
        except SpeechUnavailable as exc:
            raise BadRenderChoice(f"render choice voice {picked['voice']!r}: {exc}") from None
    return settings


def check_render_choices(app: App, *, story_id: str, choices: dict | None) -> dict:
    """The choices as they will be used (empty ones left out), after checking them against the story's
    language; BadRenderChoice names a bad one, UnknownVideo an unknown story. For routes that start a run."""
    story = load_story(app, story_id)
    render_settings_for(app, story.lang, choices)
    return _clean(choices)


def render_options(app: App, *, lang: str | None = None) -> dict:
    """What a person may choose for one render: aspects, subtitle styles, music files, voices (for `lang`)."""
    settings = app.settings.render
    current_aspect = getattr(settings, "aspect", None) or ("9:16" if settings.height > settings.width
                                                           else "16:9" if settings.width > settings.height else "1:1")
    return {"aspects": list(ASPECTS), "aspect": current_aspect,
            "subtitle_styles": _subtitle_styles(), "subtitle_style": getattr(settings, "subtitle_style", None),
            "music": _music_files(app), "music_path": settings.music_path.name if settings.music_path else None,
            **({"voices": voice_options(app, lang)} if lang else {})}


def _cache_dir(app: App, what: str) -> Path:
    folder = Path(app.settings.home) / "cache" / what
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def preview_frame(app: App, *, story_id: str, choices: dict | None = None) -> dict:
    """A PNG of the story's first scene just after the hook, with the chosen aspect, subtitle style and
    voice, drawn by the compositor at reduced size and cost; cached by the story's content and the settings.

    Returns {"path": the PNG on this machine, "width", "height", "at_s", "cached"}.
    """
    story = load_story(app, story_id)
    chosen = render_settings_for(app, story.lang, choices)
    data = chosen.model_dump()
    scale = min(1.0, PREVIEW_LONG_SIDE / max(chosen.width, chosen.height))
    data.update(width=max(64, int(chosen.width * scale) // 2 * 2), height=max(64, int(chosen.height * scale) // 2 * 2),
                fps=min(chosen.fps, 10), preset="ultrafast", music_path=None)
    settings = RenderSettings.model_validate(data)
    key = hashlib.sha256(f"{_story_hash(story)}:{Compositor(settings).settings_key()}".encode()).hexdigest()[:24]
    out = _cache_dir(app, "previews") / f"{story_id}-{key}.png"
    meta = out.with_suffix(".json")
    if out.is_file() and meta.is_file():
        return {**json.loads(meta.read_text()), "path": out, "cached": True}
    work = Path(tempfile.mkdtemp(prefix="trendreel-preview-"))
    try:
        first = story.model_copy(update={"scenes": story.scenes[:1]})
        job = RenderJob(story=first, media=_fetch_media(app, first, work / "fetched"), settings=settings, workdir=work)
        tmp = work / "preview.png"
        info = draw_preview_frame(settings, job, tmp)
        shutil.move(str(tmp), out)
        meta.write_text(json.dumps(info))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {**info, "path": out, "cached": False}


# ---- rendering ---------------------------------------------------------------------------------

def render_story(app: App, *, story_id: str, backend: str | None = None, force: bool = False,
                 choices: dict | None = None) -> dict:
    """Render a stored story into a stored video (or return the one already made); the video as a dict.

    `choices` (aspect, subtitle_style, voice, music) change this render only: they are applied to a copy
    of the render settings, so the video id (which follows the settings key) differs per combination.
    The dict is `video_dict`'s shape plus `reused`: True when an earlier render was returned.
    """
    name = backend or app.settings.render.backend
    story = load_story(app, story_id)
    picked = _clean(choices)
    settings = render_settings_for(app, story.lang, picked)
    if settings is not app.settings.render:  # choices, or the home's music folder
        generator = app.registry.create("video_generator", app.registry.check("video_generator", name), settings)
    else:
        generator = app.video_generator(name)
    vid = make_video_id(story_id, name, generator.settings_key())
    story_hash = _story_hash(story)

    with app.db.session() as s:
        row = s.get(Video, vid)
        if (row is not None and row.status == "done" and not force and row.files_purged_at is None
                and (row.details or {}).get("story_hash") == story_hash):
            return {**video_dict(row), "reused": True}
    reap_stale(app)  # what a killed render left: its row running, its ffmpeg, its scratch folder
    work = make_scratch("trendreel-render-")
    try:
        created_at = claim_row(app, vid, scratch=work, story_id=story_id, stage="rendered", backend=name)
        out = run_recorded(app, vid, lambda: generator.generate(RenderJob(
            story=story, media=_fetch_media(app, story, work / "fetched"), settings=settings, workdir=work)))
        files = store_files(app, vid, created_at, video=out.video, thumbnail=out.thumbnail, subtitles=out.subtitles)
        result = finish_row(
            app, vid, files=files, duration_s=out.duration_s, width=out.width, height=out.height, backend=name,
            details={**out.details, "story_hash": story_hash, "rendered_at": utcnow().isoformat(),
                     **({"choices": picked} if picked else {})},
            event=events.VIDEO_RENDERED,
            payload={"story_id": story_id, "backend": name, "duration_s": out.duration_s,
                     "warnings": len(out.details.get("warnings", []))})
        return {**result, "reused": False}
    finally:
        shutil.rmtree(work, ignore_errors=True)


