"""Errors of the model server client; each says what to do, and whether running again may help.

TrendreelError
└── ModelServerError           the model server refused the job or could not run it (`retryable` says
    │                          whether the same request may succeed later)
    ├── ModelServerUnavailable the server cannot be reached or answered 5xx for longer than the retry
    │                          window, e.g. it went down mid-job (always retryable: a resubmit finds
    │                          the same job by its content id)
    ├── ModelServerRefused     401/403 (the internal credential is missing or wrong) or a 4xx for the request
    └── JobFailed              the job ran and failed on the server (the server's message)
"""

from __future__ import annotations

from trendreel.errors import TrendreelError, Unavailable


class ModelServerError(TrendreelError):
    """A job could not be run on the model server."""

    def __init__(self, message: str, *, retryable: bool = False, status: int | None = None, job_id: str | None = None):
        super().__init__(message, retryable=retryable)
        self.status = status
        self.job_id = job_id


class ModelServerUnavailable(ModelServerError, Unavailable):
    """No answer (or only 5xx) for longer than the retry window; running again resubmits the same job."""

    def __init__(self, message: str, *, status: int | None = None, job_id: str | None = None):
        super().__init__(message, retryable=True, status=status, job_id=job_id)


class ModelServerRefused(ModelServerError):
    """The server refused the request: bad credential, unknown kind, too large, malformed."""


class JobFailed(ModelServerError):
    """The job ran on the server and failed there."""
