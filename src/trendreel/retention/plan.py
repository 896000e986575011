"""Usage from the RDB rows, what is protected, and the purge plan.

Usage is the sum of the byte counts the rows record (media_item.bytes; a video's bytes plus its
thumbnail and subtitles from details.files), never a listing of the store. When usage is over the
budget the plan frees space down to budget x low_water, in this order:

1. local files of published videos (video.mp4, thumb.jpg, subtitles.srt), oldest first;
2. raw media (downloaded images and videos) older than raw_media_min_age_days, oldest first.

Never planned: a video that is not published (no done publication of it as it is now, or of an edit
made from it as it is now), the videos it was made from, and the media of every item a protected
story cites. A story is
protected when no video of it has a done publication, or when one of its videos is still work in
progress. Media rows are read in chunks from one ordered, streamed query, so planning over millions
of rows never holds more than one chunk of them (plus the plan itself) in memory.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from trendreel.db.tables import MediaItem, Publication, Story, Video, utcnow
from trendreel.settings import RetentionSettings

CHUNK = 5000
IN_CHUNK = 500  # ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits


@dataclass(frozen=True)
class PurgeItem:
    """The files of one row that the plan deletes."""

    kind: str  # "video" (a rendered or edited video) | "media" (a downloaded image or video)
    id: str
    reason: str  # "published_video" | "raw_media"
    detail: str  # rendered | edited | image | video
    keys: tuple[str, ...]
    bytes: int
    sha256: str | None
    created_at: datetime | None = None
    prefix: str | None = None  # a video's own folder: deleted whole, so no empty folder stays behind
    article_id: str | None = None
    story_id: str | None = None

    def as_dict(self) -> dict:
        return {"kind": self.kind, "id": self.id, "reason": self.reason, "detail": self.detail, "keys": list(self.keys),
                "bytes": self.bytes, "sha256": self.sha256, "prefix": self.prefix, "article_id": self.article_id,
                "story_id": self.story_id, "created_at": self.created_at.isoformat() if self.created_at else None}

    @classmethod
    def from_dict(cls, d: dict) -> "PurgeItem":
        created = datetime.fromisoformat(d["created_at"]) if d.get("created_at") else None
        return cls(kind=d["kind"], id=d["id"], reason=d["reason"], detail=d.get("detail", ""), keys=tuple(d["keys"]),
                   bytes=int(d.get("bytes") or 0), sha256=d.get("sha256"), created_at=created, prefix=d.get("prefix"),
                   article_id=d.get("article_id"), story_id=d.get("story_id"))


@dataclass
class VideoFacts:
    id: str
    parent_id: str | None
    story_id: str | None
    stage: str
    status: str
    path: str | None
    thumbnail_path: str | None
    subtitles_path: str | None
    bytes: int
    sha256: str | None
    created_at: datetime | None
    purged: bool
    made_from_sha256: str | None = None  # an edit: the source's file hash when the edit was made from it

    def item(self) -> PurgeItem:
        keys = tuple(k for k in (self.path, self.thumbnail_path, self.subtitles_path) if k)
        return PurgeItem(kind="video", id=self.id, reason="published_video", detail=self.stage, keys=keys,
                         bytes=self.bytes, sha256=self.sha256, created_at=self.created_at,
                         prefix=video_folder(self.id, keys), story_id=self.story_id)


def video_folder(video_id: str, keys: Iterable[str]) -> str | None:
    """The video's own folder (videos/yyyy/mm/dd/<id>/) when every key lies in it, else None."""
    folders = {posixpath.dirname(k) for k in keys}
    if len(folders) != 1:
        return None
    folder = folders.pop()
    if folder.startswith("videos/") and posixpath.basename(folder) == video_id:
        return folder + "/"
    return None


def _video_bytes(row_bytes: int | None, details: dict | None) -> int:
    files = (details or {}).get("files") or {}
    extra = sum(int(files.get(k) or 0) for k in ("thumbnail_bytes", "subtitles_bytes") if isinstance(files.get(k), (int, float)))
    return int(row_bytes or 0) + extra


