"""Metrics over time: per-platform sources, the polling schedule, and the collect stage (service.py)."""
