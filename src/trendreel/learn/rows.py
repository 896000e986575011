"""The learning loop's bridge to the database: histories in (import), histories and features out.

Everything here is computed from rows only (publication, metric_sample, account, and for our own
publications video -> story -> trend and the trends live at upload), so it survives purged files.

- `import_history(s, history)`: one history from elsewhere stored as a publication of an external
  account with its samples, idempotent by (platform, id): a second import adds only samples at new
  times and changes nothing already stored.
- `load_histories(db, ...)`: every publication with samples as a `History`, our own ones carrying
  their pipeline features (trend, story, video, publication, the trends live at upload) in
  `History.extra["features"]`, which the models use beside the metadata.
- `feature_rows(...)`: the feature store's view: each publication's named features, each with the time
  it was known, under FEATURES_VERSION.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from trendreel import events
from trendreel.db import repo
from trendreel.db.tables import (
    Account,
    Category,
    MetricSample,
    Publication,
    PublicationTrend,
    Story,
    Trend,
    Video,
    utcnow,
)
from trendreel.learn.features import TrainingStats, metadata_features, sample_features
from trendreel.learn.history import History, Sample

# Bumped whenever a feature is added, removed or computed differently: fitted models name the version
# they were trained on, and `trendreel learn features` prints it.
FEATURES_VERSION = "1"
IMPORTED = "imported"  # publication.status of a history brought in from elsewhere

__all__ = ["FEATURES_VERSION", "IMPORTED", "ImportResult", "feature_rows", "import_history", "imported_id",
           "load_histories"]


def imported_id(platform: str, external_id: str) -> str:
    """'p' + 23 hex of sha256('import', platform, id): one row per (platform, id), however often imported."""
    return "p" + hashlib.sha256(f"import\x1f{platform}\x1f{external_id}".encode()).hexdigest()[:23]


def _account_id(platform: str, name: str) -> str:
    # The same id scheme as our accounts: a channel imported here is the account we would publish to.
    return "c" + hashlib.sha256(f"{platform}\x1f{name}".encode()).hexdigest()[:23]


@dataclass
class ImportResult:
    publication_id: str
    created: bool
    samples_added: int


def import_history(s: Session, history: History) -> ImportResult:
    """Store one history from elsewhere (see the module docstring); the caller commits."""
    platform = history.platform or "unknown"
    account_name = history.account or "(unknown)"
    pid = imported_id(platform, history.id)
    aid = _account_id(platform, account_name)
    if s.get(Account, aid) is None:
        s.add(Account(id=aid, platform=platform, name=account_name, options={"external": True}))
        s.flush()
    row = s.get(Publication, pid)
    created = row is None
    if created:
        row = Publication(
            id=pid, video_id=None, account_id=aid, platform=platform, status=IMPORTED, external_id=history.id,
            title=history.title or None, privacy="public", published_at=history.published_at, upload_state={},
            details={"metadata": {"title": history.title, "category": history.category, "tags": list(history.tags),
                                  "language": history.language},
                     "imported": {"at": utcnow().isoformat(), "extra": history.extra}},
            created_at=utcnow())
        s.add(row)
        s.flush()
    known = set(s.scalars(select(MetricSample.collected_at).where(MetricSample.publication_id == pid)))
    known = {_utc(t) for t in known}
    added = 0
    for sample in history.samples:
        if sample.at in known:
            continue
        s.add(MetricSample(publication_id=pid, collected_at=sample.at, views=sample.views, likes=sample.likes,
                           comments=sample.comments, raw={"status": "ok", "source": "import"}))
        added += 1
    if created or added:
        digest = hashlib.sha256(json.dumps([[x.at.isoformat(), x.views] for x in history.samples]).encode()).hexdigest()
        repo.append_event(s, type=events.PUBLICATION_IMPORTED, subject_type="publication", subject_id=pid,
                          dedupe_key=f"{events.PUBLICATION_IMPORTED}:{pid}:{digest[:16]}",
                          payload={"platform": platform, "external_id": history.id, "account": account_name,
                                   "samples_added": added})
    return ImportResult(pid, created, added)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


# ---- histories from rows ----------------------------------------------------------------------

def load_histories(db, *, publication_ids: Iterable[str] | None = None, with_samples_only: bool = True,
                   until: datetime | None = None) -> list[History]:
    """Publications (ours when published, imported ones) as histories, oldest first by first sample.

    `until` keeps only what was known then (samples taken before it). Our own publications carry
    their pipeline features in `extra["features"]` (see own_features)."""
    with db.session() as s:
        q = (select(Publication, Account.name).join(Account, Account.id == Publication.account_id)
             .where(Publication.status.in_(("done", IMPORTED))))
        if publication_ids is not None:
            q = q.where(Publication.id.in_(list(publication_ids)))
        pubs = s.execute(q).all()
        ids = [p.id for p, _ in pubs]
        samples: dict[str, list[Sample]] = defaultdict(list)
        for chunk in _chunks(ids, 500):
            for m in s.scalars(select(MetricSample).where(MetricSample.publication_id.in_(chunk))
                               .order_by(MetricSample.collected_at)):
                at = _utc(m.collected_at)
                if m.views is None or (until is not None and at >= until):
                    continue
                samples[m.publication_id].append(Sample(at=at, views=int(m.views), likes=m.likes, comments=m.comments))
        own = own_features(s, [p for p, _ in pubs if p.video_id is not None])
        out = []
        for pub, account in pubs:
            series = _dedupe(samples.get(pub.id, []))
            if with_samples_only and not series:
                continue
            meta = dict((pub.details or {}).get("metadata") or {})
            facts = own.get(pub.id, {})
            out.append(History(
                id=pub.id, samples=tuple(series), platform=pub.platform, account=account,
                title=meta.get("title") or pub.title or "", category=meta.get("category") or facts.get("trend_category") or "",
                tags=tuple(str(t) for t in meta.get("tags") or ()), language=meta.get("language") or "",
                published_at=_utc(pub.published_at) if pub.published_at else None,
                extra={"external_id": pub.external_id, "imported": pub.status == IMPORTED,
                       "features": {k: v for k, v in facts.items() if k != "trend_category"}}))
    out.sort(key=lambda h: (h.samples[0].at if h.samples else datetime.max.replace(tzinfo=timezone.utc), h.id))
    return out


def _dedupe(series: list[Sample]) -> list[Sample]:
    by_time = {x.at: x for x in series}
    return [by_time[t] for t in sorted(by_time)]


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def own_features(s: Session, pubs: list[Publication]) -> dict[str, dict]:
    """Pipeline features of our own publications, from rows: the trend (score, burst, spread, size,
    language, key phrases), the story (length, scenes, writer), the video (duration, aspect, voice),
    and the trends live at upload (how many, whether this one was among them and how high)."""
    if not pubs:
        return {}
    videos = {v.id: v for v in s.scalars(select(Video).where(Video.id.in_({p.video_id for p in pubs})))}
    stories = {st.id: st for st in s.scalars(select(Story).where(Story.id.in_({v.story_id for v in videos.values()
                                                                             if v.story_id})))}
    trend_ids = {st.trend_id for st in stories.values() if st.trend_id}
    trends = {t.id: (t, slug) for t, slug in s.execute(
        select(Trend, Category.slug).join(Category, Category.id == Trend.category_id, isouter=True)
        .where(Trend.id.in_(trend_ids)))} if trend_ids else {}
    live: dict[str, list[PublicationTrend]] = defaultdict(list)
    for row in s.scalars(select(PublicationTrend).where(PublicationTrend.publication_id.in_([p.id for p in pubs]))):
        live[row.publication_id].append(row)
    out: dict[str, dict] = {}
    for pub in pubs:
        facts: dict = {}
        video = videos.get(pub.video_id)
        story = stories.get(video.story_id) if video and video.story_id else None
        if video is not None:
            facts["video_seconds"] = float(video.duration_s or 0.0)
            if video.width and video.height:
                facts["video_aspect"] = "vertical" if video.height > video.width else "horizontal"
            voices = (video.details or {}).get("voices") or (video.details or {}).get("voice")
            if voices:
                facts["video_voice"] = str(voices if isinstance(voices, str) else next(iter(voices.values()), ""))[:40]
        if story is not None:
            body = story.body or {}
            facts["story_seconds"] = float(story.duration_s or 0.0)
            facts["story_scenes"] = float(len(body.get("scenes") or []))
            facts["story_writer"] = story.backend
        trend_pair = trends.get(story.trend_id) if story is not None and story.trend_id else None
        if trend_pair is not None:
            trend, slug = trend_pair
            facts["trend_score"] = float(trend.score or 0.0)
            facts["trend_burst"] = math.log1p(max(float(trend.burst or 0.0), 0.0))
            facts["trend_spread"] = float(trend.spread or 0)
            facts["trend_items"] = math.log1p(trend.item_count or 0)
            facts["trend_phrases"] = float(len(trend.key_phrases or []))
            facts["trend_language"] = trend.lang or "(none)"
            if slug:
                facts["trend_category"] = slug
        snapshot = live.get(pub.id, [])
        facts["live_trends"] = float(len(snapshot))
        own_rank = next((r.rank for r in snapshot if trend_pair is not None and r.trend_id == trend_pair[0].id), None)
        facts["live_own_rank"] = float(own_rank) if own_rank is not None else float(len(snapshot) + 1)
        facts["live_top_score"] = max((float(r.score or 0.0) for r in snapshot), default=0.0)
        out[pub.id] = facts
    return out


# ---- the feature store's view -----------------------------------------------------------------

def feature_rows(histories: list[History], stats: TrainingStats, *, early_samples: int = 1) -> list[dict]:
    """Each history's features, named, with the time each was known: metadata (and the account's and
    category's record from `stats`), our pipeline features, and its first `early_samples` samples."""
    out = []
    for h in histories:
        when = h.published_at or (h.samples[0].at if h.samples else None)
        feats = {name: {"value": f.value, "known_at": _iso(f.known_at)}
                 for name, f in metadata_features(h, stats).items()}
        for name, value in (h.extra.get("features") or {}).items():
            feats[name] = {"value": value, "known_at": _iso(when)}
        for i, sample in enumerate(h.samples[:early_samples], start=1):
            for name, f in sample_features(sample).items():
                feats[f"sample{i}_{name}"] = {"value": f.value, "known_at": _iso(f.known_at)}
        out.append({"publication_id": h.id, "external_id": h.extra.get("external_id"), "platform": h.platform,
                    "account": h.account, "imported": bool(h.extra.get("imported")), "samples": len(h.samples),
                    "features_version": FEATURES_VERSION, "features": feats})
    return out


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
