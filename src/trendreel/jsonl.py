"""Reading JSON Lines files that users hand to trendreel (texts to categorise, examples, imports)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterator

from trendreel.errors import ConfigError, TrendreelError


def iter_jsonl(path: Path, *, error: type[TrendreelError] = ConfigError,
               on_bad_line: Callable[[int, str], None] | None = None) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-empty line; a missing file or a line that is not a JSON
    object raises `error` with the file and line to fix, or, with `on_bad_line`, is reported to it
    (line number, reason) and skipped, so one broken line does not stop a long import."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: no such file")
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                reason = f"not UTF-8 text ({exc.reason} at byte {exc.start})"
            except json.JSONDecodeError as exc:
                reason = f"not JSON ({exc.msg})"
            else:
                if isinstance(obj, dict):
                    yield n, obj
                    continue
                reason = "each line must be a JSON object"
            if on_bad_line is None:
                raise error(f"{path}:{n}: {reason}")
            on_bad_line(n, reason)
