"""The `trendreel` command line: parse, call a service, print. Errors become a message and an exit code.

One Typer app (in _common) and one module per area, each registering its commands on it:

    content     crawl, extract, articles, errors, status, sources, categories ...
    demo        demo
    index       import, index, search, categorize
    stories     trends, trend, story, stories, render, edit, videos
    engine      worker, engine ...
    metrics     report, metrics ...
    learning    metrics import, learn ..., forecast
    publish     approve, reject, publish, publications, accounts ...
    retention   storage, gc
    serve       serve, users ..., tokens ...
    schedule    schedule ..., autopilot ...

Start-up is kept cheap (tests/unit/test_cli_imports.py holds it): at module level these modules import
only the standard library, typer, rich and trendreel.cli._common; every other trendreel module is
imported inside the command that uses it, so `trendreel --help` loads no database, web app or stage.
"""

from trendreel.cli._common import app, main

# Importing a module registers its commands; `--help` lists them in this order.
from trendreel.cli import content, demo, index, stories, engine, metrics, learning, publish, retention, serve  # noqa: F401,I001
from trendreel.cli import schedule  # noqa: F401,E402

__all__ = ["app", "main"]
