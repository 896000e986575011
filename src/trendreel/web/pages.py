"""The workspace's pages: server-rendered HTML over the same service functions the CLI and the API call.

Every page needs a signed-in user (the gateway's browser session); forms post back with the
session's CSRF token, which the gateway checks before a handler runs. Long work (writing a story,
rendering, publishing) is a pipeline run on the gateway's worker thread: the form answers at once
with the run's page, which follows the run through GET /api/v1/runs/{id}. Short work (saving a
story, approving, rejecting, adding an account) is done before the page answers.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime, timezone
from functools import partial
from importlib import resources
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import Undefined
from starlette.concurrency import run_in_threadpool

from trendreel import events, services
from trendreel.api import auth
from trendreel.api.auth import CurrentUser, get_app
from trendreel.api.errors import ApiError, status_of
from trendreel.api.routes._common import ArticleId, PublicationId, RunId, StoryId, TrendId, VideoId
from trendreel.errors import RateLimited, StoryInvalid, TrendreelError

log = logging.getLogger("trendreel.web")

TEMPLATES = Jinja2Templates(directory=str(resources.files("trendreel.web") / "templates"))
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".svg": "image/svg+xml"}
FLASH_KEY = "flash"
STAGE_EVENTS = [events.TREND_DETECTED, events.STORY_WRITTEN, events.VIDEO_RENDERED, events.VIDEO_EDITED,
                events.VIDEO_APPROVED, events.VIDEO_REJECTED, events.VIDEO_PUBLISHED, events.METRICS_COLLECTED,
                events.FILE_PURGED]
# Pages load only this site's own script, styles, images and media; inline SVG charts carry a <style>.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data: blob:; media-src 'self' blob:; object-src 'none'; base-uri 'none'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


# ---- errors: pages answer with HTML, and a missing session sends the browser to the login page ----

class PageRoute(APIRoute):
    """A route whose errors become pages: 401 redirects to /login, others render error.html."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except ApiError as exc:
                if exc.status == 401:
                    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
                return error_page(request, exc.status, exc.message)
            except RequestValidationError as exc:
                problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}"
                                     for e in list(exc.errors())[:5])
                return error_page(request, 404 if request.method == "GET" else 422,
                                  f"this address or form is not valid: {problems}")
            except TrendreelError as exc:
                status, _ = status_of(exc)
                return error_page(request, status, str(exc)[:2000])
            except Exception as exc:  # noqa: BLE001 - a bug: logged with an id, the page shows only the id
                ref = secrets.token_hex(6)
                log.error("unexpected error %s on %s %s", ref, request.method, request.url.path, exc_info=exc)
                return error_page(request, 500, f"internal error; the server log has the details under id {ref}")

        return page_handler


router = APIRouter(route_class=PageRoute, include_in_schema=False)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    user = request.scope.get("state", {}).get("user")
    return TEMPLATES.TemplateResponse(request, "error.html", _context(request, user, status=status, message=message),
                                      status_code=status, headers=PAGE_HEADERS)


# ---- helpers ----------------------------------------------------------------------------------

Viewer = Annotated[CurrentUser, Depends(auth.require_role("viewer"))]
Editor = Annotated[CurrentUser, Depends(auth.require_role("editor"))]
Admin = Annotated[CurrentUser, Depends(auth.require_role("admin"))]


async def call(fn, /, *args, **kwargs):
    """A blocking service function on the thread pool, so the event loop keeps answering."""
    return await run_in_threadpool(partial(fn, *args, **kwargs))


def flash(request: Request, text: str, kind: str = "ok") -> None:
    """A message shown once on the next page (kept in the signed session cookie, so short)."""
    messages = list(request.session.get(FLASH_KEY, []))[-3:]
    messages.append({"kind": kind, "text": text[:600]})
    request.session[FLASH_KEY] = messages


def _context(request: Request, user: CurrentUser | None, **ctx) -> dict:
    messages = request.session.pop(FLASH_KEY, []) if "session" in request.scope else []
    return {"user": user, "csrf_token": auth.csrf_token(request) or "", "flashes": messages,
            "path": request.url.path, **ctx}


def render(request: Request, name: str, user: CurrentUser | None, status_code: int = 200, **ctx) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, name, _context(request, user, **ctx), status_code=status_code,
                                      headers=PAGE_HEADERS)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never another host) after logging in."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc or "\\" in target:
        return "/"
    return target


