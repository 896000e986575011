"""Counts of YouTube videos: videos.list(part=statistics) through the official client, 50 ids a call.

Each call costs `publish.youtube_cost_list` units (1, as the quota table says) of the project's daily
pool, counted in `quota_usage` before it is made, the same way publishing counts its calls; collection
stops short of the last `metrics.youtube_reserve_units` of the pool so uploads can still set thumbnails.
Credentials, their refresh, the API root and the retry rules are the YouTube adapter's
(`trendreel.adapters.youtube.YouTubeClient`, with the publish settings, as publishing uses it): a
refreshed token is stored back encrypted; 5xx answers and dropped connections are retried with
publishing's backoff; quotaExceeded, refused credentials and other refusals end the batch with a
message that says what to do.

A video YouTube does not return (deleted, or private to another channel) gets a sample with no counts
and `raw.status = "not_found"`. likeCount or commentCount missing (hidden likes, comments off) is None.
"""

from __future__ import annotations

from trendreel.adapters.youtube import (
    YouTubeAuthRefused,
    YouTubeCredentialsInvalid,
    YouTubeQuotaSpent,
    YouTubeRefused,
    YouTubeUnavailable,
    project_of,
)
from trendreel.metrics.base import MetricsError, Sample
from trendreel.publish import quota
from trendreel.publish.errors import CredentialsError
from trendreel.publish.youtube import youtube_client

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
        self.client = youtube_client(app)

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
            with self.client.signed_in(account) as (creds, info):
                self._fetch(account, wanted, creds, project_of(info), out)
        except (CredentialsError, YouTubeCredentialsInvalid) as exc:
            raise MetricsError(str(exc)) from exc
        return out

    def _fetch(self, account: dict, wanted: dict[str, list[str]], creds, project: str,
               out: dict[str, Sample | MetricsError]) -> None:
        """videos.list for every wanted id, MAX_IDS a call, each call's quota spent first."""
        youtube = self.client.service(creds)
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
        """One videos.list call with the adapter's retry rules, its failures as MetricsError."""
        name = account["name"]
        try:
            return self.client.call(fn, "videos.list")
        except YouTubeQuotaSpent as exc:
            quota.exhaust(self.app, project, inserts=False)
            reset = quota.reset_time()
            raise MetricsError(f"YouTube answered {exc.reason} for youtube:{name}: the day's quota of project "
                               f"{project} is spent; collection goes on after {reset:%Y-%m-%d %H:%M %Z}") from exc
        except YouTubeAuthRefused as exc:
            raise MetricsError(f"YouTube refused videos.list for youtube:{name} (HTTP {exc.status} {exc.reason or ''}); "
                               f"sign in again with `trendreel accounts login youtube {name}` "
                               "(the account needs the youtube.readonly scope)") from exc
        except YouTubeRefused as exc:
            raise MetricsError(f"YouTube refused videos.list for youtube:{name}: HTTP {exc.status} "
                               f"{exc.reason or ''}".strip()) from exc
        except YouTubeUnavailable as exc:
            raise MetricsError(f"YouTube videos.list for youtube:{name} failed {exc.failures} times in a row "
                               f"(last: {exc.last}); run `trendreel metrics collect` again later") from exc
