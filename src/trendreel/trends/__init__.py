"""The trend stage: groups of stored items about one thing that grows, each with a one-line text.

    >>> from trendreel.trends import detect_trends, list_trends, get_trend
    >>> trends = detect_trends(app, window="24h")
    >>> trends[0]["text"], trends[0]["evidence"][0]["url"]

`core.detect` runs on arrays (no database), `stage.run_detection` reads items and vectors and stores
the trends, `service` holds the use cases the CLI and API call. See docs/trends.md.
"""

from __future__ import annotations

__all__ = ["detect_trends", "get_trend", "list_trends"]


def __getattr__(name: str):
    # The service pulls in scipy and the database layer; importing the package for settings must not.
    if name in __all__:
        from trendreel.trends import service

        return getattr(service, name)
    raise AttributeError(name)
