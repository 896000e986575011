"""What every command module shares: the Typer app, the common options, printing helpers, opening the
settings and the App, and turning errors into a message and an exit code.

Start-up cost: this module imports only the standard library, typer and rich. Everything of trendreel
is imported inside the function that needs it, so `trendreel --help` loads no settings, database or
stage, and a command loads only what it uses.
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Iterator, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:  # for annotations only: importing these at start-up is what this package avoids
    from trendreel.bootstrap import App
    from trendreel.errors import TrendreelError
    from trendreel.settings import Settings

app = typer.Typer(help="Turn what is trending on the web into short videos.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
out = Console()
err = Console(stderr=True)

HomeOpt = Annotated[Optional[Path], typer.Option("--home", help="Data folder (same as TRENDREEL_HOME).", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _settings(home: Path | None) -> Settings:
    from trendreel.logs import configure_logging
    from trendreel.settings import load_settings

    settings = load_settings(home=home)
    configure_logging(settings.log_level, json_lines=settings.log_json)
    return settings


@contextmanager
def _app(home: Path | None) -> Iterator[App]:
    from trendreel.bootstrap import build_app

    application = build_app(_settings(home))
    try:
        yield application
    finally:
        application.close()


def _print_json(data) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def _cell(value) -> Text:
    """Table cell text shown as is: page titles and error messages may contain [brackets]."""
    return Text("" if value is None else str(value))


def _say(message: str) -> None:
    """One message on stderr, never hard-wrapped (paths and URLs stay whole when piped)."""
    err.print(message, soft_wrap=True)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


# ---- errors and exit codes -------------------------------------------------------------------

def _usage_error_types() -> tuple[type[BaseException], ...]:
    """Usage errors of the click that typer runs on: its own copy (typer >= 0.20) or click itself."""
    types: list[type[BaseException]] = []
    if hasattr(typer, "TyperException"):
        types.append(typer.TyperException)
    try:
        import click

        types.append(click.exceptions.ClickException)
    except ImportError:  # pragma: no cover - newer typer does not need click
        pass
    return tuple(types)


def _hint(exc: TrendreelError) -> str:
    """The error's next step at the command line, on a line of its own (the API never shows it)."""
    return f"\n  [dim]hint:[/dim] {escape(exc.hint)}" if exc.hint else ""


def _storage_failure(exc: BaseException) -> str | None:
    """A message for storage that failed below trendreel's own checks (a full disk, a read-only folder,
    a database error): one line instead of a traceback; None for anything else."""
    import errno

    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT, errno.EFBIG):
        where = f" ({exc.filename})" if exc.filename else ""
        return f"storage failed: {exc.strerror or exc}{where}"
    if type(exc).__module__.startswith("sqlalchemy") and type(exc).__name__ == "OperationalError":
        orig = getattr(exc, "orig", None) or exc
        return f"the database (database_url) failed: {str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__}"
    return None


def _interrupted() -> SystemExit:
    _say("interrupted: run the same command again to resume")
    return SystemExit(130)


def main() -> None:
    """Entry point that turns user-facing errors into one clear line."""
    try:
        code = app(standalone_mode=False)
    except KeyboardInterrupt:
        raise _interrupted()
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code)
    except typer.Abort:  # older click turns Ctrl-C into Abort
        raise _interrupted()
    except SystemExit:
        raise
    except Exception as exc:
        # Imported only on the way out: whatever raised a trendreel error has loaded it already.
        from trendreel.errors import ConfigError, TrendreelError

        if isinstance(exc, ConfigError):
            _say(f"[red]configuration error:[/red] {escape(str(exc))}{_hint(exc)}")
            raise SystemExit(2)
        if isinstance(exc, TrendreelError):
            _say(f"[red]error:[/red] {escape(str(exc))}{_hint(exc)}")
            raise SystemExit(1)
        storage = _storage_failure(exc)
        if storage:
            _say(f"[red]error:[/red] {escape(storage)}\n  [dim]hint:[/dim] free space or fix the permissions there "
                 "(files_url, database_url, home), then run the same command again")
            raise SystemExit(1)
        if isinstance(exc, _usage_error_types()):  # unknown option, missing argument, no arguments (shows the help)
            exc.show()
            raise SystemExit(getattr(exc, "exit_code", 2))
        raise
    # Without standalone mode an Exit (--help, Ctrl-C as Exit(130)) comes back as the return value.
    if isinstance(code, int) and not isinstance(code, bool) and code:
        if code == 130:
            raise _interrupted()
        raise SystemExit(code)


