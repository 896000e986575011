"""The Instagram Graph API (Instagram API with Facebook Login) over httpx.

`InstagramClient` is what publishing (containers, the resumable upload, media_publish, the publishing
limit) and metrics (media insights) share:

- two roots: `instagram_api_root` (graph.facebook.com/<version>/) for Graph calls and
  `instagram_upload_root` (rupload.facebook.com/) for the video bytes; point both at a local server
  for tests;
- the access token travels in the `Authorization` header (`Bearer` for Graph calls, `OAuth` for
  rupload, as Meta documents them), never in a URL we build, so it stays out of logs and messages.
  The OAuth exchanges that must carry secrets in the query string go through `get_public`, whose URL
  is never logged (httpx's own request log is filtered, see `_RedactSecrets`);
- `call(fn, what)`: one call with the retry rules: 5xx answers, Graph errors Meta marks transient
  (`is_transient`, codes 1 and 2) and dropped connections wait (exponential backoff with jitter, at most
  `retries` times in a row) and try again. Rate and publishing limits (codes 4, 17, 32, 613, and 9 with
  subcode 2207042) are never retried: InstagramLimitReached says which. Code 190 (an expired or
  revoked token) is InstagramAuthRefused; other refusals are InstagramRefused; retries running out is
  InstagramUnavailable.

The errors here are neutral: publishing and metrics turn them into their own, with advice that fits.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from trendreel.errors import TrendreelError

__all__ = [
    "CONNECTION_ERRORS",
    "InstagramAuthRefused",
    "InstagramClient",
    "InstagramError",
    "InstagramLimitReached",
    "InstagramRefused",
    "InstagramUnavailable",
    "LIMIT_CODES",
    "PUBLISHING_LIMIT_SUBCODE",
    "redact",
]

log = logging.getLogger(__name__)

CONNECTION_ERRORS = (httpx.TransportError,)
RETRY_STATUSES = {500, 502, 503, 504}
TRANSIENT_CODES = {1, 2}  # "unknown error" and "service temporarily unavailable"
# Graph API rate limits: 4 app, 17 user, 32 page, 613 calls within a time window; 9 with subcode
# 2207042 is the account's 24-hour publishing limit (media_publish).
LIMIT_CODES = {4: "the app's call rate limit", 17: "the user's call rate limit", 32: "the Page's call rate limit",
               613: "a call rate limit", 9: "an application request limit"}
PUBLISHING_LIMIT_SUBCODE = 2207042
AUTH_CODES = {102, 190}
SECRET_PARAMS = re.compile(r"((?:access_token|input_token|client_secret|fb_exchange_token|code)=)[^&\s\"']+")


def redact(text: str) -> str:
    """`text` with the values of token, secret and code query parameters replaced by '***'."""
    return SECRET_PARAMS.sub(r"\1***", text)


class _RedactSecrets(logging.Filter):
    """httpx logs each request's URL at INFO; the OAuth exchanges carry secrets there."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(str(record.msg))
        if record.args:
            record.args = tuple(redact(str(a)) if isinstance(a, (str, httpx.URL)) else a for a in record.args)
        return True


_filter = _RedactSecrets()
for _name in ("httpx", "httpcore"):
    if _filter not in logging.getLogger(_name).filters:
        logging.getLogger(_name).addFilter(_filter)


class InstagramError(TrendreelError):
    """An Instagram Graph API call failed; the subclass says how."""


class InstagramRefused(InstagramError):
    """An answer retrying cannot change; `code`/`subcode` are Meta's error code and subcode."""

    def __init__(self, message: str, *, status: int, code: int | None = None, subcode: int | None = None,
                 detail: str = ""):
        super().__init__(message)
        self.status, self.code, self.subcode, self.detail = status, code, subcode, detail


class InstagramAuthRefused(InstagramRefused):
    """Code 190 (or 102): the access token expired, was revoked, or lacks a permission."""


class InstagramLimitReached(InstagramRefused):
    """A rate limit or the 24-hour publishing limit; never retried. `publishing` tells which."""

    @property
    def publishing(self) -> bool:
        return self.code == 9 and self.subcode == PUBLISHING_LIMIT_SUBCODE


class InstagramUnavailable(InstagramError):
    """5xx answers, transient errors or dropped connections, `failures` times in a row."""

    def __init__(self, message: str, *, failures: int, last: str):
        super().__init__(message)
        self.failures, self.last = failures, last


def _graph_error(resp: httpx.Response) -> dict:
    try:
        data = resp.json()
    except ValueError:
        return {}
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        return error
    if isinstance(data, dict) and isinstance(data.get("debug_info"), dict):  # rupload's own error shape
        info = data["debug_info"]
        return {"message": info.get("message", ""), "type": info.get("type"), "is_transient": info.get("retriable")}
    return {}


