"""Review and publishing: `approve`, `reject`, `publish`, `publications` and `accounts ...`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn
from rich.table import Table

from trendreel.cli._common import HomeOpt, JsonOpt, _app, _cell, _print_json, _say, app, err, out

accounts_app = typer.Typer(help="Accounts videos are published to (several per platform).", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")


def _accounts_table(rows: list[dict]) -> None:
    table = Table("platform", "name", "id", "where", "credentials", "published", "removed")
    for r in rows:
        table.add_row(r["platform"], _cell(r["name"]), r["id"], _cell(r["options"].get("path", "")),
                      "encrypted" if r["has_credentials"] else "-", str(r.get("publications", "")),
                      _cell((r["removed_at"] or "")[:19]))
    out.print(table)


@accounts_app.command("add")
def accounts_add(
    platform: Annotated[str, typer.Argument(help="youtube, tiktok, instagram or folder.")],
    name: Annotated[str, typer.Argument(help="A name for the account, used in --to PLATFORM:NAME.")],
    credentials: Annotated[Optional[Path], typer.Option("--credentials", help="youtube: an authorized-user JSON as google-auth writes it (token, refresh_token, client_id, client_secret, token_uri); tiktok: a JSON with access_token, refresh_token, open_id (docs/publish.md); instagram: a JSON with access_token, ig_user_id (and expires_at, app_id, app_secret).")] = None,
    path: Annotated[Optional[Path], typer.Option("--path", help="folder: the directory publications are written to.")] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add an account (or replace its credentials); credentials are stored encrypted."""
    from trendreel import services

    with _app(home) as application:
        row = services.add_account(application, platform=platform, name=name, credentials_file=credentials, path=path)
    if as_json:
        _print_json(row)
        return
    _accounts_table([row])
    _say(f"{'Added' if row['created'] else 'Updated'} {platform}:{name}. Publish with "
         f"trendreel publish --video ID --to {platform}:{name}")