async def start_run(request: Request, user: CurrentUser, kind: str, params: dict) -> RedirectResponse:
    """A background pipeline run; the browser goes to its page, which follows its progress."""
    run = await call(request.app.state.runner.start, kind=kind, params=params, created_by=user.username)
    return see_other(f"/runs/{run['id']}")


def _fmt_time(value: str | datetime | None) -> str:
    if not value:
        return "—"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _fmt_bytes(n: int | float | None) -> str:
    if n is None:
        return "—"
    n = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} PB"


def _fmt_num(n) -> str:
    # Undefined: a row without counts, e.g. a publication that failed (only done ones have metrics)
    return "—" if n is None or isinstance(n, Undefined) else f"{n:,}"


def _fmt_approx(n) -> str:
    """A prediction to two significant figures (12,345 -> "12,000"): its digits past those are noise."""
    if n is None:
        return "—"
    n = float(n)
    if n < 100:
        return f"{n:,.0f}"
    digits = len(str(int(n))) - 2
    return f"{round(n, -digits):,.0f}"


TEMPLATES.env.filters.update(time=_fmt_time, bytes=_fmt_bytes, num=_fmt_num, approx=_fmt_approx)


# ---- static files (shipped in the package: nothing is fetched at run time) --------------------

@router.api_route("/static/{name}", methods=["GET", "HEAD"])
async def static(name: str):
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    if suffix not in STATIC_TYPES or not re.fullmatch(r"[a-z0-9_-]{1,40}\.[a-z]{2,3}", name):
        raise ApiError(404, "not_found", f"no static file {name[:60]}")
    try:
        data = (resources.files("trendreel.web") / "static" / name).read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        raise ApiError(404, "not_found", f"no static file {name[:60]}") from None
    return Response(data, media_type=STATIC_TYPES[suffix], headers={"Cache-Control": "public, max-age=3600"})


# ---- logging in -------------------------------------------------------------------------------

@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: Annotated[str | None, Query(max_length=500)] = None):
    user = await auth.optional_user(request) if request.session.get("uid") else None
    if user is not None:
        return see_other(_safe_next(next))
    # Login CSRF: the form carries a token bound to this (not yet signed-in) session.
    request.session["login_csrf"] = request.session.get("login_csrf") or secrets.token_urlsafe(24)
    return render(request, "login.html", None, next=_safe_next(next), login_csrf=request.session["login_csrf"])


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, username: Annotated[str, Form(max_length=100)],
                password: Annotated[str, Form(max_length=1024)], login_csrf: Annotated[str, Form(max_length=100)] = "",
                next: Annotated[str, Form(max_length=500)] = "/"):
    expected = request.session.get("login_csrf")
    if not expected or not secrets.compare_digest(expected, login_csrf):
        request.session["login_csrf"] = secrets.token_urlsafe(24)
        return render(request, "login.html", None, status_code=403, next=_safe_next(next), username=username,
                      login_csrf=request.session["login_csrf"], error="the login form expired; please try again")
    try:
        await auth.login(request, username, password)
    except TrendreelError as exc:
        request.session["login_csrf"] = secrets.token_urlsafe(24)
        throttled = isinstance(exc, RateLimited)
        page = render(request, "login.html", None, status_code=429 if throttled else 401, next=_safe_next(next),
                      username=username, login_csrf=request.session["login_csrf"], error=str(exc))
        if throttled:
            page.headers["Retry-After"] = str(exc.retry_after_s)
        return page
    return see_other(_safe_next(next))


@router.post("/logout")
async def logout(request: Request, _: Viewer):
    await auth.logout_session(request)
    return see_other("/login")


# ---- dashboard --------------------------------------------------------------------------------

