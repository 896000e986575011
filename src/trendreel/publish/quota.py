"""API quota per project and day, counted in the `quota_usage` table before each call that costs.

YouTube's day runs midnight to midnight Pacific time. Two buckets, as the YouTube Data API counts them
(docs/publish.md cites the quota table): videos.insert calls in their own bucket
(`publish.youtube_inserts_per_day`), every other method in the shared units pool
(`publish.youtube_units_per_day`). The row (project, day) holds the pool; (project + "#videos.insert",
day) the insert bucket.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from trendreel.db.tables import QuotaUsage
from trendreel.publish.errors import QuotaExceeded

PACIFIC = ZoneInfo("America/Los_Angeles")
INSERT_BUCKET = "#videos.insert"


def pacific_day(now: datetime | None = None) -> str:
    return (now or datetime.now(tz=PACIFIC)).astimezone(PACIFIC).strftime("%Y-%m-%d")


def reset_time(now: datetime | None = None) -> datetime:
    """The next midnight Pacific time, when the day's quota starts again."""
    local = (now or datetime.now(tz=PACIFIC)).astimezone(PACIFIC)
    return (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def used(app, project: str, day: str | None = None) -> int:
    with app.db.session() as s:
        row = s.get(QuotaUsage, (project, day or pacific_day()))
        return row.units if row is not None else 0


def _limit_message(project: str, bucket: str, used_units: int, cost: int, limit: int, unit: str) -> str:
    reset = reset_time()
    return (f"YouTube quota of project {project} would be exceeded: {bucket} has used {used_units} of {limit} {unit} "
            f"today (Pacific time) and this needs {cost} more; it resets at {reset:%Y-%m-%d %H:%M %Z} "
            f"({reset.astimezone().strftime('%Y-%m-%d %H:%M %Z')} here). Publish later, or ask Google for more quota "
            "and raise publish.youtube_units_per_day / publish.youtube_inserts_per_day")


def check(app, project: str, *, units: int = 0, inserts: int = 0) -> None:
    """Refuse (QuotaExceeded, nothing spent) when these calls would exceed today's quota."""
    p = app.settings.publish
    day = pacific_day()
    for key, cost, limit, bucket, unit in _buckets(p, project, units, inserts):
        have = used(app, key, day)
        if cost and have + cost > limit:
            raise QuotaExceeded(_limit_message(project, bucket, have, cost, limit, unit))


def _buckets(p, project: str, units: int, inserts: int):
    if p.youtube_inserts_per_day > 0:
        yield project + INSERT_BUCKET, inserts, p.youtube_inserts_per_day, "videos.insert", "calls"
        yield project, units, p.youtube_units_per_day, "the units pool", "units"
    else:
        yield project, units + inserts * p.youtube_cost_insert, p.youtube_units_per_day, "the units pool", "units"


def spend(app, project: str, *, units: int = 0, inserts: int = 0) -> None:
    """Count calls about to be made (checked first, so a refusal spends nothing)."""
    check(app, project, units=units, inserts=inserts)
    day = pacific_day()
    for key, cost, _limit, _bucket, _unit in _buckets(app.settings.publish, project, units, inserts):
        if cost:
            _add(app, key, day, cost)


def _add(app, key: str, day: str, cost: int) -> None:
    for attempt in (1, 2):
        try:
            with app.db.session() as s:
                done = s.execute(update(QuotaUsage).where(QuotaUsage.project == key, QuotaUsage.day == day)
                                 .values(units=QuotaUsage.units + cost)).rowcount
                if not done:
                    s.add(QuotaUsage(project=key, day=day, units=cost))
            return
        except IntegrityError:  # another process inserted the row first: add to it
            if attempt == 2:
                raise


def exhaust(app, project: str, *, inserts: bool) -> None:
    """The API said quotaExceeded: mark the bucket full for today so later runs refuse early."""
    p = app.settings.publish
    key = project + INSERT_BUCKET if inserts and p.youtube_inserts_per_day > 0 else project
    limit = p.youtube_inserts_per_day if key.endswith(INSERT_BUCKET) else p.youtube_units_per_day
    day = pacific_day()
    have = used(app, key, day)
    if have < limit:
        _add(app, key, day, limit - have)


def usage(app, project: str) -> dict:
    p = app.settings.publish
    day = pacific_day()
    return {"project": project, "day": day, "units": used(app, project, day), "units_per_day": p.youtube_units_per_day,
            "inserts": used(app, project + INSERT_BUCKET, day), "inserts_per_day": p.youtube_inserts_per_day,
            "resets_at": reset_time().isoformat()}


__all__ = ["check", "exhaust", "pacific_day", "reset_time", "spend", "usage", "used"]
