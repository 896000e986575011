"""`trendreel` commands of the service: serve, users, tokens; registered on the one Typer app of cli.py."""

from __future__ import annotations
