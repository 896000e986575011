"""Which stored trend a detected one continues: the same event seen again keeps its id.

The detector's own id is stable for the same window length and the same first group; another
window length, a longer range or a group that formed a day earlier would mint a new id for the
same event, and the workspace would list it twice. A detected trend therefore takes the id of the
stored trend that shares at least SAME_EVENT_SHARE of the smaller of their two item sets; largest
overlap first, each stored trend claimed once. Pure: the stage passes what the database holds, the
benchmark what its simulated store holds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

SAME_EVENT_SHARE = 0.5


def continued_ids(detected: Mapping[str, set[str]], stored: Mapping[str, set[str]]) -> dict[str, str]:
    """The id each detected trend (id -> its items) is stored under, given the stored trends (id -> items)."""
    holders: dict[str, set[str]] = {}
    for trend_id, items in stored.items():
        for item in items:
            holders.setdefault(item, set()).add(trend_id)
    pairs = []
    for trend_id, items in detected.items():
        shared: dict[str, int] = {}
        for item in items:
            for holder in holders.get(item, ()):
                shared[holder] = shared.get(holder, 0) + 1
        for holder, n in shared.items():
            if n >= SAME_EVENT_SHARE * min(len(items), len(stored[holder])):
                pairs.append((-n, holder != trend_id, trend_id, holder))
    renamed: dict[str, str] = {}
    claimed: set[str] = set()
    for _n, _differs, trend_id, holder in sorted(pairs):
        if trend_id not in renamed and holder not in claimed:
            renamed[trend_id] = holder
            claimed.add(holder)
    out = {}
    for trend_id in detected:
        if trend_id in renamed:
            out[trend_id] = renamed[trend_id]
        elif trend_id in claimed:  # its own id now names the event another detected trend continues
            out[trend_id] = "t" + hashlib.sha256(f"{trend_id}:split".encode()).hexdigest()[:23]
        else:
            out[trend_id] = trend_id
    return out
