"""Pure ASGI middlewares: request body limit, Prometheus metrics, the readable CSRF cookie."""

from __future__ import annotations

import os
import time

from prometheus_client import Counter, Histogram

from trendreel.api.errors import error_body

CSRF_COOKIE = "trendreel_csrf"  # the double-submit cookie the workspace's forms echo

API_PREFIX = "/api/v1"

REQUESTS = Counter("trendreel_http_requests", "HTTP requests answered, by route template and status.",
                   ["method", "route", "status"])
LATENCY = Histogram("trendreel_http_request_duration_seconds", "Time to answer, by route template.",
                    ["method", "route"], buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


async def _send_json(send, status: int, body: dict) -> None:
    import json

    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


class BodyLimit:
    """413 for bodies over the limit: by Content-Length before reading, else while streaming."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        message = f"the request body is larger than {self.max_bytes:,} bytes (serve.max_body_mb)"
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    return await _send_json(send, 400, error_body("invalid_request", "bad Content-Length header"))
                if too_big:
                    return await _send_json(send, 413, error_body("too_large", message))
        seen = 0
        exceeded = False
        replaced = False

        async def limited_receive():
            nonlocal seen, exceeded
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_bytes:
                    exceeded = True
                    raise _TooLarge()
            return msg

        async def guarded_send(msg):
            # Whatever the app answers after the body overflowed (its own 400 for an unreadable body), it is a 413.
            nonlocal replaced
            if exceeded:
                if msg["type"] == "http.response.start" and not replaced:
                    replaced = True
                    await _send_json(send, 413, error_body("too_large", message))
                return
            await send(msg)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _TooLarge:
            if not replaced:
                await _send_json(send, 413, error_body("too_large", message))


class _TooLarge(Exception):
    pass


class Metrics:
    """Counts and times requests by the route's template (/api/v1/videos/{video_id}), never the raw path."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = 500

        async def send_status(msg):
            nonlocal status
            if msg["type"] == "http.response.start":
                status = msg["status"]
            await send(msg)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path_format", None) or getattr(route, "path", None) or "unmatched"
            # Routers included under a prefix may report their own path only (FastAPI >= 0.16x): add it back.
            path = scope.get("path", "")
            if route is not None and path.startswith(API_PREFIX + "/") and not template.startswith(API_PREFIX):
                template = API_PREFIX + template
            REQUESTS.labels(scope["method"], template, str(status)).inc()
            LATENCY.labels(scope["method"], template).observe(time.perf_counter() - start)


class CsrfCookie:
    """Sets (or clears) the readable CSRF cookie when a route started or ended a session."""

    def __init__(self, app, *, secure: bool, max_age: int):
        self.app, self.secure, self.max_age = app, secure, max_age

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_cookie(msg):
            if msg["type"] == "http.response.start":
                value = scope.get("state", {}).get("set_csrf_cookie")
                if value is not None:
                    age = self.max_age if value else 0
                    cookie = f"{CSRF_COOKIE}={value}; Path=/; Max-Age={age}; SameSite=Lax" + ("; Secure" if self.secure else "")
                    msg = {**msg, "headers": [*msg.get("headers", []), (b"set-cookie", cookie.encode("latin-1"))]}
            await send(msg)

        await self.app(scope, receive, send_cookie)


def metrics_payload() -> tuple[bytes, str]:
    """The Prometheus text of this process, or of every worker when PROMETHEUS_MULTIPROC_DIR is set."""
    from prometheus_client import (
        CONTENT_TYPE_LATEST,
        REGISTRY,
        CollectorRegistry,
        generate_latest,
    )

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
