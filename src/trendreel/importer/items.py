"""Import dated items from JSON Lines so that trends and stories work on any corpus, not only crawls.

Each line is one item: `id` and `published_at` are required, and a `title` or a `text` to derive one from
(posts, tweets and transcripts have no headline: the first sentence or clause of the text, shortened on
a word boundary, becomes the title, marked `title_derived`); `url`, `text`, `category`, `lang`,
`source` (the outlet), `author`, `images` and `videos` (local file paths, relative to the JSONL
file, or objects with `path` and `caption`) are optional; other keys are kept in meta.json.
Items become article rows like crawled pages (same file layout, same index stage), keep their
`id` as `external_id`, and are keyed so that importing the same file twice changes nothing.
A bad line is reported with its number, the field and the reason, and skipped; what was imported before
it stays. A line longer than crawl.import_max_line_bytes is refused without being read whole; a UTF-8
byte order mark before line 1 is skipped; dates must be ISO 8601 text from 1900 up to a day ahead.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable
from urllib.parse import quote, urlparse

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator
from sqlalchemy import select

from trendreel import events
from trendreel.crawl import dedupe
from trendreel.crawl.extract import detect_language
from trendreel.crawl.fetch import sniff_media_type
from trendreel.crawl.urls import canonicalize
from trendreel.db import repo
from trendreel.db.engine import Database
from trendreel.db.tables import Article, MediaItem
from trendreel.errors import ConfigError
from trendreel.files.layout import article_file, media_file
from trendreel.files.media import extension_for, image_size
from trendreel.files.store import FileStore
from trendreel.ids import article_id as make_article_id
from trendreel.ids import media_id as make_media_id
from trendreel.jsonl import iter_jsonl
from trendreel.logs import get_logger
from trendreel.settings import Settings

log = get_logger(__name__)

BATCH = 200
MAX_TEXT_CHARS = 2_000_000
MAX_ERRORS_KEPT = 200
EARLIEST = datetime(1900, 1, 1, tzinfo=timezone.utc)  # before it, a date is a typo or a placeholder (0001-01-01)
FUTURE_SLACK = timedelta(days=1)  # time zones and clocks a little ahead; further is a typo (9999-12-31)
TITLE_CHARS = 100  # a derived title: at most this many characters


class MediaRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1)
    caption: str | None = None


class ImportItem(BaseModel):
    """One line of an import file."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True, str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=200, description="The item's id in its own system (kept as external_id).")
    title: str | None = Field(None, max_length=2000, description="The headline; without one, derived from `text`.")
    published_at: datetime = Field(description="ISO 8601 date or time; without a zone it is UTC.")
    url: str | None = None
    text: str = Field("", max_length=MAX_TEXT_CHARS)
    category: str | None = None
    lang: str | None = Field(None, max_length=16)
    source: str | None = Field(None, max_length=200, description="Outlet or site name (counts toward a trend's spread).")
    author: str | None = None
    images: list[MediaRef] = Field(default_factory=list)
    videos: list[MediaRef] = Field(default_factory=list)

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        if not v:
            return None
        if urlparse(v).scheme not in ("http", "https"):
            raise ValueError("must be an http(s) URL")
        return canonicalize(v)

    _title_derived: bool = PrivateAttr(False)

    @field_validator("published_at", mode="before")
    @classmethod
    def _text_date(cls, v):
        if isinstance(v, (bool, int, float)):  # 1763600000: seconds? milliseconds? which zone? ask for text
            raise ValueError(f"{v!r} is a number, not a date: give ISO 8601 text (e.g. 2026-11-20 or "
                             "2026-11-20T09:30:00+09:00)")
        return v

    @field_validator("published_at")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        v = v.replace(tzinfo=timezone.utc) if v.tzinfo is None else v.astimezone(timezone.utc)
        if v < EARLIEST:
            raise ValueError(f"{v.date().isoformat()} is before 1900: a placeholder or a typo, not when the item "
                             "was published")
        latest = datetime.now(timezone.utc) + FUTURE_SLACK
        if v > latest:
            raise ValueError(f"{v.date().isoformat()} is in the future (later than {latest.date().isoformat()}, UTC): "
                             "give the time the item was published")
        return v

    @model_validator(mode="after")
    def _a_title(self) -> ImportItem:
        if not self.title:
            derived = derive_title(self.text)
            if not derived:
                raise ValueError("title: missing, and no text to derive one from (give a title or a text)")
            self.title = derived
            self._title_derived = True
        return self

    @property
    def title_derived(self) -> bool:
        return self._title_derived

    @field_validator("images", "videos", mode="before")
    @classmethod
    def _paths(cls, v):
        if v is None:
            return []
        if not isinstance(v, list):
            raise ValueError("must be a list of file paths")
        return [{"path": x} if isinstance(x, str) else x for x in v]


