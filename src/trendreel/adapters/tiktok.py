"""The TikTok API v2 (open.tiktokapis.com) over httpx, shared by publishing, metrics and the sign-in flow.

- `TikTokClient.session(account)`: an account's stored credentials (read and written back through the
  `load_credentials` / `save_credentials` callables the caller passes, which keep them encrypted in the
  database). An access token lives 24 hours: one that is missing, expires within five minutes, or is
  refused (401 access_token_invalid) is refreshed once at `/v2/oauth/token/` with the refresh token and
  the app's client key and secret, and the new tokens are stored back at once (TikTok may rotate the
  refresh token, so the old one may stop working).
- `TikTokSession.call(path, body)`: one JSON API call. 5xx answers and dropped connections wait
  (exponential backoff with jitter, at most `retries` times in a row) and try again. Limits
  (`rate_limit_exceeded`, `spam_risk_too_many_posts`, ...) are never retried: TikTokLimited says what
  the limit is and when to try again. Other refusals fail at once (TikTokRefused, TikTokAuthRefused).
- `TikTokSession.put_chunk(...)`: one chunk of a FILE_UPLOAD to the upload URL, with the same retries.

Tokens never reach a log line or an error message; httpx's own request log is kept at WARNING (logs.py)
because an upload URL carries its upload token. The errors here are neutral: publishing and metrics
turn them into their own, with the advice that fits what they were doing.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import httpx

from trendreel.errors import TrendreelError

__all__ = ["EXPLAIN", "LIMIT_CODES", "Retrier", "TikTokAuthRefused", "TikTokClient", "TikTokCredentialsInvalid", "TikTokError",
           "TikTokLimited", "TikTokRefused", "TikTokSession", "TikTokUnavailable", "expires_at", "token_request"]

log = logging.getLogger(__name__)

TOKEN_PATH = "v2/oauth/token/"
REFRESH_AHEAD = timedelta(minutes=5)
AUTH_CODES = {"access_token_invalid", "scope_not_authorized", "scope_permission_missed"}
# What each limit or refusal means for a user, in TikTok's own terms (docs/publish.md has the table).
EXPLAIN = {
    "rate_limit_exceeded": "TikTok's per-minute request limit for this account's token is reached (6 post inits, "
                           "20 creator info queries, 30 status checks a minute); wait a minute and run the same command again",
    "spam_risk_too_many_posts": "the account reached TikTok's daily cap of posts made through apps; publish again tomorrow",
    "spam_risk_too_many_pending_share": "the account has too many posts from apps still waiting on TikTok; wait until "
                                        "they are done, then publish again",
    "spam_risk_user_banned_from_posting": "TikTok does not let this account post at the moment; open the TikTok app to see why",
    "reached_active_user_cap": "the developer app reached its daily cap of creators posting through it; publish again tomorrow",
    "unaudited_client_can_only_post_to_private_accounts":
        "the TikTok developer app is not audited yet, and TikTok takes only private (SELF_ONLY) posts from an unaudited "
        "app: publish with --privacy private, or have the app audited (docs/publish.md, 'App review')",
    "privacy_level_option_mismatch": "the privacy level is not one the creator's account allows (creator info lists them)",
    "access_token_invalid": "the access token is no longer valid and refreshing it did not help; connect the account again",
    "scope_not_authorized": "the account did not grant the scope this needs (video.publish to post, video.list for "
                            "metrics); connect the account again and allow every scope asked for",
    "scope_permission_missed": "the account did not grant the scope this needs; connect the account again",
}
LIMIT_CODES = {"rate_limit_exceeded", "spam_risk_too_many_posts", "spam_risk_too_many_pending_share",
               "spam_risk_user_banned_from_posting", "reached_active_user_cap"}
CONNECTION_ERRORS = (httpx.TransportError,)


class TikTokError(TrendreelError):
    """A TikTok API call failed; the subclass says how."""


class TikTokCredentialsInvalid(TikTokError):
    """Stored credentials lack a field, no client key/secret is set, or TikTok refused to refresh the token."""


class TikTokRefused(TikTokError):
    """An answer retrying cannot change; `code` is TikTok's error code (invalid_params, ...)."""

    def __init__(self, message: str, *, status: int, code: str, detail: str = ""):
        super().__init__(message)
        self.status, self.code, self.detail = status, code, detail


class TikTokAuthRefused(TikTokRefused):
    """401 or a scope error: the token or its scopes were refused (after one refresh)."""


class TikTokLimited(TikTokRefused):
    """A rate limit or posting cap (LIMIT_CODES, or HTTP 429): never retried; the message says when to try again."""


