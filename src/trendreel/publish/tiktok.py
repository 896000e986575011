"""TikTok: direct posts through the Content Posting API, and the OAuth flow that connects an account.

One post, in TikTok's order:

1. creator info (`/v2/post/publish/creator_info/query/`) before each new post: the privacy level is one
   the creator allows (trendreel private -> SELF_ONLY, unlisted -> MUTUAL_FOLLOW_FRIENDS, public ->
   PUBLIC_TO_EVERYONE, or FOLLOWER_OF_CREATOR for a private account; never a wider audience than asked),
   the video is no longer than `max_video_post_duration_sec`, and comments, duets and stitches stay off
   where the creator turned them off (or publish.tiktok_allow leaves them out). An app TikTok has not
   audited may post only SELF_ONLY; the error says so.
2. init (`/v2/post/publish/video/init/`) with source FILE_UPLOAD, video_size, chunk_size and
   total_chunk_count by TikTok's chunk rules (`chunk_plan`), the caption (`caption_for`), and is_aigc
   true: trendreel's videos are made with AI. The publish_id and upload URL are saved in the
   publication's upload state right after the answer, before a byte is sent.
3. the chunks, in order, as `PUT` with Content-Range and Content-Type; each saved as it lands.
4. status fetch (`/v2/post/publish/status/fetch/`) every publish.tiktok_poll_s until PUBLISH_COMPLETE
   or FAILED (its fail_reason in the error).

Never two posts of one video on one account: with a publish_id on record the next run never inits
again; it asks the status of that publish_id and continues there (the upload from the bytes TikTok has,
or the wait), or returns the post TikTok already made (a crash between "posted" and "recorded"). A
crash before the publish_id is saved leaves an init without a video, which TikTok never posts. Only a
FAILED post (nothing on the account) or `--restart-upload` after the earlier publish_id is checked
not to have posted starts a new one. The publish service adds the rest: one publication row per
(video, account), a done one is returned as it is, and the near-duplicate guard.

Credentials, their refresh and the retry rules are the TikTok adapter's (trendreel.adapters.tiktok).
"""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

from trendreel.adapters.ffmpeg import probe
from trendreel.adapters.tiktok import (
    TikTokAuthRefused,
    TikTokClient,
    TikTokCredentialsInvalid,
    TikTokLimited,
    TikTokRefused,
    TikTokUnavailable,
    Retrier,
    expires_at,
    token_request,
)
from trendreel.publish.accounts import load_credentials, read_credentials_file, save_credentials
from trendreel.publish.base import PublishJob, PublishResult
from trendreel.publish.errors import CredentialsError, PublishError, QuotaExceeded, UploadFailed
from trendreel.publish.metadata import caption_for

log = logging.getLogger(__name__)

__all__ = ["SCOPES", "TikTokOAuthFlow", "TikTokPublisher", "check_tiktok_credentials", "chunk_plan", "choose_privacy",
           "read_tiktok_credentials", "tiktok_client"]

SCOPES = "user.info.basic,video.publish,video.list"
MIN_CHUNK = 5 * 1024 * 1024  # TikTok: at least 5 MB a chunk (taken as MiB: safe either way)
MAX_CHUNK = 64_000_000  # at most 64 MB (taken as 10^6 bytes: safe either way)
MAX_CHUNKS = 1000
PRIVACY_LEVELS = {  # trendreel privacy -> TikTok levels in order of preference, never a wider audience
    "public": ("PUBLIC_TO_EVERYONE", "FOLLOWER_OF_CREATOR"),
    "unlisted": ("MUTUAL_FOLLOW_FRIENDS",),
    "private": ("SELF_ONLY",),
}
DONE, FAILED = "PUBLISH_COMPLETE", "FAILED"
POST_URL = "https://www.tiktok.com/@{user}/video/{post}"


def tiktok_client(app) -> TikTokClient:
    """The TikTok client with the app's publish settings and its accounts' stored (encrypted) credentials."""
    p = app.settings.publish
    return TikTokClient(api_root=app.settings.tiktok_api_root, timeout_s=p.timeout_s, retries=p.retries,
                        backoff_s=p.backoff_s, backoff_max_s=p.backoff_max_s, client_key=p.tiktok_client_key,
                        client_secret=p.tiktok_client_secret.get_secret_value() if p.tiktok_client_secret else None,
                        load_credentials=lambda account_id: load_credentials(app, account_id),
                        save_credentials=lambda account_id, info: save_credentials(app, account_id, info))


