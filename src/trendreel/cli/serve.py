"""The service and its people: `serve`, `users ...` and `tokens ...`.

`serve` imports uvicorn and the API only when it runs; the web app itself loads in uvicorn's workers.
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Annotated, Optional

import typer
from rich.table import Table

from trendreel.cli._common import HomeOpt, JsonOpt, _app, _cell, _print_json, _say, _settings, app, out

users_app = typer.Typer(help="People who use the web workspace and the API, with their roles.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens for programs (bearer tokens, shown once).", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")


def check_workers(settings, workers: int) -> None:
    """Several processes need a vector store they may share: the local store is one process's (it is locked)."""
    from trendreel.errors import ConfigError

    if workers > 1 and settings.vectors_url.startswith("local://"):
        raise ConfigError(
            f"--workers {workers} needs a vector store that several processes can open, but vectors_url is the local "
            f"store ({settings.vectors_url}), which one process holds at a time; set vectors_url = "
            "\"qdrant://HOST:6333/COLLECTION\" (TRENDREEL_VECTORS_URL), or serve with --workers 1")
    if workers > 1 and settings.database_url.startswith("sqlite"):
        _say("[yellow]note:[/yellow] several workers share one SQLite file; writes wait for each other. "
             "Use PostgreSQL (database_url) for a busy team.")


@app.command()
def serve(
    host: Annotated[Optional[str], typer.Option(help="Address to listen on (serve.host, default 127.0.0.1).")] = None,
    port: Annotated[Optional[int], typer.Option(help="TCP port (serve.port, default 8600).")] = None,
    workers: Annotated[Optional[int], typer.Option(help="uvicorn worker processes (serve.workers, default 1).")] = None,
    home: HomeOpt = None,
) -> None:
    """Serve the web workspace and the HTTP API (uvicorn); put nginx in front for TLS (docs/serve.md)."""
    import uvicorn

    from trendreel import services
    from trendreel.api.auth import secret_key
    from trendreel.bootstrap import build_app
    from trendreel.errors import ConfigError

    if home is not None:
        os.environ["TRENDREEL_HOME"] = str(home.expanduser().absolute())  # the workers read the same settings
    settings = _settings(home)
    host = host or settings.serve.host
    port = port or settings.serve.port
    workers = workers or settings.serve.workers
    if not 1 <= port <= 65535:
        raise ConfigError(f"--port must be between 1 and 65535, not {port}")
    if not 1 <= workers <= 64:
        raise ConfigError(f"--workers must be between 1 and 64, not {workers}")
    check_workers(settings, workers)
    secret_key(settings)  # made once here, not raced by the workers
    application = build_app(settings)  # migrates the database before any worker starts
    try:
        interrupted = services.mark_interrupted(application)
        reaped = services.reap_stale(application)  # renders and edits a killed process left running
        users_count = len(services.list_users(application))
    finally:
        application.close()
    if interrupted:
        _say(f"{interrupted} pipeline run(s) left by a stopped server were marked interrupted; start them again")
    if reaped["videos"]:
        _say(f"{len(reaped['videos'])} video(s) left running by a stopped process were marked failed; render them again")
    if users_count == 0:
        _say("[yellow]no users yet:[/yellow] add one with `trendreel users add NAME --role admin`")
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="trendreel-metrics-")
    _say(f"serving on http://{host}:{port} with {workers} worker(s); health at /healthz, API at /api/v1, schema at /openapi.json")
    uvicorn.run("trendreel.api.app:factory", factory=True, host=host, port=port, workers=workers,
                proxy_headers=True, forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
                log_level=settings.log_level.lower(), access_log=settings.log_level == "DEBUG",
                timeout_graceful_shutdown=10)


# ---- users --------------------------------------------------------------------------------

def _users_table(rows: list[dict]) -> None:
    table = Table("user", "role", "id", "created", "disabled")
    for r in rows:
        table.add_row(_cell(r["username"]), r["role"], r["id"], _cell((r.get("created_at") or "")[:19]),
                      "yes" if r.get("disabled") else "")
    out.print(table)


