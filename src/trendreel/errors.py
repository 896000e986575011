"""Errors a user can act on.

TrendreelError                 base; `str(err)` is the message shown to the user
├── ConfigError                wrong or missing setting (names the setting to fix)
├── StorageError               file store or database failure
│   └── FileMissing            a stored path does not exist
├── CrawlError                 one URL could not be crawled (recorded as an error row)
│   ├── BlockedURL             bad scheme, private/loopback/link-local address, not allowed
│   ├── RobotsDisallowed       robots.txt forbids the URL
│   ├── FetchFailed            network error, timeout or HTTP error after retries
│   ├── TooLarge               response or media bigger than the configured limit
│   ├── UnsupportedContent     content type we do not store
│   └── ExtractionFailed       HTML could not be parsed into an article
├── StoryError                 a story cannot be written for this trend and item (says why)
│   └── StoryInvalid           the model's answers failed validation every time (lists the problems)
└── LlmError                   the language model server is down, refused us, timed out or answered badly
"""

from __future__ import annotations


class TrendreelError(Exception):
    """Base of every error trendreel reports to a user."""


class ConfigError(TrendreelError):
    """A setting is wrong or missing."""


class StorageError(TrendreelError):
    """The file store or the database failed."""


class FileMissing(StorageError):
    """A path that should exist in the file store does not."""


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
        super().__init__(message)
        self.status = status
        self.retryable = retryable


class TooLarge(CrawlError):
    kind = "too_large"


class UnsupportedContent(CrawlError):
    kind = "unsupported_content"


class ExtractionFailed(CrawlError):
    kind = "extraction_failed"


class StoryError(TrendreelError):
    """A story cannot be written: unknown trend or item, an item without text, nothing to show."""


class StoryInvalid(StoryError):
    """Every answer of the story model failed validation; `problems` are those of the last answer."""

    def __init__(self, message: str, *, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = list(problems or [])


class LlmError(TrendreelError):
    """The language model could not answer: server down, HTTP error, timeout, or not a chat answer."""
