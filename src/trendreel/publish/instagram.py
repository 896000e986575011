"""Instagram Reels through the Instagram Graph API (Instagram API with Facebook Login).

One publish, as Meta documents it (docs/publish.md has the links):

1. `GET /{ig-user-id}/content_publishing_limit?fields=config,quota_usage`: a used-up 24-hour
   publishing limit refuses here (QuotaExceeded), before anything is sent.
2. `POST /{ig-user-id}/media` with media_type=REELS, upload_type=resumable, the caption and
   share_to_feed makes a container. Its id is saved in `job.state` at once, so nothing made on
   Instagram is ever lost track of.
3. The file goes to `rupload.facebook.com/ig-api-upload/{version}/{container-id}` with
   `Authorization: OAuth <token>`, `offset` and `file_size` headers. After a dropped connection the
   container's `video_status.uploading_phase.bytes_transferred` says how far Meta got, and the upload
   goes on from there (from 0 when Meta says nothing) - always into the same container.
4. `GET /{container-id}?fields=status_code,status` until FINISHED; ERROR and EXPIRED say why.
5. Before `POST /{ig-user-id}/media_publish?creation_id=...` the state records that publishing
   started. A run that finds that mark (a crash between "posted" and "recorded") or a container
   whose status_code is PUBLISHED never publishes again: it finds the post among the account's recent
   media by the publication's `ref:` marker in the caption, and records that one. Within a run, a
   media_publish retried after a lost answer first asks whether the container got PUBLISHED.

Together with the publish service's own guard (a done publication is returned as it is) this makes
one post per video and account, whatever fails when.

Credentials (stored encrypted, publish/accounts.py): a long-lived access token (60 days), its
expiry, the ig-user-id, and the Meta app's id and secret. A token that expires within
`publish.instagram_refresh_days` is exchanged for a fresh one first and stored back encrypted.
`InstagramOAuthFlow` makes such credentials from a browser sign-in.
"""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

from trendreel.adapters.instagram import (
    InstagramAuthRefused,
    LIMIT_CODES,
    InstagramClient,
    InstagramLimitReached,
    InstagramRefused,
    InstagramUnavailable,
)
from trendreel.errors import ConfigError
from trendreel.publish.accounts import load_credentials, read_credentials_file, save_credentials
from trendreel.publish.base import PublishJob, PublishResult
from trendreel.publish.metadata import CAPTION_LIMITS, caption_for
from trendreel.publish.errors import CredentialsError, QuotaExceeded, UploadFailed

log = logging.getLogger(__name__)

__all__ = ["CAPTION_MAX", "HASHTAGS_MAX", "MENTIONS_MAX", "SCOPES", "InstagramOAuthFlow", "InstagramPublisher",
           "check_instagram_credentials", "instagram_caption", "instagram_client", "read_instagram_credentials",
           "signed_in"]

CAPTION_MAX = CAPTION_LIMITS["instagram"].length
HASHTAGS_MAX = CAPTION_LIMITS["instagram"].hashtags
MENTIONS_MAX = CAPTION_LIMITS["instagram"].mentions
SCOPES = ["instagram_basic", "instagram_content_publish", "instagram_manage_insights", "pages_show_list",
          "pages_read_engagement"]
REQUIRED_FIELDS = ("access_token", "ig_user_id")
LONG_LIVED_S = 60 * 86400


# ---- the caption -------------------------------------------------------------------------------

def instagram_caption(metadata: dict, *, marker: str) -> str:
    """A Reels caption from the story's title, description and hashtags within Instagram's limits
    (publish.metadata.CAPTION_LIMITS: 2,200 characters, 30 hashtags, 20 @-mentions). It ends with
    `ref: <marker>` (the publication id), which finds the post again after a crash."""
    return caption_for("instagram", metadata, marker=marker)


# ---- credentials -------------------------------------------------------------------------------

def check_instagram_credentials(data, *, where: str = "the credentials") -> dict:
    """Stored-credentials JSON checked field by field: access_token and ig_user_id are needed."""
    if not isinstance(data, dict):
        raise CredentialsError(f"{where} holds {type(data).__name__}, not a JSON object")
    if data.get("type") not in (None, "instagram"):
        raise CredentialsError(f"{where} is of type {data.get('type')!r}, not Instagram credentials")
    missing = [f for f in REQUIRED_FIELDS if not data.get(f)]
    if missing:
        raise CredentialsError(f"{where} lacks {', '.join(missing)}; an Instagram credentials JSON needs "
                               "access_token (a long-lived token) and ig_user_id, and may hold expires_at, app_id "
                               "and app_secret", hint="connect the account in the workspace, or see docs/publish.md")
    if data.get("expires_at"):
        _expiry(data)  # a readable date, or say so now
    return {"type": "instagram", **data}


