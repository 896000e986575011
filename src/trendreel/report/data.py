"""What the report shows, read from the RDB alone (never from the file store, so purged files change nothing).

One query for the publications with their video, story, trend, category and account; the samples are
streamed once in (publication, time) order, so the CSV of samples is written while the latest counts
of each publication are taken; the series of the videos drawn in the plot are read afterwards.

The report is about our own publications (status done). Histories imported from other channels
(status imported, no video, an external account) only feed the models: they are counted, never read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import aliased

from trendreel.db.tables import (
    Account,
    Article,
    Category,
    MetricSample,
    Publication,
    PublicationTrend,
    Story,
    Trend,
    Video,
)
from trendreel.learn.rows import IMPORTED


@dataclass
class PublicationFacts:
    id: str
    video_id: str
    story_id: str | None
    title: str
    lang: str | None
    trend_id: str | None
    trend: str | None
    category: str | None
    platform: str
    account: str  # platform:name
    url: str | None
    published_at: datetime
    samples: int = 0
    first_collected_at: datetime | None = None
    last_collected_at: datetime | None = None
    views: int | None = None  # the latest known counts (None: no sample had them)
    likes: int | None = None
    comments: int | None = None
    status: str | None = None  # the latest sample's status: ok | no_stats | not_found
    trends_at_upload: list[dict] = field(default_factory=list)  # rank, text, score, category


def load_publications(session) -> dict[str, PublicationFacts]:
    """Done publications with what they were made from, in publishing order."""
    trend_cat = aliased(Category)
    article_cat = aliased(Category)
    q = (select(Publication, Account.name, Video.story_id, Story.title, Story.lang, Story.trend_id, Trend.text,
                trend_cat.slug, article_cat.slug)
         .join(Account, Account.id == Publication.account_id)
         .outerjoin(Video, Video.id == Publication.video_id)
         .outerjoin(Story, Story.id == Video.story_id)
         .outerjoin(Trend, Trend.id == Story.trend_id)
         .outerjoin(trend_cat, trend_cat.id == Trend.category_id)
         .outerjoin(Article, Article.id == Story.article_id)
         .outerjoin(article_cat, article_cat.id == Article.category_id)
         .where(Publication.status == "done", Publication.published_at.is_not(None))
         .order_by(Publication.published_at, Publication.id))
    out: dict[str, PublicationFacts] = {}
    for pub, account, story_id, story_title, lang, trend_id, trend_text, tcat, acat in session.execute(q).all():
        out[pub.id] = PublicationFacts(
            id=pub.id, video_id=pub.video_id, story_id=story_id, title=pub.title or story_title or pub.video_id,
            lang=lang, trend_id=trend_id, trend=trend_text, category=tcat or acat, platform=pub.platform,
            account=f"{pub.platform}:{account}", url=pub.url, published_at=pub.published_at)
    for row in session.scalars(select(PublicationTrend).order_by(PublicationTrend.publication_id, PublicationTrend.rank)):
        facts = out.get(row.publication_id)
        if facts is not None:
            facts.trends_at_upload.append({"rank": row.rank, "trend_id": row.trend_id, "text": row.text,
                                           "score": row.score, "category": row.category})
    return out


def stream_samples(session, batch: int = 5000) -> Iterator[MetricSample]:
    """Every sample of a done publication in (publication, collected_at) order, read in batches (an
    import of other channels' histories may hold millions of samples: they are not read)."""
    q = (select(MetricSample).join(Publication, Publication.id == MetricSample.publication_id)
         .where(Publication.status == "done")
         .order_by(MetricSample.publication_id, MetricSample.collected_at, MetricSample.id)
         .execution_options(yield_per=batch))
    yield from session.scalars(q)


def count_imported(session) -> int:
    """Histories imported from other channels that have a sample (what the models can learn from)."""
    has_sample = exists().where(MetricSample.publication_id == Publication.id)
    return session.scalar(select(func.count()).select_from(Publication)
                          .where(Publication.status == IMPORTED, has_sample)) or 0


def load_series(session, publication_ids: list[str]) -> dict[str, list[tuple[datetime, int]]]:
    """(collected_at, views) of these publications, samples with unknown views left out."""
    out: dict[str, list[tuple[datetime, int]]] = {pid: [] for pid in publication_ids}
    if not publication_ids:
        return out
    q = (select(MetricSample.publication_id, MetricSample.collected_at, MetricSample.views)
         .where(MetricSample.publication_id.in_(publication_ids), MetricSample.views.is_not(None))
         .order_by(MetricSample.publication_id, MetricSample.collected_at, MetricSample.id))
    for pid, at, views in session.execute(q).all():
        out[pid].append((at, views))
    return out
