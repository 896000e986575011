"""Errors of the edit stage; each message says what to do.

TrendreelError
└── EditError                  the video cannot be edited (unknown video, not rendered yet, files purged,
    │                          no sound, a target too short for the key line)
    ├── EditSourceMissing      no stored video has this id (a NotFound)
    ├── EditNotReady           the source is not rendered yet, or its files were purged (a Conflict)
    └── EditFailed             ffmpeg failed or the edited file did not pass its checks (nothing is stored)
"""

from __future__ import annotations

from trendreel.errors import Conflict, NotFound, TrendreelError


class EditError(TrendreelError):
    """A video cannot be edited."""


class EditFailed(EditError):
    """ffmpeg failed, or the file it wrote is not a valid video; nothing was stored."""


class EditSourceMissing(EditError, NotFound):
    """No stored video has this id."""


class EditNotReady(EditError, Conflict):
    """The source video is not finished, or its files were purged."""