def read_instagram_credentials(path: Path) -> dict:
    return read_credentials_file(path, check_instagram_credentials)


def _expiry(creds: dict) -> datetime | None:
    raw = creds.get("expires_at")
    if not raw:
        return None
    try:
        if isinstance(raw, (int, float)):
            return datetime.fromtimestamp(raw, tz=timezone.utc)
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00")).astimezone(timezone.utc)
    except (ValueError, OSError) as exc:
        raise CredentialsError(f"expires_at {raw!r} is neither an ISO date nor a Unix time") from exc


def instagram_client(app) -> InstagramClient:
    p = app.settings.publish
    return InstagramClient(api_root=app.settings.instagram_api_root, upload_root=app.settings.instagram_upload_root,
                           timeout_s=p.timeout_s, retries=p.retries, backoff_s=p.backoff_s, backoff_max_s=p.backoff_max_s)


def _app_pair(app, creds: dict | None = None) -> tuple[str, str]:
    """The Meta app's id and secret: the stored credentials' own, else publish.instagram_app_id/_secret."""
    p = app.settings.publish
    app_id = (creds or {}).get("app_id") or p.instagram_app_id
    secret = (creds or {}).get("app_secret") or (p.instagram_app_secret.get_secret_value() if p.instagram_app_secret else None)
    if not app_id or not secret:
        raise ConfigError("the Meta app's id and secret are not set: set publish.instagram_app_id and "
                          "publish.instagram_app_secret (TRENDREEL_PUBLISH__INSTAGRAM_APP_SECRET) from the App Dashboard")
    return str(app_id), secret


def _exchange_long_lived(client: InstagramClient, app_id: str, secret: str, token: str) -> tuple[str, datetime]:
    """fb_exchange_token: a long-lived token (about 60 days) for a short-lived or long-lived one."""
    answer = client.call(lambda: client.get_public("oauth/access_token", "the long-lived token exchange",
                                                   grant_type="fb_exchange_token", client_id=app_id,
                                                   client_secret=secret, fb_exchange_token=token), "token exchange")
    if not answer.get("access_token"):
        raise CredentialsError("Meta's token exchange answered without an access_token; connect the account again")
    expires = datetime.now(timezone.utc) + timedelta(seconds=int(answer.get("expires_in") or LONG_LIVED_S))
    return answer["access_token"], expires


def signed_in(app, client: InstagramClient, account: dict) -> dict:
    """The account's credentials, with a token that expires within publish.instagram_refresh_days
    refreshed first (and stored back encrypted). CredentialsError when it already expired."""
    creds = check_instagram_credentials(load_credentials(app, account["id"]), where=f"instagram:{account['name']}")
    expiry = _expiry(creds)
    if expiry is None:
        return creds
    now = datetime.now(timezone.utc)
    name = account["name"]
    if expiry <= now:
        raise CredentialsError(f"the access token of instagram:{name} expired on {expiry:%Y-%m-%d %H:%M} UTC; connect "
                               f"the account again (`trendreel accounts add instagram {name} --credentials FILE` "
                               "or the workspace's connect button)")
    if expiry - now > timedelta(days=app.settings.publish.instagram_refresh_days):
        return creds
    app_id, secret = _app_pair(app, creds)
    try:
        token, expires = _exchange_long_lived(client, app_id, secret, creds["access_token"])
    except (InstagramRefused, InstagramUnavailable) as exc:
        log.warning("instagram:%s: token not refreshed (%s); it is valid until %s", name, exc, expiry.isoformat())
        return creds
    creds = {**creds, "access_token": token, "expires_at": expires.isoformat(), "refreshed_at": now.isoformat()}
    save_credentials(app, account["id"], creds)
    return creds


