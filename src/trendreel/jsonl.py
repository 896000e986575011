"""Reading JSON Lines files that users hand to trendreel (texts to categorise, examples, imports)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

from trendreel.errors import ConfigError, TrendreelError


def iter_jsonl(path: Path, *, error: type[TrendreelError] = ConfigError) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-empty line; a missing file or a line that is not a JSON
    object raises `error` with the file and line to fix."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: no such file")
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise error(f"{path}:{n}: not JSON ({exc.msg})") from None
            if not isinstance(obj, dict):
                raise error(f"{path}:{n}: each line must be a JSON object")
            yield n, obj
