"""RDB tables: the index of what is stored. Rows hold paths and metadata, never blobs."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UtcDateTime(TypeDecorator):
    """A timestamp that always comes back timezone-aware in UTC (SQLite drops the zone on its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return value

    def process_result_value(self, value, dialect):
        if value is not None:
            value = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime}


class Category(Base):
    """Category master: a small editable list of topics (life, economy, ...)."""

    __tablename__ = "category"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    name_ko: Mapped[str | None] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Source(Base):
    __tablename__ = "source"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # feed | sitemap | site | urls
    config: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class CrawlRun(Base):
    """One `trendreel crawl` invocation; lets a user see what ran and resume it."""

    __tablename__ = "crawl_run"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(20), default="running")  # running | finished | failed
    sources: Mapped[list] = mapped_column(JSON, default=list)
    stats: Mapped[dict] = mapped_column(JSON, default=dict)


class CrawlUrl(Base):
    """The crawl frontier and each URL's last outcome (the error row of a failed page lives here)."""

    __tablename__ = "crawl_url"
    __table_args__ = (
        UniqueConstraint("source_id", "url_hash", name="uq_crawl_url_source_hash"),
        Index("ix_crawl_url_status", "source_id", "status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text)
    url_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20), default="page")  # page | feed | sitemap
    depth: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued | done | error | skipped | not_modified
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    http_status: Mapped[int | None] = mapped_column(Integer)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(String(64))
    content_type: Mapped[str | None] = mapped_column(String(120))
    error_kind: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(Text)
    article_id: Mapped[str | None] = mapped_column(String(32))
    discovered_from: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Article(Base):
    __tablename__ = "article"
    __table_args__ = (
        Index("ix_article_published", "published_at"),
        Index("ix_article_content_hash", "content_hash"),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # from the canonical URL, see ids.article_id
    source_id: Mapped[int | None] = mapped_column(ForeignKey("source.id", ondelete="SET NULL"))
    url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    lang: Mapped[str | None] = mapped_column(String(16))
    author: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    sitename: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id", ondelete="SET NULL"))
    summary: Mapped[str | None] = mapped_column(Text)
    key_data: Mapped[dict] = mapped_column(JSON, default=dict)
    content_hash: Mapped[str] = mapped_column(String(64))
    minhash: Mapped[str] = mapped_column(String(512))  # 64 x uint32 MinHash signature, hex (256 bytes)
    text_chars: Mapped[int] = mapped_column(Integer, default=0)
    duplicate_of: Mapped[str | None] = mapped_column(String(32))
    lead_image_url: Mapped[str | None] = mapped_column(Text)
    html_path: Mapped[str | None] = mapped_column(Text)
    text_path: Mapped[str | None] = mapped_column(Text)
    meta_path: Mapped[str | None] = mapped_column(Text)
    crawled_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    files_purged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # What the index stage last indexed: models and content hash; a different key means re-index.
    index_key: Mapped[str | None] = mapped_column(String(200))
    indexed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Imported items (`trendreel import`) keep the id they came with, so evidence can name it.
    external_id: Mapped[str | None] = mapped_column(String(200), index=True)


class ArticleLsh(Base):
    """MinHash LSH bands of each original article: an equal band makes a near-duplicate candidate."""

    __tablename__ = "article_lsh"
    __table_args__ = (Index("ix_article_lsh_key", "key"),)
    article_id: Mapped[str] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), primary_key=True)
    band: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[int] = mapped_column(BigInteger)  # hash of (band number, band values)


