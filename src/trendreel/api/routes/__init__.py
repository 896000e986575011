"""API routers, one module per resource; each calls only the service functions."""

from __future__ import annotations

import importlib

ROUTER_MODULES = ["auth", "users", "content", "media", "pipeline", "publishing"]


def all_routers():
    return [importlib.import_module(f"trendreel.api.routes.{name}").router for name in ROUTER_MODULES]
