"""What every router uses: the App, the roles, id path parameters, and a thread-pool call."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import Depends, Path
from starlette.concurrency import run_in_threadpool

from trendreel.api.auth import CurrentUser, require_role
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
