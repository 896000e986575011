"""The workspace's pages for running the system without the command line: sources, runs, users, metrics
and the report, connecting a platform account through its OAuth flow, and batch renders of one story.

Same rules as pages.py: every page needs a session, forms carry the CSRF token (checked by the role
dependencies), admins manage sources, users and accounts, editors start runs.
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse

from trendreel import services
from trendreel.api.auth import get_app
from trendreel.api.errors import ApiError
from trendreel.api.routes._common import StoryId
from trendreel.errors import InvalidInput, NotFound
from trendreel.units import format_size
from trendreel.web.pages import TEMPLATES, _fmt_time, Admin, Editor, PageRoute, Viewer, call, flash, render, see_other, start_run

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# What a stage's done/total count (static/workspace.js has the same table for the live run page).
STAGE_UNITS = {"crawl": "pages", "index": "items", "metrics": "publications", "gc": "files", "render": "videos",
               "edit": "videos", "publish": "bytes"}

NAME_RE = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
USER_RE = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$"
SourceName = Annotated[str, Path(pattern=NAME_RE)]
Username = Annotated[str, Path(pattern=USER_RE)]
Platform = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{0,30}$")]
OAUTH_KEY = "oauth"
OAUTH_MAX_AGE_S = 600  # a sign-in left longer than this on the provider's page starts over
BATCH_ROWS = 4  # variant rows offered on a story's page


def _seconds(n: float) -> str:
    n = max(0, int(round(n)))
    return f"{n} s" if n < 60 else f"{n // 60} min {n % 60} s" if n < 3600 else f"{n // 3600} h {n % 3600 // 60} min"


def _size(n: float) -> str:
    return format_size(n) if n else "0 B"


def progress_text(p: dict, stage: str) -> str:
    """A stage's progress as people count it: "40 of 120 pages · 12 s · 3.3 pages/s · 10 new, 0 errors"."""
    unit = STAGE_UNITS.get(stage, "steps")
    done, total = int(p.get("done") or 0), p.get("total")
    if unit == "bytes":
        count = f"{_size(done)} of {_size(total)} uploaded" if total else f"{_size(done)} uploaded"
    else:
        unit = p.get("info") if stage == "trends" and p.get("info") else unit  # trends say which step counts
        count = f"{done:,} of {total:,} {unit}" if total else f"{done:,} {unit}"
    parts = [count]
    elapsed = None
    if p.get("started_at"):
        start = datetime.fromisoformat(p["started_at"])
        end = datetime.fromisoformat(p["finished_at"]) if p.get("finished_at") else datetime.now(timezone.utc)
        elapsed = (end - start).total_seconds()
        parts.append(_seconds(elapsed))
    if elapsed and elapsed >= 1 and done and unit in ("pages", "items"):
        parts.append(f"{done / elapsed:.1f} {unit}/s")
    if p.get("info") and stage != "trends":
        parts.append(str(p["info"]))
    return " · ".join(parts)


TEMPLATES.env.filters.update(progress=progress_text,
                             epoch=lambda t: _fmt_time(datetime.fromtimestamp(t, timezone.utc)) if t else "—")


# ---- sources ------------------------------------------------------------------------------------

def _source_form(name: str, kind: str, urls: str, max_depth: int, max_pages: int, allow_private: bool,
                 category: str) -> dict:
    return {"name": name.strip(), "kind": kind, "urls": [u.strip() for u in urls.splitlines() if u.strip()],
            "max_depth": max_depth, "max_pages": max_pages, "allow_private": allow_private,
            "category": category.strip() or None}


@router.get("/sources", response_class=HTMLResponse)
async def sources(request: Request, user: Viewer):
    rows = await call(services.list_sources, get_app(request))
    return render(request, "sources.html", user, sources=rows, edit=None)