class InstagramClient:
    """Graph API and rupload calls with one app's settings; tokens are passed per call."""

    def __init__(self, *, api_root: str, upload_root: str, timeout_s: float, retries: int, backoff_s: float,
                 backoff_max_s: float):
        self.api_root = api_root.rstrip("/") + "/"
        self.upload_root = upload_root.rstrip("/") + "/"
        self.retries = retries
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self.http = httpx.Client(timeout=timeout_s, follow_redirects=False)

    @property
    def version(self) -> str:
        """The Graph API version of the root (v21.0), which rupload URLs repeat."""
        last = self.api_root.rstrip("/").rsplit("/", 1)[-1]
        return last if re.fullmatch(r"v\d+\.\d+", last) else "v21.0"

    def close(self) -> None:
        self.http.close()

    # ---- single requests (no retries) --------------------------------------------------------

    def _check(self, resp: httpx.Response, what: str) -> dict:
        if resp.status_code < 400:
            try:
                return resp.json()
            except ValueError as exc:
                raise InstagramRefused(f"Instagram answered {what} with something that is not JSON (HTTP "
                                       f"{resp.status_code})", status=resp.status_code) from exc
        error = _graph_error(resp)
        code, subcode = error.get("code"), error.get("error_subcode")
        message = redact(str(error.get("error_user_msg") or error.get("message") or "")[:300])
        told = f"HTTP {resp.status_code}" + (f", code {code}" if code is not None else "") + \
               (f"/{subcode}" if subcode is not None else "") + (f": {message}" if message else "")
        if resp.status_code in RETRY_STATUSES or error.get("is_transient") or code in TRANSIENT_CODES:
            raise _Transient(told)
        if code in LIMIT_CODES:
            raise InstagramLimitReached(f"Instagram refused {what}: {told}", status=resp.status_code, code=code,
                                        subcode=subcode, detail=message)
        if code in AUTH_CODES or resp.status_code == 401:
            raise InstagramAuthRefused(f"Instagram refused {what}: {told}", status=resp.status_code, code=code,
                                       subcode=subcode, detail=message)
        raise InstagramRefused(f"Instagram refused {what}: {told}", status=resp.status_code, code=code,
                               subcode=subcode, detail=message)

    def get(self, path: str, token: str, what: str, **params) -> dict:
        resp = self.http.get(self.api_root + path, params=params, headers={"Authorization": f"Bearer {token}"})
        return self._check(resp, what)

    def post(self, path: str, token: str, what: str, **params) -> dict:
        data = {k: v for k, v in params.items() if v is not None}
        resp = self.http.post(self.api_root + path, data=data, headers={"Authorization": f"Bearer {token}"})
        return self._check(resp, what)

    def get_public(self, url: str, what: str, **params) -> dict:
        """A GET whose query carries secrets (OAuth exchanges); absolute URL or one under the API root."""
        full = url if url.startswith(("http://", "https://")) else self.api_root + url
        return self._check(self.http.get(full, params=params), what)

    def upload(self, uri: str, token: str, path: Path, *, offset: int, size: int, what: str = "the video upload",
               on_sent: Callable[[int], None] | None = None) -> dict:
        """Send the file from byte `offset` to a rupload URI (headers: offset, file_size); on_sent(bytes of the
        file sent so far) after each block."""

        def body():
            sent = offset
            with open(path, "rb") as fh:
                fh.seek(offset)
                for block in iter(lambda: fh.read(1 << 18), b""):
                    yield block
                    sent += len(block)
                    if on_sent is not None:
                        on_sent(sent)

        headers = {"Authorization": f"OAuth {token}", "offset": str(offset), "file_size": str(size),
                   "Content-Type": "application/octet-stream", "Content-Length": str(size - offset)}
        resp = self.http.post(uri, content=body(), headers=headers)
        return self._check(resp, what)

    def upload_uri(self, container_id: str) -> str:
        return f"{self.upload_root}ig-api-upload/{self.version}/{container_id}"

    # ---- retries -----------------------------------------------------------------------------

    def call(self, fn: Callable[[], dict], what: str, *, on_retry: Callable[[BaseException], None] | None = None) -> dict:
        """fn() with the retry rules (module docstring); on_retry(error) runs before each wait."""
        failures = 0
        while True:
            try:
                return fn()
            except _Transient as exc:
                last, error = str(exc), exc
            except CONNECTION_ERRORS as exc:
                last, error = f"{type(exc).__name__}: {redact(str(exc)) or 'connection lost'}", exc
            failures += 1
            if failures > self.retries:
                raise InstagramUnavailable(f"Instagram {what} failed {failures} times in a row (last: {last})",
                                           failures=failures, last=last) from None
            if on_retry is not None:
                on_retry(error)
            delay = min(self.backoff_max_s, self.backoff_s * 2 ** (failures - 1)) * (0.5 + random.random() / 2)
            log.warning("instagram %s: %s; retry %d of %d in %.1f s", what, last, failures, self.retries, delay)
            time.sleep(delay)


class _Transient(InstagramError):
    """A 5xx or a transient Graph error: `call` waits and tries again."""