@dataclass
class ImportStats:
    lines: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    media_stored: int = 0
    media_errors: int = 0
    # {line, field, reason, error (field: reason), problems: [{field, reason}]}; the first MAX_ERRORS_KEPT
    errors: list[dict] = field(default_factory=list)
    article_ids: list[str] = field(default_factory=list)

    def error(self, line: int, message: str, *, skipped: bool = True, field: str | None = None,
              problems: list[dict] | None = None) -> None:
        """Line `line` was refused (or, with skipped=False, stored with a problem): which field, and why."""
        if skipped:
            self.skipped += 1
        problems = problems or [{"field": field, "reason": message}]
        if len(self.errors) < MAX_ERRORS_KEPT:
            error = "; ".join(f"{p['field']}: {p['reason']}" if p["field"] else p["reason"] for p in problems)
            self.errors.append({"line": line, "field": problems[0]["field"], "reason": problems[0]["reason"],
                                "error": error, "problems": problems})
        log.debug("import.bad_line", line=line, error=message)

    def as_dict(self) -> dict:
        return {"lines": self.lines, "new": self.new, "updated": self.updated, "unchanged": self.unchanged,
                "skipped": self.skipped, "media_stored": self.media_stored, "media_errors": self.media_errors,
                "errors": self.errors}


