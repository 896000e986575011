"""Pipeline runs: start one, follow its progress, read each stage's events."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from fastapi import APIRouter, Query, Request
from pydantic import Field

from trendreel.api.auth import get_app
from trendreel.api.errors import ApiError
from trendreel.api.routes._common import Editor, RunId, Viewer, call, check_backend, start_run
from trendreel import services
from trendreel.services import runs
from trendreel.api.schemas import ERRORS, BackendName, EventOut, RenderChoices, RunAccepted, RunOut, Strict, When, backend_of, whole

router = APIRouter(prefix="/runs", tags=["runs"], responses=ERRORS)
SourceName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^\S+$")]
Window = Annotated[str, Field(pattern=r"^[1-9][0-9]{0,3}[mhd]$")]


class FullRun(Strict):
    kind: Literal["full"]
    sources: list[SourceName] | None = Field(None, max_length=100, description="Configured sources (all when left out).")
    max_pages: whole(1, 1_000_000) | None = None
    window: Window | None = None


class CrawlRun(Strict):
    kind: Literal["crawl"]
    sources: list[SourceName] | None = Field(None, max_length=100)
    max_pages: whole(1, 1_000_000) | None = None


class IndexRun(Strict):
    kind: Literal["index"]
    article_ids: list[Annotated[str, Field(pattern=r"^a[0-9a-f]{23}$")]] | None = Field(None, max_length=10_000)
    force: bool = False


class TrendsRun(Strict):
    kind: Literal["trends"]
    window: Window | None = None
    since: When | None = None
    until: When | None = None


class StoryRun(Strict):
    kind: Literal["story"]
    trend_id: Annotated[str, Field(pattern=r"^t[0-9a-f]{23}$")]
    item_id: Annotated[str, Field(pattern=r"^a[0-9a-f]{23}$")] | None = None
    backend: BackendName | None = backend_of("story_writer", "A story writer (story.backend when left out).")
    lang: Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")] | None = Field(
        None, description="Language of the story (the trend's when left out).")
    force: bool = False


class RenderRun(Strict):
    kind: Literal["render"]
    story_id: Annotated[str, Field(pattern=r"^s[0-9a-f]{23}$")]
    backend: BackendName | None = backend_of("video_generator", "A video generator (render.backend when left out).")
    force: bool = False
    choices: RenderChoices | None = Field(None, description="Aspect, subtitle style, voice and music of this render.")


class EditRun(Strict):
    kind: Literal["edit"]
    video_id: Annotated[str, Field(pattern=r"^v[0-9a-f]{23}$")]
    backend: BackendName | None = backend_of("video_editor", "A video editor (edit.backend when left out).")
    target_seconds: float | None = Field(None, gt=0, le=3600)
    force: bool = False


class LearnRun(Strict):
    kind: Literal["learn"]
    split_at: When | None = Field(None, description="Evaluate on histories first seen on or after this time.")


RunRequest = Annotated[Union[FullRun, CrawlRun, IndexRun, TrendsRun, StoryRun, RenderRun, EditRun, LearnRun],
                       Field(discriminator="kind")]


@router.post("", response_model=RunAccepted, status_code=202, summary="Start a pipeline run in the background")
async def start(body: RunRequest, request: Request, user: Editor):
    params = body.model_dump(mode="json", exclude={"kind"}, exclude_none=True)
    if body.kind in ("full", "crawl"):
        known = {src["name"] for src in await call(services.list_sources, get_app(request))}
        for name in params.get("sources") or []:
            if name not in known:  # an unknown source is refused now, not in the run: a name of nothing
                raise ApiError(404, "not_found", f"unknown source {name!r} (known: {', '.join(sorted(known)) or 'none configured'})")
    if body.kind == "story":
        check_backend(request, "story_writer", body.backend)
    if body.kind == "render":
        check_backend(request, "video_generator", body.backend)
        if body.choices is not None:
            params["choices"] = await call(services.check_render_choices, get_app(request), story_id=body.story_id,
                                           choices=body.choices.model_dump(exclude_none=True))
    if body.kind == "edit":
        check_backend(request, "video_editor", body.backend)
    await call(runs.check_run, get_app(request), body.kind, params)  # an unknown id: 404 now, not a failed run
    return await start_run(request, user, body.kind, params)


@router.get("", response_model=list[RunOut], summary="Runs, newest first")
async def list_runs(request: Request, _: Viewer, status: Literal["queued", "running", "done", "error"] | None = None,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 50):
    return await call(runs.list_runs, get_app(request), status=status, limit=limit)


@router.get("/{run_id}", response_model=RunOut, summary="A run and the progress of each of its stages")
async def get_run(run_id: RunId, request: Request, _: Viewer):
    return await call(runs.get_run, get_app(request), run_id)


@router.get("/{run_id}/events", response_model=list[EventOut], summary="Events the run's stages appended")
async def run_events(run_id: RunId, request: Request, _: Viewer,
                     stage: Annotated[str | None, Query(pattern=r"^[a-z]{2,20}$")] = None,
                     after_id: Annotated[int, Query(ge=0, description="Only events after this event id (for polling).")] = 0,
                     limit: Annotated[int, Query(ge=1, le=1000)] = 200):
    return await call(runs.run_events, get_app(request), run_id, stage=stage, after_id=after_id, limit=limit)


