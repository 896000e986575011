"""Use cases of publishing: the approval gate, accounts, and putting a video on an account exactly once.

`publish_video` is idempotent per (video, account): the publication id is "p" + hash of both, a done
publication is returned as it is (`reused`), and an interrupted one resumes from its saved
`upload_state` (see publish/youtube.py). Order of writes: the publication row (status uploading, with
its fingerprint) before anything is sent; the platform's upload state while sending; then, in one
transaction, the external id and URL, the VideoPublished event and the snapshot of the trends live at
that moment.
"""

from __future__ import annotations

import getpass
import logging
import shutil
import tempfile
from pathlib import Path

from sqlalchemy import delete, select

from trendreel import events
from trendreel.adapters.ffmpeg import ffmpeg_exe
from trendreel.bootstrap import App
from trendreel.db import repo
from trendreel.db.tables import Account, Publication, PublicationTrend, Video, utcnow
from trendreel.errors import Conflict, FileMissing, TrendreelError, UnknownStory
from trendreel.ids import publication_id as make_publication_id
from trendreel.publish import accounts as accounts_mod
from trendreel.publish.base import PublishJob
from trendreel.publish.errors import (
    CredentialsError,
    NearDuplicate,
    NotApproved,
    PublishError,
    UnknownPublication,
)
from trendreel.publish.fingerprint import similarity, video_fingerprint
from trendreel.publish.instagram import check_instagram_credentials, read_instagram_credentials
from trendreel.publish.metadata import build_metadata
from trendreel.publish.tiktok import check_tiktok_credentials, read_tiktok_credentials
from trendreel.services.stories import get_story
from trendreel.services.trends import list_trends
from trendreel.services.videos import finished_video

log = logging.getLogger(__name__)

__all__ = ["add_account", "approve_video", "get_publication", "list_accounts", "list_publications", "publish_video",
           "reject_video", "remove_account", "resolve_target"]

PRIVACY = ("private", "unlisted", "public")


# ---- accounts --------------------------------------------------------------------------------

def add_account(app: App, *, platform: str, name: str, credentials: dict | None = None,
                credentials_file: Path | None = None, path: Path | None = None) -> dict:
    """Add (or update) an account: youtube with an authorized-user JSON, tiktok with its token JSON, instagram
    with its credentials JSON (access_token, ig_user_id, ...) (each parsed, or a file of it), folder with a
    directory."""
    options: dict = {}
    if platform == "youtube":
        if credentials is not None and credentials_file is not None:
            raise CredentialsError("give the credentials or a file of them, not both")
        if credentials is None and credentials_file is None:
            raise CredentialsError("a youtube account needs credentials (an authorized-user JSON)",
                                   hint=f"`trendreel accounts add youtube {name} --credentials FILE`, or "
                                        f"`trendreel accounts login youtube {name}`")
        credentials = (accounts_mod.check_authorized_user(credentials) if credentials is not None
                       else accounts_mod.read_authorized_user(credentials_file))
    elif platform == "tiktok":
        if (credentials is None) == (credentials_file is None):
            raise CredentialsError("a tiktok account needs its credentials (a JSON with access_token, refresh_token, "
                                   "open_id) or a file of them, one of the two",
                                   hint=f"`trendreel accounts add tiktok {name} --credentials FILE`, or connect the "
                                        "account in the workspace")
        credentials = (check_tiktok_credentials(credentials) if credentials is not None
                       else read_tiktok_credentials(credentials_file))
    elif platform == "instagram":
        if credentials is not None and credentials_file is not None:
            raise CredentialsError("give the credentials or a file of them, not both")
        if credentials is None and credentials_file is None:
            raise CredentialsError("an instagram account needs credentials (access_token, ig_user_id, ...)",
                                   hint=f"`trendreel accounts add instagram {name} --credentials FILE`, or connect it "
                                        "in the workspace")
        credentials = (check_instagram_credentials(credentials) if credentials is not None
                       else read_instagram_credentials(credentials_file))
    elif credentials is not None or credentials_file is not None:
        raise CredentialsError(f"a {platform} account takes no credentials")
    if platform == "folder":
        if path is None:
            raise PublishError("a folder account needs the path of a folder to write to",
                               hint=f"`trendreel accounts add folder {name} --path DIR`")
        options["path"] = str(accounts_mod.check_folder_path(app, path))
    return accounts_mod.add_account(app, platform=platform, name=name, credentials=credentials, options=options)


