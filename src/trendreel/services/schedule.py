"""Use cases of the publishing schedule: plan a post, list and cancel planned posts, publish what is due.

A planned post is one row per (video, account) (db.tables.ScheduledPost), written with its final time:
the time asked (`at`, the account's best hour, or now), plus a jitter drawn once from the post's id,
moved later where the account's daily cap or minimum spacing (schedule.*) asks. `run_due` claims each
due row by moving it from planned to publishing in one transaction (so two runners never take the same
row), publishes it through the publish stage (in this process, or on the engine's workers when
engine.runner = "temporal"), then marks it done. A row left in publishing by a crashed runner is taken
again after schedule.claim_timeout; the publish service returns or resumes the existing publication,
so the video is never posted twice on the account.

Every function takes `now` (default: the clock) so that tests run on a fake clock.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from trendreel.bootstrap import App, Report
from trendreel.db.tables import Account, MetricSample, Publication, ScheduledPost, Story, Video, utcnow
from trendreel.errors import Conflict, InvalidInput, NotFound, TrendreelError
from trendreel.ids import publication_id as make_publication_id
from trendreel.ids import scheduled_post_id
from trendreel.publish.errors import NotApproved, PublishError, UnknownPublication
from trendreel.schedule.plan import best_hour, jitter_for, next_at_hour, place
from trendreel.services.publishing import publish_video, resolve_target
from trendreel.services.videos import finished_video
from trendreel.units import parse_duration

log = logging.getLogger(__name__)

__all__ = ["add_post", "best_time", "cancel_post", "get_post", "list_posts", "run_due"]

ACTIVE = ("planned", "publishing", "done")  # posts that hold a place in the account's day
HOW = ("at", "best", "next")
# The views a post is judged by for the best hour: its first sample a day to three days after posting
# (the metrics schedule's 24 h point, or a late poll of it), so posts of different ages compare fairly.
JUDGED_FROM, JUDGED_UNTIL = timedelta(hours=24), timedelta(hours=72)


class UnknownPost(PublishError, NotFound):
    """No planned post has that id."""


def _aware(t: datetime) -> datetime:
    return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)


def _now(now: datetime | None) -> datetime:
    return _aware(now) if now is not None else utcnow()


def _jitter(app: App) -> timedelta:
    text = app.settings.schedule.jitter
    return timedelta(0) if text == "0" else parse_duration(text)


def _zone(app: App) -> ZoneInfo:
    return ZoneInfo(app.settings.schedule.timezone)


def post_dict(row: ScheduledPost, account: Account | None = None, *, title: str | None = None,
              url: str | None = None) -> dict:
    return {
        "id": row.id, "video_id": row.video_id, "account_id": row.account_id,
        "to": f"{account.platform}:{account.name}" if account is not None else None,
        "platform": account.platform if account is not None else None, "title": title,
        "requested_at": _aware(row.requested_at).isoformat(), "planned_at": _aware(row.planned_at).isoformat(),
        "jitter_s": row.jitter_s, "how": row.how, "privacy": row.privacy, "status": row.status,
        "attempts": row.attempts, "publication_id": row.publication_id, "url": url, "error": row.error,
        "details": dict(row.details or {}), "created_by": row.created_by,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
    }


# ---- the best time -------------------------------------------------------------------------------

def _judged_views(app: App, account_id: str) -> list[tuple[datetime, float]]:
    """(published_at, log10 views a day after) of the account's posts that have such a sample."""
    with app.db.session() as s:
        rows = s.execute(
            select(Publication.id, Publication.published_at, MetricSample.collected_at, MetricSample.views)
            .join(MetricSample, MetricSample.publication_id == Publication.id)
            .where(Publication.account_id == account_id, Publication.published_at.is_not(None),
                   MetricSample.views.is_not(None))
            .order_by(Publication.id, MetricSample.collected_at)).all()
    out: dict[str, tuple[datetime, float]] = {}
    for pid, published, collected, views in rows:
        if pid in out:
            continue
        age = collected - published
        if JUDGED_FROM <= age <= JUDGED_UNTIL:
            out[pid] = (published, math.log10(max(int(views), 1)))
    return list(out.values())


