"""API routers, one module per resource; each calls only the service functions."""

from __future__ import annotations

from fastapi import APIRouter

from trendreel.api.routes import (
    auth,
    content,
    learning,
    media,
    pipeline,
    publishing,
    schedule,
    sources,
    users,
    voices,
)


def all_routers() -> list[APIRouter]:
    return [auth.router, users.router, content.router, media.router, pipeline.router, publishing.router,
            learning.router, voices.router, schedule.router, sources.router]
