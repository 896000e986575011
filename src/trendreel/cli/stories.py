"""From trends to videos: `trends`, `trend`, `story`, `stories`, `render`, `edit`, `videos` and `voices`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from trendreel.cli._common import (
    HomeOpt,
    JsonOpt,
    _app,
    _cell,
    _print_json,
    _print_story,
    _say,
    _trends_table,
    _utc,
    _video_summary,
    app,
    err,
    out,
)


@app.command()
def trends(
    window: Annotated[Optional[str], typer.Option("--window", help="Window length: 30m, 6h, 24h, 7d (default: trends.window).")] = None,
    since: Annotated[Optional[datetime], typer.Option("--since", help="Items published on or after (YYYY-MM-DD; default: trends.history_days before the newest item).")] = None,
    until: Annotated[Optional[datetime], typer.Option("--until", help="Items published before (YYYY-MM-DD).")] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many trends to show, best first.")] = 20,
    stored: Annotated[bool, typer.Option("--stored", help="List trends stored by earlier runs without detecting again.")] = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Detect what is trending among stored, indexed items, and show each trend in one line with its evidence."""
    from trendreel import services

    with _app(home) as application:
        if stored:
            rows = services.list_trends(application, since=_utc(since), until=_utc(until), limit=limit)
        else:
            with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}[/bold]"), BarColumn(),
                          TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(), console=err) as progress:
                tasks: dict[str, int] = {}

                def on_progress(step: str, done: int, total: int) -> None:
                    if step not in tasks:
                        tasks[step] = progress.add_task(f"trends: {step}", total=total)
                    progress.update(tasks[step], completed=done, total=total)

                rows = services.detect_trends(application, window=window, since=_utc(since), until=_utc(until),
                                              on_progress=on_progress)[:limit]
    if as_json:
        _print_json(rows)
        return
    if not rows:
        _say("no trends: import or crawl more dated items, run `trendreel index`, or widen --since/--until")
        return
    _trends_table(rows, "trends" if not stored else "stored trends")
    _say(f"Evidence: trendreel trend ID · story: trendreel story --trend {rows[0]['id']}")


@app.command()
def trend(
    trend_id: Annotated[str, typer.Argument(help="A trend id from `trendreel trends`.")],
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one trend: its text, scores, history and evidence."""
    from trendreel import services

    with _app(home) as application:
        t = services.get_trend(application, trend_id)
    if as_json:
        _print_json(t)
        return
    out.print(Text(f"{t['text']}\n"), soft_wrap=True)
    info = Table(show_header=False)
    for k in ("id", "lang", "category", "score", "burst", "spread", "item_count", "window", "first_seen_at",
              "last_seen_at", "detected_at"):
        info.add_row(k, _cell(t[k]))
    info.add_row("key phrases", _cell(", ".join(t["key_phrases"])))
    out.print(info)
    hist = Table("window start", "items", "burst", "score", title="history")
    for h in t["history"]:
        hist.add_row(_cell(h["window_start"]), _cell(h["items"]), f"{h['burst']:.2f}", f"{h['score']:.2f}")
    out.print(hist)
    ev = Table("similarity", "id", "date", "source", "title", title="evidence")
    ev.columns[4].overflow = "ellipsis"
    for e in t["evidence"]:
        ev.add_row(f"{e['similarity']:.2f}" if e["similarity"] is not None else "", _cell(e["external_id"] or e["id"]),
                   _cell((e["published_at"] or "")[:10]), _cell(e["source"]), _cell(e["title"]))
    out.print(ev)


@app.command()
def story(
    trend_id: Annotated[str, typer.Option("--trend", help="The trend to tell (an id from `trendreel trends`).")],
    item: Annotated[Optional[str], typer.Option("--item", help="The stored article to tell it from (default: the most similar one with usable media).")] = None,
    backend: Annotated[Optional[str], typer.Option("--backend", help="template (offline), llamacpp or openai (default: story.backend).")] = None,
    lang: Annotated[Optional[str], typer.Option("--lang", help="Language of the story: ko, en, ... (default: the trend's).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Write again even if this story is stored.")] = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write a grounded story for a short video from a trend and one stored item."""
    from trendreel import services

    with _app(home) as application:
        # One line that follows the steps: a model's attempts with their tokens, the elapsed seconds.
        with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}[/bold]"),
                      TextColumn("{task.fields[count]}"), TimeElapsedColumn(), console=err, transient=True) as progress:
            task = progress.add_task("story: starting", total=None, count="")

            def on_progress(step: str, done: int, total: int) -> None:
                count = f"{done}/{total}" if step.endswith("tokens") else ""
                progress.update(task, description=f"story: {step}", count=count)

            st = services.write_story(application, trend_id=trend_id, item_id=item, backend=backend, lang=lang,
                                      force=force, on_progress=on_progress)
    if as_json:
        _print_json(st)
        return
    _print_story(st)
    share = st.get("verbatim_share")
    if share is not None:
        _say(f"Said word for word from its sources: {share:.0%} of the narration.")
    for w in st.get("warnings") or []:
        _say(f"[yellow]warning:[/yellow] {escape(w)}")
    _say(f"{'Stored earlier (use --force to write again)' if st['reused'] else 'Stored'}. Next: trendreel render --story {st['id']}")