def _read_password(password_stdin: bool) -> str:
    from trendreel.errors import TrendreelError

    if password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise TrendreelError("--password-stdin: nothing on standard input")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise TrendreelError("no terminal to ask for a password: pipe it with --password-stdin")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name (letters, digits, . _ @ -).")],
    role: Annotated[str, typer.Option("--role", help="viewer (read), editor (write, render, approve, publish) or admin.")] = "viewer",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")] = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a user (or set an existing user's password and role)."""
    from trendreel.errors import TrendreelError
    from trendreel.services import users

    if role not in users.ROLES:
        raise TrendreelError(f"unknown role {role!r}: use one of {', '.join(users.ROLES)}")
    password = _read_password(password_stdin)
    with _app(home) as application:
        row = users.add_user(application, username=name, password=password, role=role)
    if as_json:
        _print_json(row)
        return
    _users_table([row])
    _say(f"{'Added' if row['created'] else 'Updated'} {name} ({role}).")


@users_app.command("list")
def users_list(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """List users and their roles."""
    from trendreel.services import users

    with _app(home) as application:
        rows = users.list_users(application)
    if as_json:
        _print_json(rows)
        return
    _users_table(rows)


@users_app.command("remove")
def users_remove(
    name: Annotated[str, typer.Argument(help="User name.")],
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove a user and their API tokens (their sessions end on their next request)."""
    from trendreel.services import users

    with _app(home) as application:
        row = users.remove_user(application, username=name)
    if as_json:
        _print_json(row)
        return
    _say(f"Removed {name} and {row['tokens_removed']} token(s).")


@users_app.command("role")
def users_role(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Argument(help="viewer, editor or admin.")],
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a user's role."""
    from trendreel.services import users

    with _app(home) as application:
        row = users.set_role(application, username=name, role=role)
    if as_json:
        _print_json(row)
        return
    _users_table([row])


@users_app.command("logout")
def users_logout(
    name: Annotated[str, typer.Argument(help="User name.")],
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """End every browser session of a user at once (a lost laptop, a copied cookie); their API tokens stay."""
    from trendreel.services import users

    with _app(home) as application:
        n = users.end_sessions(application, username=name)
    if as_json:
        _print_json({"username": name, "sessions_ended": n})
        return
    _say(f"Ended {n} session(s) of {name}; they log in again to continue.")


# ---- tokens -------------------------------------------------------------------------------

def _tokens_table(rows: list[dict]) -> None:
    table = Table("id", "user", "name", "created", "last used", "expires", "revoked")
    table.columns[0].no_wrap = True
    for r in rows:
        table.add_row(r["id"], _cell(r["user"]), _cell(r["name"]), *(_cell((r[k] or "")[:19]) for k in
                      ("created_at", "last_used_at", "expires_at", "revoked_at")))
    out.print(table)


@tokens_app.command("create")
def tokens_create(
    user: Annotated[str, typer.Option("--user", help="The user the token acts as (with their role).")],
    name: Annotated[str, typer.Option("--name", help="What the token is for, e.g. the program that uses it.")],
    expires_days: Annotated[Optional[float], typer.Option("--expires-days", help="Days until it stops working (never when left out).")] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an API token and print it once (only its hash is stored)."""
    from trendreel.services import users

    with _app(home) as application:
        row = users.create_token(application, username=user, name=name, expires_days=expires_days)
    if as_json:
        _print_json(row)
        return
    sys.stdout.write(row["token"] + "\n")
    _say(f"Token {row['id']} for {user} ({name}). It is shown only now: keep it in a secret store. "
         "Send it as 'Authorization: Bearer <token>'.")


@tokens_app.command("list")
def tokens_list(
    user: Annotated[Optional[str], typer.Option("--user", help="Only this user's tokens.")] = None,
    revoked: Annotated[bool, typer.Option("--revoked", help="Include revoked tokens.")] = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List API tokens (never the tokens themselves)."""
    from trendreel.services import users

    with _app(home) as application:
        rows = users.list_tokens(application, username=user, include_revoked=revoked)
    if as_json:
        _print_json(rows)
        return
    _tokens_table(rows)


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (k...), from `trendreel tokens list`.")],
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Revoke an API token: it stops working at once."""
    from trendreel.services import users

    with _app(home) as application:
        row = users.revoke_token(application, token_id=token_id)
    if as_json:
        _print_json(row)
        return
    _say(f"Revoked token {row['id']} ({row['name']}) of {row['user']}.")