def best_time(app: App, *, to: str, now: datetime | None = None) -> dict:
    """The account's best posting hour (schedule.timezone) and its next start after `now`.

    From the account's own outcomes: each post's views a day after posting (log10), averaged per posting
    hour and shrunk towards the account's mean (schedule/plan.py); schedule.best_fallback_hour while the
    account has fewer than schedule.best_min_posts such posts."""
    now = _now(now)
    account = resolve_target(app, to)
    sch = app.settings.schedule
    estimate = best_hour(_judged_views(app, account["id"]), tz=_zone(app), min_posts=sch.best_min_posts,
                         fallback=sch.best_fallback_hour)
    return {**estimate, "to": f"{account['platform']}:{account['name']}", "timezone": sch.timezone,
            "at": next_at_hour(now, estimate["hour"], _zone(app)).isoformat()}


# ---- planning --------------------------------------------------------------------------------------

def _taken(s, account_id: str, post_id: str, since: datetime) -> list[datetime]:
    """Times of the account's other posts from `since` on: planned ones, and publications made without the schedule."""
    rows = s.execute(select(ScheduledPost.planned_at, ScheduledPost.publication_id)
                     .where(ScheduledPost.account_id == account_id, ScheduledPost.id != post_id,
                            ScheduledPost.status.in_(ACTIVE), ScheduledPost.planned_at >= since)).all()
    planned_pubs = {pid for _, pid in rows if pid}
    direct = s.scalars(select(Publication.published_at)
                       .where(Publication.account_id == account_id, Publication.status == "done",
                              Publication.published_at >= since, Publication.id.not_in(planned_pubs or {""}))).all()
    return [_aware(t) for t, _ in rows] + [_aware(t) for t in direct]


def add_post(app: App, *, video_id: str, to: str, at: datetime | None = None, best: bool = False,
             privacy: str | None = None, by: str | None = None, now: datetime | None = None) -> dict:
    """Plan `video_id` on `to` (PLATFORM:NAME): at `at`, at the account's best hour (`best`), else as soon as
    the caps allow. A video already planned there is returned as it is (`reused`); a cancelled or failed
    plan is planned again. The video must be finished and approved (or publish.auto_approve set)."""
    now = _now(now)
    if at is not None and best:
        raise InvalidInput("give a time or ask for the best time, not both")
    if privacy is not None and privacy not in ("private", "unlisted", "public"):
        raise InvalidInput(f"privacy must be private, unlisted or public, not {privacy!r}")
    account = resolve_target(app, to)
    target = f"{account['platform']}:{account['name']}"
    video = finished_video(app, video_id, purpose="scheduled", missing=UnknownPublication, not_ready=PublishError)
    if video["review"] == "rejected" or (video["review"] != "approved" and not app.settings.publish.auto_approve):
        raise NotApproved(f"video {video_id} is {'rejected' if video['review'] == 'rejected' else 'not approved yet'}: "
                          "only approved videos are planned (or set publish.auto_approve = true)",
                          hint=f"`trendreel approve {video_id}`")
    pid = scheduled_post_id(video_id, account["id"])
    with app.db.session() as s:
        published = s.get(Publication, make_publication_id(video_id, account["id"]))
        if published is not None and published.status == "done":
            raise Conflict(f"video {video_id} is already published on {target} as publication {published.id} ({published.url})")
        row = s.get(ScheduledPost, pid)
        if row is not None and row.status in ("planned", "publishing", "done"):
            return {**post_dict(row, s.get(Account, account["id"])), "reused": True}

    sch = app.settings.schedule
    details: dict = {}
    if at is not None:
        how, requested = "at", _aware(at)
        if requested < now - timedelta(minutes=1):
            raise InvalidInput(f"{requested.isoformat()} is in the past (now is {now.isoformat()})")
        if requested > now + timedelta(days=366):
            raise InvalidInput(f"{requested.isoformat()} is more than a year ahead: plan at most a year ahead")
    elif best:
        estimate = best_time(app, to=target, now=now)
        how, requested = "best", datetime.fromisoformat(estimate["at"])
        details["best"] = {k: estimate[k] for k in ("hour", "source", "posts", "min_posts", "timezone")}
    else:
        how, requested = "next", now
    jitter = jitter_for(pid, _jitter(app))
    with app.db.session() as s:
        # one planner per account at a time (PostgreSQL row lock), so two posts planned at once keep the rules
        s.execute(select(Account.id).where(Account.id == account["id"]).with_for_update())
        taken = _taken(s, account["id"], pid, requested - timedelta(days=2))
        planned = place(requested + jitter, taken, daily_cap=sch.daily_cap, min_spacing=parse_duration(sch.min_spacing),
                        tz=_zone(app))
        if planned != requested + jitter:
            details["moved_s"] = (planned - requested - jitter).total_seconds()  # for the caps or the spacing
        row = s.get(ScheduledPost, pid)
        if row is None:
            row = ScheduledPost(id=pid, video_id=video_id, account_id=account["id"], created_at=now, attempts=0)
            s.add(row)
        row.requested_at, row.planned_at, row.jitter_s, row.how = requested, planned, jitter.total_seconds(), how
        row.privacy, row.status, row.error, row.details, row.created_by = privacy, "planned", None, details, by
        row.attempts, row.claimed_at, row.finished_at, row.publication_id = 0, None, None, None
        try:
            s.flush()
        except IntegrityError:  # planned at the same moment by another caller: theirs stands
            s.rollback()
            return {**get_post(app, pid), "reused": True}
        out = post_dict(row, s.get(Account, account["id"]), title=_title(s, video_id))
    log.info("planned video %s on %s at %s", video_id, target, out["planned_at"])
    return {**out, "reused": False}


