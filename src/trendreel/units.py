"""Units as people write them in settings and options: sizes (50TB), durations (6h), time windows (24h).

Below `settings` on purpose: settings validate these spellings without importing any stage.
"""

from __future__ import annotations

import re
from datetime import timedelta

from trendreel.errors import ConfigError

__all__ = ["format_size", "format_window", "parse_duration", "parse_size", "parse_window", "window_problem"]

# ---- sizes ----------------------------------------------------------------------------------

_SIZE_UNITS = {
    "": 1, "b": 1,
    "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12, "pb": 10**15,
    "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "p": 10**15,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40, "pib": 2**50,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(text: str) -> int:
    """Bytes of a size such as '50TB' (decimal units) or '1.5TiB' (binary units); ValueError says the form."""
    m = _SIZE.match(str(text))
    unit = m.group(2).lower() if m else None
    if not m or unit not in _SIZE_UNITS:
        raise ValueError(f"{text!r} is not a size: write a number with a unit, e.g. 50TB, 500GB, 750MB or 1.5TiB "
                         "(KB/MB/GB/TB/PB are powers of 1000, KiB/MiB/GiB/TiB/PiB powers of 1024)")
    value = int(float(m.group(1)) * _SIZE_UNITS[unit])
    if value <= 0:
        raise ValueError(f"{text!r}: the size must be more than 0 bytes")
    return value


def format_size(n: int | float) -> str:
    """A short human size in decimal units: 1.2 GB."""
    n = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} PB"  # pragma: no cover


# ---- durations ------------------------------------------------------------------------------

_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)


def parse_duration(text: str) -> timedelta:
    """'90m', '6h', '3d', '2w' as a timedelta; ValueError says how to write one."""
    m = _DURATION.match(str(text))
    if not m or float(m.group(1)) <= 0:
        raise ValueError(f"{text!r} is not a duration; write a positive number with s, m, h, d or w, e.g. 6h or 3d")
    return timedelta(seconds=float(m.group(1)) * _DURATION_UNITS[m.group(2).lower()])


# ---- time windows ---------------------------------------------------------------------------
# Whole minutes, hours or days between 1m and 90d: trend windows are aligned to the epoch in these.

_WINDOW_UNITS = {"m": 60, "h": 3600, "d": 86400}
_WINDOW = re.compile(r"^\s*(\d+)\s*([mhd])\s*$", re.IGNORECASE)
WINDOW_EXAMPLES = "30m, 6h, 24h, 7d"
MIN_WINDOW_S = 60
MAX_WINDOW_S = 90 * 86400


def parse_window(text: str, *, setting: str = "trends.window") -> int:
    """Seconds in a window written as a number and a unit (m, h, d); ConfigError naming `setting` if not."""
    problem = window_problem(text)
    if problem:
        raise ConfigError(f"{setting}: {problem}")
    match = _WINDOW.match(str(text))
    return int(match.group(1)) * _WINDOW_UNITS[match.group(2).lower()]


def window_problem(text) -> str | None:
    """What is wrong with a window spelling, or None when it is a good one."""
    match = _WINDOW.match(str(text or ""))
    if not match:
        return f"{text!r} is not a time window; write a number and a unit m, h or d, e.g. {WINDOW_EXAMPLES}"
    seconds = int(match.group(1)) * _WINDOW_UNITS[match.group(2).lower()]
    if not MIN_WINDOW_S <= seconds <= MAX_WINDOW_S:
        return f"{text!r} is out of range; a window is between 1m and 90d (e.g. {WINDOW_EXAMPLES})"
    return None


def format_window(seconds: int) -> str:
    """The shortest "Nd", "Nh" or "Nm" spelling of a window length."""
    for unit in ("d", "h", "m"):
        if seconds % _WINDOW_UNITS[unit] == 0:
            return f"{seconds // _WINDOW_UNITS[unit]}{unit}"
    return f"{seconds}s"
