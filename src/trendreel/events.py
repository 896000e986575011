"""Domain events, named in the past tense; each is an append-only row in the `event` table."""

from __future__ import annotations

ARTICLE_CRAWLED = "ArticleCrawled"
ARTICLE_UPDATED = "ArticleUpdated"
ARTICLE_IMPORTED = "ArticleImported"
MEDIA_STORED = "MediaStored"
ARTICLE_INDEXED = "ArticleIndexed"
TREND_DETECTED = "TrendDetected"
STORY_WRITTEN = "StoryWritten"
VIDEO_RENDERED = "VideoRendered"
VIDEO_EDITED = "VideoEdited"
VIDEO_APPROVED = "VideoApproved"
VIDEO_REJECTED = "VideoRejected"
VIDEO_PUBLISHED = "VideoPublished"
METRICS_COLLECTED = "MetricsCollected"
FILE_PURGED = "FilePurged"
PUBLICATION_IMPORTED = "PublicationImported"
MODEL_FITTED = "ModelFitted"
TREND_CHOSEN = "TrendChosen"
LOGIN_FAILED = "LoginFailed"  # a wrong password or a throttled try (the service's security log)

ALL = [
    ARTICLE_CRAWLED, ARTICLE_UPDATED, ARTICLE_IMPORTED, MEDIA_STORED, ARTICLE_INDEXED, TREND_DETECTED,
    STORY_WRITTEN, VIDEO_RENDERED, VIDEO_EDITED, VIDEO_APPROVED, VIDEO_REJECTED, VIDEO_PUBLISHED, METRICS_COLLECTED, FILE_PURGED,
    PUBLICATION_IMPORTED, MODEL_FITTED, TREND_CHOSEN, LOGIN_FAILED,
]