@router.post("/sources")
async def add_source(request: Request, user: Admin, name: Annotated[str, Form(pattern=NAME_RE)],
                     kind: Annotated[str, Form(pattern=r"^(feed|sitemap|site|urls)$")],
                     urls: Annotated[str, Form(min_length=1, max_length=20_000)],
                     max_depth: Annotated[int, Form(ge=0, le=20)] = 2,
                     max_pages: Annotated[int, Form(ge=1, le=1_000_000)] = 500,
                     allow_private: Annotated[bool, Form()] = False,
                     category: Annotated[str, Form(max_length=80)] = ""):
    data = _source_form(name, kind, urls, max_depth, max_pages, allow_private, category)
    saved = await call(services.save_source, get_app(request), data, by=user.username)
    flash(request, f"Source {saved['name']} added: test it to see what a crawl would find, or crawl it now.")
    return see_other(f"/sources#source-{saved['name']}")


@router.get("/sources/{name}/edit", response_class=HTMLResponse)
async def edit_source_page(name: SourceName, request: Request, user: Admin):
    rows = await call(services.list_sources, get_app(request))
    found = next((s for s in rows if s["name"] == name and s["origin"] == "workspace"), None)
    if found is None:
        raise NotFound(f"no source {name!r} was added in the workspace (the settings file's are changed there)")
    return render(request, "sources.html", user, sources=rows, edit=found)


@router.post("/sources/{name}")
async def change_source(name: SourceName, request: Request, user: Admin, new_name: Annotated[str, Form(pattern=NAME_RE)],
                        kind: Annotated[str, Form(pattern=r"^(feed|sitemap|site|urls)$")],
                        urls: Annotated[str, Form(min_length=1, max_length=20_000)],
                        max_depth: Annotated[int, Form(ge=0, le=20)] = 2,
                        max_pages: Annotated[int, Form(ge=1, le=1_000_000)] = 500,
                        allow_private: Annotated[bool, Form()] = False,
                        category: Annotated[str, Form(max_length=80)] = ""):
    data = _source_form(new_name, kind, urls, max_depth, max_pages, allow_private, category)
    saved = await call(services.save_source, get_app(request), data, by=user.username, replace=name)
    flash(request, f"Source {saved['name']} saved.")
    return see_other(f"/sources#source-{saved['name']}")


@router.post("/sources/{name}/remove")
async def remove_source(name: SourceName, request: Request, user: Admin):
    await call(services.remove_source, get_app(request), name)
    flash(request, f"Source {name} removed: it is not crawled any more; the articles it brought stay.")
    return see_other("/sources")


@router.post("/sources/{name}/test", response_class=HTMLResponse)
async def test_source(name: SourceName, request: Request, user: Editor):
    started = time.monotonic()
    result = await call(services.test_source, get_app(request), name)
    return render(request, "source_test.html", user, result=result, seconds=time.monotonic() - started)


@router.post("/sources/{name}/crawl")
async def crawl_source(name: SourceName, request: Request, user: Editor,
                       max_pages: Annotated[str, Form(pattern=r"^([1-9][0-9]{0,6})?$")] = ""):
    await call(services.find_source, get_app(request), name)  # an unknown name is refused now
    return await start_run(request, user, "crawl", {"sources": [name], **({"max_pages": int(max_pages)} if max_pages else {})})


# ---- runs -----------------------------------------------------------------------------------------

@router.get("/runs", response_class=HTMLResponse)
async def runs(request: Request, user: Viewer):
    app = get_app(request)
    rows = await call(services.list_runs, app, limit=50)
    names = [s["name"] for s in await call(services.list_sources, app)]
    return render(request, "runs.html", user, runs=rows, source_names=names)


