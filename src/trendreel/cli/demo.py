"""`trendreel demo`: the whole pipeline on the bundled sample site, with one progress bar per stage."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from trendreel.cli._common import (
    HomeOpt,
    JsonOpt,
    _app,
    _articles_table,
    _cell,
    _crawl_progress,
    _print_json,
    _print_story,
    _say,
    _settings,
    _trends_table,
    _video_summary,
    app,
    out,
)


@app.command()
def demo(
    home: HomeOpt = None,
    keep_serving: Annotated[bool, typer.Option(help="Keep serving the sample site after the run (Ctrl-C to stop).")] = False,
    videos: Annotated[bool, typer.Option("--videos/--no-videos", help="Render, edit and publish videos (the slow part); --no-videos stops after the stories.")] = True,
    as_json: JsonOpt = False,
) -> None:
    """Run the whole pipeline on the bundled sample site: crawl, index, trends, stories, videos, publish, report, gc."""
    from trendreel.demo.run import run_demo

    settings = _settings(home)
    with _crawl_progress() as progress:
        tasks: dict[str, int] = {}

        def on_stage(stage: str, done: int, total: int | None, info: str | None) -> None:
            # One bar per stage of the pipeline, as its progress comes in; the upload counts bytes, shown in MB.
            if stage == "publish" and total:
                done, total, info = round(done / 1e6, 1), round(total / 1e6, 1), info or "MB uploaded"
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total, info="")
            progress.update(tasks[stage], completed=done, total=total, info=info or "")

        step_task = None

        def on_step(text: str) -> None:
            nonlocal step_task
            if step_task is None:
                step_task = progress.add_task("pipeline", total=None, info="")
            progress.update(step_task, info=text)

        result = run_demo(settings, on_stage=on_stage, keep_serving=keep_serving,
                          on_serving=lambda url: _say(f"sample site at {escape(url)}"), videos=videos, on_step=on_step)
        if step_task is not None:
            progress.update(step_task, info="done")
    if as_json:
        _print_json(result)
        return
    out.print(f"[bold]home[/bold] {escape(result['home'])}", soft_wrap=True)
    _articles_table(result["articles"])
    table = Table(title="stored", show_header=False)
    for k, v in result["stored"].items():
        table.add_row(_cell(k), _cell(v))
    out.print(table)
    if result["errors"]:
        et = Table("kind", "url", title="pages that were refused or failed (on purpose: the sample site has traps)")
        for e in result["errors"]:
            et.add_row(_cell(e["kind"]), _cell(e["url"]))
        out.print(et)
    ix = result["index"]
    out.print(Text(f"Indexed {ix['articles']} articles: {ix['vectors']} vectors ({ix['images']} images, {ix['videos']} videos, "
                   f"{ix['transcripts']} transcripts), {ix['categorized']} categorised, {ix['summarized']} summarised."),
              soft_wrap=True)
    search = result["search"]
    st = Table("score", "lang", "title", title=f"search: {search['query']}")
    st.columns[2].overflow = "ellipsis"
    for h in search["hits"]:
        st.add_row(f"{h['score']:.3f}", _cell(h["lang"] or ""), _cell(h["title"] or ""))
    out.print(st)
    _trends_table(result["trends"][:10], "trends")
    for st in result["stories"]:
        out.print(Text(f"\nstory for: {next(t['text'] for t in result['trends'] if t['id'] == st['trend_id'])}",
                       style="bold"), soft_wrap=True)
        _print_story(st)
    home_opt = f"--home {shlex.quote(result['home'])}"
    with _app(Path(result["home"])) as application:
        for v in result["videos"]:
            out.print(Text("video: ", style="bold") + _video_summary(application, v), soft_wrap=True)
    if "publication" in result:
        pub, gc, report = result["publication"], result["gc"], result["report"]
        where = pub["url"]
        if pub["platform"] == "folder" and where.startswith("file:"):  # the published copy itself
            from urllib.parse import unquote, urlparse

            where = str(Path(unquote(urlparse(where).path)) / "video.mp4")
        out.print(Text("published: ", style="bold") + Text(
            f"{pub['video_id']} to {pub['platform']}:{pub['account']} as {pub['external_id']} ({pub['privacy']})\n"
            f"{where}"), soft_wrap=True)
        out.print(Text("report: ", style="bold") + Text(f"{report['html']} (metrics: {result['metrics'].get('stored', 0)} "
                                                         "samples stored)"), soft_wrap=True)
        freed = ", ".join(f"{n['items']} {reason.replace('_', ' ')}{'s' if n['items'] != 1 else ''} ({n['files']} files)"
                          for reason, n in gc["purged"].items()) or "nothing"
        out.print(Text("gc: ", style="bold") + Text(
            f"budget {gc['budget_bytes'] / 1e6:.0f} MB, {gc['used_bytes_before'] / 1e6:.1f} MB used before; freed "
            f"{gc['freed_bytes'] / 1e6:.1f} MB: {freed}; {result['storage']['used_bytes'] / 1e6:.1f} MB used now"),
                  soft_wrap=True)
    out.print(Text(f"Stored {result['stored']['articles']} articles, {result['stored']['images']} images and "
              f"{result['stored']['videos']} videos under {result['home']}.\n"
              f"Next: trendreel articles {home_opt} --json · trendreel search {home_opt} \"your words\" · "
              f"trendreel trends {home_opt} · trendreel videos {home_opt} · trendreel publications {home_opt} · "
              f"trendreel errors {home_opt}"),
              soft_wrap=True)

