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

Credentials, their refresh, the API service and the retry rules are the YouTube adapter's
(`trendreel.adapters.youtube.YouTubeClient`, shared with metrics): a refreshed token is stored back
encrypted. Quota is counted per project (the OAuth client) and Pacific day before each call;
quotaExceeded from the API becomes the same clear QuotaExceeded and is never retried.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from googleapiclient.errors import HttpError, ResumableUploadError
from googleapiclient.http import MediaFileUpload

from trendreel.adapters.youtube import (
    CONNECTION_ERRORS,
    YouTubeClient,
    YouTubeCredentialsInvalid,
    YouTubeQuotaSpent,
    YouTubeRefused,
    YouTubeUnavailable,
    project_of,
)
from trendreel.publish import quota
from trendreel.publish.accounts import load_credentials, save_credentials
from trendreel.publish.base import PublishJob, PublishResult
from trendreel.publish.errors import CredentialsError, QuotaExceeded, UploadFailed

log = logging.getLogger(__name__)

GONE_STATUSES = {404, 410}
WATCH_URL = "https://www.youtube.com/watch?v={}"


class _ChunkFile(MediaFileUpload):
    """A file read chunk by chunk as bytes (not as a stream), so any re-send carries the whole chunk."""

    def has_stream(self):
        return False


def youtube_client(app) -> YouTubeClient:
    """The YouTube client with the app's publish settings and its accounts' stored (encrypted) credentials."""
    p = app.settings.publish
    return YouTubeClient(api_root=app.settings.youtube_api_root, timeout_s=p.timeout_s, retries=p.retries,
                         backoff_s=p.backoff_s, backoff_max_s=p.backoff_max_s,
                         load_credentials=lambda account_id: load_credentials(app, account_id),
                         save_credentials=lambda account_id, info: save_credentials(app, account_id, info))


class YouTubePublisher:
    name = "youtube"

    def __init__(self, app):
        self.app = app
        self.settings = app.settings.publish
        self.client = youtube_client(app)

    # ---- publish -----------------------------------------------------------------------------

    def publish(self, job: PublishJob) -> PublishResult:
        try:
            with self.client.signed_in(job.account) as (creds, info):
                return self._publish(job, creds, project_of(info))
        except YouTubeCredentialsInvalid as exc:
            raise CredentialsError(str(exc)) from exc

    def _publish(self, job: PublishJob, creds, project: str) -> PublishResult:
        p = self.settings
        state = dict(job.state or {})
        size = job.video.stat().st_size
        sha = _sha256(job.video)
        if state.get("sha256") not in (None, sha):  # the file changed under a half-done upload: a new one
            state = {}
        thumb_cost = p.youtube_cost_thumbnail if job.thumbnail is not None and not state.get("thumbnail_done") else 0
        youtube = self.client.service(creds)
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
        self.client.fix_media_uri(request)
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

        retries = 0

        def before_retry(error: BaseException) -> None:
            nonlocal retries
            retries += 1
            if isinstance(error, CONNECTION_ERRORS):
                request._in_error_state = True  # ask the session where it stands before the next chunk

        while True:
            # Each chunk gets the retries afresh: only failures in a row give up.
            try:
                status, response = self.client.call(request.next_chunk, "the upload", on_retry=before_retry)
            except YouTubeQuotaSpent as exc:
                quota.exhaust(self.app, project, inserts=True)
                raise self._quota_error(project, exc.reason) from exc
            except YouTubeRefused as exc:
                if exc.status in GONE_STATUSES and state.get("session_uri"):
                    raise UploadFailed(
                        f"the upload session of publication {job.publication_id} is gone on YouTube ({exc.status}); look "
                        f"for 'ref: {job.publication_id}' in the channel's videos: if it is not there, publish again with "
                        "--restart-upload") from exc
                if exc.status == 401:
                    raise CredentialsError(f"YouTube refused the credentials of youtube:{job.account['name']} after a "
                                           f"refresh; sign in again with `trendreel accounts login youtube {job.account['name']}`") from exc
                raise UploadFailed(str(exc)) from exc
            except YouTubeUnavailable as exc:
                raise UploadFailed(f"YouTube upload of publication {job.publication_id} failed {exc.failures} times in a "
                                   f"row (last: {exc.last}); run the same command again to resume at byte "
                                   f"{request.resumable_progress}") from exc
            if response is not None:
                if job.on_progress:
                    job.on_progress(size, size)
                details["retries"] = retries
                return response
            state["progress"] = status.resumable_progress if status else request.resumable_progress
            job.save_state(state)
            if job.on_progress:
                job.on_progress(state["progress"], size)

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
        self.client.fix_media_uri(req)
        return req.execute()

    def _call(self, fn, what: str, project: str | None, *, quota_inserts: bool = False):
        """One API call with the adapter's retry rules, its failures as publishing errors."""
        try:
            return self.client.call(fn, what)
        except YouTubeQuotaSpent as exc:
            if project:
                quota.exhaust(self.app, project, inserts=quota_inserts)
            raise self._quota_error(project, exc.reason) from exc
        except YouTubeRefused as exc:
            if exc.status == 401:
                raise CredentialsError(f"YouTube refused the credentials ({what}); sign in again with "
                                       "`trendreel accounts login youtube NAME`") from exc
            raise UploadFailed(str(exc)) from exc
        except YouTubeUnavailable as exc:
            raise UploadFailed(f"{exc}; run the same command again") from exc

    def _quota_error(self, project: str | None, reason: str) -> QuotaExceeded:
        reset = quota.reset_time()
        return QuotaExceeded(f"YouTube answered {reason}: the day's quota of project {project or '?'} is spent; it resets "
                             f"at {reset:%Y-%m-%d %H:%M %Z} ({reset.astimezone().strftime('%Y-%m-%d %H:%M %Z')} here). "
                             "Run the same command after that to resume, or ask Google for more quota")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


__all__ = ["YouTubePublisher", "youtube_client"]