def chunk_plan(size: int, chunk_bytes: int) -> tuple[int, int]:
    """(chunk_size, total_chunk_count) by TikTok's rules: one piece when the video fits in a chunk (always so
    under 5 MB); else chunks of 5-64 MB, total = size // chunk_size, the last taking the trailing bytes."""
    if size <= 0:
        raise PublishError("the video file is empty")
    chunk = min(max(int(chunk_bytes), MIN_CHUNK), MAX_CHUNK)
    if size <= chunk:
        return size, 1
    if size // chunk > MAX_CHUNKS:
        chunk = -(-size // MAX_CHUNKS)
        if chunk > MAX_CHUNK:
            raise PublishError(f"the video is {size} bytes: more than TikTok's {MAX_CHUNKS} chunks of 64 MB")
    return chunk, size // chunk


def choose_privacy(privacy: str, options: list[str], *, account: str) -> str:
    """The TikTok privacy level for trendreel's privacy among the creator's options; PublishError when none fits."""
    for level in PRIVACY_LEVELS[privacy]:
        if level in options:
            return level
    if list(options) == ["SELF_ONLY"]:
        raise PublishError(f"{account} may post only privately (TikTok offers SELF_ONLY alone), as it is for every "
                           f"app TikTok has not audited: publish with --privacy private, or have the developer app "
                           f"audited (docs/publish.md, 'App review'); asked for {privacy}")
    raise PublishError(f"{account} allows the privacy levels {', '.join(options) or 'none'}; none matches trendreel's "
                       f"{privacy} ({' or '.join(PRIVACY_LEVELS[privacy])}); pick another --privacy")


# ---- credentials files ---------------------------------------------------------------------------

def check_tiktok_credentials(data, *, where: str = "the credentials") -> dict:
    """TikTok credentials (as `exchange_code` makes them), checked field by field."""
    if not isinstance(data, dict):
        raise CredentialsError(f"{where} holds {type(data).__name__}, not a JSON object")
    if not data.get("refresh_token"):
        raise CredentialsError(f"{where} lack refresh_token; TikTok credentials need access_token, refresh_token and "
                               "open_id (and client_key, client_secret unless publish.tiktok_client_key/secret are set)",
                               hint="connect the account in the workspace, which stores them for you")
    for field in ("access_token", "refresh_token", "open_id", "client_key", "client_secret", "scope", "expires_at"):
        if field in data and data[field] is not None and not isinstance(data[field], str):
            raise CredentialsError(f"{where}: {field} must be a string")
    return {k: v for k, v in data.items() if v is not None}


def read_tiktok_credentials(path: Path) -> dict:
    return read_credentials_file(path, check_tiktok_credentials)


# ---- publishing --------------------------------------------------------------------------------

class TikTokPublisher:
    name = "tiktok"

    def __init__(self, app):
        self.app = app
        self.settings = app.settings.publish
        self.client = tiktok_client(app)

    def publish(self, job: PublishJob) -> PublishResult:
        where = f"tiktok:{job.account['name']}"
        try:
            with self.client.session(job.account) as api:
                return self._publish(job, api)
        except TikTokCredentialsInvalid as exc:
            raise CredentialsError(str(exc)) from exc
        except TikTokLimited as exc:
            raise QuotaExceeded(f"{exc}. Nothing was posted twice: run the same command again later") from exc
        except TikTokAuthRefused as exc:
            raise CredentialsError(f"{exc}; connect {where} again") from exc
        except TikTokRefused as exc:
            raise UploadFailed(str(exc)) from exc
        except TikTokUnavailable as exc:
            raise UploadFailed(f"{exc}; run the same command again: it continues the same post "
                               f"(publication {job.publication_id})") from exc

    def _publish(self, job: PublishJob, api) -> PublishResult:
        state = dict(job.state or {})
        size = job.video.stat().st_size
        sha = _sha256(job.video)
        details: dict = {"resumed": bool(state.get("publish_id"))}
        retried_before = api.client.retrier.retried
        earlier = state.pop("restarted_from", None)
        if earlier and earlier.get("publish_id") and not state.get("publish_id"):
            state = self._check_restart(job, api, earlier, details) or state
        if state.get("publish_id"):
            try:
                status = self._status(api, state["publish_id"])
            except TikTokRefused as exc:
                if exc.status not in (400, 404):
                    raise
                raise UploadFailed(f"TikTok no longer knows post {state['publish_id']} of publication "
                                   f"{job.publication_id} ({exc.code}); look for 'ref: {job.publication_id}' on "
                                   f"tiktok:{job.account['name']}: if it is not there, publish again with "
                                   "--restart-upload") from exc
            details["resumed"] = True
            if status.get("status") not in (DONE, FAILED):
                if state.get("sha256") not in (None, sha):
                    raise UploadFailed(f"the video of publication {job.publication_id} changed after its TikTok post "
                                       f"{state['publish_id']} started; let that post finish, or publish again with "
                                       "--restart-upload")
                self._upload(job, api, state, size, from_byte=int(status.get("uploaded_bytes") or 0))
        else:
            state = self._init(job, api, size, sha, details)
            self._upload(job, api, state, size, from_byte=0)
        status = self._wait(job, api, state)
        post_ids = [str(p) for p in status.get("publicaly_available_post_id") or []]
        post_id = post_ids[0] if post_ids else None
        user = state.get("creator_username")
        url = POST_URL.format(user=user, post=post_id) if post_id and user else (
            f"https://www.tiktok.com/@{user}" if user else "https://www.tiktok.com/")
        state.update(post_id=post_id, done=True)
        job.save_state(state)
        if job.on_progress:
            job.on_progress(size, size)
        details.update(publish_id=state["publish_id"], post_id=post_id, privacy_level=state.get("privacy_level"),
                       chunks=state.get("total_chunk_count"), chunk_size=state.get("chunk_size"),
                       refreshes=api.refreshes, retries=api.client.retrier.retried - retried_before)
        # A SELF_ONLY post has no public id (TikTok gives none): the publish_id stands for it.
        return PublishResult(post_id or state["publish_id"], url, details)

    def _check_restart(self, job: PublishJob, api, earlier: dict, details: dict) -> dict | None:
        """--restart-upload: the earlier publish_id is looked at first; a post it made (or is making) is kept."""
        try:
            status = self._status(api, earlier["publish_id"])
        except TikTokRefused:  # TikTok no longer knows it: nothing was posted
            status = {"status": "unknown"}
        uploaded = int(status.get("uploaded_bytes") or 0) >= int(earlier.get("size") or 1)
        if status.get("status") == DONE or (status.get("status") != FAILED and uploaded):
            log.warning("publication %s: the earlier TikTok post %s is made (or being made); kept, not restarted",
                        job.publication_id, earlier["publish_id"])
            return dict(earlier)
        details["restarted_from"] = earlier["publish_id"]
        return None

    def _init(self, job: PublishJob, api, size: int, sha: str, details: dict) -> dict:
        where = f"tiktok:{job.account['name']}"
        creator = api.call("v2/post/publish/creator_info/query/", {}, what="creator info")
        level = choose_privacy(job.privacy, list(creator.get("privacy_level_options") or []), account=where)
        longest = creator.get("max_video_post_duration_sec")
        duration = probe(job.video, error=PublishError).duration_s
        if longest and duration and duration > float(longest):
            raise PublishError(f"the video is {duration:.0f} s long; {where} may post videos of at most {longest} s "
                               "(TikTok's creator info); make a shorter cut")
        allow = set(self.settings.tiktok_allow)
        chunk, count = chunk_plan(size, int(self.settings.tiktok_chunk_mib * 1024 * 1024))
        post_info = {"title": caption_for("tiktok", job.metadata), "privacy_level": level,
                     "disable_comment": bool(creator.get("comment_disabled")) or "comment" not in allow,
                     "disable_duet": bool(creator.get("duet_disabled")) or "duet" not in allow,
                     "disable_stitch": bool(creator.get("stitch_disabled")) or "stitch" not in allow,
                     "video_cover_timestamp_ms": 1000,
                     "brand_content_toggle": False, "brand_organic_toggle": False,
                     "is_aigc": True}  # trendreel's videos are written and voiced with AI: say so
        body = {"post_info": post_info, "source_info": {"source": "FILE_UPLOAD", "video_size": size,
                                                        "chunk_size": chunk, "total_chunk_count": count}}
        data = api.call("v2/post/publish/video/init/", body, what="the post init")
        if not data.get("publish_id") or not data.get("upload_url"):
            raise UploadFailed(f"TikTok's answer to the post init for {where} has no publish_id or upload_url")
        state = {"publish_id": data["publish_id"], "upload_url": data["upload_url"], "chunk_size": chunk,
                 "total_chunk_count": count, "size": size, "sha256": sha, "progress": 0, "privacy_level": level,
                 "creator_username": creator.get("creator_username")}
        job.save_state(state)  # before a byte is sent: from now on this publish_id is the only post
        details["caption"] = post_info["title"]
        return state

    def _upload(self, job: PublishJob, api, state: dict, size: int, *, from_byte: int) -> None:
        chunk, count = int(state["chunk_size"]), int(state["total_chunk_count"])
        index = min(from_byte // chunk, count)  # whole chunks only: TikTok keeps those
        resyncs = 0
        with open(job.video, "rb") as fh:
            while index < count:
                start = index * chunk
                length = size - start if index == count - 1 else chunk
                fh.seek(start)
                data = fh.read(length)
                try:
                    api.put_chunk(state["upload_url"], data, start=start, total=size)
                except TikTokRefused as exc:
                    if exc.status == 416 and resyncs < 3:
                        # A chunk sent again after a lost answer had landed: go on where TikTok says it is.
                        resyncs += 1
                        have = int(self._status(api, state["publish_id"]).get("uploaded_bytes") or 0)
                        index = min(have // chunk, count)
                        continue
                    if exc.status in (403, 404, 410):
                        raise UploadFailed(
                            f"TikTok no longer takes the upload of post {state['publish_id']} (HTTP {exc.status}; upload "
                            f"URLs last an hour); that post was never completed, so publish again with --restart-upload "
                            f"(it checks the earlier post first)") from exc
                    raise
                state["progress"] = start + length
                job.save_state(state)
                if job.on_progress:
                    job.on_progress(state["progress"], size)
                index += 1

    def _status(self, api, publish_id: str) -> dict:
        return api.call("v2/post/publish/status/fetch/", {"publish_id": publish_id}, what="the post status")

    def _wait(self, job: PublishJob, api, state: dict) -> dict:
        deadline = time.monotonic() + self.settings.tiktok_publish_timeout_s
        while True:
            status = self._status(api, state["publish_id"])
            if status.get("status") == DONE:
                return status
            if status.get("status") == FAILED:
                reason = status.get("fail_reason") or "no reason given"
                failed = list(state.get("failed", [])) + [state["publish_id"]]
                job.save_state({"failed": failed})  # nothing is on the account: the next run may post anew
                raise UploadFailed(f"TikTok could not post publication {job.publication_id} (publish_id "
                                   f"{state['publish_id']}): {reason}; fix that and run the same command again")
            if time.monotonic() >= deadline:
                raise UploadFailed(f"TikTok is still processing post {state['publish_id']} ({status.get('status')}) "
                                   f"after {self.settings.tiktok_publish_timeout_s:.0f} s; run the same command again "
                                   "later: it checks that post, never makes a second")
            time.sleep(self.settings.tiktok_poll_s)


# ---- connecting an account -----------------------------------------------------------------------

class TikTokOAuthFlow:
    """TikTok Login Kit for the web: the sign-in URL, then the code exchanged for the credentials to store."""

    def __init__(self, app):
        self.app = app
        p = app.settings.publish
        self.client_key = p.tiktok_client_key
        self.client_secret = p.tiktok_client_secret.get_secret_value() if p.tiktok_client_secret else None
        self.auth_url = app.settings.tiktok_auth_root.rstrip("/") + "/v2/auth/authorize/"
        self.token_url = app.settings.tiktok_api_root.rstrip("/") + "/v2/oauth/token/"

    def _app_keys(self) -> tuple[str, str]:
        if not self.client_key or not self.client_secret:
            raise CredentialsError("connecting a TikTok account needs the developer app's client key and secret: set "
                                   "publish.tiktok_client_key and publish.tiktok_client_secret (docs/publish.md, TikTok)")
        return self.client_key, self.client_secret

    def authorization_url(self, *, redirect_uri: str, state: str) -> str:
        key, _ = self._app_keys()
        query = {"client_key": key, "scope": SCOPES, "response_type": "code", "redirect_uri": redirect_uri, "state": state}
        return f"{self.auth_url}?{urlencode(query)}"

    def exchange_code(self, *, code: str, redirect_uri: str) -> dict:
        key, secret = self._app_keys()
        p = self.app.settings.publish
        form = {"client_key": key, "client_secret": secret, "code": code, "grant_type": "authorization_code",
                "redirect_uri": redirect_uri}
        try:
            with httpx.Client(timeout=p.timeout_s) as http:
                data = token_request(http, self.token_url, form, retrier=Retrier(p.retries, p.backoff_s, p.backoff_max_s),
                                     what="the sign-in code")
        except TikTokCredentialsInvalid as exc:
            raise CredentialsError(f"{exc}; sign in again (a code works once and only for a few minutes)") from exc
        except TikTokUnavailable as exc:
            raise CredentialsError(f"{exc}; sign in again later") from exc
        granted = {s.strip() for s in str(data.get("scope") or "").split(",") if s.strip()}
        missing = [s for s in SCOPES.split(",") if granted and s not in granted]
        if missing:
            raise CredentialsError(f"the TikTok account did not grant {', '.join(missing)}; sign in again and allow "
                                   "every permission asked for")
        return {"access_token": data["access_token"], "refresh_token": data.get("refresh_token"),
                "expires_at": expires_at(data.get("expires_in", 86400)),
                "refresh_expires_at": expires_at(data["refresh_expires_in"]) if data.get("refresh_expires_in") else None,
                "open_id": data.get("open_id"), "scope": data.get("scope"), "client_key": key, "client_secret": secret}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
