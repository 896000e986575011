"""`trendreel` commands of the retention stage, registered on the one Typer app of cli.py."""

from __future__ import annotations
