"""The polling schedule: due points after publishing, when a publication is due, and what comes next."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from trendreel.errors import ConfigError
from trendreel.metrics.schedule import Schedule, due_points, is_due, latest_due, next_due
from trendreel.units import parse_duration
from trendreel.settings import MetricsSettings, load_settings

H, D = timedelta(hours=1), timedelta(days=1)
PUB = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)
DEFAULT = Schedule.from_settings(MetricsSettings())


def test_parse_duration():
    assert parse_duration("90m") == timedelta(minutes=90)
    assert parse_duration(" 6H ") == 6 * H
    assert parse_duration("1.5d") == timedelta(hours=36)
    assert parse_duration("2w") == 14 * D
    for bad in ("", "6", "h", "-1h", "0h", "3y", "six hours"):
        with pytest.raises(ValueError, match="write a positive number with s, m, h, d or w"):
            parse_duration(bad)


def test_default_due_points_then_weekly_until_max_age():
    points = due_points(PUB, DEFAULT, until=PUB + 365 * D)
    offsets = [p - PUB for p in points]
    assert offsets[:5] == [H, 6 * H, 24 * H, 3 * D, 7 * D]
    assert offsets[5:8] == [14 * D, 21 * D, 28 * D]
    assert offsets[-1] == 84 * D  # the last weekly point within 90 days
    assert all(b - a == 7 * D for a, b in zip(offsets[4:], offsets[5:]))
    assert len(points) == 4 + 12  # 1h, 6h, 24h, 3d, then 7d .. 84d
    assert due_points(PUB, DEFAULT, until=PUB + 5 * H) == [PUB + H]
    assert due_points(PUB, DEFAULT, until=PUB + 59 * timedelta(minutes=1)) == []


@pytest.mark.parametrize("age, expected", [
    (timedelta(minutes=59), None), (H, H), (5 * H, H), (6 * H, 6 * H), (23 * H, 6 * H), (2 * D, D), (3 * D, 3 * D),
    (7 * D, 7 * D), (13 * D, 7 * D), (14 * D, 14 * D), (20 * D, 14 * D), (89 * D, 84 * D), (400 * D, 84 * D),
])
def test_latest_due_matches_the_list_of_points(age, expected):
    assert latest_due(PUB, DEFAULT, PUB + age) == (PUB + expected if expected is not None else None)
    listed = due_points(PUB, DEFAULT, until=PUB + age)
    assert (listed[-1] if listed else None) == latest_due(PUB, DEFAULT, PUB + age)


def test_due_when_the_latest_point_passed_without_a_sample_since():
    now = PUB + 30 * H  # latest point: 24 h
    assert is_due(PUB, None, DEFAULT, now)
    assert is_due(PUB, PUB + 7 * H, DEFAULT, now)  # the 6 h sample is older than the 24 h point
    assert not is_due(PUB, PUB + 24 * H, DEFAULT, now)  # taken right at the point
    assert not is_due(PUB, PUB + 29 * H, DEFAULT, now)
    assert not is_due(PUB, None, DEFAULT, PUB + 30 * timedelta(minutes=1))  # before the first point


def test_missed_points_take_one_sample_not_one_each():
    now = PUB + 10 * D  # 1h, 6h, 24h, 3d and 7d all passed while nothing ran
    assert is_due(PUB, None, DEFAULT, now)
    sample_at = now
    assert not is_due(PUB, sample_at, DEFAULT, now + H)
    assert is_due(PUB, sample_at, DEFAULT, PUB + 14 * D)  # the next weekly point


def test_sampling_stops_after_max_age_with_one_last_sample():
    late = PUB + 200 * D
    assert is_due(PUB, PUB + 70 * D, DEFAULT, late)  # the 77 d and 84 d points were missed: one more sample
    assert not is_due(PUB, late, DEFAULT, late + 30 * D)  # then never again
    assert next_due(PUB, late, DEFAULT, late + 30 * D) is None
    assert not is_due(PUB, PUB + 84 * D, DEFAULT, PUB + 89 * D)
    assert next_due(PUB, PUB + 84 * D, DEFAULT, PUB + 85 * D) is None  # 91 d is past max_age


def test_next_due():
    assert next_due(PUB, None, DEFAULT, PUB) == PUB + H
    assert next_due(PUB, None, DEFAULT, PUB + 2 * H) == PUB + H  # due now, still unsampled
    assert next_due(PUB, PUB + 2 * H, DEFAULT, PUB + 2 * H) == PUB + 6 * H
    assert next_due(PUB, PUB + 7 * D, DEFAULT, PUB + 7 * D) == PUB + 14 * D
    assert next_due(PUB, PUB + 15 * D, DEFAULT, PUB + 15 * D) == PUB + 21 * D


def test_custom_schedule_and_short_max_age():
    sched = Schedule.from_settings(MetricsSettings(schedule=["30m", "2h"], then_every="1d", max_age_days=3))
    offsets = [p - PUB for p in due_points(PUB, sched, until=PUB + 10 * D)]
    assert offsets == [timedelta(minutes=30), 2 * H, 26 * H, 50 * H]  # 74 h > 3 d
    short = Schedule.from_settings(MetricsSettings(max_age_days=0.01))  # 14.4 min: before the first point
    assert latest_due(PUB, short, PUB + 30 * D) is None and next_due(PUB, None, short, PUB) is None


def test_schedule_settings_are_checked():
    with pytest.raises(ConfigError, match=r"metrics.schedule: times must grow"):
        load_settings(metrics={"schedule": ["6h", "1h"]})
    with pytest.raises(ConfigError, match=r"metrics.then_every: .*write a positive number"):
        load_settings(metrics={"then_every": "weekly"})
    with pytest.raises(ConfigError, match=r"metrics.report_timezone: unknown time zone"):
        load_settings(metrics={"report_timezone": "Mars/Olympus"})
    assert load_settings(metrics={"schedule": ["1H", "1D"]}).metrics.schedule == ["1h", "1d"]