def import_jsonl(*, db: Database, files: FileStore, settings: Settings, path: Path, source: str = "import",
                 on_progress: Callable[[int, int], None] | None = None) -> ImportStats:
    """Store every good line of `path` as an article (with its media); report the bad ones."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such file (give a JSON Lines file, one item per line)")
    if not source or any(c.isspace() for c in source):
        raise ConfigError("--source must be a name without spaces")
    total = path.stat().st_size
    stats = ImportStats()
    with db.session() as s:
        src = repo.upsert_source(s, name=source, kind="import", config={"file": path.name})
        source_id = src.id
        known_categories = {c.slug: c.id for c in repo.list_categories(s)}
    importer = _Importer(db=db, files=files, settings=settings, base=path.parent, source=source,
                         source_id=source_id, categories=known_categories, stats=stats)
    done_bytes = 0
    def bad_line(n: int, reason: str) -> None:
        stats.lines += 1
        stats.error(n, reason)

    for n, obj in iter_jsonl(path, on_bad_line=bad_line, max_line_bytes=settings.crawl.import_max_line_bytes,
                             limit_setting="crawl.import_max_line_bytes"):
        stats.lines += 1
        importer.add(n, obj)
        done_bytes += len(json.dumps(obj, ensure_ascii=False).encode("utf-8")) + 1
        if on_progress and stats.lines % 100 == 0:
            on_progress(min(done_bytes, total), total)
    importer.flush()
    if on_progress:
        on_progress(total, total)
    return stats


class _Importer:
    """Writes files right away and rows in batches; files before rows, so a crash leaves no row
    pointing at a missing file (a re-run rewrites the same keys)."""

    def __init__(self, *, db, files, settings, base: Path, source: str, source_id: int, categories: dict, stats: ImportStats):
        self.db, self.files, self.settings = db, files, settings
        self.base, self.source, self.source_id = base, source, source_id
        self.categories, self.stats = categories, stats
        self._batch: list[tuple[int, ImportItem]] = []

    def add(self, line: int, obj: dict) -> None:
        try:
            item = ImportItem.model_validate(obj)
        except ValidationError as exc:
            problems = _validation_problems(exc)
            self.stats.error(line, problems[0]["reason"], problems=problems)
            return
        if item.category and item.category not in self.categories:
            known = ", ".join(sorted(self.categories))
            self.stats.error(line, f"unknown category {item.category!r} (known: {known}); "
                                   f"add it with `trendreel categories set {item.category}` or leave it out",
                             field="category")
            return
        self._batch.append((line, item))
        if len(self._batch) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self._batch:
            return
        batch, self._batch = self._batch, []
        seen: dict[str, int] = {}
        with self.db.session() as s:
            ids = [_article_id(self.source, item) for _, item in batch]
            existing = dict(s.execute(select(Article.id, Article.content_hash).where(Article.id.in_(ids))).all())
            for (line, item), aid in zip(batch, ids):
                if aid in seen:
                    self.stats.error(line, f"same item as line {seen[aid]} (same url or id); the later line is skipped",
                                     field="url" if item.url else "id")
                    continue
                seen[aid] = line
                self._save(s, line, item, aid, existing.get(aid))

    def _save(self, s, line: int, item: ImportItem, aid: str, old_hash: str | None) -> None:
        text = item.text
        content_hash = hashlib.sha256(f"{item.title}\n\n{text}".encode("utf-8")).hexdigest()
        self.stats.article_ids.append(aid)
        if old_hash == content_hash:
            self.stats.unchanged += 1
            self._store_media(s, line, aid, item)
            return
        meta = {"imported": item.model_dump(mode="json"), "source": self.source, "line": line,
                "title_derived": item.title_derived}
        self.files.put(article_file(aid, "article.txt"), text.encode("utf-8"))
        self.files.put(article_file(aid, "meta.json"), json.dumps(meta, ensure_ascii=False, indent=1).encode("utf-8"))
        row = s.get(Article, aid)
        is_new = row is None
        if is_new:
            row = Article(id=aid)
            s.add(row)
        row.source_id = self.source_id
        row.external_id = item.id
        row.url = item.url or _item_urn(self.source, item.id)
        row.canonical_url = row.url
        row.title = item.title
        row.lang = item.lang or detect_language(f"{item.title}\n{text}")
        row.author = item.author
        row.sitename = item.source or (urlparse(item.url).hostname if item.url else self.source)
        row.published_at = item.published_at
        row.category_id = self.categories.get(item.category) if item.category else row.category_id
        row.key_data = {"imported": True, "extra": item.model_extra or {}, "title_derived": item.title_derived}
        row.content_hash = content_hash
        # No LSH bands: an import is the user's own corpus, kept whole rather than de-duplicated.
        row.minhash = dedupe.to_hex(dedupe.minhash(f"{item.title}\n{text}"))
        row.text_chars = len(text)
        row.text_path = article_file(aid, "article.txt")
        row.meta_path = article_file(aid, "meta.json")
        s.flush()
        etype = events.ARTICLE_IMPORTED if is_new else events.ARTICLE_UPDATED
        repo.append_event(s, type=etype, subject_type="article", subject_id=aid,
                          dedupe_key=f"{etype}:{aid}:{content_hash}",
                          payload={"external_id": item.id, "source": self.source, "title": item.title})
        if is_new:
            self.stats.new += 1
        else:
            self.stats.updated += 1
        self._store_media(s, line, aid, item)

    def _store_media(self, s, line: int, aid: str, item: ImportItem) -> None:
        """Copy each media file into the store once; a missing or wrong file is reported, not fatal."""
        wanted = [("image", pos, ref) for pos, ref in enumerate(item.images, start=1)]
        wanted += [("video", pos, ref) for pos, ref in enumerate(item.videos, start=1)]
        for kind, pos, ref in wanted:
            mid = make_media_id(aid, kind, ref.path)
            row = s.get(MediaItem, mid)
            if row is not None and row.status == "stored":
                continue
            if row is None:
                row = MediaItem(id=mid, article_id=aid, position=pos, kind=kind, source_url=ref.path)
                s.add(row)
            row.caption = ref.caption
            try:
                local, mime = self._check_media(kind, ref.path)
            except ValueError as exc:
                row.status, row.error = "error", str(exc)
                self.stats.media_errors += 1
                self.stats.error(line, f"{ref.path}: {exc}", skipped=False, field=f"{kind}s[{pos - 1}]")
                continue
            key = media_file(aid, kind, pos, extension_for(mime, ref.path))
            stored = self.files.put_file(key, local)
            row.status, row.error, row.path, row.mime = "stored", None, key, mime
            row.bytes, row.sha256 = stored.bytes, stored.sha256
            if kind == "image":
                row.width, row.height = image_size(local)
            s.flush()
            repo.append_event(s, type=events.MEDIA_STORED, subject_type="media", subject_id=mid,
                              dedupe_key=f"{events.MEDIA_STORED}:{mid}:{stored.sha256}",
                              payload={"article_id": aid, "kind": kind, "path": key, "bytes": stored.bytes})
            self.stats.media_stored += 1

    def _check_media(self, kind: str, given: str) -> tuple[Path, str]:
        local = Path(given).expanduser()
        if not local.is_absolute():
            local = self.base / local
        if not local.is_file():
            raise ValueError(f"no such file (paths are relative to the import file's folder: {self.base.name}/)")
        size = local.stat().st_size
        if size > self.settings.crawl.max_media_bytes:
            raise ValueError(f"{size:,} bytes is over crawl.max_media_bytes ({self.settings.crawl.max_media_bytes:,})")
        with open(local, "rb") as fh:
            mime = sniff_media_type(fh.read(64))
        if mime is None or not mime.startswith(kind + "/"):
            raise ValueError(f"not {'an image' if kind == 'image' else 'a video'} file this store takes "
                             f"(found {mime or 'unknown content'}; images: JPEG, PNG, GIF, WebP; videos: MP4, WebM, MOV)")
        if mime not in self.settings.crawl.media_types:
            raise ValueError(f"{mime} is not in crawl.media_types")
        return local, mime


def _article_id(source: str, item: ImportItem) -> str:
    """Items with a URL get the same id as a crawl of that URL would; others an id from source + id."""
    return make_article_id(item.url or _item_urn(source, item.id))


def _item_urn(source: str, external_id: str) -> str:
    return f"urn:trendreel:import:{quote(source, safe='')}:{quote(external_id, safe='')}"


def _validation_problems(exc: ValidationError) -> list[dict]:
    """One {field, reason} per problem pydantic found, worded for the person who wrote the file."""
    problems, missing = [], False
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or None
        msg = err["msg"].removeprefix("Value error, ")
        if where is None and msg.startswith("title: "):  # the title check runs on the whole item
            where, msg = "title", msg.removeprefix("title: ")
        if err["type"] == "missing":
            missing, msg = True, "missing"
        elif where == "published_at" and err["type"] != "value_error":
            msg = f"{err.get('input')!r} is not an ISO 8601 date or time (e.g. 2026-11-20 or 2026-11-20T09:30:00+09:00)"
        problems.append({"field": where, "reason": msg})
    if missing:
        problems[-1]["reason"] += " (required: id, published_at, and a title or a text)"
    return problems


_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？])")
_CLAUSE_END = re.compile(r"[,;:，、；：]\s|\s[-–—]\s")


def derive_title(text: str, *, max_chars: int = TITLE_CHARS) -> str:
    """A display title from an item's text: its first sentence, else its first clause, else its start,
    shortened on a word boundary (with "…") to at most `max_chars` characters; "" for no text."""
    flat = " ".join((text or "").split())
    if not flat:
        return ""
    sentence = _SENTENCE_END.split(flat, maxsplit=1)[0].strip()
    if len(sentence) <= max_chars:
        return sentence if len(sentence) == len(flat) or sentence[-1] in ".!?。！？" else sentence + "…"
    clause = _CLAUSE_END.split(sentence, maxsplit=1)[0].strip()
    if 20 <= len(clause) <= max_chars - 1:
        return clause + "…"
    cut = sentence[:max_chars - 1]
    space = cut.rfind(" ")
    if space >= max_chars // 3:  # a word boundary not too far back; else (CJK without spaces) cut as is
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + "…"
