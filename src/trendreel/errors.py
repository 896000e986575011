"""Errors a user can act on.

Every error is a TrendreelError: `str(err)` is the message (what is wrong, and the setting or value to
fix); `err.hint` is an optional next step for a person at the command line ("list stories with
`trendreel stories`"), which the CLI prints and the HTTP API leaves out.

Each error also belongs to one *category*, which says what kind of failure it is whatever the stage:
the HTTP status, the CLI's wording and the engine's retry decision follow the category, never the text.

    category          HTTP  meaning
    InvalidInput      400   a parameter or setting is wrong (ConfigError is one)
    Unauthenticated   401   no valid session, token or credential
    Forbidden         403   known, but not allowed to do this
    NotFound          404   an id or name that names nothing
    Conflict          409   the state forbids it now (not approved, already running, too similar)
    TooLarge          413   over a size limit
    RateLimited       429   too many attempts for now (retry_after_s says when to try again)
    Unavailable       503   a backend is down or busy (retryable: running again may succeed)

Stage errors subclass their stage's error and, where it applies, a category:
`class UnknownStory(StoryError, NotFound)`. A stage error with no category is an InvalidInput (400).

TrendreelError
├── InvalidInput
│   └── ConfigError            wrong or missing setting (names the setting to fix)
│       └── UnknownSource      a source name nobody defined (also a NotFound)
├── NotFound, Conflict, TooLarge, RateLimited, Unauthenticated, Forbidden
├── Unavailable
│   ├── StorageError           file store or database failure
│   │   └── FileMissing        a stored path does not exist (also a NotFound)
│   └── LlmError               the language model server is down, refused us, timed out or answered badly
├── CrawlError                 one URL could not be crawled (recorded as an error row)
│   ├── BlockedURL             bad scheme, private/loopback/link-local address, not allowed
│   ├── RobotsDisallowed       robots.txt forbids the URL
│   ├── FetchFailed            network error, timeout or HTTP error after retries
│   ├── ResponseTooLarge       response or media bigger than the configured limit (also a TooLarge)
│   ├── UnsupportedContent     content type we do not store
│   └── ExtractionFailed       HTML could not be parsed into an article
└── StoryError                 a story cannot be written for this trend and item (says why)
    ├── UnknownStory           (also a NotFound)
    ├── StorySourceMissing     the trend or item asked for is not stored (also a NotFound)
    └── StoryInvalid           the model's answers failed validation every time (lists the problems)
"""

from __future__ import annotations


class TrendreelError(Exception):
    """Base of every error trendreel reports to a user."""

    retryable = False  # whether running the same thing again later may succeed (the engine retries those)

    def __init__(self, message: str = "", *, hint: str | None = None, retryable: bool | None = None):
        super().__init__(message)
        self.hint = hint
        if retryable is not None:
            self.retryable = retryable

    def __reduce__(self):
        # Keeps the hint (and what a subclass sets) when the error comes back from a worker process.
        return _rebuild_error, (type(self), self.args, self.__dict__)


def _rebuild_error(cls: type, args: tuple, state: dict) -> TrendreelError:
    exc = cls.__new__(cls)
    exc.args = args
    exc.__dict__.update(state)
    return exc


# ---- categories -------------------------------------------------------------------------------

class InvalidInput(TrendreelError):
    """A parameter or setting is wrong; the message names it."""


class Unauthenticated(TrendreelError):
    """No valid session, token or credential."""


class Forbidden(TrendreelError):
    """The caller is known but may not do this."""


class NotFound(TrendreelError):
    """An id or name that names nothing stored."""


class Conflict(TrendreelError):
    """The current state does not allow this now (not approved, already running, too similar)."""


class TooLarge(TrendreelError):
    """Over a size limit."""


class RateLimited(TrendreelError):
    """Too many attempts in a while (failed logins); `retry_after_s` says when trying again may succeed."""

    def __init__(self, message: str = "", *, retry_after_s: int = 60, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.retry_after_s = max(1, int(retry_after_s))


class Unavailable(TrendreelError):
    """A backend (database, file store, model server, platform) is down or busy; running again may succeed."""

    retryable = True


def category_of(exc: TrendreelError) -> tuple[int, str]:
    """The HTTP status and stable code of an error, from its class alone (a stage error without one: 400)."""
    for category, status, code in _CATEGORIES:
        if isinstance(exc, category):
            return status, code
    if exc.retryable:
        return 503, "backend_unavailable"
    return 400, "invalid_request"


# ---- common errors ----------------------------------------------------------------------------

class ConfigError(InvalidInput):
    """A setting is wrong or missing."""


class UnknownSource(ConfigError, NotFound):
    """A source name that is neither in the settings file nor added in the workspace."""


class StorageError(Unavailable):
    """The file store or the database failed."""


class FileMissing(StorageError, NotFound):
    """A path that should exist in the file store does not."""

    retryable = False


class CrawlError(TrendreelError):
    """One URL could not be crawled; the crawl goes on and records it."""

    kind = "crawl_error"


class BlockedURL(CrawlError):
    kind = "blocked_url"


class RobotsDisallowed(CrawlError):
    kind = "robots_disallowed"


class FetchFailed(CrawlError):
    kind = "fetch_failed"

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False):
        super().__init__(message, retryable=retryable)
        self.status = status


class ResponseTooLarge(CrawlError, TooLarge):
    kind = "too_large"


class UnsupportedContent(CrawlError):
    kind = "unsupported_content"


class ExtractionFailed(CrawlError):
    kind = "extraction_failed"


class StoryError(TrendreelError):
    """A story cannot be written: unknown trend or item, an item without text, nothing to show."""


class UnknownStory(StoryError, NotFound):
    """No stored story has this id."""


class StorySourceMissing(StoryError, NotFound):
    """The trend or item a story is asked for is not stored."""


class StoryInvalid(StoryError):
    """Every answer of the story model failed validation; `problems` are those of the last answer."""

    def __init__(self, message: str, *, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = list(problems or [])


class LlmError(Unavailable):
    """The language model could not answer: server down, HTTP error, timeout, or not a chat answer."""


# (class, HTTP status, stable code), matched in this order: the first the error is an instance of wins.
_CATEGORIES: tuple[tuple[type[TrendreelError], int, str], ...] = (
    (Unauthenticated, 401, "unauthenticated"),
    (Forbidden, 403, "forbidden"),
    (NotFound, 404, "not_found"),
    (Conflict, 409, "conflict"),
    (TooLarge, 413, "too_large"),
    (RateLimited, 429, "too_many_requests"),
    (StorageError, 503, "storage_unavailable"),
    (Unavailable, 503, "backend_unavailable"),
    (InvalidInput, 400, "invalid_request"),
)