@accounts_app.command("list")
def accounts_list(
    platform: Annotated[Optional[str], typer.Option("--platform", help="Only this platform.")] = None,
    removed: Annotated[bool, typer.Option("--removed", help="Include removed accounts.")] = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List accounts (credentials are never shown)."""
    from trendreel import services

    with _app(home) as application:
        rows = services.list_accounts(application, platform=platform, include_removed=removed)
    if as_json:
        _print_json(rows)
        return
    if not rows:
        _say("no accounts: trendreel accounts add folder NAME --path DIR, or trendreel accounts add youtube NAME --credentials FILE")
        return
    _accounts_table(rows)


@accounts_app.command("remove")
def accounts_remove(
    platform: Annotated[str, typer.Argument(help="youtube, tiktok or folder.")],
    name: Annotated[str, typer.Argument(help="The account's name.")],
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove an account: its credentials are deleted, its publications stay listed."""
    from trendreel import services

    with _app(home) as application:
        row = services.remove_account(application, platform=platform, name=name)
    if as_json:
        _print_json(row)
        return
    _say(f"Removed {platform}:{name}; its credentials are deleted, its publications stay in `trendreel publications`.")


@accounts_app.command("login")
def accounts_login(
    platform: Annotated[str, typer.Argument(help="youtube.")],
    name: Annotated[str, typer.Argument(help="A name for the account.")],
    client_secrets: Annotated[Path, typer.Option("--client-secrets", help="The OAuth client (Desktop app) JSON downloaded from the Google Cloud console.")],
    port: Annotated[int, typer.Option("--port", help="Local port for Google's redirect (0: any free port).")] = 0,
    browser: Annotated[bool, typer.Option("--browser/--no-browser", help="Open the browser (else print the URL to open).")] = True,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Sign in to YouTube in the browser and store the account's credentials encrypted."""
    from trendreel.publish.login import login_youtube

    if platform != "youtube":
        raise typer.BadParameter("only youtube accounts sign in here; folder accounts use `accounts add folder NAME --path DIR`, tiktok accounts `accounts add tiktok NAME --credentials FILE` (docs/publish.md)")
    with _app(home) as application:
        row = login_youtube(application, name=name, client_secrets=client_secrets, port=port, open_browser=browser,
                            on_url=lambda url: _say(f"Open this URL to sign in: {url}"))
    if as_json:
        _print_json(row)
        return
    _say(f"Signed in; stored youtube:{name} (credentials encrypted).")


@app.command()
def approve(
    video_id: Annotated[str, typer.Argument(help="A video id from `trendreel videos`.")],
    by: Annotated[Optional[str], typer.Option("--by", help="Who approves (default: the user name).")] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Approve a video for publishing (the approval gate)."""
    from trendreel import services

    with _app(home) as application:
        r = services.approve_video(application, video_id, by=by)
    if as_json:
        _print_json(r)
        return
    _say(f"{'Approved' if r['changed'] else 'Already approved'} {video_id} ({r['reviewed_by']}). "
         f"Next: trendreel publish --video {video_id} --to folder:NAME|youtube:NAME")


@app.command()
def reject(
    video_id: Annotated[str, typer.Argument(help="A video id from `trendreel videos`.")],
    reason: Annotated[Optional[str], typer.Option("--reason", help="Why (kept with the review).")] = None,
    by: Annotated[Optional[str], typer.Option("--by", help="Who rejects (default: the user name).")] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Reject a video: it will not be published unless approved later."""
    from trendreel import services

    with _app(home) as application:
        r = services.reject_video(application, video_id, by=by, reason=reason)
    if as_json:
        _print_json(r)
        return
    _say(f"Rejected {video_id}.")


def _publications_table(rows: list[dict]) -> None:
    # The URL gets the room; video id, privacy and times are in --json.
    table = Table("publication", "to", "status", "url (or error)", expand=True)
    for col in (0, 2):
        table.columns[col].no_wrap = True
    table.columns[1].overflow = "fold"
    table.columns[3].overflow = "fold"
    table.columns[3].ratio = 1
    for r in rows:
        table.add_row(r["id"], _cell(f"{r['platform']}:{r['account']}"), f"{r['status']} ({r['privacy']})",
                      _cell(r["url"] or r["error"] or ""))
    out.print(table)


@app.command("publish")
def publish_cmd(
    video_id: Annotated[str, typer.Option("--video", help="The video to publish (an id from `trendreel videos`).")],
    to: Annotated[str, typer.Option("--to", help="PLATFORM:NAME of an account an admin added (youtube:NAME, tiktok:NAME, folder:NAME).")],
    privacy: Annotated[Optional[str], typer.Option("--privacy", help="private, unlisted or public (default: publish.privacy).")] = None,
    allow_similar: Annotated[bool, typer.Option("--allow-similar", help="Publish even if the account has a near-duplicate.")] = False,
    allow_copied: Annotated[bool, typer.Option("--allow-copied", help="Publish publicly even if the story is mostly its sources' own words (over publish.max_verbatim_share).")] = False,
    restart_upload: Annotated[bool, typer.Option("--restart-upload", help="Forget an interrupted upload's session and start a new one.")] = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Publish an approved video to an account, once (an interrupted upload resumes)."""
    from trendreel import services

    with _app(home) as application:
        with Progress(TextColumn("[bold]upload[/bold]"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                      TimeRemainingColumn(), console=err, transient=True) as progress:
            task = progress.add_task("upload", total=None)

            def on_progress(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            r = services.publish_video(application, video_id=video_id, to=to, privacy=privacy,
                                      allow_similar=allow_similar, restart_upload=restart_upload,
                                      allow_copied=allow_copied, on_progress=on_progress)
    if as_json:
        _print_json(r)
        return
    _publications_table([r])
    for w in r["details"].get("warnings", []):
        _say(f"warning: {w}")
    _say(f"{'Published earlier' if r['reused'] else 'Published'}: {r['url']}")


@app.command()
def publications(
    video_id: Annotated[Optional[str], typer.Option("--video", help="Only publications of this video.")] = None,
    account: Annotated[Optional[str], typer.Option("--account", help="Only this account (PLATFORM:NAME).")] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many, newest first.")] = 50,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List publications: where each video went, its URL, status and privacy."""
    from trendreel import services

    with _app(home) as application:
        rows = services.list_publications(application, video_id=video_id, account=account, limit=limit)
    if as_json:
        _print_json(rows)
        return
    if not rows:
        _say("no publications yet: trendreel approve ID, then trendreel publish --video ID --to folder:NAME (an account from trendreel accounts add)")
        return
    _publications_table(rows)
