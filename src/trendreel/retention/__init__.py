"""Retention: the storage budget, what may be purged in which order, and `trendreel gc`.

plan.py     usage from the RDB rows, what is protected, and the purge plan (chunked SQL)
errors.py   RetentionError, GcRunning (the purge itself is a use case: services/storage.py)
"""