@router.get("/", response_class=HTMLResponse)
async def dashboard(request: Request, user: Viewer):
    app = get_app(request)
    recent_runs = await call(services.list_runs, app, limit=10)
    # Per-article events (crawl, index) come by the thousand: counted, while the later stages' are listed.
    recent = await call(services.recent_events, app, limit=20, types=STAGE_EVENTS)
    event_counts = await call(services.event_counts, app, hours=24)
    crawl_errors = await call(services.crawl_errors, app, limit=15)
    videos = await call(services.list_videos, app, limit=200)
    failed_videos = [v for v in videos if v["status"] == "error"][:15]
    publications = await call(services.list_publications, app, limit=200)
    failed_publications = [p for p in publications if p["status"] == "error"][:15]
    counts = await call(services.storage_counts, app)
    storage = await call(services.storage_status, app)
    return render(request, "dashboard.html", user, runs=recent_runs, events=recent, event_counts=event_counts,
                  crawl_errors=crawl_errors,
                  failed_videos=failed_videos, failed_publications=failed_publications, counts=counts, storage=storage)


@router.get("/runs/{run_id}", response_class=HTMLResponse)
async def run_page(run_id: RunId, request: Request, user: Viewer):
    run = await call(services.get_run, get_app(request), run_id)
    return render(request, "run.html", user, run=run, next_url=_run_result_url(run))


def _run_result_url(run: dict) -> str | None:
    """Where a finished run's result is shown."""
    result = run.get("result") or {}
    for stage, key, prefix in (("publish", "publication_id", "/publications/"), ("edit", "video_id", "/videos/"),
                               ("render", "video_id", "/videos/"), ("story", "story_id", "/stories/")):
        value = (result.get(stage) or {}).get(key)
        if value:
            return prefix + value
    return RUN_PAGES.get(run["kind"]) if run.get("status") == "done" else None


# where a finished run of a kind that makes no single thing is seen
RUN_PAGES = {"report": "/report", "metrics": "/publications", "trends": "/trends", "crawl": "/articles",
             "index": "/articles"}


# ---- articles, media, search ------------------------------------------------------------------

@router.get("/articles", response_class=HTMLResponse)
async def articles(request: Request, user: Viewer, q: Annotated[str | None, Query(max_length=500)] = None,
                   kind: Annotated[str | None, Query(pattern=r"^(article|image|video)?$")] = None,
                   lang: Annotated[str | None, Query(pattern=r"^([a-z]{2,3})?$")] = None):
    app = get_app(request)
    q = (q or "").strip()
    hits, rows = None, []
    if q:
        hits = await call(services.search, app, query=q, kind=kind or None, limit=30)
    else:
        rows = await call(services.list_articles, app, limit=60, lang=lang or None)
    return render(request, "articles.html", user, q=q, kind=kind or "", lang=lang or "", hits=hits, articles=rows)


@router.get("/articles/{article_id}", response_class=HTMLResponse)
async def article(article_id: ArticleId, request: Request, user: Viewer):
    item = await call(services.get_article, get_app(request), article_id)
    return render(request, "article.html", user, article=item)


# ---- trends and stories -----------------------------------------------------------------------

def _predicted_views(app, trends: list[dict]) -> tuple[dict[str, dict], dict | None]:
    """Views a video made of each trend is expected to get, by the newest cold-start model, with that
    model ({id, version}); ({}, None) when no model is fitted. One prediction for the whole list. A
    model that cannot be loaded costs the column, never the page."""
    if not trends:
        return {}, None
    try:
        expected = services.expected_views(app, trends)
        if not expected:
            return {}, None
        first = next(iter(expected.values()))
        version = next((m["version"] for m in services.list_models(app, kind="cold_start") if m["id"] == first["model_id"]),
                       None)
    except (TrendreelError, ValueError, OSError) as exc:
        log.warning("predicted views left out of the trends page: %s", exc)
        return {}, None
    # sd_log10 is the model's held-out error, the same for every trend: a factor either way
    return expected, {"id": first["model_id"], "version": version, "factor": 10 ** first["sd_log10"]}


@router.get("/trends", response_class=HTMLResponse)
async def trends(request: Request, user: Viewer):
    app = get_app(request)
    rows = await call(services.list_trends, app, limit=100)
    predicted, model = await call(_predicted_views, app, rows)
    return render(request, "trends.html", user, trends=rows, predicted=predicted, model=model)


@router.get("/trends/{trend_id}", response_class=HTMLResponse)
async def trend(trend_id: TrendId, request: Request, user: Viewer):
    app = get_app(request)
    item = await call(services.get_trend, app, trend_id)
    stories = await call(services.list_stories, app, trend_id=trend_id)
    predicted, model = await call(_predicted_views, app, [item])
    return render(request, "trend.html", user, trend=item, stories=stories, predicted=predicted.get(trend_id), model=model,
                  writers=_writers(app))


