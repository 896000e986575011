"""Counts of the folder platform: read from a `stats.json` beside the published video.

The folder platform has no audience of its own, so trendreel cannot count anything there. Whoever
shows the folder's videos (a person, a player, a sync tool) may write `<publication folder>/stats.json`:

    {"views": 120, "likes": 8, "comments": 2}

Each key is optional (a missing one is unknown, not zero); values are whole numbers >= 0; other keys
are kept in the sample's `raw`. Without the file a sample is still recorded, with no counts and
`raw.status = "no_stats"`: the poll happened and there was nothing to read, which the report shows as
"unknown" and never as 0 views. A publication folder that is gone gives `raw.status = "not_found"`.
"""

from __future__ import annotations

import json
from pathlib import Path

from trendreel.metrics.base import MetricsError, Sample

STATS_FILE = "stats.json"
COUNTS = ("views", "likes", "comments")


def publication_folder(pub: dict) -> Path | None:
    """Where the folder publisher put this publication."""
    where = (pub.get("details") or {}).get("path")
    if where:
        return Path(where)
    root = (pub.get("account") or {}).get("options", {}).get("path")
    return Path(root) / pub["id"] if root else None


def read_stats(path: Path) -> dict:
    """A stats.json, checked; MetricsError says what is wrong with it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MetricsError(f"{path} is not readable JSON ({type(exc).__name__}: {exc}); write it as "
                           '{"views": 120, "likes": 8, "comments": 2}') from exc
    if not isinstance(data, dict):
        raise MetricsError(f"{path} holds {type(data).__name__}, not a JSON object like " '{"views": 120}')
    for key in COUNTS:
        value = data.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise MetricsError(f"{path}: {key} is {value!r}; give a whole number >= 0 (or leave the key out)")
    return data


class FolderMetrics:
    name = "folder"

    def __init__(self, app=None):
        self.app = app

    def fetch(self, publications: list[dict]) -> dict[str, Sample | MetricsError]:
        out: dict[str, Sample | MetricsError] = {}
        for pub in publications:
            folder = publication_folder(pub)
            if folder is None or not folder.is_dir():
                out[pub["id"]] = Sample(None, None, None, {"status": "not_found", "path": str(folder) if folder else None})
                continue
            stats = folder / STATS_FILE
            if not stats.is_file():
                out[pub["id"]] = Sample(None, None, None, {"status": "no_stats", "path": str(stats)})
                continue
            try:
                data = read_stats(stats)
            except MetricsError as exc:
                out[pub["id"]] = exc
                continue
            out[pub["id"]] = Sample(data.get("views"), data.get("likes"), data.get("comments"),
                                    {"status": "ok", "path": str(stats), "stats": data})
        return out