def load_videos(session: Session) -> dict[str, VideoFacts]:
    """Every video row's facts (videos are thousands, not millions: one per story and edit)."""
    q = select(Video.id, Video.parent_id, Video.story_id, Video.stage, Video.status, Video.path, Video.thumbnail_path,
               Video.subtitles_path, Video.bytes, Video.details, Video.sha256, Video.created_at, Video.files_purged_at)
    out: dict[str, VideoFacts] = {}
    for r in session.execute(q.execution_options(yield_per=CHUNK)):
        out[r.id] = VideoFacts(id=r.id, parent_id=r.parent_id, story_id=r.story_id, stage=r.stage, status=r.status,
                               path=r.path, thumbnail_path=r.thumbnail_path, subtitles_path=r.subtitles_path,
                               bytes=_video_bytes(r.bytes, r.details), sha256=r.sha256, created_at=r.created_at,
                               purged=r.files_purged_at is not None,
                               made_from_sha256=(r.details or {}).get("parent_sha256") if isinstance(r.details, dict) else None)
    return out


@dataclass
class Usage:
    """Bytes the rows say are stored, by kind: image and video (raw media), rendered and edited videos."""

    by_kind: dict[str, dict] = field(default_factory=dict)  # kind -> {"files": rows, "bytes": n}
    purged: dict[str, dict] = field(default_factory=dict)  # kind -> {"rows": n, "bytes": n} already purged

    @property
    def total(self) -> int:
        return sum(v["bytes"] for v in self.by_kind.values())


def measure_usage(session: Session, videos: dict[str, VideoFacts] | None = None) -> Usage:
    """Usage from the rows: one grouped query over media, the video facts for videos."""
    usage = Usage()
    has_file = and_(MediaItem.status == "stored", MediaItem.path.is_not(None))
    q = (select(MediaItem.kind, MediaItem.files_purged_at.is_(None).label("live"), func.count(),
                func.coalesce(func.sum(MediaItem.bytes), 0))
         .where(has_file).group_by(MediaItem.kind, MediaItem.files_purged_at.is_(None)))
    for kind, live, n, total in session.execute(q):
        if live:
            usage.by_kind[kind] = {"files": int(n), "bytes": int(total)}
        else:
            usage.purged[kind] = {"rows": int(n), "bytes": int(total)}
    for v in (videos if videos is not None else load_videos(session)).values():
        if not v.path:
            continue
        bucket = usage.purged.setdefault(v.stage, {"rows": 0, "bytes": 0}) if v.purged else \
            usage.by_kind.setdefault(v.stage, {"files": 0, "bytes": 0})
        bucket["rows" if v.purged else "files"] += 1
        bucket["bytes"] += v.bytes
    return usage


def _story_cites(story_article_id: str | None, body: dict | None) -> tuple[set[str], set[str]]:
    """(media ids, article ids) a stored story body cites; tolerant of bodies in older formats."""
    media, articles = set(), set()
    if story_article_id:
        articles.add(story_article_id)
    body = body if isinstance(body, dict) else {}
    if isinstance(body.get("article_id"), str):
        articles.add(body["article_id"])
    for scene in body.get("scenes") or []:
        if not isinstance(scene, dict):
            continue
        for m in scene.get("media") or []:
            if isinstance(m, dict) and isinstance(m.get("media_id"), str):
                media.add(m["media_id"])
        for c in scene.get("citations") or []:
            if not isinstance(c, dict):
                continue
            if isinstance(c.get("article_id"), str):
                articles.add(c["article_id"])
            if isinstance(c.get("media_id"), str):
                media.add(c["media_id"])
    return media, articles


def _ancestors(ids: Iterable[str], videos: dict[str, VideoFacts]) -> set[str]:
    """The ids and every video they were made from (parent chains), cycles tolerated."""
    seen: set[str] = set()
    stack = list(ids)
    while stack:
        vid = stack.pop()
        if vid in seen:
            continue
        seen.add(vid)
        parent = videos[vid].parent_id if vid in videos else None
        if parent:
            stack.append(parent)
    return seen


def _same(recorded: str | None, current: str | None) -> bool:
    """A recorded file hash still names the current file (rows from before hashes were recorded: yes)."""
    return recorded is None or current is None or recorded == current


def _published_versions(ids: Iterable[str], videos: dict[str, VideoFacts]) -> set[str]:
    """The published videos and the versions of their sources they were made from.

    An edit counts its source as published only while the source still holds the file the edit was made
    from: a story edited after publishing renders again onto the same row, and that new render is
    unpublished work, not the published one's original.
    """
    seen: set[str] = set()
    stack = list(ids)
    while stack:
        vid = stack.pop()
        if vid in seen:
            continue
        seen.add(vid)
        v = videos.get(vid)
        parent = videos.get(v.parent_id) if v is not None and v.parent_id else None
        if parent is not None and _same(v.made_from_sha256, parent.sha256):
            stack.append(parent.id)
    return seen


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


