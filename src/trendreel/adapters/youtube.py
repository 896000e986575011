"""The YouTube Data API v3 through the official client (google-api-python-client + google-auth).

`YouTubeClient` is what publishing (videos.insert, thumbnails.set) and metrics (videos.list) share:

- credentials: an account's stored authorized-user info (read and written back through the
  `load_credentials` / `save_credentials` callables the caller passes, which keep them encrypted in
  the database) become google Credentials; `signed_in` stores a token refreshed during the work,
  and turns a refused refresh into YouTubeCredentialsInvalid that says how to sign in again;
- the service: the official client over httplib2, with the discovery document bundled in the
  package, against `youtube_api_root` (TRENDREEL_YOUTUBE_API_ROOT). The client swaps only host and
  port of its upload URLs to that root, keeping https: `fix_media_uri` swaps the scheme as well, so a
  local server without TLS works. HTTPLIB2_CA_CERTS names extra CA certificates (a local TLS server);
- `call(fn, what)`: one API call with the retry rules: 500/502/503/504, rate limits and dropped
  connections wait (exponential backoff with jitter, at most `retries` times in a row) and try again;
  quotaExceeded is never retried (YouTubeQuotaSpent), refused credentials (YouTubeAuthRefused) and
  other refusals (YouTubeRefused) fail at once, and retries running out is YouTubeUnavailable.

The errors here are neutral: each caller turns them into its own (CredentialsError, QuotaExceeded,
UploadFailed for publishing; MetricsError for metrics), with the quota bookkeeping and the advice
that fit what it was doing. Quota counting itself stays with the callers (publish/quota.py).
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from urllib.parse import urlparse, urlunparse

import google.auth.exceptions
import google_auth_httplib2
import httplib2
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from trendreel.errors import TrendreelError

__all__ = [
    "CONNECTION_ERRORS",
    "QUOTA_REASONS",
    "RETRY_REASONS",
    "RETRY_STATUSES",
    "SCOPES",
    "YouTubeAuthRefused",
    "YouTubeClient",
    "YouTubeCredentialsInvalid",
    "YouTubeError",
    "YouTubeQuotaSpent",
    "YouTubeRefused",
    "YouTubeUnavailable",
    "error_message",
    "error_reason",
    "project_of",
]

log = logging.getLogger(__name__)

SCOPES = ["https://www.googleapis.com/auth/youtube.upload", "https://www.googleapis.com/auth/youtube.readonly"]
RETRY_STATUSES = {500, 502, 503, 504}
RETRY_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "backendError", "internalError"}
QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded", "uploadLimitExceeded"}
CONNECTION_ERRORS = (httplib2.HttpLib2Error, OSError, http.client.HTTPException, google.auth.exceptions.TransportError)
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class YouTubeError(TrendreelError):
    """A YouTube API call failed; the subclass says how."""


class YouTubeCredentialsInvalid(YouTubeError):
    """Stored credentials lack a field, point their token_uri elsewhere, or YouTube refused to refresh them."""


class YouTubeQuotaSpent(YouTubeError):
    """YouTube answered quotaExceeded (or another quota reason): the day's quota is gone; never retried."""

    def __init__(self, message: str, *, reason: str):
        super().__init__(message)
        self.reason = reason


class YouTubeRefused(YouTubeError):
    """An answer retrying cannot change (a 4xx that is neither a rate limit nor quota)."""

    def __init__(self, message: str, *, status: int, reason: str | None, detail: str = ""):
        super().__init__(message)
        self.status, self.reason, self.detail = status, reason, detail


class YouTubeAuthRefused(YouTubeRefused):
    """401, or 403 for a reason other than rate limits: the credentials or their scopes were refused."""


class YouTubeUnavailable(YouTubeError):
    """5xx answers, rate limits or dropped connections, `failures` times in a row; `last` says the last one."""

    def __init__(self, message: str, *, failures: int, last: str):
        super().__init__(message)
        self.failures, self.last = failures, last


def error_reason(exc: HttpError) -> str | None:
    """The API's error reason (quotaExceeded, ...) from an HttpError's JSON body."""
    try:
        data = json.loads(exc.content.decode("utf-8") if isinstance(exc.content, bytes) else exc.content)
        errors = data.get("error", {}).get("errors") or []
        if errors:
            return errors[0].get("reason")
        return data.get("error", {}).get("status")
    except (ValueError, AttributeError, TypeError):
        return None


def error_message(exc: HttpError) -> str:
    """The API's own message of an HttpError, shortened ('' when it has none)."""
    try:
        return str(exc._get_reason() or "")[:300]
    except Exception:  # the client's own parsing failed: the status is enough
        return ""


def project_of(credentials: dict) -> str:
    """The quota project: the OAuth client's project number (the client id's first part)."""
    client = str(credentials.get("client_id") or "unknown")
    return "youtube:" + client.split("-", 1)[0].split(".", 1)[0]


