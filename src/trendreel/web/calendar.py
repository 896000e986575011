"""The workspace's calendar: what goes out when, per account and day, with cancel; and the autopilot's panel.

Its routes join the pages' router (web/pages.py imports this module at its end)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import groupby

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse

from trendreel import services
from trendreel.api.auth import get_app
from trendreel.api.routes._common import VideoId
from trendreel.api.routes.schedule import PostId
from trendreel.errors import InvalidInput
from trendreel.web.pages import Editor, Viewer, call, flash, render, router, see_other

SHOWN_BEFORE = timedelta(days=2)  # the recent past stays on the page: what went out, what failed


def _by_account_and_day(posts: list[dict]) -> list[tuple[str, list[tuple[str, list[dict]]]]]:
    out = []
    for to, rows in groupby(sorted(posts, key=lambda p: (p["to"] or "", p["planned_at"])), key=lambda p: p["to"]):
        days = [(day, list(items)) for day, items in groupby(rows, key=lambda p: p["planned_at"][:10])]
        out.append((to, days))
    return out


@router.get("/calendar", response_class=HTMLResponse)
async def calendar(request: Request, user: Viewer):
    app = get_app(request)
    now = datetime.now(timezone.utc)
    posts = await call(services.list_posts, app, since=now - SHOWN_BEFORE, limit=1000)
    autopilot = await call(services.autopilot_status, app, now=now, limit=5)
    return render(request, "calendar.html", user, accounts=_by_account_and_day(posts), autopilot=autopilot,
                  schedule=app.settings.schedule, now=now.isoformat())


@router.post("/calendar/{post_id}/cancel")
async def cancel(post_id: PostId, request: Request, user: Editor):
    post = await call(services.cancel_post, get_app(request), post_id)
    flash(request, f"Cancelled: {post['title'] or post['video_id']} on {post['to']} at {post['planned_at'][:16].replace('T', ' ')} UTC.")
    return see_other("/calendar")


@router.post("/videos/{video_id}/schedule")
async def schedule_video(video_id: VideoId, request: Request, user: Editor,
                         to: Annotated[str, Form(pattern=r"^[a-z]+:[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")],
                         at: Annotated[str, Form(max_length=40)] = "", best: Annotated[str, Form(max_length=5)] = ""):
    """Plan the video on an account: at a time (the browser's datetime-local, read as UTC), at its best hour, or
    as soon as the caps allow; then show the calendar."""
    when = None
    if at.strip():
        try:
            when = datetime.fromisoformat(at.strip()).replace(tzinfo=timezone.utc)
        except ValueError as exc:
            raise InvalidInput(f"time {at!r} is not a date and time, e.g. 2026-12-24T18:00") from exc
    post = await call(services.add_post, get_app(request), video_id=video_id, to=to, at=when, best=bool(best),
                      by=user.username)
    verb = "Already planned" if post.get("reused") else "Planned"
    flash(request, f"{verb}: {post['title'] or video_id} on {post['to']} at {post['planned_at'][:16].replace('T', ' ')} UTC.")
    return see_other("/calendar")