@router.post("/runs/crawl")
async def start_crawl(request: Request, user: Editor, source: Annotated[str, Form(pattern=r"^([A-Za-z0-9][A-Za-z0-9._-]{0,99})?$")] = "",
                      max_pages: Annotated[str, Form(pattern=r"^([1-9][0-9]{0,6})?$")] = ""):
    app = get_app(request)
    if source:
        await call(services.find_source, app, source)
    elif not await call(services.list_sources, app):
        raise ApiError(409, "conflict", "no sources yet: add a source first (Sources)")
    return await start_run(request, user, "crawl", {**({"sources": [source]} if source else {}),
                                                    **({"max_pages": int(max_pages)} if max_pages else {})})


@router.post("/runs/index")
async def start_index(request: Request, user: Editor, force: Annotated[bool, Form()] = False):
    return await start_run(request, user, "index", {"force": force})


@router.post("/runs/trends")
async def start_trends(request: Request, user: Editor,
                       window: Annotated[str, Form(pattern=r"^([1-9][0-9]{0,3}[mhd])?$")] = ""):
    return await start_run(request, user, "trends", {"window": window} if window else {})


# ---- metrics and the report ----------------------------------------------------------------------

@router.get("/report", response_class=HTMLResponse)
async def report(request: Request, user: Viewer):
    app = get_app(request)
    folder = app.settings.home / "report"
    built = (folder / "report.html").stat().st_mtime if (folder / "report.html").is_file() else None
    files = [n for n in ("samples.csv", "publications.csv", "forecasts.csv") if (folder / n).is_file()]
    published = [p for p in await call(services.list_publications, app, limit=1000) if p["status"] == "done"]
    metrics = await call(services.list_metrics, app)
    sampled = sum(1 for m in metrics if m.get("samples"))
    return render(request, "report.html", user, built=built, files=files, published=len(published), sampled=sampled)


@router.post("/metrics/collect")
async def collect_metrics(request: Request, user: Editor, all: Annotated[bool, Form()] = False):
    return await start_run(request, user, "metrics", {"all": all})


@router.post("/report")
async def build_report(request: Request, user: Editor):
    return await start_run(request, user, "report", {})


# ---- users (admins) -------------------------------------------------------------------------------

@router.get("/users", response_class=HTMLResponse)
async def users(request: Request, user: Admin):
    rows = await call(services.list_users, get_app(request))
    return render(request, "users.html", user, users=rows)


@router.post("/users")
async def add_user(request: Request, user: Admin, username: Annotated[str, Form(pattern=USER_RE)],
                   password: Annotated[str, Form(min_length=1, max_length=1024)],
                   role: Annotated[str, Form(pattern=r"^(viewer|editor|admin)$")] = "viewer"):
    app = get_app(request)
    if any(u["username"].lower() == username.lower() for u in await call(services.list_users, app)):
        raise ApiError(409, "conflict", f"a user named {username!r} exists already: reset their password in the list")
    await call(services.add_user, app, username=username, password=password, role=role)
    flash(request, f"User {username} added as {role}.")
    return see_other("/users")


@router.post("/users/{username}/role")
async def set_role(username: Username, request: Request, user: Admin,
                   role: Annotated[str, Form(pattern=r"^(viewer|editor|admin)$")]):
    await call(services.set_role, get_app(request), username=username, role=role)
    flash(request, f"{username} is now {role}.")
    return see_other("/users")


@router.post("/users/{username}/password")
async def reset_password(username: Username, request: Request, user: Admin,
                         password: Annotated[str, Form(min_length=1, max_length=1024)]):
    app = get_app(request)
    found = next((u for u in await call(services.list_users, app) if u["username"].lower() == username.lower()), None)
    if found is None:
        raise NotFound(f"no user named {username!r}")
    # add_user on an existing user sets the password and ends every session of theirs
    await call(services.add_user, app, username=found["username"], password=password, role=found["role"])
    if found["username"].lower() == user.username.lower():
        return see_other("/login")
    flash(request, f"Password of {found['username']} reset; their sessions were ended.")
    return see_other("/users")


