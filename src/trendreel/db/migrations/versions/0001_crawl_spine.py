"""crawl spine: category, source, crawl, article, media, event

Revision ID: 0001
Revises: 
Create Date: 2026-11-24

The category master is seeded here; it stays editable (`trendreel categories`).
"""
from alembic import op
import sqlalchemy as sa
from datetime import datetime, timezone


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

SEED_CATEGORIES = [
    ("life", "Life", "생활", "daily life, health, food, travel, leisure, trends in how people live"),
    ("economy", "Economy", "경제", "business, markets, companies, trade, jobs, prices, real estate"),
    ("entertainment", "Entertainment & gossip", "연예", "celebrities, music, film, TV, K-pop, gossip"),
    ("politics", "Politics", "정치", "government, parliament, elections, parties, diplomacy, North Korea"),
    ("society", "Society", "사회", "crime, courts, education, labour, accidents, welfare, local news"),
    ("sports", "Sports", "스포츠", "football, baseball, basketball, golf, Olympics, athletes, matches"),
    ("tech", "Tech & science", "IT과학", "technology, IT, AI, science, telecoms, games, space, research"),
    ("world", "World", "세계", "international news, foreign countries, conflicts, global affairs"),
    ("culture", "Culture", "문화", "arts, books, exhibitions, religion, heritage, culture, fashion"),
]


def upgrade() -> None:
    op.create_table('category',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('name_ko', sa.String(length=80), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug')
    )
    op.create_table('crawl_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('sources', sa.JSON(), nullable=False),
    sa.Column('stats', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('subject_type', sa.String(length=20), nullable=False),
    sa.Column('subject_id', sa.String(length=64), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedupe_key')
    )
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.create_index('ix_event_subject', ['subject_type', 'subject_id'], unique=False)
        batch_op.create_index('ix_event_type_at', ['type', 'at'], unique=False)

    op.create_table('source',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('article',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('canonical_url', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('lang', sa.String(length=16), nullable=True),
    sa.Column('author', sa.Text(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('sitename', sa.Text(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('key_data', sa.JSON(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('minhash', sa.String(length=512), nullable=False),
    sa.Column('text_chars', sa.Integer(), nullable=False),
    sa.Column('duplicate_of', sa.String(length=32), nullable=True),
    sa.Column('lead_image_url', sa.Text(), nullable=True),
    sa.Column('html_path', sa.Text(), nullable=True),
    sa.Column('text_path', sa.Text(), nullable=True),
    sa.Column('meta_path', sa.Text(), nullable=True),
    sa.Column('crawled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('files_purged_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['source_id'], ['source.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('article', schema=None) as batch_op:
        batch_op.create_index('ix_article_content_hash', ['content_hash'], unique=False)
        batch_op.create_index('ix_article_published', ['published_at'], unique=False)

    op.create_table('crawl_url',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('url_hash', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('depth', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('http_status', sa.Integer(), nullable=True),
    sa.Column('etag', sa.Text(), nullable=True),
    sa.Column('last_modified', sa.String(length=64), nullable=True),
    sa.Column('content_type', sa.String(length=120), nullable=True),
    sa.Column('error_kind', sa.String(length=40), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('article_id', sa.String(length=32), nullable=True),
    sa.Column('discovered_from', sa.Text(), nullable=True),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['source.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_id', 'url_hash', name='uq_crawl_url_source_hash')
    )
    with op.batch_alter_table('crawl_url', schema=None) as batch_op:
        batch_op.create_index('ix_crawl_url_status', ['source_id', 'status'], unique=False)

    op.create_table('article_lsh',
    sa.Column('article_id', sa.String(length=32), nullable=False),
    sa.Column('band', sa.Integer(), nullable=False),
    sa.Column('key', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['article.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('article_id', 'band')
    )
    with op.batch_alter_table('article_lsh', schema=None) as batch_op:
        batch_op.create_index('ix_article_lsh_key', ['key'], unique=False)

    op.create_table('media_item',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('article_id', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('source_url', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('path', sa.Text(), nullable=True),
    sa.Column('mime', sa.String(length=80), nullable=True),
    sa.Column('bytes', sa.BigInteger(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('phash', sa.String(length=32), nullable=True),
    sa.Column('alt', sa.Text(), nullable=True),
    sa.Column('caption', sa.Text(), nullable=True),
    sa.Column('caption_path', sa.Text(), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('duration_s', sa.Double(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('files_purged_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['article_id'], ['article.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('article_id', 'kind', 'source_url', name='uq_media_article_kind_url')
    )
    with op.batch_alter_table('media_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_media_item_article_id'), ['article_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_media_item_sha256'), ['sha256'], unique=False)

    category = sa.table(
        "category",
        sa.column("slug", sa.String), sa.column("name", sa.String), sa.column("name_ko", sa.String),
        sa.column("description", sa.String), sa.column("created_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(timezone.utc)
    op.bulk_insert(category, [
        {"slug": slug, "name": name, "name_ko": ko, "description": desc, "created_at": now}
        for slug, name, ko, desc in SEED_CATEGORIES
    ])


def downgrade() -> None:
    with op.batch_alter_table('media_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_media_item_sha256'))
        batch_op.drop_index(batch_op.f('ix_media_item_article_id'))

    op.drop_table('media_item')
    with op.batch_alter_table('article_lsh', schema=None) as batch_op:
        batch_op.drop_index('ix_article_lsh_key')

    op.drop_table('article_lsh')
    with op.batch_alter_table('crawl_url', schema=None) as batch_op:
        batch_op.drop_index('ix_crawl_url_status')

    op.drop_table('crawl_url')
    with op.batch_alter_table('article', schema=None) as batch_op:
        batch_op.drop_index('ix_article_published')
        batch_op.drop_index('ix_article_content_hash')

    op.drop_table('article')
    op.drop_table('source')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index('ix_event_type_at')
        batch_op.drop_index('ix_event_subject')

    op.drop_table('event')
    op.drop_table('crawl_run')
    op.drop_table('category')