@router.post("/trends/{trend_id}/story")
async def write_story(trend_id: TrendId, request: Request, user: Editor,
                      item_id: Annotated[str, Form(pattern=r"^(a[0-9a-f]{23})?$")] = "",
                      backend: Annotated[str, Form(max_length=100)] = "",
                      lang: Annotated[str, Form(pattern=r"^([a-z]{2,3})?$")] = ""):
    app = get_app(request)
    await call(services.get_trend, app, trend_id)  # an unknown trend is refused now
    if backend and backend not in app.registry.names("story_writer"):
        raise ApiError(422, "invalid_request", f"unknown story writer {backend!r}; known: "
                                               f"{', '.join(app.registry.names('story_writer'))}")
    return await start_run(request, user, "story", {"trend_id": trend_id, **({"item_id": item_id} if item_id else {}),
                                                    **({"backend": backend} if backend else {}),
                                                    **({"lang": lang} if lang else {})})


def _writers(app) -> dict:
    """The story writers one may pick (the settings' first) and the languages to write in."""
    configured = app.settings.story.backend
    names = [configured] + [n for n in app.registry.names("story_writer") if n != configured]
    langs = sorted({"ko", "en", *(k for k in app.settings.render.voices if re.fullmatch(r"[a-z]{2,3}", k))})
    return {"names": names, "configured": configured, "langs": langs}


def _scene_problems(problems: list[str], n: int) -> tuple[dict[int, list[str]], list[str]]:
    """The check's messages by scene number (1-based), and those about the story as a whole."""
    by_scene: dict[int, list[str]] = {}
    general: list[str] = []
    for p in problems:
        m = re.match(r"^scenes?[ .](\d+)", p)
        if m:
            i = int(m.group(1)) + (1 if p.startswith("scenes.") else 0)  # validation paths count from 0
            if 1 <= i <= n:
                by_scene.setdefault(i, []).append(p)
                continue
        general.append(p)
    return by_scene, general


async def _render_options(app, user: CurrentUser, story: dict) -> dict | None:
    """The per-render choices offered on a story's page (to those who may render)."""
    return await call(services.render_options, app, lang=story["lang"]) if user.can("editor") else None


@router.get("/stories/{story_id}", response_class=HTMLResponse)
async def story(story_id: StoryId, request: Request, user: Viewer):
    app = get_app(request)
    item = await call(services.get_story, app, story_id)
    videos = await call(services.list_videos, app, story_id=story_id)
    return render(request, "story.html", user, story=item, videos=videos, problems={}, general_problems=[],
                  options=await _render_options(app, user, item), rendering=await _renders_running(app, story_id))


async def _renders_running(app, story_id: str) -> list[dict]:
    """This story's render runs not finished yet (a batch of variants shows them until they end)."""
    active = [r for status in ("queued", "running") for r in await call(services.list_runs, app, status=status, limit=100)]
    return [r for r in active if r["kind"] == "render" and r["params"].get("story_id") == story_id]


@router.post("/stories/{story_id}", response_class=HTMLResponse)
async def save_story(story_id: StoryId, request: Request, user: Editor):
    app = get_app(request)
    current = await call(services.get_story, app, story_id)
    form = await request.form()
    scenes = []
    for i, scene in enumerate(current["scenes"]):
        narration = str(form.get(f"narration_{i}", scene["narration"]))[:2000]
        on_screen = str(form.get(f"on_screen_{i}", scene.get("on_screen_text", "")))[:500]
        narration, on_screen = " ".join(narration.split()), " ".join(on_screen.split())
        changed = narration != scene["narration"] or on_screen != scene.get("on_screen_text", "")
        scenes.append({**scene, "narration": narration, "on_screen_text": on_screen, "changed": changed})
    changes: dict[str, Any] = {"scenes": [{k: v for k, v in sc.items() if k != "changed"} for sc in scenes]}
    for field in ("title", "hook"):
        if field in form:
            changes[field] = " ".join(str(form[field])[:500].split())
    try:
        saved = await call(services.edit_story, app, story_id, changes, by=user.username)
    except StoryInvalid as exc:
        by_scene, general = _scene_problems(list(exc.problems) or [str(exc)], len(scenes))
        edited = {**current, **{k: v for k, v in changes.items() if k != "scenes"}, "scenes": scenes}
        videos = await call(services.list_videos, app, story_id=story_id)
        return render(request, "story.html", user, status_code=422, story=edited, videos=videos, problems=by_scene,
                      general_problems=general, error=str(exc), options=await _render_options(app, user, current))
    flash(request, f"Saved: every scene passed the grounding check (story grounding {saved.get('grounding')}).")
    return see_other(f"/stories/{story_id}")