def _title(s, video_id: str) -> str | None:
    return s.scalar(select(Story.title).join(Video, Video.story_id == Story.id).where(Video.id == video_id))


def get_post(app: App, post_id: str) -> dict:
    with app.db.session() as s:
        row = s.get(ScheduledPost, post_id)
        if row is None:
            raise UnknownPost(f"unknown planned post {post_id!r}", hint="list them with `trendreel schedule list`")
        pub = s.get(Publication, row.publication_id) if row.publication_id else None
        return post_dict(row, s.get(Account, row.account_id), title=_title(s, row.video_id),
                         url=pub.url if pub is not None else None)


def list_posts(app: App, *, account: str | None = None, status: str | None = None, since: datetime | None = None,
               until: datetime | None = None, limit: int = 200) -> list[dict]:
    """Planned posts by time (earliest first); `account` is PLATFORM:NAME, `status` one of planned,
    publishing, done, error, cancelled; `since`/`until` bound planned_at."""
    if not 1 <= limit <= 10_000:
        raise InvalidInput("limit must be between 1 and 10000")
    with app.db.session() as s:
        q = (select(ScheduledPost, Account, Story.title, Publication.url)
             .join(Account, Account.id == ScheduledPost.account_id)
             .join(Video, Video.id == ScheduledPost.video_id)
             .outerjoin(Story, Story.id == Video.story_id)
             .outerjoin(Publication, Publication.id == ScheduledPost.publication_id)
             .order_by(ScheduledPost.planned_at, ScheduledPost.id).limit(limit))
        if account:
            platform, sep, name = account.partition(":")
            if not sep:
                raise InvalidInput(f"account {account!r} must be PLATFORM:NAME")
            q = q.where(Account.platform == platform, Account.name == name)
        if status:
            q = q.where(ScheduledPost.status == status)
        if since is not None:
            q = q.where(ScheduledPost.planned_at >= _aware(since))
        if until is not None:
            q = q.where(ScheduledPost.planned_at < _aware(until))
        return [post_dict(row, acc, title=title, url=url) for row, acc, title, url in s.execute(q).all()]


def cancel_post(app: App, post_id: str, *, now: datetime | None = None) -> dict:
    """Cancel a planned post; one being published or already done cannot be cancelled (Conflict)."""
    now = _now(now)
    with app.db.session() as s:
        changed = s.execute(update(ScheduledPost).where(ScheduledPost.id == post_id, ScheduledPost.status == "planned")
                            .values(status="cancelled", finished_at=now)).rowcount
    post = get_post(app, post_id)
    if not changed and post["status"] != "cancelled":
        raise Conflict(f"planned post {post_id} is {post['status']}: only a planned post can be cancelled")
    return {**post, "changed": bool(changed)}


