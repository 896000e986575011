"""The web workspace: pages for people over the gateway's sessions and the pipeline's service functions."""

from fastapi import APIRouter

from trendreel.web import manage, pages

router = APIRouter(include_in_schema=False)
router.include_router(pages.router)
router.include_router(manage.router)

__all__ = ["router"]
