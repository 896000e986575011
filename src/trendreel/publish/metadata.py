"""Title, description, tags and language of a publication, taken from the video's story.

YouTube's limits are applied for every platform: a title of at most 100 characters (cut at a word),
a description of at most 5,000 bytes, tags of at most 500 characters in all (a tag with a space counts
its quotes), and no '<' or '>' in title or description (YouTube refuses them).
"""

from __future__ import annotations

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