@router.post("/stories/{story_id}/regenerate")
async def regenerate_story(story_id: StoryId, request: Request, user: Editor):
    item = await call(services.get_story, get_app(request), story_id)
    if not item.get("trend_id"):
        raise ApiError(400, "invalid_request", f"story {story_id} has no trend to write it from")
    return await start_run(request, user, "story", {"trend_id": item["trend_id"], "item_id": item["article_id"],
                                                    "backend": item.get("backend"), "force": True})


@router.post("/stories/{story_id}/render")
async def render_story(story_id: StoryId, request: Request, user: Editor,
                       force: Annotated[bool, Form()] = False,
                       voice: Annotated[str, Form(max_length=300)] = "",
                       subtitle_style: Annotated[str, Form(max_length=40)] = "",
                       music: Annotated[str, Form(max_length=200)] = "",
                       aspect: Annotated[str, Form(max_length=10)] = ""):
    # a bad choice is refused now, with its message, rather than failing the run later
    choices = await call(services.check_render_choices, get_app(request), story_id=story_id,
                         choices={"voice": voice, "subtitle_style": subtitle_style, "music": music, "aspect": aspect})
    return await start_run(request, user, "render", {"story_id": story_id, "force": force,
                                                     **({"choices": choices} if choices else {})})


# ---- videos: review, re-edit, publish ---------------------------------------------------------

@router.get("/videos", response_class=HTMLResponse)
async def videos(request: Request, user: Viewer):
    app = get_app(request)
    rows = await call(services.list_videos, app, limit=100)
    reviews = await call(services.video_reviews, app, [v["id"] for v in rows])
    return render(request, "videos.html", user, videos=rows, reviews=reviews)


@router.get("/videos/{video_id}", response_class=HTMLResponse)
async def video(video_id: VideoId, request: Request, user: Viewer):
    app = get_app(request)
    item = await call(services.get_video, app, video_id)
    story_item = None
    if item.get("story_id"):
        try:
            story_item = await call(services.get_story, app, item["story_id"])
        except TrendreelError:
            story_item = None
    publications = await call(services.list_publications, app, video_id=video_id)
    accounts = _own(await call(services.list_accounts, app))
    edits = [v for v in await call(services.list_videos, app, story_id=item["story_id"]) if v.get("parent_id") == video_id] \
        if item.get("story_id") else []
    review = (await call(services.video_reviews, app, [video_id])).get(video_id, {})
    return render(request, "video.html", user, video=item, review=review, story=story_item, publications=publications,
                  accounts=accounts, edits=edits, can_edit=True,
                  privacy_default=app.settings.publish.privacy)


@router.post("/videos/{video_id}/approve")
async def approve(video_id: VideoId, request: Request, user: Editor):
    result = await call(services.approve_video, get_app(request), video_id, by=user.username)
    flash(request, f"Approved by {result['reviewed_by']}." if result.get("changed") else "Already approved.")
    return see_other(f"/videos/{video_id}")


@router.post("/videos/{video_id}/reject")
async def reject(video_id: VideoId, request: Request, user: Editor, reason: Annotated[str, Form(max_length=1000)] = ""):
    await call(services.reject_video, get_app(request), video_id, by=user.username, reason=reason.strip() or None)
    flash(request, "Rejected" + (f": {reason.strip()}" if reason.strip() else "."))
    return see_other(f"/videos/{video_id}")


@router.post("/videos/{video_id}/edit")
async def edit(video_id: VideoId, request: Request, user: Editor,
               target_seconds: Annotated[str, Form(max_length=10, pattern=r"^(\d{1,4}(\.\d{1,2})?)?$")] = ""):
    target = float(target_seconds) if target_seconds else None
    if target is not None and not 1 <= target <= 3600:
        raise ApiError(422, "invalid_request", "give the target length in seconds, from 1 to 3600 (or leave it empty)")
    return await start_run(request, user, "edit", {"video_id": video_id, "target_seconds": target})


