"""Errors of the publish stage; each message says what to do.

TrendreelError
└── PublishError               the video cannot be published (unknown video or account, files purged, ...)
    ├── UnknownPublication     no publication, video or account has this id or name (a NotFound)
    ├── NotApproved            (a Conflict) the approval gate: `trendreel approve ID` first (or publish.auto_approve)
    ├── NearDuplicate          (a Conflict) too similar to a video already on the account (names it; --allow-similar)
    ├── FolderNotAllowed       (an InvalidInput) a folder account's path outside publish.folder_roots
    ├── CredentialsError       missing, unreadable or refused credentials (says how to add them again)
    ├── QuotaExceeded          the platform's daily quota would be (or was) exceeded (numbers, reset time)
    └── UploadFailed           the platform kept failing after the retries (the upload resumes next run)
"""

from __future__ import annotations

from trendreel.errors import Conflict, InvalidInput, NotFound, TrendreelError


class PublishError(TrendreelError):
    """A video cannot be published to this account."""


class UnknownPublication(PublishError, NotFound):
    """No stored publication, video or account has this id or name."""


class NotApproved(PublishError, Conflict):
    """The video waits for approval (or was rejected)."""


class NearDuplicate(PublishError, Conflict):
    """The account already has a video too similar to this one."""

    def __init__(self, message: str, *, publication_id: str, similarity: float):
        super().__init__(message)
        self.publication_id = publication_id
        self.similarity = similarity


class FolderNotAllowed(PublishError, InvalidInput):
    """A folder account may write only inside the folders publish.folder_roots names."""


class CredentialsError(PublishError):
    """Credentials are missing, malformed, cannot be decrypted, or the platform refused them."""


class QuotaExceeded(PublishError):
    """The day's API quota of the project would be exceeded; nothing was sent."""


class UploadFailed(PublishError):
    """The platform kept failing; the upload state is kept so the next run resumes."""
