"""Time windows (spelt "30m", "6h", "24h", "7d": see trendreel.units) aligned to the Unix epoch (UTC).

Aligned windows make a window's start depend only on the window length, not on when detection runs
or which range it looks at, so the same item always falls in the same window and trend ids stay put.
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np



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