def oauth_platforms(app: App) -> list[str]:
    """Platforms whose accounts can be connected through an OAuth flow in the browser (registry kind oauth_flow),
    YouTube first (the platform most teams start with), then by name."""
    return sorted(app.registry.names("oauth_flow"), key=lambda name: (name != "youtube", name))


def oauth_start(app: App, *, platform: str, redirect_uri: str, state: str) -> str:
    """Where to send the browser to sign in with the platform and allow trendreel; it comes back to
    `redirect_uri` with `state` and a code."""
    return app.oauth_flow(platform).authorization_url(redirect_uri=redirect_uri, state=state)


def oauth_finish(app: App, *, platform: str, name: str, code: str, redirect_uri: str) -> dict:
    """Exchange the platform's code for credentials and store the account with them (encrypted)."""
    credentials = app.oauth_flow(platform).exchange_code(code=code, redirect_uri=redirect_uri)
    if platform == "youtube":
        credentials = accounts_mod.check_authorized_user(credentials, where="Google's answer")
    return accounts_mod.add_account(app, platform=platform, name=name, credentials=credentials)


def list_accounts(app: App, *, platform: str | None = None, include_removed: bool = False) -> list[dict]:
    """Accounts (never their credentials), by platform and name."""
    return accounts_mod.list_accounts(app, platform=platform, include_removed=include_removed)


def remove_account(app: App, *, platform: str, name: str) -> dict:
    """Remove an account: its credentials are dropped, its publications stay listed."""
    return accounts_mod.remove_account(app, platform=platform, name=name)


def resolve_target(app: App, to: str) -> dict:
    """`youtube:NAME` or `folder:NAME` (or the folder of an existing folder account) as an active account.

    Never makes an account: adding one is an admin's act (`accounts add`, POST /accounts), so publishing
    can write only where an admin allowed it, and a removed account stays removed."""
    platform, sep, name = (to or "").partition(":")
    if not sep or not name:
        raise PublishError(f"--to {to!r} must be PLATFORM:NAME, e.g. youtube:mychannel or folder:outbox "
                           f"(platforms: {', '.join(app.registry.names('publisher'))})")
    if not app.registry.knows("publisher", platform):
        raise PublishError(f"unknown platform {platform!r} in --to {to!r}; known: {', '.join(app.registry.names('publisher'))}")
    if platform == "folder":
        found = accounts_mod.find_account(app, "folder", name)
        if found is not None:
            return found
        if "/" in name or name.startswith((".", "~")):
            by_path = accounts_mod.find_folder_account(app, name)
            if by_path is not None:
                return by_path
            raise UnknownPublication(
                "no folder account writes to that folder: publish to an account by name; an admin adds folder "
                "accounts (inside publish.folder_roots)", hint="`trendreel accounts add folder NAME --path DIR`, "
                                                                "then `--to folder:NAME`")
    return accounts_mod.get_account(app, platform, name)


# ---- the approval gate -----------------------------------------------------------------------

def _reviewer(by: str | None) -> str:
    if by:
        return by[:100]
    try:
        return getpass.getuser()[:100]
    except (KeyError, OSError):
        return "unknown"


