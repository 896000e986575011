"""The FastAPI application: middlewares, error handlers, the API routers and the web workspace."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from trendreel.api import errors
from trendreel.api.auth import SESSION_COOKIE, secret_key
from trendreel.api.middleware import API_PREFIX, BodyLimit, CsrfCookie, Metrics
from trendreel.api.routes import all_routers, health
from trendreel.bootstrap import App, build_app
from trendreel.logs import configure_logging
from trendreel.services.runs import Runner
from trendreel.settings import Settings, load_settings
from trendreel.web import router as web_router

log = logging.getLogger("trendreel.api")


def create_app(settings: Settings | None = None, *, application: App | None = None) -> FastAPI:
    """The gateway for these settings (or an already built App); the web workspace is mounted when installed."""
    settings = settings or (application.settings if application else load_settings())
    application = application or build_app(settings)
    serve = settings.serve

    @asynccontextmanager
    async def lifespan(api: FastAPI):
        yield
        api.state.runner.shutdown()
        application.close()

    api = FastAPI(title="trendreel", version="1", lifespan=lifespan,
                  description="Trends to short videos: sources, articles, search, trends, stories, videos, "
                              "publications, metrics, reports, storage and pipeline runs. Authenticate with a "
                              "bearer token (`trendreel tokens create`) or a session from POST /api/v1/auth/login.")
    api.state.trendreel = application
    # The App's runner (engine.runner) runs each stage: here, or on the engine's workers.
    api.state.runner = Runner(application)
    errors.install(api)

    api.include_router(health.router)
    for router in all_routers():
        api.include_router(router, prefix=API_PREFIX)
    api.include_router(web_router)
    _list_backends_in_schema(api, application)

    # Outermost first: metrics see every answer, the body limit applies before anything reads the body.
    max_age = int(serve.session_max_age_h * 3600)
    api.add_middleware(CsrfCookie, secure=serve.cookie_secure, max_age=max_age)
    api.add_middleware(SessionMiddleware, secret_key=secret_key(settings), session_cookie=SESSION_COOKIE,
                       max_age=max_age, same_site="lax", https_only=serve.cookie_secure)
    api.add_middleware(BodyLimit, max_bytes=int(serve.max_body_mb * 1_000_000))
    api.add_middleware(Metrics)
    return api


def _list_backends_in_schema(api: FastAPI, application: App) -> None:
    """/openapi.json names the backends a field takes (its `x-backend-kind`) from this App's registry, plugins
    included, so a client (or a schema-driven test) knows the names the route accepts."""
    default = api.openapi

    def fill(node) -> None:
        if isinstance(node, dict):
            kind = node.get("x-backend-kind")
            if kind:
                names = list(application.registry.names(kind))
                for branch in node.get("anyOf", [node]):
                    if branch.get("type") == "string":
                        branch["enum"] = names
            for value in node.values():
                fill(value)
        elif isinstance(node, list):
            for value in node:
                fill(value)

    def openapi() -> dict:
        if api.openapi_schema is None:
            fill(default())
        return api.openapi_schema

    api.openapi = openapi


def factory() -> FastAPI:
    """App factory for `uvicorn --factory trendreel.api.app:factory` (settings from TRENDREEL_* and the settings file)."""
    settings = load_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    return create_app(settings)