class YouTubeClient:
    """Credentials, the API service and retrying calls for one app's YouTube accounts."""

    def __init__(self, *, api_root: str, timeout_s: float, retries: int, backoff_s: float, backoff_max_s: float,
                 load_credentials: Callable[[str], dict], save_credentials: Callable[[str, dict], None]):
        """load_credentials(account_id) -> the stored authorized-user dict; save_credentials(account_id, dict)
        stores a refreshed one (both keep them encrypted)."""
        self.root = api_root.rstrip("/") + "/"
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self.load_credentials = load_credentials
        self.save_credentials = save_credentials

    # ---- credentials ---------------------------------------------------------------------------

    def credentials(self, account: dict) -> tuple[Credentials, dict]:
        """google Credentials of an account (id, name) and the stored info they came from."""
        info = self.load_credentials(account["id"])
        name = account["name"]
        missing = [k for k in ("refresh_token", "client_id", "client_secret") if not info.get(k)]
        if missing:
            raise YouTubeCredentialsInvalid(
                f"stored credentials of youtube:{name} lack {', '.join(missing)}; add them again with "
                f"`trendreel accounts add youtube {name} --credentials FILE`")
        token_uri = info.get("token_uri") or GOOGLE_TOKEN_URI
        # google-auth's from_authorized_user_info always sends refresh tokens to Google; we keep the file's
        # token_uri (a local test server), but only Google's own or a loopback one.
        if token_uri != GOOGLE_TOKEN_URI and urlparse(token_uri).hostname not in LOOPBACK:
            raise YouTubeCredentialsInvalid(
                f"the token_uri {token_uri} of youtube:{name} is neither Google's ({GOOGLE_TOKEN_URI}) nor on this "
                "machine; refusing to send the refresh token there")
        expiry = None
        if info.get("expiry"):
            try:
                expiry = datetime.fromisoformat(str(info["expiry"]).replace("Z", "+00:00")).astimezone(timezone.utc).replace(tzinfo=None)
            except ValueError:
                expiry = None
        scopes = info.get("scopes")
        creds = Credentials(token=info.get("token"), refresh_token=info["refresh_token"], token_uri=token_uri,
                            client_id=info["client_id"], client_secret=info["client_secret"],
                            scopes=scopes.split() if isinstance(scopes, str) else scopes, expiry=expiry)
        return creds, info

    @contextmanager
    def signed_in(self, account: dict) -> Iterator[tuple[Credentials, dict]]:
        """(credentials, stored info) for the work in the block; a token refreshed meanwhile is stored back."""
        creds, info = self.credentials(account)
        first_token = creds.token
        try:
            yield creds, info
        except google.auth.exceptions.RefreshError as exc:
            name = account["name"]
            raise YouTubeCredentialsInvalid(f"YouTube refused to refresh the token of youtube:{name} ({exc}); sign in "
                                            f"again with `trendreel accounts login youtube {name}`") from exc
        finally:
            if creds.token and creds.token != first_token:  # refreshed: keep it (encrypted) for the next run
                self.save_credentials(account["id"], {**info, **json.loads(creds.to_json())})

    # ---- the service ---------------------------------------------------------------------------

    def service(self, creds: Credentials):
        """The official client over httplib2, with the discovery document bundled in the package."""
        ca = os.environ.get("HTTPLIB2_CA_CERTS") or None
        transport = httplib2.Http(timeout=self.timeout_s, ca_certs=ca)
        # 308 is "resume incomplete" in the upload protocol, not a redirect (as in the client's build_http).
        transport.redirect_codes = set(transport.redirect_codes) - {308}
        authed = google_auth_httplib2.AuthorizedHttp(creds, http=transport)
        return build("youtube", "v3", http=authed, static_discovery=True, cache_discovery=False,
                     client_options={"api_endpoint": self.root})

    def fix_media_uri(self, request) -> None:
        """The client keeps https for upload URLs whatever the root says; follow the root's scheme."""
        root = urlparse(self.root)
        uri = urlparse(request.uri)
        if uri.scheme != root.scheme:
            request.uri = urlunparse(uri._replace(scheme=root.scheme, netloc=root.netloc))

    # ---- calls ---------------------------------------------------------------------------------

    def call(self, fn: Callable[[], object], what: str, *, on_retry: Callable[[BaseException], None] | None = None):
        """fn() with the retry rules (module docstring); `what` names the call in messages and logs.
        on_retry(error) runs before each wait (an upload marks its session to be asked where it stands)."""
        failures = 0
        while True:
            try:
                return fn()
            except HttpError as exc:
                reason, code = error_reason(exc), exc.resp.status
                if reason in QUOTA_REASONS:
                    raise YouTubeQuotaSpent(f"YouTube answered {reason} to {what}", reason=reason) from exc
                detail = error_message(exc)
                refused = f"YouTube refused {what}: HTTP {code} {reason or ''} {detail}".strip()
                if code == 401 or (code == 403 and reason not in RETRY_REASONS):
                    raise YouTubeAuthRefused(refused, status=code, reason=reason, detail=detail) from exc
                if code not in RETRY_STATUSES and reason not in RETRY_REASONS:
                    raise YouTubeRefused(refused, status=code, reason=reason, detail=detail) from exc
                last, error = f"HTTP {code}", exc
            except CONNECTION_ERRORS as exc:
                last, error = f"{type(exc).__name__}: {exc}", exc
            failures += 1
            if failures > self.retries:
                raise YouTubeUnavailable(f"YouTube {what} failed {failures} times in a row (last: {last})",
                                         failures=failures, last=last) from error
            if on_retry is not None:
                on_retry(error)
            self._sleep(failures, what, last)

    def _sleep(self, failures: int, what: str, last: str) -> None:
        delay = min(self.backoff_max_s, self.backoff_s * 2 ** (failures - 1))
        delay = delay * (0.5 + random.random() / 2)  # jitter: parallel uploaders do not retry in step
        log.warning("youtube %s: %s; retry %d of %d in %.1f s", what, last, failures, self.retries, delay)
        time.sleep(delay)
