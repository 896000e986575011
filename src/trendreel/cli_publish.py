"""`trendreel` commands of the publish stage, registered on the one Typer app of cli.py."""

from __future__ import annotations
