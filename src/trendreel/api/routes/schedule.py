"""The publishing schedule (planned posts, the best hour) and the autopilot's status."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field

from trendreel import services
from trendreel.api.auth import get_app
from trendreel.api.routes._common import Editor, Viewer, call, id_path
from trendreel.api.routes.publishing import ACCOUNT_PATTERN, TARGET_PATTERN, Target
from trendreel.api.schemas import ERRORS, Open, Strict, When

router = APIRouter(responses=ERRORS)
PostId = Annotated[str, id_path("q", "planned post")]
STATUSES = Literal["planned", "publishing", "done", "error", "cancelled"]


class PostRequest(Strict):
    video_id: str = Field(pattern=r"^v[0-9a-f]{23}$", description="An approved, finished video.")
    to: Target
    at: When | None = Field(None, description="When (ISO time; UTC unless it names a zone). Neither at nor best: as soon as the caps allow.")
    best: bool = Field(False, description="At the account's best hour (docs/publish.md, 'The best hour').")
    privacy: Literal["private", "unlisted", "public"] | None = None


class PostOut(Open):
    id: str
    video_id: str
    to: str | None
    planned_at: str
    status: str


@router.get("/schedule", response_model=list[PostOut], tags=["schedule"], summary="Planned posts, earliest first")
async def list_posts(request: Request, _: Viewer, account: Annotated[str | None, Query(pattern=ACCOUNT_PATTERN)] = None,
                     status: STATUSES | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 200):
    return await call(services.list_posts, get_app(request), account=account, status=status, limit=limit)


@router.post("/schedule", response_model=PostOut, status_code=201, tags=["schedule"],
             summary="Plan an approved video on an account (caps, spacing and jitter applied)")
async def add_post(body: PostRequest, request: Request, user: Editor):
    return await call(services.add_post, get_app(request), video_id=body.video_id, to=body.to, at=body.at, best=body.best,
                      privacy=body.privacy, by=user.username)


@router.post("/schedule/{post_id}/cancel", response_model=PostOut, tags=["schedule"], summary="Cancel a planned post")
async def cancel_post(post_id: PostId, request: Request, _: Editor):
    return await call(services.cancel_post, get_app(request), post_id)


@router.get("/schedule/best", tags=["schedule"], summary="An account's best posting hour and its next start")
async def best_time(request: Request, _: Viewer, to: Annotated[str, Query(pattern=TARGET_PATTERN)]) -> dict[str, Any]:
    return await call(services.best_time, get_app(request), to=to)


@router.get("/autopilot", tags=["schedule"], summary="The autopilot: last and next cycle, failures, what is planned")
async def autopilot(request: Request, _: Viewer) -> dict[str, Any]:
    return await call(services.autopilot_status, get_app(request))
