"""What a story is written from: the trend, and one stored item read back from the RDB and file store.

Sentences are numbered once here and every backend uses the same numbers: 0 is the item's title,
1..N its text's sentences (split with the summariser's rules; a first line repeating the title
is dropped). Usable media are stored images and videos whose files are still there; a video needs
its duration (the index stage probes it) so that scenes can cut time ranges from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from trendreel.db.tables import Article, MediaItem, Trend
from trendreel.errors import FileMissing, StoryError, StorySourceMissing
from trendreel.index.media.images import image_caption_text
from trendreel.index.summarize import split_sentences


@dataclass(frozen=True)
class TrendBrief:
    id: str
    text: str
    lang: str | None = None
    key_phrases: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceMedia:
    id: str
    kind: str  # image | video
    caption: str = ""
    duration_s: float | None = None
    transcript: str = ""

    @property
    def text(self) -> str:
        """What this media says in words: its caption and, for videos with speech, the transcript."""
        return "\n".join(t for t in (self.caption, self.transcript) if t)


@dataclass(frozen=True)
class StoryItem:
    article_id: str
    title: str
    lang: str
    sentences: tuple[str, ...]  # 0 = title
    media: tuple[SourceMedia, ...] = field(default_factory=tuple)

    def media_by_id(self) -> dict[str, SourceMedia]:
        return {m.id: m for m in self.media}


def number_sentences(title: str, text: str) -> tuple[str, ...]:
    """(title, sentence 1, sentence 2, ...): the numbering every backend cites by."""
    title = " ".join(title.split())
    body = split_sentences(text)
    if body and title and " ".join(body[0].split()) == title:
        body = body[1:]
    return (title, *body)


def load_trend(db, trend_id: str) -> TrendBrief:
    with db.session() as s:
        row = s.get(Trend, trend_id)
        if row is None:
            raise StorySourceMissing(f"unknown trend {trend_id!r}", hint="list trends with `trendreel trends`")
        return TrendBrief(id=row.id, text=" ".join((row.text or "").split()), lang=row.lang,
                          key_phrases=tuple(str(p) for p in (row.key_phrases or []) if p))


def load_item(db, files, article_id: str) -> StoryItem:
    """The stored item with its text, numbered sentences and usable media; StoryError when unusable."""
    with db.session() as s:
        art = s.get(Article, article_id)
        if art is None:
            raise StorySourceMissing(f"unknown item {article_id!r}", hint="list stored items with `trendreel articles`")
        rows = list(s.scalars(select(MediaItem).where(MediaItem.article_id == article_id)
                              .order_by(MediaItem.position, MediaItem.kind)))
    if art.files_purged_at is not None or not art.text_path:
        raise StoryError(f"item {article_id} has no stored text (its files were purged); pick another item")
    try:
        text = files.get(art.text_path).decode("utf-8", errors="replace")
    except FileMissing as exc:
        raise StoryError(f"item {article_id} has no stored text: {exc}") from exc
    title = art.title or ""
    sentences = number_sentences(title, text)
    if len(sentences) < 2 or not any(s.strip() for s in sentences[1:]):
        raise StoryError(f"item {article_id} has no text to tell a story from")
    media = tuple(_source_media(files, m) for m in rows if _usable(files, m))
    return StoryItem(article_id=art.id, title=title or sentences[1], lang=art.lang or "und", sentences=sentences,
                     media=media)


def _usable(files, m: MediaItem) -> bool:
    if m.kind not in ("image", "video") or m.status != "stored" or not m.path or m.files_purged_at is not None:
        return False
    if m.kind == "video" and not m.duration_s:
        return False  # not indexed yet: no duration to cut scenes from
    return files.exists(m.path)


def _source_media(files, m: MediaItem) -> SourceMedia:
    transcript = ""
    if m.transcript_path:
        try:
            transcript = " ".join(files.get(m.transcript_path).decode("utf-8", errors="replace").split())
        except FileMissing:
            transcript = ""
    # The caption, else a meaningful alt text (placeholders like "image" are dropped).
    caption = image_caption_text(None, m.caption, None) or image_caption_text(m.alt, None, None)
    return SourceMedia(id=m.id, kind=m.kind, caption=" ".join(caption.split()),
                       duration_s=float(m.duration_s) if m.duration_s else None, transcript=transcript)


def has_usable_media(db, files, article_id: str) -> bool:
    with db.session() as s:
        rows = list(s.scalars(select(MediaItem).where(MediaItem.article_id == article_id)))
    return any(_usable(files, m) for m in rows)