@router.post("/users/{username}/remove")
async def remove_user(username: Username, request: Request, user: Admin):
    if username.lower() == user.username.lower():
        raise ApiError(400, "invalid_request", "you cannot remove yourself; ask another admin")
    await call(services.remove_user, get_app(request), username=username)
    flash(request, f"User {username} removed, with their tokens and sessions.")
    return see_other("/users")


# ---- connecting a platform account through its OAuth flow (admins) ---------------------------------

def _redirect_uri(request: Request, platform: str) -> str:
    return str(request.url_for("oauth_callback", platform=platform))


@router.get("/accounts/connect/{platform}")
async def oauth_connect(platform: Platform, request: Request, user: Admin,
                        name: Annotated[str, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")]):
    state = secrets.token_urlsafe(24)
    url = await call(services.oauth_start, get_app(request), platform=platform,
                     redirect_uri=_redirect_uri(request, platform), state=state)
    # the state lives in the signed session: only this browser, this admin, this platform, for a while
    request.session[OAUTH_KEY] = {"state": state, "platform": platform, "name": name, "by": user.username,
                                  "at": time.time()}
    return see_other(url)


@router.get("/accounts/callback/{platform}", name="oauth_callback", response_class=HTMLResponse)
async def oauth_callback(platform: Platform, request: Request, user: Admin,
                         state: Annotated[str, Query(max_length=200)] = "",
                         code: Annotated[str, Query(max_length=4000)] = "",
                         error: Annotated[str, Query(max_length=200)] = ""):
    pending = request.session.pop(OAUTH_KEY, None)
    if (not pending or not state or pending.get("platform") != platform or pending.get("by") != user.username
            or not secrets.compare_digest(str(pending.get("state", "")), state)):
        raise ApiError(400, "invalid_request", "this sign-in answer does not match a connection started here "
                                               "(or it was used already): start again from Accounts")
    if time.time() - float(pending.get("at", 0)) > OAUTH_MAX_AGE_S:
        raise ApiError(400, "invalid_request", "the sign-in took too long: start again from Accounts")
    if error:
        raise ApiError(400, "invalid_request", f"the {platform} sign-in was not completed ({error}): start again from Accounts")
    if not code:
        raise ApiError(400, "invalid_request", "the provider sent no code back: start again from Accounts")
    account = await call(services.oauth_finish, get_app(request), platform=platform, name=pending["name"], code=code,
                         redirect_uri=_redirect_uri(request, platform))
    flash(request, f"{platform.capitalize()} account {account['name']} connected: publish to "
                   f"{platform}:{account['name']}.")
    return see_other(f"/accounts#account-{platform}-{account['name']}")


# ---- batch variants of one story -----------------------------------------------------------------

@router.post("/stories/{story_id}/variants")
async def render_variants(story_id: StoryId, request: Request, user: Editor):
    app = get_app(request)
    await call(services.get_story, app, story_id)
    form = await request.form()
    wanted = []
    for i in range(BATCH_ROWS):
        if form.get(f"v{i}_on") != "true":
            continue
        choices = {k: str(form.get(f"v{i}_{k}", ""))[:300] for k in ("voice", "subtitle_style", "music", "aspect")}
        # each is checked now, with its row named, rather than failing a run later
        try:
            checked = await call(services.check_render_choices, app, story_id=story_id, choices=choices)
        except InvalidInput as exc:
            raise InvalidInput(f"variant {i + 1}: {exc}") from exc
        if checked not in wanted:
            wanted.append(checked)
    if not wanted:
        raise ApiError(422, "invalid_request", "tick at least one variant to render")
    for choices in wanted:
        await call(request.app.state.runner.start, kind="render",
                   params={"story_id": story_id, **({"choices": choices} if choices else {})}, created_by=user.username)
    flash(request, f"Rendering {len(wanted)} variant{'s' if len(wanted) > 1 else ''}: they are listed below as they finish.")
    return see_other(f"/stories/{story_id}#variants")
