"""The publishing schedule: when a planned post goes out (plan.py, pure functions of times and settings).

The use cases (adding, listing, cancelling and running planned posts) are trendreel.services.schedule;
the rows are db.tables.ScheduledPost.
"""
