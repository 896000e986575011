"""Counts of YouTube videos: videos.list(part=statistics) through the official client, 50 ids a call.

Each call costs `publish.youtube_cost_list` units (1, as the quota table says) of the project's daily
pool, counted in `quota_usage` before it is made, the same way publishing counts its calls; collection
stops short of the last `metrics.youtube_reserve_units` of the pool so uploads can still set thumbnails.
Credentials, their refresh and the API root are the publisher's (publish/youtube.py): a refreshed token
is stored back encrypted. 5xx answers and dropped connections are retried with the publisher's backoff;
quotaExceeded, refused credentials and other refusals end the batch with a message that says what to do.

A video YouTube does not return (deleted, or private to another channel) gets a sample with no counts
and `raw.status = "not_found"`. likeCount or commentCount missing (hidden likes, comments off) is None.
"""

from __future__ import annotations

import json
import logging
import random
import time

import google.auth.exceptions
from googleapiclient.errors import HttpError

from trendreel.metrics.base import MetricsError, Sample
from trendreel.publish import quota
from trendreel.publish.accounts import save_credentials
from trendreel.publish.errors import CredentialsError
from trendreel.publish.youtube import (
    CONNECTION_ERRORS,
    QUOTA_REASONS,
    RETRY_REASONS,
    RETRY_STATUSES,
    YouTubePublisher,
    error_reason,
    project_of,
)

log = logging.getLogger(__name__)

MAX_IDS = 50  # videos.list takes at most 50 ids per call


def _count(stats: dict, key: str) -> int | None:
    value = stats.get(key)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class YouTubeMetrics:
    name = "youtube"

    def __init__(self, app):
        self.app = app
        self.publisher = YouTubePublisher(app)

    def fetch(self, publications: list[dict]) -> dict[str, Sample | MetricsError]:
        if not publications:
            return {}
        account = publications[0]["account"]
        out: dict[str, Sample | MetricsError] = {}
        wanted: dict[str, list[str]] = {}  # external id -> publication ids
        for pub in publications:
            if not pub.get("external_id"):
                out[pub["id"]] = MetricsError(f"publication {pub['id']} has no YouTube video id; publish it again "
                                              f"(`trendreel publish --video {pub['video_id']} --to youtube:{account['name']}`)")
            else:
                wanted.setdefault(pub["external_id"], []).append(pub["id"])
        if not wanted:
            return out
        try:
            creds, info = self.publisher.credentials(account)
        except CredentialsError as exc:
            raise MetricsError(str(exc)) from exc
        first_token = creds.token
        project = project_of(info)
        try:
            youtube = self.publisher.service(creds)
            ids = list(wanted)
            for start in range(0, len(ids), MAX_IDS):
                batch = ids[start:start + MAX_IDS]
                self._spend(project, account)
                response = self._call(lambda: youtube.videos().list(part="statistics", id=",".join(batch)).execute(),
                                      project, account)
                items = {item.get("id"): item for item in response.get("items", [])}
                for ext in batch:
                    item = items.get(ext)
                    for pid in wanted[ext]:
                        if item is None:
                            out[pid] = Sample(None, None, None, {"status": "not_found", "id": ext})
                        else:
                            stats = dict(item.get("statistics") or {})
                            out[pid] = Sample(_count(stats, "viewCount"), _count(stats, "likeCount"),
                                              _count(stats, "commentCount"), {"status": "ok", "id": ext, "statistics": stats})
        except google.auth.exceptions.RefreshError as exc:
            raise MetricsError(f"YouTube refused to refresh the token of youtube:{account['name']} ({exc}); sign in "
                               f"again with `trendreel accounts login youtube {account['name']}`") from exc
        finally:
            if creds.token and creds.token != first_token:  # refreshed: keep it (encrypted) for the next run
                save_credentials(self.app, account["id"], {**info, **json.loads(creds.to_json())})
        return out

    def _spend(self, project: str, account: dict) -> None:
        p, reserve = self.app.settings.publish, self.app.settings.metrics.youtube_reserve_units
        cost = p.youtube_cost_list
        have = quota.used(self.app, project, quota.pacific_day())
        if cost and have + cost > p.youtube_units_per_day - reserve:
            reset = quota.reset_time()
            raise MetricsError(
                f"YouTube quota of project {project} (youtube:{account['name']}): {have} of {p.youtube_units_per_day} units "
                f"used today (Pacific time) and metrics.youtube_reserve_units = {reserve} are kept for publishing; "
                f"collection goes on after {reset:%Y-%m-%d %H:%M %Z}, or lower the reserve")
        try:
            quota.spend(self.app, project, units=cost)
        except quota.QuotaExceeded as exc:
            raise MetricsError(str(exc)) from exc

    def _call(self, fn, project: str, account: dict):
        """One videos.list call with the publisher's retry rules."""
        p = self.app.settings.publish
        failures = 0
        while True:
            try:
                return fn()
            except HttpError as exc:
                reason, code = error_reason(exc), exc.resp.status
                if reason in QUOTA_REASONS:
                    quota.exhaust(self.app, project, inserts=False)
                    reset = quota.reset_time()
                    raise MetricsError(f"YouTube answered {reason} for youtube:{account['name']}: the day's quota of project "
                                       f"{project} is spent; collection goes on after {reset:%Y-%m-%d %H:%M %Z}") from exc
                if code in (401, 403) and reason not in RETRY_REASONS:
                    raise MetricsError(f"YouTube refused videos.list for youtube:{account['name']} (HTTP {code} {reason or ''}); "
                                       f"sign in again with `trendreel accounts login youtube {account['name']}` "
                                       "(the account needs the youtube.readonly scope)") from exc
                if code not in RETRY_STATUSES and reason not in RETRY_REASONS:
                    raise MetricsError(f"YouTube refused videos.list for youtube:{account['name']}: HTTP {code} {reason or ''}".strip()) from exc
                last = f"HTTP {code}"
            except CONNECTION_ERRORS as exc:
                last = f"{type(exc).__name__}: {exc}"
            failures += 1
            if failures > p.retries:
                raise MetricsError(f"YouTube videos.list for youtube:{account['name']} failed {failures} times in a row "
                                   f"(last: {last}); run `trendreel metrics collect` again later")
            delay = min(p.backoff_max_s, p.backoff_s * 2 ** (failures - 1)) * (0.5 + random.random() / 2)
            log.warning("youtube metrics: %s; retry %d of %d in %.1f s", last, failures, p.retries, delay)
            time.sleep(delay)