class MediaItem(Base):
    __tablename__ = "media_item"
    __table_args__ = (UniqueConstraint("article_id", "kind", "source_url", name="uq_media_article_kind_url"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    article_id: Mapped[str] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))  # image | video | embed
    source_url: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | stored | linked | error
    path: Mapped[str | None] = mapped_column(Text)
    mime: Mapped[str | None] = mapped_column(String(80))
    bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    phash: Mapped[str | None] = mapped_column(String(32))
    alt: Mapped[str | None] = mapped_column(Text)
    caption: Mapped[str | None] = mapped_column(Text)
    caption_path: Mapped[str | None] = mapped_column(Text)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration_s: Mapped[float | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    files_purged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    transcript_path: Mapped[str | None] = mapped_column(Text)  # videos: speech-to-text, a text file


class VectorRef(Base):
    """Which vectors the vector DB holds for an article: the RDB side of the link, by id."""

    __tablename__ = "vector_ref"
    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # the vector's id in the vector store
    article_id: Mapped[str] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), index=True)
    media_id: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))  # article | chunk | image | video | video_text | article_repr
    model: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Trend(Base):
    """One trend: a group of items about one thing that grows, with its one-line text and history.

    The id comes from the trend's first window and its earliest item, so re-running detection over
    the same data lands on the same rows; `history` holds one entry per window the trend was seen in.
    """

    __tablename__ = "trend"
    __table_args__ = (Index("ix_trend_last_seen", "last_seen_at"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str | None] = mapped_column(String(16))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id", ondelete="SET NULL"))
    score: Mapped[float] = mapped_column(default=0.0)
    burst: Mapped[float] = mapped_column(default=0.0)
    spread: Mapped[int] = mapped_column(Integer, default=0)  # distinct sources among its items
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    window_s: Mapped[int] = mapped_column(Integer)
    key_phrases: Mapped[list] = mapped_column(JSON, default=list)
    history: Mapped[list] = mapped_column(JSON, default=list)
    detector: Mapped[str] = mapped_column(String(200))  # models and parameters that produced it
    detected_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class TrendItem(Base):
    """Evidence: which stored item belongs to which trend, and how close it is to the trend's centre."""

    __tablename__ = "trend_item"
    trend_id: Mapped[str] = mapped_column(ForeignKey("trend.id", ondelete="CASCADE"), primary_key=True)
    article_id: Mapped[str] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), primary_key=True, index=True)
    similarity: Mapped[float] = mapped_column(default=0.0)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime)


class Story(Base):
    """A validated story for one short video: trend + one stored item in, scenes with provenance out.

    The whole story (scenes, media references, citations) is kept as JSON so that evaluation can read
    what was said after every file is purged.
    """

    __tablename__ = "story"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    trend_id: Mapped[str | None] = mapped_column(ForeignKey("trend.id", ondelete="SET NULL"), index=True)
    article_id: Mapped[str | None] = mapped_column(ForeignKey("article.id", ondelete="SET NULL"), index=True)
    backend: Mapped[str] = mapped_column(String(40))
    model: Mapped[str | None] = mapped_column(String(200))
    lang: Mapped[str | None] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    duration_s: Mapped[float] = mapped_column(default=0.0)
    grounding: Mapped[float | None] = mapped_column()  # share of scenes supported by their cited source
    body: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Video(Base):
    """A video file made from a story: rendered (stage=rendered) or an edit of another (stage=edited).

    Files live under videos/<yyyy>/<mm>/<dd>/<video_id>/ in the file store; the row keeps the paths
    and facts an evaluation needs after the files are purged.
    """

    __tablename__ = "video"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    story_id: Mapped[str | None] = mapped_column(ForeignKey("story.id", ondelete="SET NULL"), index=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("video.id", ondelete="SET NULL"), index=True)
    stage: Mapped[str] = mapped_column(String(10))  # rendered | edited
    backend: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="done")  # running | done | error
    path: Mapped[str | None] = mapped_column(Text)
    thumbnail_path: Mapped[str | None] = mapped_column(Text)
    subtitles_path: Mapped[str | None] = mapped_column(Text)
    duration_s: Mapped[float | None] = mapped_column()
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict] = mapped_column(JSON, default=dict)  # backend parameters, timings, warnings
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    files_purged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The approval gate: a person (or auto-approve) says yes before anything is published.
    review: Mapped[str | None] = mapped_column(String(10))  # None = waiting | approved | rejected
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reviewed_by: Mapped[str | None] = mapped_column(String(100))


