"""Sources, categories, articles, search, trends, stories and videos: the pipeline's results."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from trendreel import services
from trendreel.api.auth import get_app
from trendreel.api.content import cached_trends_json
from trendreel.api.errors import ApiError
from trendreel.api.routes._common import ArticleId, Editor, StoryId, TrendId, VideoId, Viewer, call, check_backend, start_run
from trendreel.api.schemas import (
    ERRORS, ArticleOut, CategoryOut, BackendName, RenderChoices, When, backend_of, RenderRequest, RunAccepted, SearchHit, SourceOut, StoryEdit, StoryOut,
    StoryRegenerate, StorySummary, Strict, TrendOut, VideoOut,
)

router = APIRouter(responses=ERRORS)
Limit = Annotated[int, Query(ge=1, le=1000)]
Lang = Annotated[str | None, Query(pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")]


@router.get("/sources", response_model=list[SourceOut], tags=["sources"],
            summary="Sources: the settings file's and those added in the workspace (origin)")
async def list_sources(request: Request, _: Viewer):
    return await call(services.list_sources, get_app(request))


@router.get("/categories", response_model=list[CategoryOut], tags=["sources"], summary="The category master")
async def list_categories(request: Request, _: Viewer):
    return await call(services.list_categories, get_app(request))


@router.get("/status", tags=["sources"], summary="Counts of what is stored")
async def status(request: Request, _: Viewer) -> dict[str, int]:
    return await call(services.storage_counts, get_app(request))


def _with_file_urls(article: dict) -> dict:
    for m in article.get("media", []):
        m["file_url"] = f"/api/v1/media/{m['id']}" if m.get("status") == "stored" and m.get("path") else None
        m.pop("path", None)
    article.pop("text_path", None)
    return article


@router.get("/articles", response_model=list[ArticleOut], tags=["articles"], summary="Stored articles, newest first")
async def list_articles(request: Request, _: Viewer, limit: Limit = 50,
                        source: Annotated[str | None, Query(min_length=1, max_length=100)] = None, lang: Lang = None):
    rows = await call(services.list_articles, get_app(request), limit=limit, source=source, lang=lang)
    return [_with_file_urls(a) for a in rows]


@router.get("/articles/{article_id}", response_model=ArticleOut, tags=["articles"], summary="One article with its media")
async def get_article(article_id: ArticleId, request: Request, _: Viewer):
    return _with_file_urls(await call(services.get_article, get_app(request), article_id))


@router.get("/search", response_model=list[SearchHit], tags=["search"], summary="Search by meaning or by example")
async def search(request: Request, _: Viewer,
                 q: Annotated[str | None, Query(min_length=1, max_length=1000, description="A text to search by meaning.")] = None,
                 like: Annotated[str | None, Query(pattern=r"^[am][0-9a-f]{23}$", description="An article or media id.")] = None,
                 kind: Literal["article", "image", "video"] | None = None,
                 category: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,40}$")] = None,
                 since: When | None = None, until: When | None = None, limit: Annotated[int, Query(ge=1, le=100)] = 10):
    if bool(q) == bool(like):
        raise ApiError(422, "invalid_request", "give either q (a text) or like (an article or media id), not both")
    return await call(services.search, get_app(request), query=q, like=like, kind=kind, category=category,
                      since=since, until=until, limit=limit)


@router.get("/trends", response_model=list[TrendOut], tags=["trends"], summary="Stored trends, best first")
async def list_trends(request: Request, _: Viewer, since: When | None = None, until: When | None = None,
                      limit: Limit = 50):
    body, etag = await call(cached_trends_json, get_app(request), since=since, until=until, limit=limit)
    headers = {"ETag": etag, "Cache-Control": "private, max-age=2"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


@router.get("/trends/{trend_id}", response_model=TrendOut, tags=["trends"], summary="One trend with its history and evidence")
async def get_trend(trend_id: TrendId, request: Request, _: Viewer):
    return await call(services.get_trend, get_app(request), trend_id)


@router.get("/stories", response_model=list[StorySummary], tags=["stories"], summary="Stored stories, newest first")
async def list_stories(request: Request, _: Viewer, trend_id: Annotated[str | None, Query(pattern=r"^t[0-9a-f]{23}$")] = None,
                       limit: Limit = 50):
    return await call(services.list_stories, get_app(request), trend_id=trend_id, limit=limit)


@router.get("/stories/{story_id}", response_model=StoryOut, tags=["stories"], summary="One story, whole")
async def get_story(story_id: StoryId, request: Request, _: Viewer):
    return await call(services.get_story, get_app(request), story_id)


@router.put("/stories/{story_id}", response_model=StoryOut, tags=["stories"],
            summary="Edit a story (validated and grounding-checked again; same id)")
async def edit_story(story_id: StoryId, body: StoryEdit, request: Request, user: Editor):
    changes = body.model_dump(exclude_none=True, mode="json")
    if not changes:
        raise ApiError(422, "invalid_request", "nothing to change: give title, hook, hashtags or scenes")
    return await call(services.edit_story, get_app(request), story_id, changes, by=user.username)


@router.post("/stories/{story_id}/regenerate", response_model=RunAccepted, status_code=202, tags=["stories"],
             summary="Write the story again from its trend and item (a background run)")
async def regenerate_story(story_id: StoryId, body: StoryRegenerate, request: Request, user: Editor):
    check_backend(request, "story_writer", body.backend)
    story = await call(services.get_story, get_app(request), story_id)
    if not story.get("trend_id"):
        raise ApiError(400, "invalid_request", f"story {story_id} has no trend to write it from")
    return await start_run(request, user, "story", {"trend_id": story["trend_id"], "item_id": story["article_id"],
                                                    "backend": body.backend or story.get("backend"),
                                                    "lang": body.lang or story.get("lang"), "force": True})


def _video_out(v: dict) -> dict:
    v["file_url"] = f"/api/v1/videos/{v['id']}/file" if v.get("path") and not v.get("files_purged_at") else None
    return v


@router.get("/videos", response_model=list[VideoOut], tags=["videos"], summary="Videos, newest first")
async def list_videos(request: Request, _: Viewer, story_id: Annotated[str | None, Query(pattern=r"^s[0-9a-f]{23}$")] = None,
                      limit: Limit = 50):
    return [_video_out(v) for v in await call(services.list_videos, get_app(request), story_id=story_id, limit=limit)]


@router.get("/videos/{video_id}", response_model=VideoOut, tags=["videos"], summary="One video")
async def get_video(video_id: VideoId, request: Request, _: Viewer):
    return _video_out(await call(services.get_video, get_app(request), video_id))


@router.post("/stories/{story_id}/render", response_model=RunAccepted, status_code=202, tags=["videos"],
             summary="Render the story into a video (a background run)")
async def render(story_id: StoryId, body: RenderRequest, request: Request, user: Editor):
    check_backend(request, "video_generator", body.backend)
    await call(services.get_story, get_app(request), story_id)  # 404 now rather than a failed run later
    # a bad choice is refused now (400 naming it) rather than failing the run later
    choices = await call(services.check_render_choices, get_app(request), story_id=story_id, choices=body.choices())
    return await start_run(request, user, "render", {"story_id": story_id, "backend": body.backend, "force": body.force,
                                                     **({"choices": choices} if choices else {})})


@router.get("/stories/{story_id}/render-options", tags=["videos"],
            summary="What one render of this story may choose: aspects, subtitle styles, music, voices")
async def render_options(story_id: StoryId, request: Request, _: Viewer) -> dict:
    story = await call(services.get_story, get_app(request), story_id)
    return await call(services.render_options, get_app(request), lang=story["lang"])


@router.post("/stories/{story_id}/preview-frame", tags=["videos"], response_class=Response,
             responses={200: {"content": {"image/png": {}}, "description": "the frame just after the hook"}},
             summary="A PNG of the first scene just after the hook, with these choices (cheap, cached)")
async def preview_frame(story_id: StoryId, body: RenderChoices, request: Request, _: Editor):
    frame = await call(services.preview_frame, get_app(request), story_id=story_id,
                       choices=body.model_dump(exclude_none=True))
    return Response(frame["path"].read_bytes(), media_type="image/png",
                    headers={"Cache-Control": "no-store", "X-Frame-Size": f"{frame['width']}x{frame['height']}"})


class EditRequest(Strict):
    backend: BackendName | None = backend_of("video_editor", "A video editor (edit.backend when left out).")
    target_seconds: float | None = Field(None, gt=0, le=3600, description="Length to cut the video down to.")
    force: bool = False


@router.post("/videos/{video_id}/edit", response_model=RunAccepted, status_code=202, tags=["videos"],
             summary="Edit a finished video into a new one: cuts, emphasis, loudness (a background run)")
async def edit(video_id: VideoId, body: EditRequest, request: Request, user: Editor):
    check_backend(request, "video_editor", body.backend)
    await call(services.get_video, get_app(request), video_id)
    return await start_run(request, user, "edit", {"video_id": video_id, **body.model_dump(exclude_none=True)})
