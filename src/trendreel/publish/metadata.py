"""Title, description, tags and language of a publication, taken from the video's story.

YouTube's limits are applied for every platform: a title of at most 100 characters (cut at a word),
a description of at most 5,000 bytes, tags of at most 500 characters in all (a tag with a space counts
its quotes), and no '<' or '>' in title or description (YouTube refuses them).

Platforms with one caption instead of title + description get it from `caption_for(platform, metadata)`
within their own limits (CAPTION_LIMITS): TikTok counts 2,200 UTF-16 code units, Instagram 2,200
characters and at most 30 hashtags.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from trendreel.db.tables import Article, Story as StoryRow

TITLE_MAX = 100
DESCRIPTION_MAX_BYTES = 5000
TAGS_MAX_CHARS = 500


def _clean(text: str) -> str:
    return " ".join(text.replace("<", "‹").replace(">", "›").split())


def cut_title(title: str, limit: int = TITLE_MAX) -> str:
    """The title within `limit` characters, cut at a word boundary (with an ellipsis) when too long."""
    title = _clean(title)
    if len(title) <= limit:
        return title
    head = title[: limit - 1]
    if " " in head[limit // 2:]:
        head = head[: head.rindex(" ")]
    return head.rstrip(" ,.;:-") + "…"


def fit_tags(hashtags: list[str], limit: int = TAGS_MAX_CHARS) -> list[str]:
    """Hashtags as tags ('#' dropped, duplicates out), as many as fit in `limit` characters."""
    tags: list[str] = []
    used = 0
    for raw in hashtags:
        tag = _clean(raw.lstrip("#")).replace(",", " ").strip()
        if not tag or tag.lower() in (t.lower() for t in tags):
            continue
        cost = len(tag) + (2 if " " in tag else 0) + (1 if tags else 0)  # quotes, comma between tags
        if used + cost > limit:
            continue
        tags.append(tag)
        used += cost
    return tags


def _cut_bytes(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode("utf-8", errors="ignore").rstrip() + "…"


def build_metadata(app, video: dict, *, marker: str) -> dict:
    """What a platform is told about the video; `marker` (the publication id) ends the description."""
    body = None
    if video.get("story_id"):
        with app.db.session() as s:
            row = s.get(StoryRow, video["story_id"])
            body = dict(row.body or {}) if row is not None else None
    if not body:
        return {"title": cut_title(f"trendreel video {video['id']}"), "description": f"ref: {marker}", "tags": [],
                "language": None, "story_id": video.get("story_id"), "trend_id": None, "sources": []}
    article_ids = {c.get("article_id") for sc in body.get("scenes", []) for c in sc.get("citations", [])}
    article_ids.add(body.get("article_id"))
    article_ids.discard(None)
    with app.db.session() as s:
        urls = sorted(set(s.scalars(select(Article.url).where(Article.id.in_(article_ids))))) if article_ids else []
    narration = "\n".join(_clean(sc.get("narration", "")) for sc in body.get("scenes", []) if sc.get("narration"))
    parts = [_clean(body.get("hook", "")), narration]
    if urls:
        parts.append("Sources:\n" + "\n".join(urls))
    tags = fit_tags(body.get("hashtags", []))
    if tags:
        parts.append(" ".join("#" + t.replace(" ", "") for t in tags[:3]))
    tail = f"\n\nref: {marker}"
    description = _cut_bytes("\n\n".join(p for p in parts if p), DESCRIPTION_MAX_BYTES - len(tail.encode())) + tail
    return {"title": cut_title(body.get("title") or body.get("hook") or video["id"]), "description": description,
            "tags": tags, "language": body.get("lang"), "story_id": video.get("story_id"),
            "trend_id": body.get("trend_id"), "sources": urls}


# ---- one-caption platforms -------------------------------------------------------------------

@dataclass(frozen=True)
class CaptionLimit:
    length: int
    unit: str  # "utf16" (code units, as JavaScript counts) or "chars" (code points)
    hashtags: int | None = None


CAPTION_LIMITS = {"tiktok": CaptionLimit(2200, "utf16"), "instagram": CaptionLimit(2200, "chars", hashtags=30)}
_HASHTAG = re.compile(r"(?<![\w#])#\w+")
_REF = re.compile(r"\n*ref: \S+\s*$")


def caption_length(text: str, unit: str) -> int:
    return len(text.encode("utf-16-le")) // 2 if unit == "utf16" else len(text)


def _cut_to(text: str, room: int, unit: str) -> str:
    """The text within `room` units, cut at a word with an ellipsis when too long ('' when no room)."""
    if caption_length(text, unit) <= room:
        return text
    if room <= 1:
        return ""
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix that fits with the ellipsis
        mid = (lo + hi + 1) // 2
        if caption_length(text[:mid], unit) + 1 <= room:
            lo = mid
        else:
            hi = mid - 1
    head = text[:lo]
    if head and head[-1:].isalnum() and " " in head[len(head) // 2:]:
        head = head[: head.rindex(" ")]
    if head and 0xD800 <= ord(head[-1]) <= 0xDFFF:  # never split a surrogate pair
        head = head[:-1]
    return head.rstrip(" ,.;:-\n") + "…"


def caption_for(platform: str, metadata: dict) -> str:
    """The post caption for a one-caption platform: title, the description's text, hashtags and the ref marker,
    within the platform's limit. The title, hashtags and ref are kept whole as long as they fit; the description
    is what gets cut."""
    limit = CAPTION_LIMITS[platform]
    description = metadata.get("description") or ""
    ref_match = _REF.search(description)
    ref = ref_match.group(0).strip() if ref_match else ""
    body = description[: ref_match.start()] if ref_match else description
    # Hashtags: the story's tags as #words, those the body already has first; at most the platform's count.
    present = [h.lower() for h in _HASHTAG.findall(body)]
    tags = [f"#{t.replace(' ', '')}" for t in metadata.get("tags") or []]
    extra = [t for t in dict.fromkeys(tags) if t.lower() not in present]
    if limit.hashtags is not None:
        if len(present) > limit.hashtags:  # the body alone has too many: its own '#' become plain words
            body = _HASHTAG.sub(lambda m: m.group(0)[1:], body)
            present = []
        extra = extra[: max(0, limit.hashtags - len(present))]
    title = _clean(metadata.get("title") or "")
    tail = "\n\n".join(p for p in (" ".join(extra), ref) if p)

    def join(*parts: str) -> str:
        return "\n\n".join(p.strip() for p in parts if p and p.strip())

    caption = join(title, body, tail)
    if caption_length(caption, limit.unit) <= limit.length:
        return caption
    sep = caption_length("\n\n", limit.unit)
    fixed = join(title, tail)
    room = limit.length - caption_length(fixed, limit.unit) - sep
    if room > 1:
        return join(title, _cut_to(body.strip(), room, limit.unit), tail)
    # Not even title and tail fit (a very long title): the title is cut, then the tail.
    room = limit.length - caption_length(tail, limit.unit) - sep
    if room > 1:
        return join(_cut_to(title, room, limit.unit), tail)
    return _cut_to(join(title, tail), limit.length, limit.unit)
