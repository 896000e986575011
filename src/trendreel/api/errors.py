"""JSON errors: `{"error": {"code": ..., "message": ...}}`, with nothing internal in them.

Errors a user can act on (TrendreelError) keep their message and become a 4xx; anything else is a 500
with a generic message and an id that is also in the server log.
"""

from __future__ import annotations

import logging
import secrets

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from trendreel import errors as E

log = logging.getLogger("trendreel.api")


class ApiError(Exception):
    """An error the gateway itself answers with: status, a stable code and a message for the user."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def error_body(code: str, message: str, **extra) -> dict:
    return {"error": {"code": code, "message": message, **extra}}


def error_response(status: int, code: str, message: str, headers: dict | None = None, **extra) -> JSONResponse:
    return JSONResponse(error_body(code, message, **extra), status_code=status, headers=headers)


def status_of(exc: E.TrendreelError) -> tuple[int, str]:
    """HTTP status and code from the error's category (trendreel.errors), never from its text."""
    return E.category_of(exc)


def _validation_message(errors: list[dict]) -> tuple[str, list[dict]]:
    details = []
    for e in errors[:20]:
        loc = [str(p) for p in e.get("loc", ()) if p not in ("body",)]
        details.append({"field": ".".join(loc) or "body", "problem": str(e.get("msg", "invalid"))[:300]})
    first = details[0] if details else {"field": "body", "problem": "invalid"}
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    return f"{first['field']}: {first['problem']}{more}", details


def _route_table(app) -> list[tuple[object, frozenset[str], bool]]:
    """(path regex, methods, whether the path has a parameter) of every route, included routers' too; built once."""
    table = getattr(app.state, "route_table", None)
    if table is None:
        try:  # FastAPI >= 0.165 keeps included routers as such; this lists their routes with their full paths
            from fastapi.routing import iter_route_contexts

            routes = list(iter_route_contexts(app.router.routes))
        except ImportError:  # pragma: no cover - older FastAPI: the routes are already flat
            routes = list(app.router.routes)
        table = []
        for route in routes:
            path, methods = getattr(route, "path", None), getattr(route, "methods", None)
            if path and methods:
                table.append((compile_path(path)[0], frozenset(methods), "{" in path))
        app.state.route_table = table
    return table


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers on this path. Starlette's 405 names only the first route that matched
    the path, so `GET /users` and `POST /users`, two routes, answered OPTIONS with `Allow: GET`."""
    path = request.url.path
    matching = [(methods, has_params) for regex, methods, has_params in _route_table(request.app) if regex.match(path)]
    if any(not has_params for _, has_params in matching):  # a fixed path wins over a parameter's (see _other_methods)
        matching = [(methods, False) for methods, has_params in matching if not has_params]
    return sorted({m for methods, _ in matching for m in methods})


def _other_methods(request: Request) -> list[str]:
    """The methods of routes whose fixed path (no parameter) is this request's exact path and which do not
    answer its method: GET /metrics/collect also fits GET /metrics/{publication_id}, but the path is POST's."""
    path = request.url.path
    return sorted({m for regex, methods, has_params in _route_table(request.app)
                   if not has_params and request.method not in methods and regex.match(path) for m in methods})


def install(app: FastAPI) -> None:
    """Register the handlers that give every error the same JSON shape."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return error_response(exc.status, exc.code, exc.message, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        errors = list(exc.errors())
        other = _other_methods(request)
        if other and all(e.get("loc", ("",))[0] == "path" for e in errors):
            # GET /metrics/collect reached GET /metrics/{publication_id} with "collect" as the id; the path is
            # POST's: the method is what is wrong, not the id.
            return error_response(405, "method_not_allowed", f"{request.method} is not allowed here; use "
                                  f"{', '.join(other)}", headers={"Allow": ", ".join(other)})
        message, details = _validation_message(errors)
        return error_response(422, "invalid_request", message, details=details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        codes = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed", 401: "unauthenticated", 403: "forbidden",
                 413: "too_large"}
        message = exc.detail if isinstance(exc.detail, str) else "request refused"
        headers = getattr(exc, "headers", None)
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such endpoint: {request.method} {request.url.path[:200]}"
        if exc.status_code == 405:
            allowed = allowed_methods(request)
            headers = {**(headers or {}), "Allow": ", ".join(allowed)}
            message = f"{request.method} is not allowed here; use {', '.join(allowed)}"
        return error_response(exc.status_code, codes.get(exc.status_code, "http_error"), message, headers=headers)

    @app.exception_handler(E.TrendreelError)
    async def _trendreel(request: Request, exc: E.TrendreelError):
        if isinstance(exc, E.StoryInvalid):
            return error_response(422, "invalid_story", str(exc)[:2000], problems=[p[:500] for p in exc.problems[:50]])
        status, code = status_of(exc)
        if status >= 500:
            log.warning("request failed: %s %s: %s", request.method, request.url.path, exc)
        headers = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, E.RateLimited) else None
        return error_response(status, code, str(exc)[:2000], headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        ref = secrets.token_hex(6)
        log.error("unexpected error %s on %s %s", ref, request.method, request.url.path, exc_info=exc)
        return error_response(500, "internal_error", f"internal error; the server log has the details under id {ref}",
                              error_id=ref)