def _review(app: App, video_id: str, *, verdict: str, by: str | None, reason: str | None = None) -> dict:
    with app.db.session() as s:
        row = s.get(Video, video_id)
        if row is None:
            raise UnknownPublication(f"unknown video {video_id!r}", hint="list videos with `trendreel videos`")
        if row.review == verdict and (verdict == "approved" or (row.details or {}).get("review_reason") == reason):
            return {"video_id": video_id, "review": row.review, "reviewed_by": row.reviewed_by,
                    "reviewed_at": row.reviewed_at.isoformat() if row.reviewed_at else None, "changed": False}
        now = utcnow()
        row.review, row.reviewed_at, row.reviewed_by = verdict, now, _reviewer(by)
        details = dict(row.details or {})
        details.pop("review_reason", None)
        if reason:
            details["review_reason"] = reason
        row.details = details
        kind = events.VIDEO_APPROVED if verdict == "approved" else events.VIDEO_REJECTED
        repo.append_event(s, type=kind, subject_type="video", subject_id=video_id,
                          dedupe_key=f"{kind}:{video_id}:{now.isoformat()}",
                          payload={"by": row.reviewed_by, **({"reason": reason} if reason else {})})
        return {"video_id": video_id, "review": verdict, "reviewed_by": row.reviewed_by, "reviewed_at": now.isoformat(),
                "changed": True, **({"reason": reason} if reason else {})}


def approve_video(app: App, video_id: str, *, by: str | None = None) -> dict:
    """Say yes to publishing a video (VideoApproved); approving again changes nothing."""
    return _review(app, video_id, verdict="approved", by=by)


def reject_video(app: App, video_id: str, *, by: str | None = None, reason: str | None = None) -> dict:
    """Say no to publishing a video (VideoRejected); `trendreel approve` overrides it later."""
    return _review(app, video_id, verdict="rejected", by=by, reason=reason)


# ---- publications ----------------------------------------------------------------------------

def publication_dict(row: Publication, account: Account | None = None) -> dict:
    state = dict(row.upload_state or {})
    return {
        "id": row.id, "video_id": row.video_id, "account_id": row.account_id, "platform": row.platform,
        "account": account.name if account is not None else None, "status": row.status,
        "external_id": row.external_id, "url": row.url, "privacy": row.privacy, "title": row.title,
        "published_at": row.published_at.isoformat() if row.published_at else None,
        "created_at": row.created_at.isoformat() if row.created_at else None, "error": row.error,
        "upload": {k: state[k] for k in ("progress", "size") if k in state}, "details": dict(row.details or {}),
    }


def get_publication(app: App, publication_id: str) -> dict:
    with app.db.session() as s:
        row = s.get(Publication, publication_id)
        if row is None:
            raise UnknownPublication(f"unknown publication {publication_id!r}", hint="list them with `trendreel publications`")
        out = publication_dict(row, s.get(Account, row.account_id))
        out["trends"] = [{"rank": t.rank, "trend_id": t.trend_id, "text": t.text, "score": t.score, "category": t.category}
                         for t in s.scalars(select(PublicationTrend).where(PublicationTrend.publication_id == row.id)
                                            .order_by(PublicationTrend.rank))]
        return out


def list_publications(app: App, *, video_id: str | None = None, account: str | None = None, limit: int = 50,
                      include_imported: bool = False) -> list[dict]:
    """Our publications, newest first; `account` is PLATFORM:NAME or an account id. include_imported=True
    also lists the histories imported from other channels (status "imported", learn.rows.IMPORTED)."""
    with app.db.session() as s:
        q = (select(Publication, Account).join(Account, Account.id == Publication.account_id)
             .order_by(Publication.created_at.desc(), Publication.id).limit(limit))
        if not include_imported:
            q = q.where(Publication.status != "imported")
        if video_id:
            q = q.where(Publication.video_id == video_id)
        if account:
            platform, sep, name = account.partition(":")
            q = q.where((Account.platform == platform) & (Account.name == name)) if sep else q.where(Account.id == account)
        return [publication_dict(p, a) for p, a in s.execute(q).all()]


