"""Edit stage: a finished video becomes a tighter one (dead air and frozen picture cut, trimmed to a
target, the key line emphasised, loudness normalised); the original is kept.

The use case (edit a video) is in trendreel.services.edit. Backends implement `Editor` (base.py) and
are registry backends of kind video_editor; `cutter` (ffmpeg on CPU) is the default. See docs/edit.md.
"""

from trendreel.edit.base import EditJob, EditOutput, Editor
from trendreel.edit.errors import EditError, EditFailed, EditNotReady, EditSourceMissing

__all__ = ["EditError", "EditFailed", "EditJob", "EditNotReady", "EditOutput", "EditSourceMissing", "Editor"]
