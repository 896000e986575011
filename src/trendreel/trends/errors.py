"""Errors of the trend stage (a TrendreelError: the CLI and API show the message as it is)."""

from __future__ import annotations

from trendreel.errors import NotFound, TrendreelError


class TrendError(TrendreelError):
    """Trends cannot be detected or shown: nothing stored or indexed in the range, an unknown trend id."""


class UnknownTrend(TrendError, NotFound):
    """No stored trend has this id."""
