"""Model servers: a small HTTP server for long jobs (submit -> poll -> fetch) and its client.

A server runs one job at a time (one GPU) for the kinds it was started with (`render:compositor`,
`render:ltx2`, ...), keeps each job's state and files on disk under its work folder, and answers only
requests that carry the internal credential. Job ids are hashes of the job's content, so submitting
the same job again (after a client or server crash) finds the job already queued, running or done.
See docs/modelserver.md.
"""

from trendreel.modelserver.errors import JobFailed, ModelServerError, ModelServerRefused, ModelServerUnavailable

__all__ = ["JobFailed", "ModelServerError", "ModelServerRefused", "ModelServerUnavailable"]
