"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from trendreel.api.auth import get_app, require_role
from trendreel.api.middleware import metrics_payload
from trendreel.api.schemas import Health, Ready

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="Liveness: the process answers")
async def healthz() -> Health:
    return Health(status="ok")


def _checks(app) -> dict[str, str]:
    from sqlalchemy import text

    checks = {}
    try:
        with app.db.engine.connect() as c:
            c.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - readiness reports, it does not raise
        checks["database"] = f"unreachable ({type(exc).__name__})"
    try:
        app.files.exists("readyz-probe")
        checks["files"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["files"] = f"unreachable ({type(exc).__name__})"
    checks["vectors"] = _vectors_check(app)
    return checks


def _vectors_check(app) -> str:
    """The local store is a folder this process opens on first use; a server store must answer."""
    from pathlib import Path

    url = app.settings.vectors_url
    if url.startswith("local://"):
        folder = Path(url.removeprefix("local://"))
        return "ok" if folder.exists() or folder.parent.is_dir() else "missing folder"
    try:
        app.vectors()
        return "ok"
    except Exception as exc:  # noqa: BLE001
        return f"unreachable ({type(exc).__name__})"


@router.get("/readyz", response_model=Ready, summary="Readiness: database, file store and vector store reachable",
            responses={503: {"model": Ready}})
async def readyz(request: Request):
    checks = await run_in_threadpool(_checks, get_app(request))
    ok = all(v == "ok" for v in checks.values())
    body = Ready(status="ok" if ok else "unavailable", checks=checks)
    if not ok:
        from fastapi.responses import JSONResponse

        return JSONResponse(body.model_dump(), status_code=503)
    return body


@router.get("/metrics", summary="Prometheus metrics (admin, or public with serve.metrics_public)",
            response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics(request: Request) -> Response:
    if not get_app(request).settings.serve.metrics_public:
        await require_role("admin")(request)
    data, content_type = metrics_payload()
    return Response(data, media_type=content_type)