class TikTokUnavailable(TikTokError):
    """5xx answers or dropped connections, `failures` times in a row; `last` says the last one."""

    def __init__(self, message: str, *, failures: int, last: str):
        super().__init__(message)
        self.failures, self.last = failures, last


def expires_at(seconds, now: datetime | None = None) -> str | None:
    """The ISO time (UTC) `seconds` from now, as stored with the credentials."""
    try:
        return ((now or datetime.now(timezone.utc)) + timedelta(seconds=int(seconds))).isoformat(timespec="seconds")
    except (TypeError, ValueError):
        return None


def _parse_time(value) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _json(resp: httpx.Response) -> dict:
    try:
        data = resp.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class Retrier:
    """Runs one request with the retry rules: 5xx and dropped connections wait and try again."""

    def __init__(self, retries: int, backoff_s: float, backoff_max_s: float):
        self.retries, self.backoff_s, self.backoff_max_s = retries, backoff_s, backoff_max_s
        self.retried = 0  # retries made so far (reported with a publication)

    def send(self, fn: Callable[[], httpx.Response], what: str) -> httpx.Response:
        failures = 0
        while True:
            try:
                resp = fn()
            except CONNECTION_ERRORS as exc:
                last, error = f"{type(exc).__name__}", exc
            else:
                code = str((_json(resp).get("error") or {}).get("code") or "") if resp.status_code >= 500 else ""
                if resp.status_code < 500 or code in LIMIT_CODES:
                    return resp
                last, error = f"HTTP {resp.status_code} {code}".strip(), None
            failures += 1
            if failures > self.retries:
                raise TikTokUnavailable(f"TikTok {what} failed {failures} times in a row (last: {last})",
                                        failures=failures, last=last) from error
            self.retried += 1
            delay = min(self.backoff_max_s, self.backoff_s * 2 ** (failures - 1)) * (0.5 + random.random() / 2)
            log.warning("tiktok %s: %s; retry %d of %d in %.1f s", what, last, failures, self.retries, delay)
            time.sleep(delay)


def token_request(http: httpx.Client, token_url: str, form: dict, *, retrier: Retrier, what: str) -> dict:
    """POST the form to the token endpoint; the JSON answer, or TikTokCredentialsInvalid with TikTok's reason."""
    resp = retrier.send(lambda: http.post(token_url, data=form, headers={"Cache-Control": "no-cache"}), what)
    data = _json(resp)
    if resp.status_code != 200 or data.get("error") or not data.get("access_token"):
        reason = data.get("error") or f"HTTP {resp.status_code}"
        detail = str(data.get("error_description") or "")[:200]
        raise TikTokCredentialsInvalid(f"TikTok refused {what}: {reason} {detail}".strip())
    return data


class TikTokClient:
    """Sessions (credentials + HTTP) for one app's TikTok accounts."""

    def __init__(self, *, api_root: str, timeout_s: float, retries: int, backoff_s: float, backoff_max_s: float,
                 client_key: str | None, client_secret: str | None, load_credentials: Callable[[str], dict],
                 save_credentials: Callable[[str, dict], None]):
        """client_key/client_secret: the app's, used when an account's credentials carry none."""
        self.root = api_root.rstrip("/") + "/"
        self.token_url = self.root + TOKEN_PATH
        self.timeout_s = timeout_s
        self.retrier = Retrier(retries, backoff_s, backoff_max_s)
        self.client_key, self.client_secret = client_key, client_secret
        self.load_credentials, self.save_credentials = load_credentials, save_credentials

    @contextmanager
    def session(self, account: dict) -> Iterator[TikTokSession]:
        info = dict(self.load_credentials(account["id"]))
        if not info.get("refresh_token") and not info.get("access_token"):
            name = account["name"]
            raise TikTokCredentialsInvalid(f"stored credentials of tiktok:{name} have neither access_token nor "
                                           f"refresh_token; add them again with `trendreel accounts add tiktok {name} "
                                           "--credentials FILE` or connect the account in the workspace")
        with httpx.Client(timeout=self.timeout_s, follow_redirects=False) as http:
            yield TikTokSession(self, account, info, http)


