"""Counts of TikTok posts: the Display API's video query (`/v2/video/query/`), 20 video ids a call.

`fields=id,view_count,like_count,comment_count,share_count` (scope video.list) gives views, likes and
comments as samples (shares go into the sample's raw answer). TikTok gives a post's video id only once
the post is public and moderated: a publication published before that has only its publish_id, so
its id is asked once more with the post status fetch (scope video.publish) and kept in the
publication's details. A SELF_ONLY post never gets one: its sample has no counts and
`raw.status = "no_stats"`, saying why. A video the query does not return (deleted, or no longer the
account's) is `not_found`.

Credentials, their refresh and the retry rules are the TikTok adapter's (as publishing uses them);
rate limits end the batch with a message that says when to try again.
"""

from __future__ import annotations


from trendreel.adapters.tiktok import (
    TikTokAuthRefused,
    TikTokCredentialsInvalid,
    TikTokLimited,
    TikTokRefused,
    TikTokUnavailable,
)
from trendreel.db.tables import Publication
from trendreel.metrics.base import MetricsError, Sample
from trendreel.publish.tiktok import POST_URL, tiktok_client

MAX_IDS = 20  # the video query takes at most 20 ids a call
FIELDS = "id,view_count,like_count,comment_count,share_count"


def _count(video: dict, key: str) -> int | None:
    try:
        return int(video[key]) if video.get(key) is not None else None
    except (TypeError, ValueError):
        return None


class TikTokMetrics:
    name = "tiktok"

    def __init__(self, app):
        self.app = app
        self.client = tiktok_client(app)

    def fetch(self, publications: list[dict]) -> dict[str, Sample | MetricsError]:
        if not publications:
            return {}
        account = publications[0]["account"]
        where = f"tiktok:{account['name']}"
        out: dict[str, Sample | MetricsError] = {}
        try:
            with self.client.session(account) as api:
                wanted = self._post_ids(api, publications, out)
                ids = list(wanted)
                for start in range(0, len(ids), MAX_IDS):
                    batch = ids[start:start + MAX_IDS]
                    data = api.call("v2/video/query/", {"filters": {"video_ids": batch}}, params={"fields": FIELDS},
                                    what="the video query")
                    videos = {str(v.get("id")): v for v in data.get("videos") or []}
                    for vid in batch:
                        video = videos.get(vid)
                        for pid in wanted[vid]:
                            out[pid] = (Sample(None, None, None, {"status": "not_found", "id": vid}) if video is None else
                                        Sample(_count(video, "view_count"), _count(video, "like_count"),
                                               _count(video, "comment_count"), {"status": "ok", "id": vid, **video}))
        except TikTokCredentialsInvalid as exc:
            raise MetricsError(str(exc)) from exc
        except TikTokLimited as exc:
            raise MetricsError(f"{exc}; collection goes on at the next `trendreel metrics collect`") from exc
        except TikTokAuthRefused as exc:
            raise MetricsError(f"{exc}; {where} needs the video.list scope: connect it again") from exc
        except TikTokRefused as exc:
            raise MetricsError(str(exc)) from exc
        except TikTokUnavailable as exc:
            raise MetricsError(f"{exc}; run `trendreel metrics collect` again later") from exc
        return out

    def _post_ids(self, api, publications: list[dict], out: dict) -> dict[str, list[str]]:
        """TikTok video id -> publication ids; a post id TikTok gave only after publishing is asked for here."""
        wanted: dict[str, list[str]] = {}
        for pub in publications:
            details = pub.get("details") or {}
            post_id = details.get("post_id")
            if not post_id and details.get("publish_id"):
                status = api.call("v2/post/publish/status/fetch/", {"publish_id": details["publish_id"]},
                                  what="the post status")
                ids = [str(p) for p in status.get("publicaly_available_post_id") or []]
                post_id = ids[0] if ids else None
                if post_id:
                    self._remember(pub, post_id, details)
            if post_id:
                wanted.setdefault(str(post_id), []).append(pub["id"])
            else:
                why = ("TikTok gives no video id for this post (a SELF_ONLY post, or one still in moderation), so its "
                       "counts cannot be read") if details.get("publish_id") else "publication has no TikTok post id"
                out[pub["id"]] = Sample(None, None, None, {"status": "no_stats", "reason": why})
        return wanted

    def _remember(self, pub: dict, post_id: str, details: dict) -> None:
        """Keep the id TikTok gave after moderation: external id, URL and details of the publication."""
        with self.app.db.session() as s:
            row = s.get(Publication, pub["id"])
            if row is None:
                return
            user = (row.url or "").removeprefix("https://www.tiktok.com/@").strip("/")
            row.external_id = post_id
            if user and "/" not in user:
                row.url = POST_URL.format(user=user, post=post_id)
            row.details = {**dict(row.details or {}), "post_id": post_id}


__all__ = ["TikTokMetrics"]
