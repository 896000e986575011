"""When a publication is polled: pure functions of its publish time, its last sample and the clock.

Due points are `published_at + offset` for each offset of the schedule (default 1 h, 6 h, 24 h, 3 d,
7 d), then every `then_every` (default 7 d) after the last one, up to `max_age` after publishing. A
publication is due when the latest due point has passed and no sample was taken since it: a run that
missed several points takes one sample, not one per missed point, and the next run at the same due
point finds the sample and takes none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from trendreel.units import parse_duration

__all__ = ["Schedule", "due_points", "is_due", "latest_due", "next_due"]


@dataclass(frozen=True)
class Schedule:
    offsets: tuple[timedelta, ...]
    every: timedelta
    max_age: timedelta

    @classmethod
    def from_settings(cls, metrics) -> "Schedule":
        """The schedule of `MetricsSettings`."""
        return cls(offsets=tuple(parse_duration(x) for x in metrics.schedule), every=parse_duration(metrics.then_every),
                   max_age=timedelta(days=metrics.max_age_days))

    def offsets_until(self, age: timedelta) -> list[timedelta]:
        """Every offset <= min(age, max_age), in order."""
        limit = min(age, self.max_age)
        out = [o for o in self.offsets if o <= limit]
        last = self.offsets[-1]
        if limit >= last:
            out += [last + self.every * k for k in range(1, (limit - last) // self.every + 1)]
        return out


def due_points(published_at: datetime, schedule: Schedule, *, until: datetime) -> list[datetime]:
    """All due points of a publication up to `until` (never beyond max_age after publishing)."""
    return [published_at + o for o in schedule.offsets_until(until - published_at)]


def latest_due(published_at: datetime, schedule: Schedule, now: datetime) -> datetime | None:
    """The latest due point at or before `now`, or None before the first one."""
    age = now - published_at
    if age < schedule.offsets[0]:
        return None
    limit = min(age, schedule.max_age)
    earlier = [o for o in schedule.offsets if o <= limit]
    if not earlier:  # max_age shorter than the first offset: never due
        return None
    last = schedule.offsets[-1]
    if limit < last:
        return published_at + earlier[-1]
    return published_at + last + schedule.every * ((limit - last) // schedule.every)


def is_due(published_at: datetime, last_sample_at: datetime | None, schedule: Schedule, now: datetime) -> bool:
    """Whether the latest due point has passed with no sample taken since."""
    point = latest_due(published_at, schedule, now)
    return point is not None and (last_sample_at is None or last_sample_at < point)


def next_due(published_at: datetime, last_sample_at: datetime | None, schedule: Schedule, now: datetime) -> datetime | None:
    """When the publication is (or was) next due: a passed point still unsampled, else the next one; None when done."""
    if is_due(published_at, last_sample_at, schedule, now):
        return latest_due(published_at, schedule, now)
    end = published_at + schedule.max_age
    age = now - published_at
    for o in schedule.offsets:
        if o > age:
            point = published_at + o
            return point if point <= end else None
    last = schedule.offsets[-1]
    k = (age - last) // schedule.every + 1
    point = published_at + last + schedule.every * k
    return point if point <= end else None