class InstagramOAuthFlow:
    """Connect an Instagram professional account in the browser (Facebook Login for Business).

    `authorization_url` sends the person to Meta's dialog; Meta redirects back with a code, which
    `exchange_code` turns into the credentials to store: a long-lived token, its expiry, the
    ig-user-id of the professional account linked to their Page, and the app's id and secret."""

    def __init__(self, app):
        self.app = app
        self.client = instagram_client(app)

    def authorization_url(self, *, redirect_uri: str, state: str) -> str:
        app_id, _secret = _app_pair(self.app)
        dialog = self.app.settings.instagram_dialog_root.rstrip("/") + f"/{self.client.version}/dialog/oauth"
        return dialog + "?" + urlencode({"client_id": app_id, "redirect_uri": redirect_uri, "state": state,
                                         "response_type": "code", "scope": ",".join(SCOPES)})

    def exchange_code(self, *, code: str, redirect_uri: str) -> dict:
        app_id, secret = _app_pair(self.app)
        c = self.client
        try:
            short = c.call(lambda: c.get_public("oauth/access_token", "the code exchange", client_id=app_id,
                                                client_secret=secret, redirect_uri=redirect_uri, code=code), "code exchange")
            if not short.get("access_token"):
                raise CredentialsError("Meta answered the code exchange without an access_token; sign in again")
            token, expires = _exchange_long_lived(c, app_id, secret, short["access_token"])
            check = c.call(lambda: c.get_public("debug_token", "the token check", input_token=token,
                                                access_token=f"{app_id}|{secret}"), "debug_token").get("data") or {}
            pages = c.call(lambda: c.get("me/accounts", token, "the Page list",
                                         fields="name,instagram_business_account{id,username}"), "me/accounts")
        except (InstagramRefused, InstagramUnavailable) as exc:
            raise CredentialsError(f"connecting the Instagram account failed: {exc}") from exc
        missing = [s for s in SCOPES if s not in (check.get("scopes") or SCOPES)]
        if not check.get("is_valid", True) or missing:
            raise CredentialsError("the sign-in did not grant what publishing needs"
                                   + (f" (missing: {', '.join(missing)})" if missing else " (the token is not valid)")
                                   + "; sign in again and allow every permission asked for")
        if check.get("expires_at"):
            expires = datetime.fromtimestamp(int(check["expires_at"]), tz=timezone.utc)
        linked = [p for p in pages.get("data", []) if (p.get("instagram_business_account") or {}).get("id")]
        if not linked:
            raise CredentialsError("none of the Facebook Pages this sign-in granted has an Instagram professional "
                                   "account linked; switch the Instagram account to Business or Creator, link it to a "
                                   "Page, and grant that Page when signing in")
        ig = linked[0]["instagram_business_account"]
        return {"type": "instagram", "access_token": token, "expires_at": expires.isoformat(), "ig_user_id": str(ig["id"]),
                "username": ig.get("username"), "page": linked[0].get("name"), "app_id": app_id, "app_secret": secret}


# ---- publishing --------------------------------------------------------------------------------

