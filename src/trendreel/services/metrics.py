"""The metrics stage: poll the counts of published videos on their schedule and keep every sample.

`collect_metrics` finds the publications that are due (metrics/schedule.py; all of them with
all=True), groups them by account, asks each platform's source in batches, and stores one
`metric_sample` row and one `MetricsCollected` event per publication and due point, in one
transaction. The event's dedupe key is (publication, due point): a second run at the same due point,
or two runs racing, store nothing twice. One account's failure (credentials, quota, platform down) is
recorded with its message and the other accounts go on.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timezone

from sqlalchemy import func, select

from trendreel import events
from trendreel.bootstrap import App
from trendreel.db import repo
from trendreel.db.tables import Account, MetricSample, Publication, utcnow
from trendreel.errors import TrendreelError
from trendreel.metrics.base import MetricsError, MetricsNotFound, Sample
from trendreel.metrics.schedule import Schedule, is_due, latest_due, next_due

log = logging.getLogger(__name__)

__all__ = ["collect_metrics", "list_metrics"]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _publications(app: App, *, publication_id: str | None = None) -> list[dict]:
    """Done publications with their account and last sample time, oldest first."""
    last = (select(MetricSample.publication_id, func.max(MetricSample.collected_at).label("last_at"),
                   func.count().label("n"))
            .group_by(MetricSample.publication_id).subquery())
    q = (select(Publication, Account, last.c.last_at, last.c.n)
         .join(Account, Account.id == Publication.account_id)
         .outerjoin(last, last.c.publication_id == Publication.id)
         .where(Publication.status == "done", Publication.published_at.is_not(None))
         .order_by(Publication.published_at, Publication.id))
    if publication_id:
        q = q.where(Publication.id == publication_id)
    out = []
    with app.db.session() as s:
        for pub, acc, last_at, n in s.execute(q).all():
            out.append({
                "id": pub.id, "video_id": pub.video_id, "platform": pub.platform, "external_id": pub.external_id,
                "url": pub.url, "title": pub.title, "details": dict(pub.details or {}), "published_at": pub.published_at,
                "account": {"id": acc.id, "platform": acc.platform, "name": acc.name, "options": dict(acc.options or {})},
                "account_removed": acc.removed_at is not None,
                # max() over a UtcDateTime column comes back without the type's conversion on SQLite
                "last_sample_at": _aware(last_at if not isinstance(last_at, str) else datetime.fromisoformat(last_at)),
                "samples": int(n or 0),
            })
    return out


def collect_metrics(app: App, *, all: bool = False, now: datetime | None = None, on_progress=None) -> dict:
    """Poll the publications that are due now (every done publication with all=True) and store the samples.

    Returns what happened: counts (due, polled, stored, already stored, unknown counts), the errors per
    account, and one entry per polled publication.
    """
    clock = _aware(now)
    run_at = clock or utcnow()
    schedule = Schedule.from_settings(app.settings.metrics)
    batch_size = app.settings.metrics.batch_size
    pubs = _publications(app)
    todo, removed = [], 0
    for pub in pubs:
        point = latest_due(pub["published_at"], schedule, run_at)
        due = is_due(pub["published_at"], pub["last_sample_at"], schedule, run_at)
        if not (due or all):
            continue
        if pub["account_removed"]:
            removed += 1
            continue
        pub["due_at"] = point if due else None
        todo.append(pub)

    groups: dict[str, list[dict]] = defaultdict(list)
    for pub in todo:
        groups[pub["account"]["id"]].append(pub)
    result = {"now": run_at.isoformat(), "all": all, "due": len(todo), "polled": 0, "stored": 0, "already_stored": 0,
              "unknown_counts": 0, "skipped_removed_accounts": removed, "errors": [], "accounts": [], "publications": []}
    done = 0
    if on_progress:
        on_progress(0, len(todo))
    for group in groups.values():
        account = group[0]["account"]
        label = f"{account['platform']}:{account['name']}"
        summary = {"account": label, "platform": account["platform"], "publications": len(group), "stored": 0, "errors": 0}
        result["accounts"].append(summary)
        try:
            source = app.metrics_source(account["platform"])
        except TrendreelError as exc:
            _account_error(result, summary, label, group, str(exc))
            done += len(group)
            if on_progress:
                on_progress(done, len(todo))
            continue
        for start in range(0, len(group), batch_size):
            batch = group[start:start + batch_size]
            try:
                fetched = source.fetch(batch)
            except TrendreelError as exc:
                _account_error(result, summary, label, batch, str(exc))
            except Exception as exc:  # a bug or an unexpected library error: report it, go on with the others
                log.exception("metrics of %s failed", label)
                _account_error(result, summary, label, batch, f"{type(exc).__name__}: {exc}")
            else:
                _store(app, batch, fetched, clock, result, summary, label)
            done += len(batch)
            if on_progress:
                on_progress(done, len(todo))
    return result


def _account_error(result: dict, summary: dict, label: str, batch: list[dict], message: str) -> None:
    log.warning("metrics of %s: %s", label, message)
    summary["errors"] += len(batch)
    result["errors"].append({"account": label, "publications": [p["id"] for p in batch], "message": message})


def _store(app: App, batch: list[dict], fetched: dict, clock: datetime | None, result: dict, summary: dict, label: str) -> None:
    collected_at = clock or utcnow()
    with app.db.session() as s:
        for pub in batch:
            got = fetched.get(pub["id"])
            entry = {"publication_id": pub["id"], "account": label, "due_at": _iso(pub["due_at"])}
            if got is None or isinstance(got, Exception):
                message = str(got) if got is not None else f"{label} returned nothing for publication {pub['id']}"
                summary["errors"] += 1
                result["errors"].append({"account": label, "publications": [pub["id"]], "message": message})
                result["publications"].append({**entry, "status": "error", "error": message})
                continue
            sample: Sample = got
            result["polled"] += 1
            slot = pub["due_at"].isoformat() if pub["due_at"] else f"forced:{collected_at.isoformat()}"
            status = (sample.raw or {}).get("status", "ok")
            fresh = repo.append_event(
                s, type=events.METRICS_COLLECTED, subject_type="publication", subject_id=pub["id"],
                dedupe_key=f"{events.METRICS_COLLECTED}:{pub['id']}:{slot}",
                payload={"platform": pub["platform"], "account": label, "views": sample.views, "likes": sample.likes,
                         "comments": sample.comments, "status": status, "due_at": _iso(pub["due_at"]),
                         "collected_at": collected_at.isoformat()})
            if not fresh:  # this due point was stored by an earlier (or a parallel) run
                result["already_stored"] += 1
                result["publications"].append({**entry, "status": "already_stored"})
                continue
            s.add(MetricSample(publication_id=pub["id"], collected_at=collected_at, views=sample.views, likes=sample.likes,
                               comments=sample.comments, raw={**(sample.raw or {}), "due_at": _iso(pub["due_at"])}))
            result["stored"] += 1
            summary["stored"] += 1
            if sample.views is None:
                result["unknown_counts"] += 1
            result["publications"].append({**entry, "status": status, "views": sample.views, "likes": sample.likes,
                                           "comments": sample.comments, "collected_at": collected_at.isoformat()})


def sample_dict(row: MetricSample) -> dict:
    raw = dict(row.raw or {})
    return {"id": row.id, "publication_id": row.publication_id, "collected_at": _iso(row.collected_at), "views": row.views,
            "likes": row.likes, "comments": row.comments, "status": raw.get("status", "ok"), "due_at": raw.get("due_at")}


def list_metrics(app: App, publication_id: str | None = None, *, now: datetime | None = None) -> list[dict]:
    """Done publications with their latest counts and when they are next due; with an id, also every sample."""
    run_at = _aware(now) or utcnow()
    schedule = Schedule.from_settings(app.settings.metrics)
    pubs = _publications(app, publication_id=publication_id)
    if publication_id and not pubs:
        with app.db.session() as s:
            row = s.get(Publication, publication_id)
        if row is None:
            raise MetricsNotFound(f"unknown publication {publication_id!r}", hint="list them with `trendreel publications`")
        raise MetricsError(f"publication {publication_id} is not published (status {row.status}); "
                           "metrics are collected once it is")
    latest: dict[str, MetricSample] = {}
    series: list[dict] = []
    with app.db.session() as s:
        if publication_id:
            rows = list(s.scalars(select(MetricSample).where(MetricSample.publication_id == publication_id)
                                  .order_by(MetricSample.collected_at, MetricSample.id)))
            series = [sample_dict(r) for r in rows]
            if rows:
                latest[publication_id] = rows[-1]
        else:
            newest = (select(MetricSample.publication_id, func.max(MetricSample.id).label("id"))
                      .group_by(MetricSample.publication_id).subquery())
            for r in s.scalars(select(MetricSample).join(newest, newest.c.id == MetricSample.id)):
                latest[r.publication_id] = r
    out = []
    for pub in pubs:
        last = latest.get(pub["id"])
        row = {"publication_id": pub["id"], "video_id": pub["video_id"], "platform": pub["platform"],
               "account": f"{pub['account']['platform']}:{pub['account']['name']}", "title": pub["title"],
               "url": pub["url"], "published_at": _iso(pub["published_at"]), "samples": pub["samples"],
               "last_collected_at": _iso(pub["last_sample_at"]),
               "views": last.views if last else None, "likes": last.likes if last else None,
               "comments": last.comments if last else None,
               "status": (last.raw or {}).get("status", "ok") if last else None,
               "next_due_at": None if pub["account_removed"] else _iso(
                   next_due(pub["published_at"], pub["last_sample_at"], schedule, run_at)),
               "account_removed": pub["account_removed"]}
        if publication_id:
            row["series"] = series
        out.append(row)
    return out