@app.command()
def stories(
    story_id: Annotated[Optional[str], typer.Argument(help="Show this story whole instead of listing.")] = None,
    trend_id: Annotated[Optional[str], typer.Option("--trend", help="Only stories of this trend.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many, newest first.")] = 50,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List stored stories, or show one."""
    from trendreel import services

    with _app(home) as application:
        data = services.get_story(application, story_id) if story_id else \
            services.list_stories(application, trend_id=trend_id, limit=limit)
    if as_json:
        _print_json(data)
        return
    if story_id:
        _print_story(data)
        return
    table = Table("id", "lang", "s", "scenes", "grounding", "copied", "backend", "title")
    table.columns[7].overflow = "ellipsis"
    for r in data:
        share = r.get("verbatim_share")
        table.add_row(r["id"], _cell(r["lang"]), f"{r['duration_s']:.0f}", str(r["scenes"]),
                      "" if r["grounding"] is None else f"{r['grounding']:.2f}", "" if share is None else f"{share:.0%}",
                      _cell(r["backend"]), _cell(r["title"]))
    out.print(table)


@app.command()
def render(
    story_id: Annotated[str, typer.Option("--story", help="The story to render (an id from `trendreel stories`).")],
    backend: Annotated[Optional[str], typer.Option("--backend", help="Video generator (default: render.backend, the ffmpeg compositor).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Render again even if this video is stored.")] = False,
    aspect: Annotated[Optional[str], typer.Option("--aspect", help="This render's frame: 9:16 (default), 1:1 or 16:9.")] = None,
    subtitle_style: Annotated[Optional[str], typer.Option("--subtitle-style", help="This render's subtitle preset (render.subtitle_style).")] = None,
    voice: Annotated[Optional[str], typer.Option("--voice", help="This render's voice, ENGINE:VOICE for the story's language (see `trendreel voices list`).")] = None,
    music: Annotated[Optional[str], typer.Option("--music", help="A file name in the music folder (render.music_dir, else <home>/music), or none.")] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Render a story into a vertical video with narration, subtitles and normalised sound.

    --aspect, --subtitle-style, --voice and --music change this render only; each combination is its own video."""
    from trendreel import services

    choices = {k: v for k, v in {"aspect": aspect, "subtitle_style": subtitle_style, "voice": voice,
                                 "music": music}.items() if v is not None}
    with _app(home) as application:
        with err.status("rendering (ffmpeg)"):
            v = services.render_story(application, story_id=story_id, backend=backend, force=force,
                                      choices=choices or None)
        if as_json:
            _print_json({**v, "file": services.video_file(application, v)})
            return
        out.print(_video_summary(application, v), soft_wrap=True)
    for w in v["warnings"]:
        _say(f"[yellow]warning:[/yellow] {escape(w)}")
    _say(f"{'Rendered earlier (use --force to render again)' if v['reused'] else 'Rendered'}. Next: trendreel edit --video {v['id']}")


@app.command()
def edit(
    video_id: Annotated[str, typer.Option("--video", help="The video to edit (an id from `trendreel videos`).")],
    target_seconds: Annotated[Optional[float], typer.Option("--target-seconds", help="Trim to at most this long (default: edit.target_seconds; none = only cut dead air).")] = None,
    backend: Annotated[Optional[str], typer.Option("--backend", help="Editor (default: edit.backend, the ffmpeg cutter).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Edit again even if this edit is stored.")] = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Edit a video into a new one (the original is kept): cut dead air and frozen picture, trim, emphasise the key line, normalise loudness."""
    from trendreel import services

    with _app(home) as application:
        with err.status("editing (ffmpeg)"):
            v = services.edit_video(application, video_id=video_id, target_seconds=target_seconds, backend=backend,
                                    force=force)
        if as_json:
            _print_json({**v, "file": services.video_file(application, v)})
            return
        out.print(_video_summary(application, v), soft_wrap=True)
    summary = v.get("edit") or {}
    before, after = summary.get("duration_before_s"), summary.get("duration_after_s")
    if before is not None and after is not None:
        _say(f"{before:.1f} s -> {after:.1f} s; removed: " +
             (", ".join(f"{k} {s:.1f} s" for k, s in (summary.get("removed_s") or {}).items()) or "nothing"))
    for w in v.get("warnings", []):
        _say(f"[yellow]warning:[/yellow] {escape(w)}")
    _say(f"{'Edited earlier (use --force to edit again)' if v['reused'] else 'Edited'}. "
         f"Next: trendreel approve {v['id']}, then trendreel publish --video {v['id']} --to folder:NAME")


@app.command()
def videos(
    video_id: Annotated[Optional[str], typer.Argument(help="Show this video instead of listing.")] = None,
    story_id: Annotated[Optional[str], typer.Option("--story", help="Only videos of this story.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many, newest first.")] = 50,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List rendered and edited videos with their files, or show one."""
    from trendreel import services

    with _app(home) as application:
        rows = [services.get_video(application, video_id)] if video_id else \
            services.list_videos(application, story_id=story_id, limit=limit)
        rows = [{**r, "file": services.video_file(application, r)} for r in rows]
    if as_json:
        _print_json(rows[0] if video_id else rows)
        return
    table = Table("id", "stage", "from", "status", "s", "file (or error)", expand=True)
    for col in (0, 1, 2, 3, 4):
        table.columns[col].no_wrap = True
    table.columns[5].overflow = "fold"
    table.columns[5].ratio = 1
    for r in rows:
        table.add_row(r["id"], r["stage"], _cell(r["parent_id"] or ""), r["status"],
                      f"{r['duration_s']:.1f}" if r["duration_s"] else "", _cell(r["file"] or r["error"] or ""))
    out.print(table)


voices_app = typer.Typer(help="Narration voices: which voice each language gets, and hearing one.", no_args_is_help=True)
app.add_typer(voices_app, name="voices")


@voices_app.command("list")
def voices_list(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """The voice each language gets (render.voices), the speech engines and whether each is ready."""
    from trendreel import services

    with _app(home) as application:
        data = services.list_voices(application)
    if as_json:
        _print_json(data)
        return
    table = Table("language", "voice", "may choose")
    for lang, spec in data["voices"].items():
        table.add_row(_cell(lang), _cell(spec), _cell(", ".join(data["options"].get(lang, []))))
    out.print(table)
    engines = Table("engine", "ready", "voices", "note")
    for e in data["engines"]:
        ready = "?" if e["ready"] is None else ("yes" if e["ready"] else "no")
        engines.add_row(_cell(e["name"]), ready, _cell(", ".join(e["voices"])), _cell(e["note"] or ""))
    out.print(engines)
    _say("Hear one: trendreel voices preview --voice ENGINE:VOICE --out preview.wav")


@voices_app.command("preview")
def voices_preview(
    out_file: Annotated[str, typer.Option("--out", help="Where to write the WAV.")],
    voice: Annotated[Optional[str], typer.Option("--voice", help="ENGINE:VOICE, e.g. espeak-ng:ko, piper:en_US-joe-medium, modelserver:ko.")] = None,
    lang: Annotated[Optional[str], typer.Option("--lang", help="Preview the voice this language gets (render.voices).")] = None,
    text: Annotated[Optional[str], typer.Option("--text", help="What to say (at most 200 characters; a sample sentence when left out).")] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Say a short text in a voice into a WAV file (kept in a cache, so the same preview is said once)."""
    import shutil
    from pathlib import Path

    from trendreel import services

    with _app(home) as application:
        with err.status("saying the preview"):
            p = services.preview_voice(application, voice=voice, lang=lang, text=text)
        shutil.copyfile(p["path"], Path(out_file).expanduser())
    data = {**p, "path": str(p["path"]), "out": out_file}
    if as_json:
        _print_json(data)
        return
    _say(f"{escape(p['voice'])}: {p['duration_s']:.2f} s → {escape(out_file)}{' (from the cache)' if p['cached'] else ''}")
