"""Time windows: "30m", "6h", "24h", "7d" parsed to seconds; windows aligned to the Unix epoch (UTC).

Aligned windows make a window's start depend only on the window length, not on when detection runs
or which range it looks at, so the same item always falls in the same window and trend ids stay put.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

import numpy as np

from trendreel.errors import ConfigError

_UNITS = {"m": 60, "h": 3600, "d": 86400}
_WINDOW = re.compile(r"^\s*(\d+)\s*([mhd])\s*$", re.IGNORECASE)
EXAMPLES = "30m, 6h, 24h, 7d"
MIN_WINDOW_S = 60
MAX_WINDOW_S = 90 * 86400


def parse_window(text: str, *, setting: str = "trends.window") -> int:
    """Seconds in a window written as a number and a unit (m, h, d); ConfigError naming `setting` if not."""
    problem = window_problem(text)
    if problem:
        raise ConfigError(f"{setting}: {problem}")
    match = _WINDOW.match(str(text))
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


def window_problem(text) -> str | None:
    """What is wrong with a window spelling, or None when it is a good one."""
    match = _WINDOW.match(str(text or ""))
    if not match:
        return f"{text!r} is not a time window; write a number and a unit m, h or d, e.g. {EXAMPLES}"
    seconds = int(match.group(1)) * _UNITS[match.group(2).lower()]
    if not MIN_WINDOW_S <= seconds <= MAX_WINDOW_S:
        return f"{text!r} is out of range; a window is between 1m and 90d (e.g. {EXAMPLES})"
    return None


def format_window(seconds: int) -> str:
    """The shortest "Nd", "Nh" or "Nm" spelling of a window length."""
    for unit in ("d", "h", "m"):
        if seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


def window_index(times: np.ndarray, window_s: int) -> np.ndarray:
    """The window number of each time (seconds since the epoch): window k covers [k*w, (k+1)*w)."""
    return np.floor_divide(np.asarray(times, dtype=np.float64), window_s).astype(np.int64)


def to_seconds(dt: datetime) -> float:
    """Seconds since the Unix epoch of a timezone-aware datetime (naive ones are taken as UTC)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def to_datetime(seconds: float) -> datetime:
    return datetime.fromtimestamp(float(seconds), tz=timezone.utc)
