"""Reading JSON Lines files that users hand to trendreel (texts to categorise, examples, imports)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterator

from trendreel.errors import ConfigError, TrendreelError


BOM = b"\xef\xbb\xbf"  # a UTF-8 byte order mark, which editors and spreadsheets put before line 1
_CHUNK = 1 << 20


def iter_jsonl(path: Path, *, error: type[TrendreelError] = ConfigError,
               on_bad_line: Callable[[int, str], None] | None = None,
               max_line_bytes: int | None = None, limit_setting: str = "max_line_bytes") -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-empty line; a missing file or a line that is not a JSON
    object raises `error` with the file and line to fix, or, with `on_bad_line`, is reported to it
    (line number, reason) and skipped, so one broken line does not stop a long import.

    A UTF-8 byte order mark before line 1 is skipped. With `max_line_bytes`, a longer line is refused
    (named after the setting `limit_setting`) without ever being held whole: memory stays within the cap.
    """
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: no such file")
    with open(path, "rb") as fh:
        n = 0
        while True:
            raw = fh.readline() if max_line_bytes is None else fh.readline(max_line_bytes + 1)
            if not raw:
                break
            n += 1
            if n == 1 and raw.startswith(BOM):
                raw = raw[len(BOM):]
            if max_line_bytes is not None and len(raw.rstrip(b"\r\n")) > max_line_bytes:
                size = len(raw) + _skip_rest_of_line(fh, raw)
                reason = (f"line is longer than {limit_setting} ({max_line_bytes:,} bytes; this one has "
                          f"{size:,}); split the item or raise the setting")
            elif not raw.strip():
                continue
            else:
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


def _skip_rest_of_line(fh, head: bytes) -> int:
    """Read past the rest of a line whose start `head` was read, a chunk at a time; the bytes skipped."""
    if head.endswith(b"\n"):
        return 0
    skipped = 0
    while True:
        chunk = fh.readline(_CHUNK)
        skipped += len(chunk)
        if not chunk or chunk.endswith(b"\n"):
            return skipped
