"""What a story is written from: the trend, and one stored item read back from the RDB and file store.

Sentences are numbered once here and every backend uses the same numbers: 0 is the item's title,
1..N its text's sentences (split with the summariser's rules; a first line repeating the title
is dropped). Usable media are stored images and videos whose files are still there; a video needs
its duration (the index stage probes it) so that scenes can cut time ranges from it. Captions are
cleaned of what a page adds around them ("영상:", "Photo:", "ⓒ …", "/ 연합뉴스"), since they may be said
or shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
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
    article_id: str = ""  # the item it belongs to (the told item or another item of the trend)
    width: int | None = None
    height: int | None = None
    sha256: str | None = None  # the same file stored for two items is one visual

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
    # Media of the trend's other items and related stored media a story may also show.
    related_media: tuple[SourceMedia, ...] = field(default_factory=tuple)

    def media_by_id(self) -> dict[str, SourceMedia]:
        """The item's own media."""
        return {m.id: m for m in self.media}

    def known_media(self) -> dict[str, SourceMedia]:
        """Every medium a story of this item may show: its own, then the related ones."""
        return {m.id: m for m in (*self.related_media, *self.media)}


# What pages put around a caption: a label before it, a credit after it.
_CAPTION_LABEL = re.compile(
    r"^\s*(?:[\[(【<]\s*)?(?:영상|사진|동영상|그래픽|이미지|자료사진|자료|화면|캡처|photo|image|video|picture|graphic|file photo)"
    r"\s*(?:[\])】>]\s*)?(?:[:：=|\-–—]\s*|(?<=[\])】>])\s*)", re.IGNORECASE)
_AGENCIES = r"(?:연합뉴스|뉴시스|뉴스1|AP|AFP|EPA|Reuters|로이터|게티이미지|Getty Images|Yonhap)"
_CAPTION_CREDITS = (
    re.compile(r"\s*[ⓒ©].*$"),
    re.compile(r"\s*/\s*" + _AGENCIES + r"\b.*$", re.IGNORECASE),
    re.compile(r"\s*[\[(]\s*" + _AGENCIES + r"\s*[\])]", re.IGNORECASE),
    re.compile(r"\s*[\[(](?:사진|영상|자료|출처|제공|photo|image|video|credit|source)[^\])]*[=:：][^\])]*[\])]", re.IGNORECASE),
    re.compile(r"\s*\b(?:Photo|Image|Video)s?\s*(?:by|credit|courtesy of)\s*:?.*$", re.IGNORECASE),
    re.compile(r"\s*(?:사진|영상)\s*(?:제공)?\s*=\s*\S+(?:\s*제공)?\s*$"),
)


def clean_caption(text: str | None) -> str:
    """A caption without its label ("영상: ", "Photo: ") and credits ("ⓒ …", "/ 연합뉴스", "(사진=… 제공)")."""
    text = " ".join((text or "").split())
    previous = None
    while previous != text:  # "[사진] 영상: …" carries two labels
        previous = text
        text = _CAPTION_LABEL.sub("", text, count=1)
    for credit in _CAPTION_CREDITS:
        text = credit.sub("", text)
    return text.strip(" -–—|/")


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
    media = tuple(_source_media(files, m, title) for m in rows if _usable(files, m))
    return StoryItem(article_id=art.id, title=title or sentences[1], lang=art.lang or "und", sentences=sentences,
                     media=media)


def _usable(files, m: MediaItem) -> bool:
    if m.kind not in ("image", "video") or m.status != "stored" or not m.path or m.files_purged_at is not None:
        return False
    if m.kind == "video" and not m.duration_s:
        return False  # not indexed yet: no duration to cut scenes from
    return files.exists(m.path)


def _source_media(files, m: MediaItem, title: str | None = None) -> SourceMedia:
    transcript = ""
    if m.transcript_path:
        try:
            transcript = " ".join(files.get(m.transcript_path).decode("utf-8", errors="replace").split())
        except FileMissing:
            transcript = ""
    # The caption, else a meaningful alt text (placeholders like "image" are dropped), cleaned.
    caption = clean_caption(image_caption_text(None, m.caption, None)) or clean_caption(image_caption_text(m.alt, None, None))
    return SourceMedia(id=m.id, kind=m.kind, caption=caption,
                       duration_s=float(m.duration_s) if m.duration_s else None, transcript=transcript,
                       article_id=m.article_id, width=m.width, height=m.height, sha256=m.sha256)


def load_media(db, files, *, media_ids: Iterable[str] = (), article_ids: Iterable[str] = ()) -> list[SourceMedia]:
    """Usable media by id and of whole items (not purged, stored, file present), in item order."""
    media_ids, article_ids = set(media_ids), set(article_ids)
    if not media_ids and not article_ids:
        return []
    with db.session() as s:
        q = select(MediaItem).where(MediaItem.kind.in_(("image", "video")), MediaItem.status == "stored")
        if media_ids and article_ids:
            q = q.where(MediaItem.id.in_(media_ids) | MediaItem.article_id.in_(article_ids))
        elif media_ids:
            q = q.where(MediaItem.id.in_(media_ids))
        else:
            q = q.where(MediaItem.article_id.in_(article_ids))
        rows = list(s.scalars(q.order_by(MediaItem.article_id, MediaItem.position, MediaItem.kind)))
    return [_source_media(files, m) for m in rows if _usable(files, m)]


def has_usable_media(db, files, article_id: str) -> bool:
    with db.session() as s:
        rows = list(s.scalars(select(MediaItem).where(MediaItem.article_id == article_id)))
    return any(_usable(files, m) for m in rows)
