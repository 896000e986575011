"""Retention: the storage budget, what may be purged in which order, and `trendreel gc`.

plan.py     usage from the RDB rows, what is protected, and the purge plan (chunked SQL)
service.py  storage_status, collect_garbage: the crash-safe purge with its journal and events
"""
