"""The model server's HTTP API and its worker: long jobs as submit -> poll -> fetch.

    POST   /v1/jobs                   multipart: kind, spec (JSON), files  -> 201 new job | 200 existing job
    GET    /v1/jobs                   every job's state, oldest first
    GET    /v1/jobs/{id}              state: status queued|running|done|error, progress, note, error, outputs
    GET    /v1/jobs/{id}/files/{name} an output file of a done job
    DELETE /v1/jobs/{id}              cancel (a running job stops at its next check) and delete its files
    POST   /v1/audio/speech           JSON {model, input, voice, response_format: wav, speed} -> audio/wav
    GET    /v1/audio/voices           the voices the server was started with (--voice NAME=SPEC)
    GET    /healthz                   liveness, the kinds served (the only route without the credential)

Every /v1 route needs `Authorization: Bearer <internal token>` (compared in constant time): missing
-> 401, wrong -> 403. Errors are JSON: {"error": {"code": "...", "message": "..."}}.
One worker thread runs the jobs one at a time (a GPU holds one model); state and files live in the
work folder (see jobs.py), so a restart loses no finished job and queues unfinished ones again.
"""

from __future__ import annotations

import hmac
import json
import logging
import queue
import shutil
import threading
import time
import traceback
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from trendreel.adapters.modelserver import file_sha256
from trendreel.errors import TrendreelError
from trendreel.modelserver.handlers import Handler, JobContext
from trendreel.modelserver.jobs import FILE_NAME, JobStore, _now
from trendreel.modelserver.voices import MAX_INPUT_CHARS, VoiceBank

log = logging.getLogger(__name__)

__all__ = ["ApiError", "Worker", "create_app"]

MAX_FILES = 256
MAX_SPEC_BYTES = 4 << 20


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def _error(status: int, code: str, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


class _Cancelled(Exception):
    pass


class Worker:
    """One thread that runs queued jobs one after another."""

    def __init__(self, store: JobStore, handlers: dict[str, Handler]):
        self.store, self.handlers = store, handlers
        self.queue: queue.Queue[str] = queue.Queue()
        self.cancel_requested: set[str] = set()
        self.current: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="modelserver-worker", daemon=True)

    def start(self) -> None:
        for jid in self.store.recover():
            self.queue.put(jid)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def submit(self, jid: str) -> None:
        self.queue.put(jid)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                jid = self.queue.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                self.run(jid)
            except Exception:  # never let one job stop the worker
                log.exception("job %s: the worker failed", jid)

    def run(self, jid: str) -> None:
        state = self.store.get(jid)
        if state is None or state["status"] != "queued":
            return  # deleted, or queued twice
        handler = self.handlers.get(state["kind"])
        folder = self.store.folder(jid)
        scratch, out = folder / "scratch", folder / "scratch" / "out"
        shutil.rmtree(scratch, ignore_errors=True)
        out.mkdir(parents=True)
        self.current = jid
        self.store.update(jid, status="running", started_at=_now(), attempts=state["attempts"] + 1, progress=0.0,
                          note=None, error=None, retryable=None)
        log.info("job %s (%s) started", jid, state["kind"])
        t0 = time.perf_counter()

        def report(fraction: float, note: str | None) -> None:
            if jid in self.cancel_requested:
                raise _Cancelled()
            self.store.update(jid, progress=round(fraction, 4), note=note)

        ctx = JobContext(job_id=jid, kind=state["kind"], spec=self.store.spec(jid), inputs=folder / "inputs",
                         out=out, scratch=scratch, report=report, is_cancelled=lambda: jid in self.cancel_requested)
        try:
            if handler is None:
                raise TrendreelError(f"this server does not run {state['kind']!r} jobs any more")
            result = handler(ctx)
            if jid in self.cancel_requested:
                raise _Cancelled()
            outputs = []
            for p in sorted(out.iterdir()):
                if p.is_file() and FILE_NAME.match(p.name):
                    outputs.append({"name": p.name, "bytes": p.stat().st_size, "sha256": file_sha256(p)})
            final = folder / "outputs"
            shutil.rmtree(final, ignore_errors=True)
            out.rename(final)
            shutil.rmtree(scratch, ignore_errors=True)
            json.dumps(result)  # the result must be JSON before the job counts as done
            self.store.update(jid, status="done", progress=1.0, outputs=outputs, result=result, finished_at=_now(),
                              note=f"done in {time.perf_counter() - t0:.1f} s")
            log.info("job %s done in %.1f s", jid, time.perf_counter() - t0)
        except _Cancelled:
            self.store.delete(jid)
            log.info("job %s cancelled", jid)
        except TrendreelError as exc:
            self._failed(jid, scratch, str(exc), bool(getattr(exc, "retryable", False)))
        except Exception as exc:
            log.error("job %s: %s", jid, traceback.format_exc())
            self._failed(jid, scratch, f"internal error in {state['kind']}: {type(exc).__name__}: {exc}", False)
        finally:
            self.cancel_requested.discard(jid)
            self.current = None

    def _failed(self, jid: str, scratch: Path, message: str, retryable: bool) -> None:
        shutil.rmtree(scratch, ignore_errors=True)
        if self.store.get(jid) is not None:
            self.store.update(jid, status="error", error=message[:4000], retryable=retryable, finished_at=_now())
        log.warning("job %s failed: %s", jid, message)