# ---- printing shared by several command modules ----------------------------------------------

def _crawl_progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("[bold]{task.description}[/bold]"), BarColumn(), TextColumn("{task.completed}"),
                    TextColumn("{task.fields[info]}"), TimeElapsedColumn(), console=err, transient=False)


def _articles_table(rows: list[dict]) -> None:
    table = Table("id", "date", "lang", "title", "img", "vid", "dup")
    table.columns[3].overflow = "ellipsis"
    table.columns[3].no_wrap = True
    table.columns[3].ratio = 1
    for col in (0, 1, 2, 4, 5, 6):
        table.columns[col].no_wrap = True
    table.expand = True
    for r in rows:
        kinds = [m["kind"] for m in r["media"] if m["status"] in ("stored", "linked")]
        table.add_row(_cell(r["id"]), _cell((r["published_at"] or "")[:10]), _cell(r["lang"]), _cell(r["title"]),
                      _cell(kinds.count("image")), _cell(kinds.count("video") + kinds.count("embed")),
                      "yes" if r["duplicate_of"] else "")
    out.print(table)


def _trends_table(rows: list[dict], title: str) -> None:
    # The trend text gets the room; when it was seen is in `trendreel trend ID` and --json.
    table = Table("#", "id", "score", "items", "category", "trend", title=title, expand=True)
    table.columns[5].overflow = "fold"
    table.columns[5].ratio = 1
    table.columns[5].min_width = 24
    for col in (0, 1, 2, 3, 4):
        table.columns[col].no_wrap = True
    for n, t in enumerate(rows, 1):
        table.add_row(str(n), t["id"], f"{t['score']:.2f}", str(t["item_count"]), _cell(t["category"] or ""),
                      _cell(t["text"]))
    out.print(table)


def _print_story(st: dict) -> None:
    # One block per scene rather than a table: narration and quotes are long, in two scripts.
    out.print(Text(f"{st['title']}\n{st['hook']}", style="bold"), soft_wrap=True)
    for n, sc in enumerate(st["scenes"], 1):
        media = ", ".join(m["media_id"] + (f" {m['start_s']:.0f}-{m['end_s']:.0f}s" if m.get("end_s") else "")
                          for m in sc.get("media", [])) or "-"
        ok = {None: "", True: " · supported", False: " · NOT supported"}[sc.get("supported")]
        lines = [f"{n}. ({sc['duration_s']:.1f} s) {sc['narration']}"]
        if sc.get("on_screen_text"):
            lines.append(f"   on screen: {sc['on_screen_text']}")
        lines.append(f"   media: {media}{ok}")
        lines += [f"   source: {c['article_id']} \"{c['quote'][:80]}{'…' if len(c['quote']) > 80 else ''}\""
                  for c in sc.get("citations", [])]
        out.print(Text("\n".join(lines)), soft_wrap=True)
    grounding = st.get("grounding")
    out.print(Text(f"{st['id']} · {st['lang']} · {st['duration_s']:.1f} s · {st['backend']} ({st['model']}) · "
                   f"grounding {grounding if grounding is None else f'{grounding:.2f}'} · {' '.join(st.get('hashtags', []))}"),
              soft_wrap=True)


def _video_summary(application: App, v: dict) -> Text:
    from trendreel import services

    where = services.video_file(application, v) or \
        (f"local files freed by gc ({v['files_purged_at'][:16]})" if v.get("files_purged_at") else "-")
    size = f"{v['bytes'] / 1e6:.1f} MB" if v.get("bytes") else "-"
    dur = f"{v['duration_s']:.1f} s" if v.get("duration_s") else "-"
    return Text(f"{v['id']} · {v['stage']} · {v['status']} · {dur} · {v.get('width')}x{v.get('height')} · {size}\n{where}")