@dataclass
class Protection:
    """What gc must never touch, and the published videos whose local files it may delete."""

    published: set[str] = field(default_factory=set)  # videos with a done publication, or made into one
    videos: set[str] = field(default_factory=set)  # unpublished videos and the videos they were made from
    stories: set[str] = field(default_factory=set)  # pending stories and stories of protected videos
    media: set[str] = field(default_factory=set)  # media ids protected stories cite
    articles: set[str] = field(default_factory=set)  # items protected stories cite: all their media stay
    since: datetime | None = None  # when this was computed (refresh() adds what appeared after)

    def counts(self) -> dict:
        return {"videos": len(self.videos), "stories": len(self.stories), "media": len(self.media), "articles": len(self.articles)}

    def covers(self, item: PurgeItem) -> bool:
        if item.kind == "video":
            return item.id in self.videos or item.id not in self.published
        return item.id in self.media or (item.article_id is not None and item.article_id in self.articles)

    def _add_stories(self, session: Session, rows) -> None:
        for sid, aid, body in rows:
            self.stories.add(sid)
            media, articles = _story_cites(aid, body)
            self.media |= media
            self.articles |= articles

    def refresh(self, session: Session) -> None:
        """Add stories and videos created since the last look (a story written while gc runs is protected too)."""
        since = self.since
        self.since = utcnow()
        if since is None:
            return
        since = since - timedelta(seconds=5)  # clock skew between writers
        # new rows, and rows being made again (a re-render keeps its row and its creation time)
        new_videos = {r.id: r for r in session.execute(
            select(Video.id, Video.parent_id, Video.story_id).where(
                (Video.created_at >= since) | (Video.status != "done")))}
        done = set(session.scalars(select(Publication.video_id).where(Publication.status == "done",
                                                                      Publication.video_id.in_(list(new_videos)))))\
            if new_videos else set()
        unfinished = set(session.scalars(select(Publication.video_id).where(
            Publication.status != "done", Publication.updated_at >= since)))
        for vid in unfinished - set(new_videos):  # a publication started while gc runs
            r = session.execute(select(Video.id, Video.parent_id, Video.story_id).where(Video.id == vid)).first()
            if r is not None:
                new_videos[vid] = r
        for vid, r in new_videos.items():
            if (vid in done or vid in self.published) and vid not in unfinished:
                continue
            self.videos.add(vid)
            parent = r.parent_id
            hops = 0
            while parent and parent not in self.videos and hops < 100:  # its sources are protected with it
                self.videos.add(parent)
                parent = session.scalar(select(Video.parent_id).where(Video.id == parent))
                hops += 1
        story_ids = {r.story_id for r in new_videos.values() if r.story_id and r.id in self.videos} - self.stories
        q = select(Story.id, Story.article_id, Story.body)
        self._add_stories(session, session.execute(q.where(Story.created_at >= since)))
        for chunk in _chunks(sorted(story_ids), IN_CHUNK):
            self._add_stories(session, session.execute(q.where(Story.id.in_(chunk))))


def compute_protection(session: Session, videos: dict[str, VideoFacts]) -> Protection:
    """Published videos, and everything gc must keep: work in progress, its sources, what pending stories cite."""
    prot = Protection(since=utcnow())
    # A done publication publishes the video as it was then (its file hash is recorded with it): a video
    # made again onto the same row since is not the published one.
    direct = {vid for vid, details in session.execute(
                  select(Publication.video_id, Publication.details).where(Publication.status == "done"))
              if vid in videos and _same((details or {}).get("video_sha256") if isinstance(details, dict) else None,
                                         videos[vid].sha256)}
    prot.published = _published_versions(direct, videos)
    # A publication still pending, uploading or failed (it may be retried) needs the file as well.
    unfinished = set(session.scalars(select(Publication.video_id).where(Publication.status != "done").distinct()))
    wip = {vid for vid, v in videos.items() if (vid not in prot.published or vid in unfinished) and not v.purged}
    prot.videos = _ancestors(wip, videos)
    # Pending stories: none of their videos has a done publication (stories without videos included).
    has_done = exists().where(Video.story_id == Story.id, Publication.video_id == Video.id, Publication.status == "done")
    q = select(Story.id, Story.article_id, Story.body)
    prot._add_stories(session, session.execute(q.where(~has_done).execution_options(yield_per=1000)))
    wip_stories = {videos[v].story_id for v in prot.videos if v in videos and videos[v].story_id} - prot.stories
    for chunk in _chunks(sorted(wip_stories), IN_CHUNK):
        prot._add_stories(session, session.execute(q.where(Story.id.in_(chunk))))
    return prot