def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class InstagramPublisher:
    name = "instagram"

    def __init__(self, app):
        self.app = app
        self.settings = app.settings.publish
        self.client = instagram_client(app)

    def publish(self, job: PublishJob) -> PublishResult:
        creds = signed_in(self.app, self.client, job.account)
        return self._publish(job, creds)

    def caption(self, job: PublishJob) -> str:
        return instagram_caption(job.metadata, marker=job.publication_id)

    def _publish(self, job: PublishJob, creds: dict) -> PublishResult:
        token, ig = creds["access_token"], creds["ig_user_id"]
        state = dict(job.state or {})
        size = job.video.stat().st_size
        sha = _sha256(job.video)
        if state.get("sha256") not in (None, sha) and not state.get("publishing"):
            state = {}  # the file changed under an unpublished container: a new one
        details = {"resumed": bool(state.get("container_id")), "retries": 0}
        if state.get("media_id"):
            return self._result(job, token, state, details)

        if state.get("container_id"):
            status = self._status(token, state["container_id"], job, details)
            if status["status_code"] in ("EXPIRED", "ERROR"):  # never published (that reads PUBLISHED): a new one
                log.warning("instagram container %s is %s; making a new one", state["container_id"], status["status_code"])
                state = {}
            elif status["status_code"] == "PUBLISHED" or state.get("publishing"):
                return self._recover(job, token, ig, state, details, status)
        if not state.get("container_id"):
            self._check_limit(token, ig, job, details)
            caption = self.caption(job)
            made = self._call(lambda: self.client.post(f"{ig}/media", token, "the container", media_type="REELS",
                                                       upload_type="resumable", caption=caption,
                                                       share_to_feed="true" if self.settings.instagram_share_to_feed else "false"),
                              "container", job, details)
            state = {"container_id": str(made["id"]), "upload_uri": made.get("uri") or self.client.upload_uri(made["id"]),
                     "size": size, "sha256": sha, "caption_chars": len(caption)}
            job.save_state(state)

        if not state.get("uploaded"):
            self._upload(job, token, state, size, details)
        try:
            self._wait_processed(job, token, state, details)
        except _AlreadyPublished:
            return self._recover(job, token, ig, state, details, {"status_code": "PUBLISHED"})
        self._check_limit(token, ig, job, details)
        state["publishing"] = datetime.now(timezone.utc).isoformat()
        job.save_state(state)
        return self._media_publish(job, token, ig, state, details)

    # ---- steps -------------------------------------------------------------------------------

    def _media_publish(self, job: PublishJob, token: str, ig: str, state: dict, details: dict) -> PublishResult:
        """media_publish; a retry (after a lost answer) first asks whether the container got published."""
        cid = state["container_id"]
        attempts = 0

        def attempt() -> dict:
            nonlocal attempts
            attempts += 1
            if attempts > 1 and self.client.get(cid, token, "the container status",
                                                fields="status_code").get("status_code") == "PUBLISHED":
                return {}
            return self.client.post(f"{ig}/media_publish", token, "media_publish", creation_id=cid)

        answer = self._call(attempt, "media_publish", job, details)
        if not answer.get("id"):  # published by the attempt whose answer was lost
            return self._recover(job, token, ig, state, details, {"status_code": "PUBLISHED"})
        state["media_id"] = str(answer["id"])
        job.save_state(state)
        return self._result(job, token, state, details)

    def _check_limit(self, token: str, ig: str, job: PublishJob, details: dict) -> None:
        answer = self._call(lambda: self.client.get(f"{ig}/content_publishing_limit", token, "the publishing limit",
                                                    fields="config,quota_usage"), "content_publishing_limit", job, details)
        data = (answer.get("data") or [{}])[0]
        used = int(data.get("quota_usage") or 0)
        config = data.get("config") or {}
        total = config.get("quota_total")
        if total is not None and used >= int(total):
            hours = int(config.get("quota_duration") or 86400) / 3600
            raise QuotaExceeded(f"instagram:{job.account['name']} has published {used} of its {total} posts allowed "
                                f"within {hours:g} hours (Instagram's publishing limit, a moving window); nothing was "
                                "sent. Publish again when older posts leave the window")

    def _uploaded_bytes(self, token: str, container_id: str, job: PublishJob) -> int:
        status = self.client.get(container_id, token, "the upload status", fields="status_code,video_status")
        phase = (status.get("video_status") or {}).get("uploading_phase") or {}
        try:
            return max(0, int(phase.get("bytes_transferred") or 0))
        except (TypeError, ValueError):
            return 0

    def _upload(self, job: PublishJob, token: str, state: dict, size: int, details: dict) -> None:
        ask = bool(state.get("upload_started"))
        offsets: list[int] = []

        def attempt() -> dict:
            nonlocal ask
            offset = min(self._uploaded_bytes(token, state["container_id"], job), size) if ask else 0
            ask = True
            if not state.get("upload_started"):
                state["upload_started"] = True
                job.save_state(state)
            offsets.append(offset)
            if job.on_progress:
                job.on_progress(offset, size)
            return self.client.upload(state["upload_uri"], token, job.video, offset=offset, size=size,
                                      on_sent=(lambda sent: job.on_progress(sent, size)) if job.on_progress else None)

        answer = self._call(attempt, "video upload", job, details)
        if answer.get("success") is False:
            raise UploadFailed(f"Instagram did not accept the upload of container {state['container_id']}: "
                               f"{answer.get('message') or answer}; run the same command again")
        details["upload_offsets"] = offsets
        state.update(uploaded=True, progress=size)
        job.save_state(state)
        if job.on_progress:
            job.on_progress(size, size)

    def _status(self, token: str, container_id: str, job: PublishJob, details: dict) -> dict:
        answer = self._call(lambda: self.client.get(container_id, token, "the container status",
                                                    fields="status_code,status"), "container status", job, details)
        return {"status_code": answer.get("status_code") or "IN_PROGRESS", "status": answer.get("status") or ""}

    def _wait_processed(self, job: PublishJob, token: str, state: dict, details: dict) -> None:
        p = self.settings
        deadline = time.monotonic() + p.instagram_processing_timeout_s
        cid = state["container_id"]
        while True:
            status = self._status(token, cid, job, details)
            code = status["status_code"]
            if code == "FINISHED":
                return
            if code == "PUBLISHED":  # published by an earlier run whose answer was lost
                state["publishing"] = state.get("publishing") or "found published"
                job.save_state(state)
                raise _AlreadyPublished()
            if code in ("ERROR", "EXPIRED"):
                job.save_state({})  # the container is dead: the next run starts over with a new one
                why = "failed processing" if code == "ERROR" else "expired (not published within 24 hours)"
                raise UploadFailed(f"Instagram container {cid} {why}: {status['status'] or code}. Check the video "
                                   "against Instagram's Reels specifications (docs/publish.md), then publish again")
            if time.monotonic() > deadline:
                raise UploadFailed(f"Instagram is still processing container {cid} after "
                                   f"{p.instagram_processing_timeout_s:g} s ({status['status'] or code}); run the same "
                                   "command again later to go on with it")
            time.sleep(p.instagram_poll_s)

    def _recover(self, job: PublishJob, token: str, ig: str, state: dict, details: dict, status: dict) -> PublishResult:
        """The container was (or may have been) published by an earlier run: find that post, never post again."""
        details["recovered"] = True
        marker = f"ref: {job.publication_id}"
        answer = self._call(lambda: self.client.get(f"{ig}/media", token, "the recent media",
                                                    fields="id,caption,permalink,timestamp", limit="50"),
                            "recent media", job, details)
        for media in answer.get("data", []):
            if marker in (media.get("caption") or ""):
                state["media_id"] = str(media["id"])
                job.save_state(state)
                return self._result(job, token, state, details, media)
        if status["status_code"] == "FINISHED":  # publishing started but did not happen: safe to publish now
            self._check_limit(token, ig, job, details)
            return self._media_publish(job, token, ig, state, details)
        raise UploadFailed(f"Instagram container {state['container_id']} of publication {job.publication_id} may already "
                           f"be published (status {status['status_code']}), but no recent post of "
                           f"instagram:{job.account['name']} carries {marker!r}; check the account before publishing "
                           "again (`--restart-upload` forgets the container)")

    def _result(self, job: PublishJob, token: str, state: dict, details: dict, media: dict | None = None) -> PublishResult:
        mid = state["media_id"]
        if media is None or not media.get("permalink"):
            try:
                media = self.client.call(lambda: self.client.get(mid, token, "the post", fields="id,permalink"), "media")
            except (InstagramRefused, InstagramUnavailable) as exc:  # published: the link can wait
                log.warning("instagram media %s: permalink not read: %s", mid, exc)
                media = {}
        url = media.get("permalink") or f"https://www.instagram.com/{job.account['name']}/"
        out = {**details, "container_id": state.get("container_id"), "media_type": "REELS"}
        return PublishResult(mid, url, out)

    def _call(self, fn, what: str, job: PublishJob, details: dict):
        """One API call with the adapter's retry rules, its failures as publishing errors."""
        name = job.account["name"]

        def counted(_error):
            details["retries"] = details.get("retries", 0) + 1

        try:
            return self.client.call(fn, what, on_retry=counted)
        except InstagramLimitReached as exc:
            if exc.publishing:
                raise QuotaExceeded(f"Instagram refused {what} for instagram:{name}: the account reached its 24-hour "
                                    "publishing limit (code 9/2207042). Nothing is retried; run the same command when "
                                    "older posts leave the 24-hour window (the upload is kept)") from exc
            raise QuotaExceeded(f"Instagram refused {what} for instagram:{name}: {exc.detail or 'too many calls'} - "
                                f"{_limit_name(exc.code)} (code {exc.code}). Nothing is retried; wait an hour and run "
                                "the same command again") from exc
        except InstagramAuthRefused as exc:
            raise CredentialsError(f"Instagram refused the access token of instagram:{name} ({what}, code {exc.code}: "
                                   f"{exc.detail or 'expired or revoked'}); connect the account again "
                                   f"(`trendreel accounts add instagram {name} --credentials FILE`)") from exc
        except InstagramRefused as exc:
            raise UploadFailed(str(exc)) from exc
        except InstagramUnavailable as exc:
            raise UploadFailed(f"{exc}; run the same command again to resume") from exc


class _AlreadyPublished(Exception):
    """Raised inside a publish when the container turns out to be published already."""


def _limit_name(code) -> str:
    return LIMIT_CODES.get(code, "a rate limit")