class TikTokSession:
    """One account's calls: its token kept fresh, each call with the retry rules."""

    def __init__(self, client: TikTokClient, account: dict, info: dict, http: httpx.Client):
        self.client, self.account, self.info, self.http = client, account, info, http
        self.refreshes = 0

    @property
    def name(self) -> str:
        return f"tiktok:{self.account['name']}"

    # ---- the token -----------------------------------------------------------------------------

    def _token(self) -> str:
        expiry = _parse_time(self.info.get("expires_at"))
        if not self.info.get("access_token") or (expiry is not None and expiry - REFRESH_AHEAD <= datetime.now(timezone.utc)):
            self.refresh()
        return self.info["access_token"]

    def refresh(self) -> None:
        """A new access token from the refresh token, stored back (encrypted) before it is used."""
        name = self.account["name"]
        key = self.info.get("client_key") or self.client.client_key
        secret = self.info.get("client_secret") or self.client.client_secret
        if not self.info.get("refresh_token"):
            raise TikTokCredentialsInvalid(f"the access token of {self.name} expired and its credentials hold no "
                                           "refresh_token; connect the account again")
        if not key or not secret:
            raise TikTokCredentialsInvalid(f"refreshing the token of {self.name} needs the app's client key and secret: "
                                           "set publish.tiktok_client_key and publish.tiktok_client_secret, or add "
                                           "client_key and client_secret to the account's credentials")
        form = {"client_key": key, "client_secret": secret, "grant_type": "refresh_token",
                "refresh_token": self.info["refresh_token"]}
        try:
            data = token_request(self.http, self.client.token_url, form, retrier=self.client.retrier,
                                 what=f"the token refresh of {self.name}")
        except TikTokCredentialsInvalid as exc:
            raise TikTokCredentialsInvalid(f"{exc}; connect the account again (`trendreel accounts add tiktok {name} "
                                           "--credentials FILE` or the workspace's connect button)") from exc
        self.info.update(access_token=data["access_token"], expires_at=expires_at(data.get("expires_in", 86400)),
                         refresh_token=data.get("refresh_token") or self.info["refresh_token"])
        if data.get("refresh_expires_in"):
            self.info["refresh_expires_at"] = expires_at(data["refresh_expires_in"])
        for field in ("open_id", "scope"):
            if data.get(field):
                self.info[field] = data[field]
        self.client.save_credentials(self.account["id"], dict(self.info))
        self.refreshes += 1
        log.info("%s: access token refreshed", self.name)

    # ---- calls ---------------------------------------------------------------------------------

    def call(self, path: str, body: dict | None = None, *, params: dict | None = None, what: str) -> dict:
        """POST JSON to the API path; the answer's `data` (TikTok's error object checked)."""
        url = self.client.root + path.lstrip("/")
        refreshed = False
        while True:
            token = self._token()
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json; charset=UTF-8"}
            resp = self.client.retrier.send(lambda: self.http.post(url, json=body or {}, params=params, headers=headers), what)
            data = _json(resp)
            error = data.get("error") or {}
            code = str(error.get("code") or ("ok" if resp.status_code == 200 else f"http_{resp.status_code}"))
            if resp.status_code == 200 and code == "ok":
                return data.get("data") or {}
            if (resp.status_code == 401 or code == "access_token_invalid") and not refreshed and self.info.get("refresh_token"):
                refreshed = True
                self.refresh()
                continue
            raise self._refusal(what, resp.status_code, code, str(error.get("message") or "")[:300])

    def put_chunk(self, url: str, data: bytes, *, start: int, total: int, mime: str = "video/mp4") -> int:
        """PUT one chunk (bytes start..start+len-1 of total); TikTok's status: 206 for more to come, 201 at the end."""
        end = start + len(data) - 1
        headers = {"Content-Type": mime, "Content-Range": f"bytes {start}-{end}/{total}"}
        what = f"the upload of bytes {start}-{end} of {total}"
        resp = self.client.retrier.send(lambda: self.http.put(url, content=data, headers=headers), what)
        if resp.status_code in (200, 201, 206):
            return resp.status_code
        error = _json(resp).get("error") or {}
        code = str(error.get("code") or f"http_{resp.status_code}")
        raise self._refusal(what, resp.status_code, code, str(error.get("message") or "")[:300])

    def _refusal(self, what: str, status: int, code: str, detail: str) -> TikTokRefused:
        meaning = EXPLAIN.get(code)
        message = f"TikTok refused {what} for {self.name}: HTTP {status} {code}" + (f" ({detail})" if detail else "")
        if meaning:
            message += f": {meaning}"
        if code in LIMIT_CODES or status == 429:
            return TikTokLimited(message, status=status, code=code, detail=detail)
        if status == 401 or code in AUTH_CODES:
            return TikTokAuthRefused(message, status=status, code=code, detail=detail)
        return TikTokRefused(message, status=status, code=code, detail=detail)
