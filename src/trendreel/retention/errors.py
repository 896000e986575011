"""Errors of retention (gc); each message says what to do."""

from __future__ import annotations

from trendreel.errors import Conflict, TrendreelError


class RetentionError(TrendreelError):
    """gc cannot run now (another gc holds the lock, a journal cannot be read)."""


class GcRunning(RetentionError, Conflict):
    """Another gc holds the lock of this database."""
