"""What every router uses: the App, the roles, id path parameters, a thread-pool call, starting a run."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import Depends, Path, Request
from starlette.concurrency import run_in_threadpool

from trendreel.api.auth import CurrentUser, get_app, require_role
from trendreel.api.errors import ApiError
from trendreel.api.schemas import ID_PATTERN

Viewer = Annotated[CurrentUser, Depends(require_role("viewer"))]
Editor = Annotated[CurrentUser, Depends(require_role("editor"))]
Admin = Annotated[CurrentUser, Depends(require_role("admin"))]


def id_path(letter: str, what: str):
    return Path(pattern=f"^{letter}[0-9a-f]{{23}}$", description=f"A {what} id: '{letter}' and 23 hex digits.")


ArticleId = Annotated[str, id_path("a", "article")]
MediaId = Annotated[str, id_path("m", "media")]
TrendId = Annotated[str, id_path("t", "trend")]
StoryId = Annotated[str, id_path("s", "story")]
VideoId = Annotated[str, id_path("v", "video")]
RunId = Annotated[str, id_path("r", "run")]
PublicationId = Annotated[str, id_path("p", "publication")]
AnyId = Annotated[str, Path(pattern=ID_PATTERN)]


async def call(fn, /, *args, **kwargs):
    """A blocking service function, run on the thread pool so the event loop keeps answering."""
    return await run_in_threadpool(partial(fn, *args, **kwargs))


async def start_run(request: Request, user: CurrentUser, kind: str, params: dict) -> dict:
    """Start a background pipeline run and answer 202 with it and where to follow it."""
    run = await call(request.app.state.runner.start, kind=kind, params=params, created_by=user.username)
    return {"run": run, "url": f"/api/v1/runs/{run['id']}"}


def check_backend(request: Request, kind: str, name: str | None) -> None:
    """Refuse an unknown backend of a registry kind now, before any work (or any model server) is involved."""
    if name is None:
        return
    known = get_app(request).registry.names(kind)
    if name not in known:
        what = {"video_generator": "video backend", "video_editor": "video editor"}.get(kind, kind.replace("_", " "))
        raise ApiError(422, "invalid_request", f"backend: unknown {what} {name!r}; known: {', '.join(known)}")