@router.post("/videos/{video_id}/publish")
async def publish(video_id: VideoId, request: Request, user: Editor,
                  to: Annotated[str, Form(pattern=r"^(youtube|tiktok|instagram|folder):[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")],
                  privacy: Annotated[str, Form(pattern=r"^(private|unlisted|public)?$")] = ""):
    app = get_app(request)
    await call(services.resolve_target, app, to)  # an unknown account is refused now, not in the run
    await call(services.get_video, app, video_id)
    return await start_run(request, user, "publish", {"video_id": video_id, "to": to, **({"privacy": privacy} if privacy else {})})


# ---- publications and their views -------------------------------------------------------------

def _series(rows: list[dict]) -> list[tuple[str, datetime, list[tuple[datetime, int]]]]:
    out = []
    for r in rows:
        points = [(datetime.fromisoformat(s["collected_at"]), s["views"]) for s in r.get("series", [])
                  if s.get("views") is not None and s.get("collected_at")]
        if r.get("published_at"):
            out.append((f"{r.get('title') or r['publication_id']} · {r['account']}",
                        datetime.fromisoformat(r["published_at"]), points))
    return out


@router.get("/publications", response_class=HTMLResponse)
async def publications(request: Request, user: Viewer):
    app = get_app(request)
    rows = await call(services.list_publications, app, limit=200)
    chart, warns = None, []
    latest = {m["publication_id"]: m for m in await call(services.list_metrics, app)}
    top = sorted((m for m in latest.values() if m.get("samples")), key=lambda m: -(m.get("views") or 0))[:10]
    detailed = [(await call(services.list_metrics, app, m["publication_id"]))[0] for m in top]
    if detailed:
        chart, warns = await call(services.views_chart, app, _series(detailed),
                                  "조회수 추이 · Views over time (top 10)")
    return render(request, "publications.html", user, publications=rows, latest=latest, chart=chart, warnings=warns)


@router.get("/publications/{publication_id}", response_class=HTMLResponse)
async def publication(publication_id: PublicationId, request: Request, user: Viewer):
    app = get_app(request)
    item = await call(services.get_publication, app, publication_id)
    series, chart, warns = [], None, []
    if item["status"] == "done":
        row = (await call(services.list_metrics, app, publication_id))[0]
        series = row.get("series", [])
        chart, warns = await call(services.views_chart, app, _series([row]), "조회수 추이 · Views over time")
    return render(request, "publication.html", user, publication=item, samples=series, chart=chart, warnings=warns)


# ---- accounts and settings --------------------------------------------------------------------

def _own(accounts: list[dict]) -> list[dict]:
    """Our accounts: the channels whose histories were imported to learn from are not ours to publish to."""
    return [a for a in accounts if not (a.get("options") or {}).get("external")]


@router.get("/accounts", response_class=HTMLResponse)
async def accounts(request: Request, user: Viewer):
    app = get_app(request)
    rows = await call(services.list_accounts, app)
    own = _own(rows)
    return render(request, "accounts.html", user, accounts=own, external=len(rows) - len(own),
                  oauth_platforms=services.oauth_platforms(app))


@router.post("/accounts")
async def add_account(request: Request, user: Admin,
                      name: Annotated[str, Form(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")],
                      path: Annotated[str, Form(min_length=1, max_length=1000)]):
    from pathlib import Path

    if not path.startswith("/"):
        raise ApiError(422, "invalid_request", "give the folder as an absolute path on the server, e.g. /srv/outbox")
    account = await call(services.add_account, get_app(request), platform="folder", name=name, path=Path(path))
    flash(request, f"Folder account {account['name']} {'added' if account.get('created') else 'updated'}: "
                   f"videos published to folder:{account['name']} are written to {account['options'].get('path')}.")
    return see_other("/accounts")


@router.get("/settings", response_class=HTMLResponse)
async def settings_page(request: Request, user: Admin):
    sections = await call(services.effective_settings, get_app(request))
    return render(request, "settings.html", user, sections=sections)


# ---- the calendar (its own module; its routes join this router) ---------------------------------

from trendreel.web import calendar as _calendar  # noqa: E402,F401
