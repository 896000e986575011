"""Edit stage: a finished video becomes a tighter one (dead air and frozen picture cut, trimmed to a
target, the key line emphasised, loudness normalised); the original is kept.

Service function (what the CLI and the API call): `edit_video`. Backends implement `Editor` (base.py);
`cutter` (ffmpeg on CPU) is the default. See docs/edit.md.
"""

from trendreel.edit.base import EditJob, EditOutput, Editor, editor_names, get_editor, register_editor
from trendreel.edit.errors import EditError, EditFailed
from trendreel.edit.service import edit_video

__all__ = ["EditError", "EditFailed", "EditJob", "EditOutput", "Editor", "edit_video", "editor_names", "get_editor",
           "register_editor"]
