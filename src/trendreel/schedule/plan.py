"""When a planned post goes out: pure functions of times, the account's other posts and the settings.

- `jitter_for`: a fixed offset in [0, jitter) drawn from a hash of the post's key, so planning the same
  post again gives the same time and the stored plan is what goes out.
- `place`: the earliest time at or after the one wanted that keeps the account under its daily cap
  (days in the schedule's time zone) and at least `min_spacing` away from its other posts.
- `best_hour`: the posting hour whose posts got the most views, from the account's own outcomes.
- `next_at_hour`: the next time a given hour starts, after now.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["best_hour", "jitter_for", "next_at_hour", "place", "SHRINK_POSTS"]

# An hour with few posts is pulled towards the account's mean as if it had this many more posts at
# the mean: one lucky video at 3 a.m. does not make 3 a.m. the best hour.
SHRINK_POSTS = 2.0


def jitter_for(key: str, jitter: timedelta) -> timedelta:
    """A fixed offset in [0, jitter) for `key` (e.g. video and account): the same key, the same offset."""
    if jitter <= timedelta(0):
        return timedelta(0)
    fraction = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") / 2.0 ** 64
    return timedelta(seconds=math.floor(jitter.total_seconds() * fraction))


def _same_time_next_day(t: datetime, tz: ZoneInfo) -> datetime:
    local = t.astimezone(tz)
    wall = datetime.combine(local.date() + timedelta(days=1), local.time().replace(tzinfo=None))
    return wall.replace(tzinfo=tz).astimezone(t.tzinfo)


def place(wanted: datetime, taken: Iterable[datetime], *, daily_cap: int, min_spacing: timedelta,
          tz: ZoneInfo) -> datetime:
    """The earliest time >= `wanted` with fewer than `daily_cap` of `taken` on its day (in `tz`) and none of
    them closer than `min_spacing`. A full day moves the post to the same time the next day; a post too
    close to another moves to `min_spacing` after the latest one it is too close to."""
    taken = sorted(taken)
    t = wanted
    for _ in range(10_000):  # each step moves forward; a day can hold only so many posts
        day = t.astimezone(tz).date()
        if sum(1 for x in taken if x.astimezone(tz).date() == day) >= daily_cap:
            t = _same_time_next_day(t, tz)
            continue
        close = [x for x in taken if abs(x - t) < min_spacing]
        if close:
            t = max(close) + min_spacing
            continue
        return t
    raise ValueError(f"no time found for a post from {wanted.isoformat()} (daily cap {daily_cap}, spacing {min_spacing})")


def next_at_hour(now: datetime, hour: int, tz: ZoneInfo) -> datetime:
    """The next start of `hour` (0-23, in `tz`) after `now`, as a time in now's zone."""
    local = now.astimezone(tz)
    for days in range(3):
        wall = datetime.combine(local.date() + timedelta(days=days), time(hour))
        candidate = wall.replace(tzinfo=tz)
        if candidate > local:
            return candidate.astimezone(now.tzinfo)
    raise AssertionError("an hour comes round within three days")  # pragma: no cover


def best_hour(posts: Iterable[tuple[datetime, float]], *, tz: ZoneInfo, min_posts: int, fallback: int) -> dict:
    """The posting hour (in `tz`) with the highest mean log10 views, each hour's mean shrunk towards the
    account's with SHRINK_POSTS; `fallback` when there are fewer than `min_posts` posts.

    posts: (published_at, log10 views) of the account's posts. The answer: {"hour", "source" ("views" or
    "fallback"), "posts", "by_hour": {hour: {"posts", "mean_log10", "score"}}}.
    """
    posts = list(posts)
    if len(posts) < min_posts:
        return {"hour": fallback, "source": "fallback", "posts": len(posts), "min_posts": min_posts, "by_hour": {}}
    overall = sum(v for _, v in posts) / len(posts)
    by: dict[int, list[float]] = {}
    for at, value in posts:
        by.setdefault(at.astimezone(tz).hour, []).append(value)
    table = {}
    for hour, values in sorted(by.items()):
        n = len(values)
        mean = sum(values) / n
        table[hour] = {"posts": n, "mean_log10": round(mean, 4),
                       "score": round((n * mean + SHRINK_POSTS * overall) / (n + SHRINK_POSTS), 4)}
    best = max(table, key=lambda h: (table[h]["score"], -h))  # ties: the earlier hour
    return {"hour": best, "source": "views", "posts": len(posts), "min_posts": min_posts, "by_hour": table}
