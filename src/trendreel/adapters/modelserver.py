"""The internal model server's protocol, client side: submit -> poll -> fetch, with retries that survive a
server restart; its errors and the content ids both sides compute (the server is trendreel.modelserver).

- Every request is retried on connection errors, timeouts and 5xx answers, waiting 0.5 s, 1 s, 2 s, ...
  (at most 10 s) until `retry_for_s` has passed since the first failure; then ModelServerUnavailable
  (retryable). A server restarted within that window is not even noticed: the job it had queued or
  was running is queued again on its side and the client keeps polling.
- Submitting asks first whether the job's content id is known (GET), so a resubmit uploads nothing
  and a job the server finished is fetched, not redone. Uploads are safe to retry for the same reason.
- Fetched files are written to a temporary name, checked against the server's sha256, then renamed.

Errors (each says what to do, and whether running again may help):

TrendreelError
└── ModelServerError           the model server refused the job or could not run it (`retryable` says
    │                          whether the same request may succeed later)
    ├── ModelServerUnavailable the server cannot be reached or answered 5xx for longer than the retry
    │                          window, e.g. it went down mid-job (always retryable: a resubmit finds
    │                          the same job by its content id)
    ├── ModelServerRefused     401/403 (the internal credential is missing or wrong) or a 4xx for the request
    └── JobFailed              the job ran and failed on the server (the server's message)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx

from trendreel.errors import ConfigError, TrendreelError, Unavailable

log = logging.getLogger(__name__)

__all__ = ["ModelServerClient", "backoff", "read_token"]


class ModelServerError(TrendreelError):
    """A job could not be run on the model server."""

    def __init__(self, message: str, *, retryable: bool = False, status: int | None = None, job_id: str | None = None):
        super().__init__(message, retryable=retryable)
        self.status = status
        self.job_id = job_id


class ModelServerUnavailable(ModelServerError, Unavailable):
    """No answer (or only 5xx) for longer than the retry window; running again resubmits the same job."""

    def __init__(self, message: str, *, status: int | None = None, job_id: str | None = None):
        super().__init__(message, retryable=True, status=status, job_id=job_id)


class ModelServerRefused(ModelServerError):
    """The server refused the request: bad credential, unknown kind, too large, malformed."""


class JobFailed(ModelServerError):
    """The job ran on the server and failed there."""


def read_token(token: str | None, token_file: Path | None, *, user: str) -> str:
    """The internal credential: `token`, else the first line of `token_file` (render.remote.token / token_file);
    ConfigError says what `user` (who needs the server) must set."""
    if token and token.strip():
        return token.strip()
    if token_file is not None:
        path = Path(token_file).expanduser()
        try:
            found = path.read_text(encoding="utf-8").strip().splitlines()[0].strip()
        except (OSError, IndexError):
            raise ConfigError(f"render.remote.token_file {path} cannot be read or is empty") from None
        if found:
            return found
    raise ConfigError(f"{user} needs the model server's internal credential: "
                      "set render.remote.token_file (or render.remote.token)")


# ---- content ids: the same job (kind, spec, input files) has the same id on both sides ---------------

def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def job_id(kind: str, spec: dict, files: dict[str, str]) -> str:
    """'j' + 31 hex of sha256 over the kind, the canonical JSON of the spec and (name, sha256) of each file."""
    blob = json.dumps({"kind": kind, "spec": spec, "files": sorted(files.items())}, sort_keys=True,
                      ensure_ascii=False, separators=(",", ":"))
    return "j" + hashlib.sha256(blob.encode()).hexdigest()[:31]


# ---- the client --------------------------------------------------------------------------------

def backoff(first: float, *, factor: float = 2.0, cap: float = 10.0) -> Iterator[float]:
    """first, first*factor, ... never more than cap."""
    delay = first
    while True:
        yield min(delay, cap)
        delay = min(delay * factor, cap)


class ModelServerClient:
    def __init__(self, url: str, token: str, *, poll_s: float = 0.5, poll_max_s: float = 5.0, retry_for_s: float = 60.0,
                 request_timeout_s: float = 60.0, timeout_s: float = 7200.0, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic):
        self.url = url.rstrip("/")
        self.poll_s, self.poll_max_s, self.retry_for_s, self.timeout_s = poll_s, poll_max_s, retry_for_s, timeout_s
        self.sleep, self.clock = sleep, clock
        self.http = httpx.Client(base_url=self.url, transport=transport, headers={"Authorization": f"Bearer {token}"},
                                 timeout=httpx.Timeout(request_timeout_s, connect=min(5.0, request_timeout_s)))

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "ModelServerClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- one request, retried ------------------------------------------------------------------

    def _request(self, method: str, path: str, *, job: str | None = None, doing: str = "", stream: bool = False,
                 build: Callable[[], dict] | None = None) -> httpx.Response:
        """The answer to one request; retries transport errors and 5xx, raises on 4xx."""
        delays = backoff(0.5)
        first_failure: float | None = None
        while True:
            try:
                kwargs = build() if build else {}
                req = self.http.build_request(method, path, **kwargs)
                resp = self.http.send(req, stream=stream)
                if resp.status_code < 500:
                    if resp.status_code >= 400:
                        if stream:
                            resp.read()
                        self._raise_for(resp, job)
                    return resp
                problem = f"HTTP {resp.status_code}: {_message(resp)}"
                resp.close()
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            now = self.clock()
            first_failure = now if first_failure is None else first_failure
            if now - first_failure >= self.retry_for_s:
                if job is None:
                    raise ModelServerUnavailable(
                        f"cannot reach the model server at {self.url}{f' while {doing}' if doing else ''} ({problem}; "
                        f"retried for {self.retry_for_s:g} s); start it (python -m trendreel.modelserver) or fix "
                        "render.remote.url")
                raise ModelServerUnavailable(
                    f"the model server at {self.url} stopped answering while job {job} was {doing} ({problem}; retried "
                    f"for {self.retry_for_s:g} s). Nothing was stored; run it again when the server is back: the job is "
                    f"found again by its content id, so finished work is fetched, not redone", job_id=job)
            delay = next(delays)
            log.info("model server %s: %s; retrying in %.1f s", self.url, problem, delay)
            self.sleep(delay)

    def _raise_for(self, resp: httpx.Response, job: str | None) -> None:
        msg = _message(resp)
        if resp.status_code in (401, 403):
            raise ModelServerRefused(f"the model server at {self.url} refused the internal credential ({msg}); "
                                     "check render.remote.token_file", status=resp.status_code, job_id=job)
        raise ModelServerRefused(f"the model server at {self.url} refused the request: HTTP {resp.status_code}: {msg}",
                                 status=resp.status_code, job_id=job)

    # ---- the protocol --------------------------------------------------------------------------

    def health(self) -> dict:
        return self._request("GET", "/healthz", doing="checking its health").json()

    def speech(self, voice: str, text: str, *, speed: float = 1.0, model: str = "voice") -> bytes:
        """A WAV of `text` said by the server's voice `voice` (POST /v1/audio/speech, OpenAI's request shape)."""
        payload = {"model": model, "input": text, "voice": voice, "response_format": "wav", "speed": speed}
        resp = self._request("POST", "/v1/audio/speech", doing=f"saying a text in voice {voice!r}",
                             build=lambda: {"json": payload})
        if not resp.content or resp.headers.get("content-type", "").startswith("application/json"):
            raise ModelServerError(f"the model server at {self.url} answered without audio: {_message(resp)}")
        return resp.content

    def voices(self) -> list[dict]:
        """The voices the server was started with: [{name, spec, engine}]."""
        return self._request("GET", "/v1/audio/voices", doing="listing its voices").json()["voices"]

    def status(self, jid: str, *, doing: str = "polled") -> dict | None:
        """The job's state, or None when the server does not know it."""
        try:
            return self._request("GET", f"/v1/jobs/{jid}", job=jid, doing=doing).json()
        except ModelServerRefused as exc:
            if exc.status == 404:
                return None
            raise

    def submit(self, kind: str, spec: dict, files: dict[str, Path]) -> dict:
        """The job's state after submitting it, or the state of the same job submitted before."""
        jid = job_id(kind, spec, {name: file_sha256(p) for name, p in files.items()})
        known = self.status(jid, doing="looked up")
        if known is not None and known["status"] != "error":
            return known

        def body() -> dict:
            stack.close()
            parts = [("files", (name, stack.enter_context(open(p, "rb")), "application/octet-stream"))
                     for name, p in sorted(files.items())]
            return {"data": {"kind": kind, "spec": json.dumps(spec, ensure_ascii=False)}, "files": parts}

        stack = ExitStack()
        with stack:
            state = self._request("POST", "/v1/jobs", job=jid, doing="submitted", build=body).json()
        if state["id"] != jid:
            raise ModelServerError(f"the model server named job {jid} {state['id']}; client and server differ in version")
        return state

    def wait(self, jid: str, *, on_progress: Callable[[dict], None] | None = None) -> dict:
        """Poll until the job is done (its state) or failed (JobFailed); waits grow 1.5x up to poll_max_s."""
        start, delay = self.clock(), self.poll_s
        state: dict | None = None
        while True:
            state = self.status(jid, doing=state["status"] if state else "polled")
            if state is None:
                raise ModelServerUnavailable(f"the model server at {self.url} no longer knows job {jid} (its work folder "
                                             "was emptied?); run it again to resubmit it", job_id=jid)
            if on_progress:
                on_progress(state)
            if state["status"] == "done":
                return state
            if state["status"] == "error":
                raise JobFailed(f"the model server failed job {jid} ({state['kind']}): {state['error']}",
                                retryable=bool(state.get("retryable")), job_id=jid)
            if self.clock() - start > self.timeout_s:
                raise ModelServerError(f"job {jid} did not finish within {self.timeout_s:g} s (render.remote.timeout_s); "
                                       f"it is {state['status']} on {self.url}", retryable=True, job_id=jid)
            self.sleep(delay)
            delay = min(delay * 1.5, self.poll_max_s)

    def fetch(self, jid: str, name: str, dest: Path, *, sha256: str | None = None) -> Path:
        """Download an output of a done job to dest (atomically; checked against sha256 when given)."""
        dest = Path(dest)
        tmp = dest.with_name(f".{dest.name}.part")
        for attempt in (1, 2):
            resp = self._request("GET", f"/v1/jobs/{jid}/files/{name}", job=jid, doing="done", stream=True)
            try:
                with open(tmp, "wb") as f:
                    for chunk in resp.iter_bytes(1 << 20):
                        f.write(chunk)
            except httpx.TransportError as exc:
                tmp.unlink(missing_ok=True)
                if attempt == 2:
                    raise ModelServerUnavailable(f"downloading {name} of job {jid} from {self.url} broke off ({exc}); "
                                                 "run it again: the finished job is fetched, not redone", job_id=jid) from exc
                continue
            finally:
                resp.close()
            if sha256 and file_sha256(tmp) != sha256:
                tmp.unlink(missing_ok=True)
                if attempt == 2:
                    raise ModelServerUnavailable(f"{name} of job {jid} arrived damaged twice (sha256 differs)", job_id=jid)
                continue
            os.replace(tmp, dest)
            return dest
        raise AssertionError("unreachable")

    def cancel(self, jid: str) -> dict:
        return self._request("DELETE", f"/v1/jobs/{jid}", job=jid, doing="cancelled").json()

    def run(self, kind: str, spec: dict, files: dict[str, Path], dest: Path, *,
            on_progress: Callable[[dict], None] | None = None) -> tuple[dict, dict[str, Path]]:
        """Submit, wait, fetch every output into dest: (the job's final state, {name: local path})."""
        state = self.submit(kind, spec, files)
        jid = state["id"]
        log.info("model server %s: job %s is %s", self.url, jid, state["status"])
        if state["status"] != "done":
            state = self.wait(jid, on_progress=on_progress)
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        got = {o["name"]: self.fetch(jid, o["name"], dest / o["name"], sha256=o.get("sha256")) for o in state["outputs"]}
        return state, got


def _message(resp: httpx.Response) -> str:
    try:
        body = resp.json()
        return str(body.get("error", {}).get("message") or body)
    except (ValueError, AttributeError):
        return (resp.text or "").strip()[:300] or resp.reason_phrase
