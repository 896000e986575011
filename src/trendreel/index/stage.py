"""The index stage: stored articles in; vectors, category, summary, captions and transcripts out.

For each article whose text or models changed since it was last indexed:
- text: chunks of the title + text, one vector each (`chunk`), and one `article` vector, the
  normalised mean of its chunks;
- each stored image: facts and perceptual hash into its row, a caption text file, an `image` vector;
- each stored video: probe, keyframes, a `video` vector; its speech transcribed (when there is speech
  and a model) into a transcript file, and a `video_text` vector of the transcript, else of its caption;
- one `article_repr` vector: the documented blend 0.6 text + 0.2 images + 0.2 videos (normalised;
  missing parts drop out and the rest are re-weighted), the article's "representative" vector;
- a category (unless the source fixed one) and an extractive summary.

Vector ids are derived from article and media ids, so re-indexing replaces vectors instead of adding
them. The RDB keeps the list of an article's vectors (`vector_ref`): deleting an article deletes them.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np
from sqlalchemy import delete, select

from trendreel import events
from trendreel.db import repo
from trendreel.db.tables import Article, Category, MediaItem, VectorRef
from trendreel.errors import CrawlError, TrendreelError
from trendreel.index.chunking import chunk_text
from trendreel.index.media.images import (
    CaptionTextImageEmbedder,
    ImageInput,
    image_caption_text,
    inspect_image,
)
from trendreel.index.media.speech import has_speech
from trendreel.index.media.video import (
    extract_audio,
    keyframes,
    probe_video,
    video_vector,
)
from trendreel.index.vectors import VectorRecord
from trendreel.logs import get_logger

log = get_logger(__name__)

REPR_WEIGHTS = {"text": 0.6, "image": 0.2, "video": 0.2}
# Bump when what the stage produces changes, so everything is indexed again.
STAGE_VERSION = "1"


ANALYZE_AFTER = 1000  # articles; then 2,000, 4,000, ...


@dataclass
class _ArticleText:
    """One article of a group, read and embedded (see Indexer._read_texts)."""

    art: Article
    media: list[MediaItem]
    text: str
    summary: str | None
    chunks: list[str]
    category_slug: str | None
    chunk_vectors: np.ndarray | None = None
    guessed: bool = False  # the category came from the categorizer


@dataclass
class IndexStats:
    articles: int = 0
    skipped: int = 0
    vectors: int = 0
    images: int = 0
    videos: int = 0
    transcripts: int = 0
    categorized: int = 0
    summarized: int = 0
    errors: int = 0
    error_messages: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


class Indexer:
    """Holds the models once; `index()` runs the stage over what is new."""

    def __init__(self, *, db, files, vectors, text_embedder, image_embedder=None, categorizer=None,
                 summarizer=None, speech=None, chunk_chars: int = 1000, max_keyframes: int = 8,
                 batch_articles: int = 32):
        self.db = db
        self.files = files
        self.vectors = vectors
        self.text = text_embedder
        self.images = image_embedder or CaptionTextImageEmbedder(text_embedder)
        self.categorizer = categorizer
        self.summarizer = summarizer
        self.speech = speech
        self.chunk_chars = chunk_chars
        self.max_keyframes = max_keyframes
        self.batch_articles = max(1, batch_articles)

    @property
    def index_key(self) -> str:
        """What produced an article's index; the content hash is added per article."""
        parts = [STAGE_VERSION, self.text.name, getattr(self.images, "name", "-"),
                 getattr(self.speech, "name", "no-speech"), getattr(self.categorizer, "name", "-")]
        return "|".join(parts)

    # ---- selection ----------------------------------------------------------------------
    def pending(self, *, article_ids: list[str] | None = None, force: bool = False) -> list[str]:
        """Ids of articles whose index is missing or out of date (or the given ones)."""
        with self.db.session() as s:
            q = select(Article.id, Article.content_hash, Article.index_key).where(Article.files_purged_at.is_(None))
            if article_ids:
                q = q.where(Article.id.in_(article_ids))
            rows = s.execute(q.order_by(Article.crawled_at)).all()
        key = self.index_key
        return [aid for aid, chash, ikey in rows if force or ikey != f"{key}|{chash}"]

    def index(self, *, article_ids: list[str] | None = None, force: bool = False,
              on_progress: Callable[[int, int, IndexStats], None] | None = None) -> IndexStats:
        todo = self.pending(article_ids=article_ids, force=force)
        stats = IndexStats()
        with self.db.session() as s:
            total = s.query(Article).count()
        stats.skipped = total - len(todo) if not article_ids else len(article_ids) - len(todo)
        done, analyze_at = 0, ANALYZE_AFTER
        for start in range(0, len(todo), self.batch_articles):
            group = todo[start:start + self.batch_articles]
            for aid, texts in self._read_group(group, stats).items():
                try:
                    self._index_article(texts, stats)
                    stats.articles += 1
                except (TrendreelError, OSError) as exc:
                    self._failed(aid, exc, stats)
            done += len(group)
            if done >= analyze_at:  # fresh planner statistics as vector_ref grows (autovacuum may be off)
                analyze_at *= 2
                self.db.analyze(["vector_ref", "event", "media_item"])
            if on_progress:
                on_progress(done, len(todo), stats)
        return stats

    def _failed(self, aid: str, exc: Exception, stats: IndexStats) -> None:
        stats.errors += 1
        stats.error_messages.append(f"{aid}: {exc}")
        log.warning("index.article_failed", article_id=aid, error=str(exc)[:300])

    # ---- a group of articles' text: one model call per group ---------------------------
    def _read_group(self, group: list[str], stats: IndexStats) -> dict[str, _ArticleText]:
        """`_read_texts`, failures counted; when the group's model call fails, one article at a time,
        so that each failure is charged to its own article."""
        try:
            texts, failed = self._read_texts(group)
        except (TrendreelError, OSError):
            if len(group) == 1:
                raise
            texts, failed = {}, {}
            for aid in group:
                try:
                    one, bad = self._read_texts([aid])
                except (TrendreelError, OSError) as exc:
                    one, bad = {}, {aid: exc}
                texts.update(one)
                failed.update(bad)
        for aid, exc in failed.items():
            self._failed(aid, exc, stats)
        return texts

    def _read_texts(self, group: list[str]) -> tuple[dict[str, _ArticleText], dict[str, Exception]]:
        """Rows, texts, summaries, chunk vectors and categories of a group of articles.

        The chunks of the whole group go to the embedder in one call, and the titles to the
        categorizer in one call: per-article calls leave the model's micro-batches partly empty.
        An article whose text cannot be read is returned among the failures.
        """
        out: dict[str, _ArticleText] = {}
        failed: dict[str, Exception] = {}
        with self.db.session() as s:
            arts = {a.id: a for a in s.scalars(select(Article).where(Article.id.in_(group)))}
            slugs = dict(s.execute(select(Category.id, Category.slug)).all())
            media_rows = s.scalars(select(MediaItem).where(MediaItem.article_id.in_(group), MediaItem.status == "stored")
                                   .order_by(MediaItem.article_id, MediaItem.kind, MediaItem.position)).all()
        media: dict[str, list[MediaItem]] = {}
        for m in media_rows:
            media.setdefault(m.article_id, []).append(m)
        for aid in group:
            art = arts.get(aid)
            if art is None:
                continue  # deleted since it was listed
            try:
                text = self.files.get(art.text_path).decode("utf-8")
            except (TrendreelError, OSError) as exc:
                failed[aid] = exc
                continue
            title = art.title or ""
            summary = self.summarizer.summarize(text, lang=art.lang) if self.summarizer else None
            chunks = chunk_text(f"{title}\n\n{text}" if title else text, max_chars=self.chunk_chars)
            out[aid] = _ArticleText(art, media.get(aid, []), text, summary, chunks,
                                    slugs.get(art.category_id) if art.category_id else None)
        if not out:
            return out, failed
        items = list(out.values())
        vectors = self.text.embed([c for t in items for c in t.chunks])
        at = 0
        for t in items:
            t.chunk_vectors, at = vectors[at:at + len(t.chunks)], at + len(t.chunks)
        unsorted = [t for t in items if t.category_slug is None]
        if unsorted and self.categorizer is not None:
            guesses = self.categorizer.categorize([f"{t.art.title or ''}\n{t.summary or t.text[:400]}" for t in unsorted])
            for t, guess in zip(unsorted, guesses):
                t.category_slug, t.guessed = guess.slug, True
        return out, failed

    # ---- one article --------------------------------------------------------------------
    def _index_article(self, t: _ArticleText, stats: IndexStats) -> None:
        art, media, text, summary, category_slug = t.art, t.media, t.text, t.summary, t.category_slug
        aid = art.id
        title = art.title or ""
        stats.categorized += t.guessed
        records: list[VectorRecord] = []
        refs: list[dict] = []
        media_updates: dict[str, dict] = {}
        base = {"article_id": aid, "category": category_slug, "published_at": art.published_at, "lang": art.lang}

        def add(vid: str, vector: np.ndarray, kind: str, media_id: str | None = None, **payload) -> None:
            records.append(VectorRecord(id=vid, vector=np.asarray(vector, dtype=np.float32), kind=kind,
                                        payload={"title": title, **({"media_id": media_id} if media_id else {}), **payload},
                                        **base))
            refs.append({"id": vid, "article_id": aid, "media_id": media_id, "kind": kind, "model": self._model_of(kind)})

        # Text: chunks and the article vector.
        chunks, chunk_vecs = t.chunks, t.chunk_vectors
        if len(chunks) > 1:
            for i, (chunk, vec) in enumerate(zip(chunks, chunk_vecs)):
                add(f"{aid}:chunk:{i}", vec, "chunk", chunk=i, snippet=chunk[:200])
        text_vec = _unit(chunk_vecs.mean(axis=0))
        add(f"{aid}:article", text_vec, "article", snippet=(summary or text)[:200])
        parts = {"text": text_vec}

        tmp = Path(tempfile.mkdtemp(prefix="trendreel-index-"))
        try:
            image_vecs, video_vecs = [], []
            for m in media:
                local = self._local_copy(m.path, tmp)
                caption = image_caption_text(m.alt, m.caption, title)
                try:
                    if m.kind == "image":
                        info = inspect_image(local)
                        vec = self.images.embed_images([ImageInput(path=local, caption_text=caption)])[0]
                        caption_key = _sibling(m.path, ".caption.txt")
                        self.files.put(caption_key, caption.encode("utf-8"))
                        media_updates[m.id] = {"phash": info.phash, "width": info.width, "height": info.height,
                                               "caption_path": caption_key}
                        add(f"{m.id}:image", vec, "image", m.id, caption=caption[:200])
                        image_vecs.append(vec)
                        stats.images += 1
                    elif m.kind == "video":
                        self._index_video(m, local, caption, tmp, add, media_updates, video_vecs, stats)
                except CrawlError as exc:  # a corrupt file: note it on the media row, keep indexing the article
                    media_updates[m.id] = {"error": f"index: {exc}"[:2000]}
                    log.info("index.media_failed", media_id=m.id, error=str(exc)[:300])
            if image_vecs:
                parts["image"] = _unit(np.mean(image_vecs, axis=0))
            if video_vecs:
                parts["video"] = _unit(np.mean(video_vecs, axis=0))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

        weights = {k: REPR_WEIGHTS[k] for k in parts}
        total = sum(weights.values())
        add(f"{aid}:repr", _unit(sum(parts[k] * (weights[k] / total) for k in parts)), "article_repr",
            parts=sorted(parts))

        # Replace the article's vectors (ids are stable), then record it all in one transaction.
        self.vectors.delete_article(aid)
        self.vectors.upsert(records)
        stats.vectors += len(records)
        key = f"{self.index_key}|{art.content_hash}"
        with self.db.session() as s:
            row = s.get(Article, aid)
            row.summary = summary
            if summary:
                stats.summarized += 1
            if row.category_id is None and category_slug:
                row.category_id = repo.category_id(s, category_slug)
            row.index_key = key
            row.indexed_at = datetime.now(timezone.utc)
            for mid, values in media_updates.items():
                m = s.get(MediaItem, mid)
                for k, v in values.items():
                    setattr(m, k, v)
            s.execute(delete(VectorRef).where(VectorRef.article_id == aid))
            s.add_all([VectorRef(**r) for r in refs])
            repo.append_event(s, type=events.ARTICLE_INDEXED, subject_type="article", subject_id=aid,
                              dedupe_key=f"{events.ARTICLE_INDEXED}:{aid}:{key}"[:200],
                              payload={"vectors": len(records), "category": category_slug, "models": self.index_key})

    def _index_video(self, m: MediaItem, local: Path, caption: str, tmp: Path, add, media_updates: dict,
                     video_vecs: list, stats: IndexStats) -> None:
        info = probe_video(local)
        frames = keyframes(local, tmp / f"{m.id}-frames", max_frames=self.max_keyframes)
        vec = video_vector(self.images, frames, caption)
        add(f"{m.id}:video", vec, "video", m.id, caption=caption[:200], keyframes=[f.time_s for f in frames])
        video_vecs.append(vec)
        updates = {"width": info.width, "height": info.height, "duration_s": info.duration_s}
        caption_key = _sibling(m.path, ".caption.txt")
        self.files.put(caption_key, caption.encode("utf-8"))
        updates["caption_path"] = caption_key
        spoken = None
        if self.speech is not None:
            wav = extract_audio(local, tmp / f"{m.id}.wav")
            if wav is not None and has_speech(wav):
                transcript = self.speech.transcribe(wav)
                if transcript.text.strip():
                    spoken = transcript.text.strip()
                    key = _sibling(m.path, ".transcript.txt")
                    self.files.put(key, spoken.encode("utf-8"))
                    updates["transcript_path"] = key
                    stats.transcripts += 1
        text_vec = self.text.embed([spoken or caption])[0]
        add(f"{m.id}:video_text", text_vec, "video_text", m.id, source="transcript" if spoken else "caption",
            snippet=(spoken or caption)[:200])
        media_updates[m.id] = updates
        stats.videos += 1

    def _model_of(self, kind: str) -> str:
        return getattr(self.images, "name", "-") if kind in ("image", "video") else self.text.name

    def _local_copy(self, key: str, tmp: Path) -> Path:
        """A real file for ffmpeg and Pillow: the store's own path when local, else a temporary copy."""
        local = self.files.local_path(key)
        if local is not None and local.is_file():
            return local
        target = tmp / key.replace("/", "_")
        target.write_bytes(self.files.get(key))
        return target


def delete_article_vectors(db, vectors, article_id: str) -> int:
    """Remove an article's vectors from the vector DB and their references from the RDB."""
    n = vectors.delete_article(article_id)
    with db.session() as s:
        s.execute(delete(VectorRef).where(VectorRef.article_id == article_id))
        row = s.get(Article, article_id)
        if row is not None:
            row.index_key = None
            row.indexed_at = None
    return n


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def _sibling(media_key: str, suffix: str) -> str:
    """images/01.jpg -> images/01.caption.txt: text files live beside their media, in the article's folder."""
    stem = media_key.rsplit(".", 1)[0]
    return stem + suffix


__all__ = ["Indexer", "IndexStats", "REPR_WEIGHTS", "delete_article_vectors"]