class Account(Base):
    """A platform account videos are published to: several per platform, told apart by name.

    `credentials` holds the OAuth token JSON encrypted at rest (never plain, never logged); removing an
    account keeps the row (marked `removed_at`) so its publications keep their history.
    """

    __tablename__ = "account"
    __table_args__ = (UniqueConstraint("platform", "name", name="uq_account_platform_name"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))  # youtube | folder | ...
    name: Mapped[str] = mapped_column(String(100))
    credentials: Mapped[str | None] = mapped_column(Text)  # encrypted
    options: Mapped[dict] = mapped_column(JSON, default=dict)  # e.g. folder path, quota project, default privacy
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Publication(Base):
    """One video on one account. Unique per (video, account): the same video is never posted twice there.

    `upload_state` keeps what a crash must not lose (the resumable session, bytes the platform
    confirmed), so an interrupted upload resumes instead of starting a second one.
    """

    __tablename__ = "publication"
    __table_args__ = (UniqueConstraint("video_id", "account_id", name="uq_publication_video_account"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # None for a publication imported from elsewhere (`trendreel metrics import`): not a video of ours.
    video_id: Mapped[str | None] = mapped_column(ForeignKey("video.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("account.id"), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | uploading | done | error
    external_id: Mapped[str | None] = mapped_column(String(200), index=True)
    url: Mapped[str | None] = mapped_column(Text)
    privacy: Mapped[str] = mapped_column(String(20), default="private")
    title: Mapped[str | None] = mapped_column(Text)
    fingerprint: Mapped[str | None] = mapped_column(String(256))  # perceptual signature: near-duplicate guard
    upload_state: Mapped[dict] = mapped_column(JSON, default=dict)
    details: Mapped[dict] = mapped_column(JSON, default=dict)  # metadata sent, quota units, ...
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)


class PublicationTrend(Base):
    """The trends live when a video was published (a snapshot: later detection does not change it)."""

    __tablename__ = "publication_trend"
    publication_id: Mapped[str] = mapped_column(ForeignKey("publication.id", ondelete="CASCADE"), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)
    trend_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    score: Mapped[float] = mapped_column(default=0.0)
    category: Mapped[str | None] = mapped_column(String(40))
    captured_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class MetricSample(Base):
    """Views, likes and comments of one publication at one time: the series that evaluation reads."""

    __tablename__ = "metric_sample"
    __table_args__ = (Index("ix_metric_sample_publication_at", "publication_id", "collected_at"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    publication_id: Mapped[str] = mapped_column(ForeignKey("publication.id", ondelete="CASCADE"))
    collected_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    views: Mapped[int | None] = mapped_column(BigInteger)
    likes: Mapped[int | None] = mapped_column(BigInteger)
    comments: Mapped[int | None] = mapped_column(BigInteger)
    raw: Mapped[dict] = mapped_column(JSON, default=dict)


class LearnedModel(Base):
    """A fitted model (views forecaster or cold-start predictor): its bytes in the file store, its evaluation here.

    `version` counts up per kind; the newest is the one forecasts use. The evaluation (time split, the
    model beside the plain baselines) is kept with it, so a model's figures are never separated from it.
    """

    __tablename__ = "learned_model"
    __table_args__ = (UniqueConstraint("kind", "version", name="uq_learned_model_kind_version"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # forecaster | cold_start
    backend: Mapped[str] = mapped_column(String(40))  # the registry's views_model name
    version: Mapped[int] = mapped_column(Integer)
    features_version: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    trained_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    n_train: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(Text)
    bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    evaluation: Mapped[dict] = mapped_column(JSON, default=dict)


class Decision(Base):
    """One trend the pipeline chose to make a story of: by which policy and arm (ranked or exploring),
    with which model's expected views. Joined through story -> video -> publication to the views it got."""

    __tablename__ = "decision"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    made_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    context: Mapped[str] = mapped_column(String(200))  # what asked: the demo, a workflow id, a person
    policy: Mapped[str] = mapped_column(String(20))  # ranked | epsilon | thompson | random | score
    arm: Mapped[str] = mapped_column(String(20))  # ranked | explore
    rank: Mapped[int] = mapped_column(Integer)
    trend_id: Mapped[str] = mapped_column(String(32), index=True)
    model_id: Mapped[str | None] = mapped_column(String(32))
    expected_views: Mapped[float | None] = mapped_column()
    score: Mapped[float | None] = mapped_column()
    candidates: Mapped[int] = mapped_column(Integer)
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class QuotaUsage(Base):
    """API quota spent per project and day (the platform's day), counted before each call that costs."""

    __tablename__ = "quota_usage"
    project: Mapped[str] = mapped_column(String(100), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD in the platform's time zone
    units: Mapped[int] = mapped_column(Integer, default=0)


class User(Base):
    """A person who works in the web workspace or owns API tokens; the role says what they may do."""

    __tablename__ = "app_user"  # "user" is a reserved word in PostgreSQL
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str | None] = mapped_column(Text)  # a standard KDF's encoded hash, never the password
    role: Mapped[str] = mapped_column(String(10), default="viewer")  # viewer | editor | admin
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ApiToken(Base):
    """A bearer token for programs; only its hash is stored (the token is shown once, when made)."""

    __tablename__ = "api_token"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class UserSession(Base):
    """A browser session. The signed cookie carries a random session id; only its sha256 is stored. Logging
    out, a new password or removing the user deletes the row, so a copied cookie stops working at once."""

    __tablename__ = "user_session"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the id in the cookie
    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LoginAttempt(Base):
    """A login attempt by name and address: failed ones in the last `serve.login_window_s` throttle logins."""

    __tablename__ = "login_attempt"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(100), index=True)  # as typed, lower-cased
    address: Mapped[str] = mapped_column(String(64), index=True)
    ok: Mapped[bool] = mapped_column(Boolean, default=False)


class PipelineRun(Base):
    """One run of the pipeline (or of some of its stages) started from the API or a schedule."""

    __tablename__ = "pipeline_run"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # e.g. full, crawl, index, trends, video
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued | running | done | error
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    progress: Mapped[dict] = mapped_column(JSON, default=dict)  # per stage: state, done, total
    result: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Event(Base):
    """Append-only domain events (ArticleCrawled, MediaStored, ...): the log DB's spine."""

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_type_at", "type", "at"), Index("ix_event_subject", "subject_type", "subject_id"))
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    type: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[str] = mapped_column(String(64))
    # Same key twice = same fact: makes re-running a stage append nothing new.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)


class ScheduledPost(Base):
    """A planned post of one video on one account: at most one per (video, account), kept across restarts.

    `planned_at` is final when the row is written (jitter drawn once and stored, caps and spacing applied),
    so what the calendar shows is what goes out. A runner claims a due row by moving it from planned to
    publishing in one transaction; a crashed runner's claim is resumed after schedule.claim_timeout
    through the publish service, which never posts one video twice on one account.
    """

    __tablename__ = "scheduled_post"
    __table_args__ = (UniqueConstraint("video_id", "account_id", name="uq_scheduled_post_video_account"),
                      Index("ix_scheduled_post_status_planned", "status", "planned_at"))
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    video_id: Mapped[str] = mapped_column(ForeignKey("video.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("account.id"), index=True)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)  # the time asked (--at, or the best hour)
    planned_at: Mapped[datetime] = mapped_column(UtcDateTime)  # when it goes out: asked + jitter, moved for caps/spacing
    jitter_s: Mapped[float] = mapped_column(default=0.0)
    how: Mapped[str] = mapped_column(String(10))  # at | best | next
    privacy: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="planned")  # planned | publishing | done | error | cancelled
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    publication_id: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict] = mapped_column(JSON, default=dict)  # the best-time estimate, moves for caps/spacing
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
