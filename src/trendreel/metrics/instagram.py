"""Counts of Instagram Reels: media insights (`GET /{media-id}/insights`), one call per post.

The metrics asked for are `views,reach,likes,comments,saved,shares`: `views` replaced `plays` and
`ig_reels_aggregated_all_plays_count` (deprecated in v22.0, gone for every version since April 2025),
and it counts organic views only. views, likes and comments fill the sample's columns like YouTube's;
all answered metrics stay in `raw["insights"]` (reach, saved, shares). A metric Meta leaves out of
its answer (data can be 48 hours late; too few viewers give error code 10) is None, never 0.

Credentials, their refresh and the retry rules are the Instagram publisher's (publish/instagram.py,
adapters/instagram.py). A post Meta no longer knows (deleted: error code 100) gets a sample with no
counts and `raw.status = "not_found"`; rate limits and refused tokens end the batch with a message
that says what to do.
"""

from __future__ import annotations

from trendreel.adapters.instagram import (
    InstagramAuthRefused,
    InstagramLimitReached,
    InstagramRefused,
    InstagramUnavailable,
)
from trendreel.errors import ConfigError
from trendreel.metrics.base import MetricsError, Sample
from trendreel.publish.errors import CredentialsError
from trendreel.publish.instagram import instagram_client, signed_in

METRICS = ("views", "reach", "likes", "comments", "saved", "shares")
NOT_FOUND_CODES = {100, 803}
TOO_FEW_VIEWERS = 10


class InstagramMetrics:
    name = "instagram"

    def __init__(self, app):
        self.app = app
        self.client = instagram_client(app)

    def fetch(self, publications: list[dict]) -> dict[str, Sample | MetricsError]:
        if not publications:
            return {}
        account = publications[0]["account"]
        name = account["name"]
        out: dict[str, Sample | MetricsError] = {}
        try:
            creds = signed_in(self.app, self.client, account)
        except (CredentialsError, ConfigError) as exc:
            raise MetricsError(str(exc)) from exc
        token = creds["access_token"]
        for pub in publications:
            media = pub.get("external_id")
            if not media:
                out[pub["id"]] = MetricsError(f"publication {pub['id']} has no Instagram media id; publish it again "
                                              f"(`trendreel publish --video {pub['video_id']} --to instagram:{name}`)")
                continue
            try:
                answer = self.client.call(lambda: self.client.get(f"{media}/insights", token, "media insights",
                                                                  metric=",".join(METRICS)), "media insights")
            except InstagramLimitReached as exc:
                raise MetricsError(f"Instagram rate limit for instagram:{name} (code {exc.code}: {exc.detail}); "
                                   "run `trendreel metrics collect` again in an hour") from exc
            except InstagramAuthRefused as exc:
                raise MetricsError(f"Instagram refused the token of instagram:{name} (code {exc.code}: {exc.detail}); "
                                   f"connect the account again (`trendreel accounts add instagram {name} --credentials "
                                   "FILE`); reading insights needs instagram_manage_insights") from exc
            except InstagramRefused as exc:
                if exc.code in NOT_FOUND_CODES:
                    out[pub["id"]] = Sample(None, None, None, {"status": "not_found", "id": media, "detail": exc.detail})
                elif exc.code == TOO_FEW_VIEWERS:
                    out[pub["id"]] = Sample(None, None, None, {"status": "no_stats", "id": media, "detail": exc.detail})
                else:
                    out[pub["id"]] = MetricsError(str(exc))
                continue
            except InstagramUnavailable as exc:
                raise MetricsError(f"Instagram media insights for instagram:{name} failed {exc.failures} times in a row "
                                   f"(last: {exc.last}); run `trendreel metrics collect` again later") from exc
            values = _values(answer)
            out[pub["id"]] = Sample(values.get("views"), values.get("likes"), values.get("comments"),
                                    {"status": "ok", "id": media, "insights": values})
        return out


def _values(answer: dict) -> dict[str, int]:
    """{metric name: total} from an insights answer (lifetime values: one value each)."""
    values: dict[str, int] = {}
    for item in answer.get("data") or []:
        name = item.get("name")
        points = item.get("values") or []
        raw = points[-1].get("value") if points else (item.get("total_value") or {}).get("value")
        try:
            values[name] = int(raw)
        except (TypeError, ValueError):
            continue
    return values