@dataclass
class Plan:
    budget_bytes: int
    target_bytes: int  # budget x low_water: where a run that starts stops
    used_bytes: int
    usage: Usage
    protection: Protection
    items: list[PurgeItem] = field(default_factory=list)
    needed_bytes: int = 0
    scanned_media: int = 0
    skipped_protected: int = 0
    young_bytes: int = 0  # raw media not yet old enough to purge (when the plan falls short)

    @property
    def planned_bytes(self) -> int:
        return sum(i.bytes for i in self.items)

    @property
    def shortfall_bytes(self) -> int:
        """Bytes still over the target after the plan: more than policy allows deleting."""
        return max(0, self.needed_bytes - self.planned_bytes)

    def by_reason(self) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for i in self.items:
            r = out.setdefault(i.reason, {"items": 0, "files": 0, "bytes": 0})
            r["items"] += 1
            r["files"] += len(i.keys)
            r["bytes"] += i.bytes
        return out


def media_candidates(session: Session, *, kinds: list[str], cutoff: datetime, chunk: int = CHUNK):
    """Stored, unpurged media of these kinds created before cutoff, oldest first, streamed in chunks."""
    q = (select(MediaItem.id, MediaItem.article_id, MediaItem.kind, MediaItem.path, MediaItem.bytes, MediaItem.sha256,
                MediaItem.created_at)
         .where(MediaItem.status == "stored", MediaItem.path.is_not(None), MediaItem.files_purged_at.is_(None),
                MediaItem.kind.in_(kinds), MediaItem.created_at <= cutoff)
         .order_by(MediaItem.created_at, MediaItem.id)
         .execution_options(yield_per=chunk))
    return session.execute(q)


def make_plan(session: Session, settings: RetentionSettings, *, now: datetime | None = None) -> Plan:
    """What to purge, in order, to bring usage from over the budget down to budget x low_water."""
    now = now or utcnow()
    videos = load_videos(session)
    usage = measure_usage(session, videos)
    protection = compute_protection(session, videos)
    budget = settings.budget_bytes
    target = int(budget * settings.low_water)
    plan = Plan(budget_bytes=budget, target_bytes=target, used_bytes=usage.total, usage=usage, protection=protection)
    if usage.total <= budget:
        return plan
    plan.needed_bytes = usage.total - target
    planned = 0

    if "published_video" in settings.purgeable:
        candidates = [v for v in videos.values() if v.id in protection.published and v.id not in protection.videos
                      and not v.purged and v.status == "done" and v.path]
        candidates.sort(key=lambda v: (v.created_at or now, v.id))
        for v in candidates:
            if planned >= plan.needed_bytes:
                break
            item = v.item()
            plan.items.append(item)
            planned += item.bytes

    kinds = [k for k in ("image", "video") if k in settings.purgeable]
    if kinds and planned < plan.needed_bytes:
        cutoff = now - timedelta(days=settings.raw_media_min_age_days)
        rows = media_candidates(session, kinds=kinds, cutoff=cutoff)
        try:
            for r in rows:
                plan.scanned_media += 1
                if r.id in protection.media or r.article_id in protection.articles:
                    plan.skipped_protected += 1
                    continue
                item = PurgeItem(kind="media", id=r.id, reason="raw_media", detail=r.kind, keys=(r.path,),
                                 bytes=int(r.bytes or 0), sha256=r.sha256, created_at=r.created_at, article_id=r.article_id)
                plan.items.append(item)
                planned += item.bytes
                if planned >= plan.needed_bytes:
                    break
        finally:
            rows.close()
        if planned < plan.needed_bytes:
            plan.young_bytes = int(session.scalar(
                select(func.coalesce(func.sum(MediaItem.bytes), 0)).where(
                    MediaItem.status == "stored", MediaItem.path.is_not(None), MediaItem.files_purged_at.is_(None),
                    MediaItem.kind.in_(kinds), MediaItem.created_at > cutoff)) or 0)
    return plan