# ---- running what is due -----------------------------------------------------------------------------

def _claim(app: App, now: datetime, limit: int | None) -> list[tuple[str, bool]]:
    """Take the due rows: (id, resumed) for each row this call moved to publishing (one transaction each)."""
    stale = now - parse_duration(app.settings.schedule.claim_timeout)
    with app.db.session() as s:
        due = s.execute(select(ScheduledPost.id, ScheduledPost.status, ScheduledPost.claimed_at)
                        .where(((ScheduledPost.status == "planned") & (ScheduledPost.planned_at <= now))
                               | ((ScheduledPost.status == "publishing") & (ScheduledPost.claimed_at <= stale)))
                        .order_by(ScheduledPost.planned_at, ScheduledPost.id).limit(limit)).all()
    taken = []
    for pid, status, claimed in due:
        with app.db.session() as s:
            cond = [ScheduledPost.id == pid, ScheduledPost.status == status]
            # a resumed claim is taken only if nobody took it since we looked
            cond.append(ScheduledPost.claimed_at == claimed if claimed is not None else ScheduledPost.claimed_at.is_(None))
            n = s.execute(update(ScheduledPost).where(*cond)
                          .values(status="publishing", claimed_at=now, attempts=ScheduledPost.attempts + 1)).rowcount
        if n == 1:
            taken.append((pid, status == "publishing"))
    return taken


def _finish(app: App, pid: str, **values) -> None:
    with app.db.session() as s:
        s.execute(update(ScheduledPost).where(ScheduledPost.id == pid).values(**values))


def _publish_here(app: App, params: dict) -> dict:
    p = publish_video(app, video_id=params["video_id"], to=params["to"], privacy=params.get("privacy"))
    return {"publication_id": p["id"], "status": p["status"], "url": p["url"], "reused": p["reused"]}


def run_due(app: App, *, now: datetime | None = None, limit: int | None = None, report: Report | None = None,
            in_process: bool = False) -> dict:
    """Publish every planned post due at `now` (and resume those a crashed runner left); what happened to each.

    Each publish goes through the App's runner (the engine's workers when engine.runner = "temporal"), or
    here with `in_process` (the pipeline's schedule stage, which already runs on a worker)."""
    now = _now(now)
    sch = app.settings.schedule
    out: dict[str, list] = {"published": [], "retrying": [], "failed": [], "resumed": []}
    claimed = _claim(app, now, limit)
    for done, (pid, resumed) in enumerate(claimed, 1):
        post = get_post(app, pid)
        if resumed:
            out["resumed"].append(pid)
        params = {"video_id": post["video_id"], "to": post["to"], "privacy": post["privacy"]}
        try:
            # in process, the publish stage is publish_video: called here, without loading every stage's module
            here = in_process or app.settings.engine.runner == "inprocess"
            result = (_publish_here(app, params) if here
                      else app.runner().run("publish", params, lambda d, t, info=None: None))
        except Exception as exc:  # recorded on the row; the next post still goes out
            message = str(exc) if isinstance(exc, TrendreelError) else f"{type(exc).__name__}: {exc}"
            passing = getattr(exc, "retryable", not isinstance(exc, TrendreelError))
            if passing and post["attempts"] < sch.max_attempts:
                _finish(app, pid, status="planned", error=message[:4000], claimed_at=None,
                        planned_at=now + parse_duration(sch.retry_after))
                out["retrying"].append({"id": pid, "error": message})
            else:
                _finish(app, pid, status="error", error=message[:4000], finished_at=now)
                out["failed"].append({"id": pid, "error": message})
            log.warning("planned post %s (video %s to %s) failed: %s", pid, post["video_id"], post["to"], message)
        else:
            _finish(app, pid, status="done", error=None, finished_at=now, publication_id=result["publication_id"])
            out["published"].append({"id": pid, "video_id": post["video_id"], "to": post["to"],
                                     "publication_id": result["publication_id"], "url": result.get("url"),
                                     "reused": result.get("reused", False)})
        if report is not None:
            report(done, len(claimed))
    return {"now": now.isoformat(), "due": len(claimed), **out}