def _gate(app: App, video: dict) -> None:
    if video["review"] == "approved":
        return
    if video["review"] == "rejected":
        raise NotApproved(f"video {video['id']} was rejected; approve it first if it should be published after all",
                          hint=f"`trendreel approve {video['id']}`")
    if not app.settings.publish.auto_approve:
        raise NotApproved(f"video {video['id']} waits for approval: watch it, then approve it "
                          "(or set publish.auto_approve = true for unattended runs)", hint=f"`trendreel approve {video['id']}`")
    approve_video(app, video["id"], by="auto-approve")


def _check_copied(app: App, video: dict) -> None:
    """A mostly copied story is not said in public without someone deciding so."""
    if not video.get("story_id"):
        return
    try:
        share = get_story(app, video["story_id"]).get("verbatim_share")
    except UnknownStory:  # the story row is gone: nothing says how it was written
        return
    limit = app.settings.publish.max_verbatim_share
    if share is not None and share > limit:
        raise MostlyCopied(
            f"video {video['id']} tells story {video['story_id']}, whose narration is {share:.0%} copied word for word "
            f"from its sources (publish.max_verbatim_share = {limit:.0%}); publish it privately, write the story with "
            "a language model, or publish it anyway with allow_copied",
            hint=f"`trendreel publish --video {video['id']} --to ... --allow-copied`")


def _local(app: App, key: str | None, work: Path, name: str) -> Path | None:
    """A stored file as a local path (the store's own file when it is a folder, else a copy in `work`)."""
    if not key:
        return None
    local = app.files.local_path(key)
    if local is not None:
        if not local.is_file():
            raise FileMissing(f"{key} is missing from the file store {app.files.url}")
        return local
    target = work / name
    target.write_bytes(app.files.get(key))
    return target


def _check_duplicates(app: App, account: dict, video_id: str, fingerprint: str, allow_similar: bool) -> None:
    threshold = app.settings.publish.duplicate_threshold
    with app.db.session() as s:
        rows = s.execute(select(Publication.id, Publication.video_id, Publication.url, Publication.fingerprint)
                         .where(Publication.account_id == account["id"], Publication.video_id != video_id,
                                Publication.status == "done")).all()
    best = max(((similarity(fingerprint, fp), pid, vid, url) for pid, vid, url, fp in rows), default=None)
    if best is None or best[0] < threshold:
        return
    sim, pid, vid, url = best
    if allow_similar:
        log.warning("video %s is %.0f%% similar to publication %s; published anyway (--allow-similar)", video_id, sim * 100, pid)
        return
    raise NearDuplicate(f"video {video_id} looks like video {vid}, already published on {account['platform']}:{account['name']} "
                        f"as publication {pid} ({url}): similarity {sim:.2f} >= publish.duplicate_threshold {threshold}; "
                        "publish it anyway with --allow-similar", publication_id=pid, similarity=sim)


def _snapshot_trends(app: App, s, publication_id: str) -> int:
    n = app.settings.publish.trends_snapshot
    if n <= 0:
        return 0
    trends = list_trends(app, limit=n)
    s.execute(delete(PublicationTrend).where(PublicationTrend.publication_id == publication_id))
    now = utcnow()
    for rank, t in enumerate(trends, 1):
        s.add(PublicationTrend(publication_id=publication_id, rank=rank, trend_id=t["id"], text=t["text"],
                               score=float(t["score"] or 0.0), category=t.get("category"), captured_at=now))
    return len(trends)


class MostlyCopied(PublishError, Conflict):
    """The video's story says mostly its sources' own words; publishing it publicly needs an override."""


