"""The HTTP gateway: the API under /api/v1, the web workspace, health, metrics (docs/serve.md)."""

from trendreel.api.app import create_app

__all__ = ["create_app"]