def create_app(*, work_dir: Path, token: str, handlers: dict[str, Handler], max_upload_bytes: int = 2 << 30,
               start_worker: bool = True, voices: VoiceBank | None = None) -> FastAPI:
    """The server for `handlers` (and `voices`) with its state under `work_dir`; requests need `token`."""
    if not token or len(token) < 16:
        raise ValueError("the internal token must be at least 16 characters")
    store = JobStore(work_dir)
    worker = Worker(store, handlers)
    expected = token.encode()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if start_worker:
            worker.start()
        yield
        if start_worker:
            worker.stop()

    app = FastAPI(title="trendreel model server", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store, app.state.worker = store, worker

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return _error(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error(exc.status_code, code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        return _error(422, "invalid_request", f"{'.'.join(str(p) for p in first.get('loc', []))}: {first.get('msg', '')}")

    def authorized(request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            raise ApiError(401, "unauthorized", "this server needs the internal credential: Authorization: Bearer <token>",
                           {"WWW-Authenticate": "Bearer"})
        if not hmac.compare_digest(given.strip().encode(), expected):
            raise ApiError(403, "forbidden", "wrong internal credential")

    auth = [Depends(authorized)]

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok", "kinds": sorted(handlers)}

    @app.post("/v1/jobs", dependencies=auth, status_code=201)
    async def submit(request: Request):
        length = request.headers.get("content-length")
        if length is None:
            raise ApiError(411, "length_required", "send the upload with a Content-Length")
        if not length.isdigit() or int(length) > max_upload_bytes:
            raise ApiError(413, "too_large", f"the upload is larger than this server's limit of {max_upload_bytes} bytes")
        upload = store.new_upload()
        try:
            async with request.form(max_files=MAX_FILES, max_fields=16, max_part_size=MAX_SPEC_BYTES) as form:
                kind, spec_text = form.get("kind"), form.get("spec")
                if not isinstance(kind, str) or kind not in handlers:
                    raise ApiError(422, "unknown_kind", f"this server runs {', '.join(sorted(handlers))}, not {kind!r}")
                try:
                    spec = json.loads(spec_text) if isinstance(spec_text, str) else None
                except json.JSONDecodeError as exc:
                    raise ApiError(422, "invalid_spec", f"spec is not JSON: {exc}") from None
                if not isinstance(spec, dict):
                    raise ApiError(422, "invalid_spec", "spec must be a JSON object")
                total = 0
                for item in form.getlist("files"):
                    if isinstance(item, str):
                        raise ApiError(422, "invalid_file", "files must be file parts")
                    name = item.filename or ""
                    if not FILE_NAME.match(name):
                        raise ApiError(422, "invalid_file", f"file name {name!r} is not a plain name (letters, digits, . _ -)")
                    target = upload / "inputs" / name
                    if target.exists():
                        raise ApiError(422, "invalid_file", f"file {name!r} sent twice")
                    with open(target, "wb") as f:
                        while chunk := await item.read(1 << 20):
                            total += len(chunk)
                            if total > max_upload_bytes:
                                raise ApiError(413, "too_large", f"the files are larger than {max_upload_bytes} bytes")
                            f.write(chunk)
            names = sorted(p.name for p in (upload / "inputs").iterdir())
            check = getattr(handlers[kind], "check", None)
            if check is not None:
                try:
                    check(spec, names)
                except ValueError as exc:
                    raise ApiError(422, "invalid_spec", str(exc)) from None
            state, created = store.create(kind, spec, upload)
        except BaseException:
            shutil.rmtree(upload, ignore_errors=True)
            raise
        if created:
            worker.submit(state["id"])
            return JSONResponse(state, status_code=201)
        return JSONResponse(state, status_code=200)

    @app.get("/v1/audio/voices", dependencies=auth)
    def list_voices() -> dict:
        return {"voices": voices.describe() if voices else []}

    @app.post("/v1/audio/speech", dependencies=auth)
    async def speech(request: Request):
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ApiError(400, "invalid_request", "the body must be JSON: {model, input, voice, response_format, speed}") from None
        if not isinstance(body, dict):
            raise ApiError(400, "invalid_request", "the body must be a JSON object")
        name, text = body.get("voice"), body.get("input")
        fmt, speed = body.get("response_format", "wav"), body.get("speed", 1.0)
        offered = voices.names() if voices else []
        if not isinstance(name, str) or name not in offered:
            have = ", ".join(offered) if offered else "none (start it with --voice NAME=SPEC)"
            raise ApiError(404, "unknown_voice", f"this model server has no voice {name!r}; its voices: {have}")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "invalid_request", "input: give the text to say")
        if len(text) > MAX_INPUT_CHARS:
            raise ApiError(413, "too_large", f"input: at most {MAX_INPUT_CHARS} characters per request, not {len(text)}")
        if fmt != "wav":
            raise ApiError(400, "invalid_request", f"response_format: this server answers wav only, not {fmt!r}")
        if not isinstance(speed, (int, float)) or isinstance(speed, bool) or not 0.25 <= speed <= 4.0:
            raise ApiError(400, "invalid_request", f"speed: a number from 0.25 to 4.0, not {speed!r}")
        try:
            audio = await run_in_threadpool(voices.say, name, text, float(speed))
        except TrendreelError as exc:
            raise ApiError(500, "speech_failed", f"voice {name!r} could not say the text: {exc}") from None
        return Response(audio, media_type="audio/wav")

    @app.get("/v1/jobs", dependencies=auth)
    def jobs() -> dict:
        return {"jobs": store.list(), "running": worker.current}

    def _job(jid: str) -> dict:
        state = store.get(jid)
        if state is None:
            raise ApiError(404, "unknown_job", f"no job {jid!r} on this server (never submitted, or deleted)")
        return state

    @app.get("/v1/jobs/{jid}", dependencies=auth)
    def job(jid: str) -> dict:
        return _job(jid)

    @app.get("/v1/jobs/{jid}/files/{name}", dependencies=auth)
    def job_file(jid: str, name: str):
        state = _job(jid)
        if state["status"] != "done":
            raise ApiError(409, "not_done", f"job {jid} is {state['status']}; fetch its files when it is done")
        path = store.output(jid, name)
        if path is None:
            raise ApiError(404, "unknown_file", f"job {jid} has no output {name!r}")
        return FileResponse(path, media_type="application/octet-stream")

    @app.delete("/v1/jobs/{jid}", dependencies=auth)
    def cancel(jid: str):
        state = _job(jid)
        if worker.current == jid:
            worker.cancel_requested.add(jid)
            return JSONResponse({"id": jid, "status": "cancelling"}, status_code=202)
        store.delete(jid)
        return {"id": jid, "status": "deleted", "was": state["status"]}

    return app