def publish_video(app: App, *, video_id: str, to: str, privacy: str | None = None, allow_similar: bool = False,
                  restart_upload: bool = False, allow_copied: bool = False, on_progress=None) -> dict:
    """Publish an approved, finished video to `to` (PLATFORM:NAME) once; the publication as a dict.

    A public publication of a video whose story has more than publish.max_verbatim_share of its
    narration copied word for word from its sources is refused (MostlyCopied) unless `allow_copied`.

    The dict is `publication_dict`'s shape plus `reused`: True when the video was already published there.
    """
    privacy = privacy or app.settings.publish.privacy
    if privacy not in PRIVACY:
        raise PublishError(f"privacy must be one of {', '.join(PRIVACY)}, not {privacy!r}")
    account = resolve_target(app, to)
    pid = make_publication_id(video_id, account["id"])
    with app.db.session() as s:
        row = s.get(Publication, pid)
        if row is not None and row.status == "done":
            return {**publication_dict(row, s.get(Account, account["id"])), "reused": True}
        prior_state = dict(row.upload_state or {}) if row is not None else {}
        prior_fp = row.fingerprint if row is not None else None
    video = finished_video(app, video_id, purpose="published", missing=UnknownPublication, not_ready=PublishError)
    _gate(app, video)
    if privacy == "public" and not allow_copied:
        _check_copied(app, video)
    publisher = app.publisher(account["platform"])

    work = Path(tempfile.mkdtemp(prefix="trendreel-publish-"))
    try:
        files = {"video": _local(app, video["path"], work, "video.mp4"),
                 "thumbnail": _local(app, video["thumbnail_path"], work, "thumb.jpg"),
                 "subtitles": _local(app, video["subtitles_path"], work, "subtitles.srt")}
        fingerprint = prior_fp or video_fingerprint(files["video"], video["duration_s"] or 0.0,
                                                    ffmpeg=ffmpeg_exe(app.settings.render.ffmpeg))
        _check_duplicates(app, account, video_id, fingerprint, allow_similar)
        metadata = build_metadata(app, video, marker=pid)
        if restart_upload:
            # the platform may look at what the earlier attempt left (TikTok checks its post first)
            prior_state = {"restarted_from": prior_state} if prior_state else {}
        with app.db.session() as s:
            row = s.get(Publication, pid)
            if row is None:
                row = Publication(id=pid, video_id=video_id, account_id=account["id"], platform=account["platform"],
                                  created_at=utcnow(), upload_state={}, details={})
                s.add(row)
            row.status, row.error, row.privacy = "uploading", None, privacy
            row.title, row.fingerprint, row.upload_state = metadata["title"], fingerprint, prior_state
            # the file as published: gc counts a video made again onto this row since as unpublished work
            row.details = {**dict(row.details or {}), "metadata": metadata, "video_sha256": video.get("sha256")}

        def save_state(state: dict) -> None:
            with app.db.session() as s2:
                r = s2.get(Publication, pid)
                r.upload_state = dict(state)

        job = PublishJob(publication_id=pid, video_id=video_id, account=account, video=files["video"],
                         thumbnail=files["thumbnail"], subtitles=files["subtitles"], metadata=metadata, privacy=privacy,
                         state=prior_state, save_state=save_state, on_progress=on_progress)
        try:
            result = publisher.publish(job)
        except TrendreelError as exc:
            _fail(app, pid, str(exc))
            raise
        except Exception as exc:  # a bug or an unexpected library error: record it, then let it surface
            _fail(app, pid, f"{type(exc).__name__}: {exc}")
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)

    with app.db.session() as s:
        row = s.get(Publication, pid)
        row.status, row.error = "done", None
        row.external_id, row.url, row.published_at = result.external_id, result.url, utcnow()
        row.details = {**dict(row.details or {}), **result.details}
        trends = _snapshot_trends(app, s, pid)
        repo.append_event(s, type=events.VIDEO_PUBLISHED, subject_type="video", subject_id=video_id,
                          dedupe_key=f"{events.VIDEO_PUBLISHED}:{pid}",
                          payload={"publication_id": pid, "platform": account["platform"], "account": account["name"],
                                   "external_id": result.external_id, "url": result.url, "privacy": privacy,
                                   "trends": trends})
        s.flush()
        out = publication_dict(row, s.get(Account, account["id"]))
    return {**out, "reused": False}


def _fail(app: App, pid: str, message: str) -> None:
    with app.db.session() as s:
        row = s.get(Publication, pid)
        if row is not None:
            row.status, row.error = "error", message[:4000]
