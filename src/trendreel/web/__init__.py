"""The web workspace: pages for people over the gateway's sessions and the pipeline's service functions."""

from trendreel.web.pages import router

__all__ = ["router"]
