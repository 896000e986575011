"""YouTube: the Data API v3 through the official client (google-api-python-client + google-auth).

videos.insert with a resumable upload in chunks of `publish.chunk_mib`:

1. The session is opened with our own POST (not inside the client's first `next_chunk`), and its URI
   is saved in `publication.upload_state` before a single byte is sent. So a crash at any later point
   finds the session again: nothing can complete on YouTube without the session being on record.
2. Each chunk is sent by the client's `next_chunk()` inside our own retry loop: 500/502/503/504,
   rate limits, dropped connections and timeouts wait (exponential backoff with jitter, at most
   `publish.retries` times in a row) and try again. After a failure the client first asks the session
   how far it got (`PUT` with `Content-Range: bytes */SIZE`) and continues from the byte YouTube
   confirmed. We never use the client's `num_retries`: it re-sends a failed chunk without its body.
   Chunks are read as bytes, so a re-send after a 401 token refresh carries its body too.
3. After a crash the next run restores the session URI into the request and starts with that status
   query: a 308 continues at the confirmed byte, a 200/201 returns the video the session already made
   (uploaded but not recorded); either way the same session, never a second upload.
4. The video's id is saved before the thumbnail is set, so a crash there does not upload again.

Credentials refresh themselves against `token_uri` when they expire or YouTube answers 401; a refreshed
token is stored back encrypted. Quota is counted per project (the OAuth client) and Pacific day before
each call; quotaExceeded from the API becomes the same clear QuotaExceeded and is never retried.

The API root is `youtube_api_root` (TRENDREEL_YOUTUBE_API_ROOT). The client swaps only host and port of
its upload URL to that root, keeping https: for an http root we swap the scheme as well, so a local
server without TLS works. HTTPLIB2_CA_CERTS names extra CA certificates (a local TLS server).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import random
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import google.auth.exceptions
import google_auth_httplib2
import httplib2
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError, ResumableUploadError
from googleapiclient.http import MediaFileUpload

from trendreel.publish import quota
from trendreel.publish.accounts import load_credentials, save_credentials
from trendreel.publish.base import PublishJob, PublishResult
from trendreel.publish.errors import CredentialsError, QuotaExceeded, UploadFailed

log = logging.getLogger(__name__)

SCOPES = ["https://www.googleapis.com/auth/youtube.upload", "https://www.googleapis.com/auth/youtube.readonly"]
RETRY_STATUSES = {500, 502, 503, 504}
RETRY_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "backendError", "internalError"}
QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded", "uploadLimitExceeded"}
GONE_STATUSES = {404, 410}
CONNECTION_ERRORS = (httplib2.HttpLib2Error, OSError, http.client.HTTPException, google.auth.exceptions.TransportError)
WATCH_URL = "https://www.youtube.com/watch?v={}"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class _ChunkFile(MediaFileUpload):
    """A file read chunk by chunk as bytes (not as a stream), so any re-send carries the whole chunk."""

    def has_stream(self):
        return False


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


def project_of(credentials: dict) -> str:
    """The quota project: the OAuth client's project number (the client id's first part)."""
    client = str(credentials.get("client_id") or "unknown")
    return "youtube:" + client.split("-", 1)[0].split(".", 1)[0]


class YouTubePublisher:
    name = "youtube"

    def __init__(self, app):
        self.app = app
        self.settings = app.settings.publish
        self.root = app.settings.youtube_api_root.rstrip("/") + "/"

    # ---- wiring ------------------------------------------------------------------------------

    def credentials(self, account: dict) -> tuple[Credentials, dict]:
        info = load_credentials(self.app, account["id"])
        missing = [k for k in ("refresh_token", "client_id", "client_secret") if not info.get(k)]
        if missing:
            raise CredentialsError(f"stored credentials of youtube:{account['name']} lack {', '.join(missing)}; add them "
                                   f"again with `trendreel accounts add youtube {account['name']} --credentials FILE`")
        token_uri = info.get("token_uri") or GOOGLE_TOKEN_URI
        # google-auth's from_authorized_user_info always sends refresh tokens to Google; we keep the file's
        # token_uri (a local test server), but only Google's own or a loopback one.
        if token_uri != GOOGLE_TOKEN_URI and urlparse(token_uri).hostname not in LOOPBACK:
            raise CredentialsError(f"the token_uri {token_uri} of youtube:{account['name']} is neither Google's "
                                   f"({GOOGLE_TOKEN_URI}) nor on this machine; refusing to send the refresh token there")
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

    def service(self, creds: Credentials):
        """The official client over httplib2, with the discovery document bundled in the package."""
        ca = os.environ.get("HTTPLIB2_CA_CERTS") or None
        transport = httplib2.Http(timeout=self.settings.timeout_s, ca_certs=ca)
        # 308 is "resume incomplete" in the upload protocol, not a redirect (as in the client's build_http).
        transport.redirect_codes = set(transport.redirect_codes) - {308}
        authed = google_auth_httplib2.AuthorizedHttp(creds, http=transport)
        return build("youtube", "v3", http=authed, static_discovery=True, cache_discovery=False,
                     client_options={"api_endpoint": self.root})

    def _fix_media_uri(self, request) -> None:
        """The client keeps https for upload URLs whatever the root says; follow the root's scheme."""
        root = urlparse(self.root)
        uri = urlparse(request.uri)
        if uri.scheme != root.scheme:
            request.uri = urlunparse(uri._replace(scheme=root.scheme, netloc=root.netloc))

    # ---- publish -----------------------------------------------------------------------------

    def publish(self, job: PublishJob) -> PublishResult:
        creds, info = self.credentials(job.account)
        first_token = creds.token
        project = project_of(info)
        try:
            return self._publish(job, creds, project)
        except google.auth.exceptions.RefreshError as exc:
            raise CredentialsError(f"YouTube refused to refresh the token of youtube:{job.account['name']} ({exc}); "
                                   f"sign in again with `trendreel accounts login youtube {job.account['name']}`") from exc
        finally:
            if creds.token and creds.token != first_token:  # refreshed: keep it (encrypted) for the next run
                fresh = json.loads(creds.to_json())
                save_credentials(self.app, job.account["id"], {**info, **fresh})

    def _publish(self, job: PublishJob, creds: Credentials, project: str) -> PublishResult:
        p = self.settings
        state = dict(job.state or {})
        size = job.video.stat().st_size
        sha = _sha256(job.video)
        if state.get("sha256") not in (None, sha):  # the file changed under a half-done upload: a new one
            state = {}
        thumb_cost = p.youtube_cost_thumbnail if job.thumbnail is not None and not state.get("thumbnail_done") else 0
        youtube = self.service(creds)
        details = {"project": project, "resumed": bool(state.get("session_uri") or state.get("video_id"))}

        video = None
        if state.get("video_id"):
            video = {"id": state["video_id"]}
        else:
            if not state.get("session_uri"):
                quota.check(self.app, project, units=thumb_cost, inserts=1)
            video = self._upload(job, youtube, state, size, sha, project, details)
            state.update(video_id=video["id"], progress=size)
            job.save_state(state)

        warnings = []
        if thumb_cost:
            try:
                quota.spend(self.app, project, units=thumb_cost)
                self._call(lambda: self._thumbnail_request(youtube, video["id"], job.thumbnail), "thumbnails.set", project)
                state["thumbnail_done"] = True
                job.save_state(state)
                details["thumbnail"] = True
            except (QuotaExceeded, UploadFailed) as exc:
                warnings.append(f"thumbnail not set: {exc}")
                log.warning("video %s: thumbnail not set: %s", video["id"], exc)
        details["warnings"] = warnings
        details["units"] = {"videos.insert": 0 if details["resumed"] else 1, "thumbnails.set": thumb_cost if details.get("thumbnail") else 0}
        if "status" in video:
            details["upload_status"] = video["status"].get("uploadStatus")
        return PublishResult(video["id"], WATCH_URL.format(video["id"]), details)

    def request_body(self, job: PublishJob) -> dict:
        m = job.metadata
        snippet = {"title": m["title"], "description": m.get("description", ""), "tags": list(m.get("tags", [])),
                   "categoryId": self.settings.youtube_category_id}
        if m.get("language"):
            snippet["defaultLanguage"] = snippet["defaultAudioLanguage"] = m["language"]
        # Our videos are made by software (the narration is text-to-speech): say so.
        status = {"privacyStatus": job.privacy, "selfDeclaredMadeForKids": self.settings.made_for_kids,
                  "containsSyntheticMedia": True}
        return {"snippet": snippet, "status": status}

    def _upload(self, job: PublishJob, youtube, state: dict, size: int, sha: str, project: str, details: dict) -> dict:
        chunk = int(self.settings.chunk_mib * 1024 * 1024)
        media = _ChunkFile(str(job.video), mimetype="video/mp4", chunksize=chunk, resumable=True)
        request = youtube.videos().insert(part="snippet,status", body=self.request_body(job), media_body=media)
        self._fix_media_uri(request)
        if state.get("session_uri"):
            # Ask the saved session how far it got before sending anything (the client does this when
            # it is in its error state).
            request.resumable_uri = state["session_uri"]
            request.resumable_progress = int(state.get("progress") or 0)
            request._in_error_state = True
        else:
            quota.spend(self.app, project, inserts=1)
            self._open_session(request, media, size, project)
            state.clear()
            state.update(session_uri=request.resumable_uri, progress=0, size=size, sha256=sha,
                         chunk_bytes=chunk, project=project)
            job.save_state(state)
        if job.on_progress:
            job.on_progress(request.resumable_progress, size)

        failures = 0
        retries = 0
        while True:
            try:
                status, response = request.next_chunk()
            except HttpError as exc:
                reason = error_reason(exc)
                code = exc.resp.status
                if reason in QUOTA_REASONS:
                    quota.exhaust(self.app, project, inserts=True)
                    raise self._quota_error(project, reason) from exc
                if code in GONE_STATUSES and state.get("session_uri"):
                    raise UploadFailed(
                        f"the upload session of publication {job.publication_id} is gone on YouTube ({code}); look for "
                        f"'ref: {job.publication_id}' in the channel's videos: if it is not there, publish again with "
                        "--restart-upload") from exc
                if code == 401:
                    raise CredentialsError(f"YouTube refused the credentials of youtube:{job.account['name']} after a "
                                           f"refresh; sign in again with `trendreel accounts login youtube {job.account['name']}`") from exc
                if code not in RETRY_STATUSES and reason not in RETRY_REASONS:
                    raise UploadFailed(f"YouTube refused the upload: HTTP {code} {reason or ''} "
                                       f"{_message(exc)}".strip()) from exc
                what = f"HTTP {code}"
            except CONNECTION_ERRORS as exc:
                request._in_error_state = True  # ask the session where it stands before the next chunk
                what = f"{type(exc).__name__}: {exc}"
            else:
                failures = 0
                if response is not None:
                    if job.on_progress:
                        job.on_progress(size, size)
                    details["retries"] = retries
                    return response
                state["progress"] = status.resumable_progress if status else request.resumable_progress
                job.save_state(state)
                if job.on_progress:
                    job.on_progress(state["progress"], size)
                continue
            failures += 1
            retries += 1
            if failures > self.settings.retries:
                raise UploadFailed(f"YouTube upload of publication {job.publication_id} failed {failures} times in a row "
                                   f"(last: {what}); run the same command again to resume at byte {request.resumable_progress}")
            self._sleep(failures, what)

    def _open_session(self, request, media, size: int, project: str) -> None:
        """POST the metadata and get the session URI (retrying 5xx and dropped connections)."""
        headers = dict(request.headers)
        headers["X-Upload-Content-Type"] = media.mimetype()
        headers["X-Upload-Content-Length"] = str(size)
        headers["content-length"] = str(request.body_size)

        def start():
            resp, content = request.http.request(request.uri, method=request.method, body=request.body, headers=headers)
            if resp.status == 200 and "location" in resp:
                return resp["location"]
            if resp.status == 200:
                raise ResumableUploadError(resp, content)
            raise HttpError(resp, content, uri=request.uri)

        request.resumable_uri = self._call(start, "videos.insert (session)", project, quota_inserts=True)

    def _thumbnail_request(self, youtube, video_id: str, path: Path):
        mime = "image/png" if path.suffix.lower() == ".png" else "image/jpeg"
        req = youtube.thumbnails().set(videoId=video_id, media_body=MediaFileUpload(str(path), mimetype=mime))
        self._fix_media_uri(req)
        return req.execute()

    def _call(self, fn, what: str, project: str | None, *, quota_inserts: bool = False):
        """One API call with the retry rules of the upload loop."""
        failures = 0
        while True:
            try:
                return fn()
            except HttpError as exc:
                reason = error_reason(exc)
                code = exc.resp.status
                if reason in QUOTA_REASONS:
                    if project:
                        quota.exhaust(self.app, project, inserts=quota_inserts)
                    raise self._quota_error(project, reason) from exc
                if code == 401:
                    raise CredentialsError(f"YouTube refused the credentials ({what}); sign in again with "
                                           "`trendreel accounts login youtube NAME`") from exc
                if code not in RETRY_STATUSES and reason not in RETRY_REASONS:
                    raise UploadFailed(f"YouTube refused {what}: HTTP {code} {reason or ''} {_message(exc)}".strip()) from exc
                last = f"HTTP {code}"
            except CONNECTION_ERRORS as exc:
                last = f"{type(exc).__name__}: {exc}"
            failures += 1
            if failures > self.settings.retries:
                raise UploadFailed(f"YouTube {what} failed {failures} times in a row (last: {last}); run the same command again")
            self._sleep(failures, last)

    def _quota_error(self, project: str | None, reason: str) -> QuotaExceeded:
        reset = quota.reset_time()
        return QuotaExceeded(f"YouTube answered {reason}: the day's quota of project {project or '?'} is spent; it resets "
                             f"at {reset:%Y-%m-%d %H:%M %Z} ({reset.astimezone().strftime('%Y-%m-%d %H:%M %Z')} here). "
                             "Run the same command after that to resume, or ask Google for more quota")

    def _sleep(self, failures: int, what: str) -> None:
        p = self.settings
        delay = min(p.backoff_max_s, p.backoff_s * 2 ** (failures - 1))
        delay = delay * (0.5 + random.random() / 2)  # jitter: parallel uploaders do not retry in step
        log.warning("youtube: %s; retry %d of %d in %.1f s", what, failures, p.retries, delay)
        time.sleep(delay)


def _message(exc: HttpError) -> str:
    try:
        return str(exc._get_reason() or "")[:300]
    except Exception:  # the client's own parsing failed: the status is enough
        return ""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


__all__ = ["SCOPES", "YouTubePublisher", "error_reason", "project_of"]
