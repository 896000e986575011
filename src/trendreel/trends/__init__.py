"""The trend stage: groups of stored items about one thing that grows, each with a one-line text.

`core.detect` runs on arrays (no database), `stage.run_detection` reads items and vectors and stores
the trends; the use cases (detect, list, show) are in trendreel.services.trends:

    >>> from trendreel import services
    >>> trends = services.detect_trends(app, window="24h")
    >>> trends[0]["text"], trends[0]["evidence"][0]["url"]

See docs/trends.md.
"""
