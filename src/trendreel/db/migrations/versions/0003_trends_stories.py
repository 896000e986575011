"""trends and stories: imported items' external ids, trend, trend_item, story

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("article") as batch_op:
        batch_op.add_column(sa.Column("external_id", sa.String(length=200), nullable=True))
        batch_op.create_index("ix_article_external_id", ["external_id"], unique=False)
    op.create_table(
        "trend",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(length=16), nullable=True),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("burst", sa.Double(), nullable=False),
        sa.Column("spread", sa.Integer(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_s", sa.Integer(), nullable=False),
        sa.Column("key_phrases", sa.JSON(), nullable=False),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.Column("detector", sa.String(length=200), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["category_id"], ["category.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("trend") as batch_op:
        batch_op.create_index("ix_trend_last_seen", ["last_seen_at"], unique=False)
    op.create_table(
        "trend_item",
        sa.Column("trend_id", sa.String(length=32), nullable=False),
        sa.Column("article_id", sa.String(length=32), nullable=False),
        sa.Column("similarity", sa.Double(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["trend_id"], ["trend.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("trend_id", "article_id"),
    )
    with op.batch_alter_table("trend_item") as batch_op:
        batch_op.create_index("ix_trend_item_article_id", ["article_id"], unique=False)
    op.create_table(
        "story",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("trend_id", sa.String(length=32), nullable=True),
        sa.Column("article_id", sa.String(length=32), nullable=True),
        sa.Column("backend", sa.String(length=40), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("lang", sa.String(length=16), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("duration_s", sa.Double(), nullable=False),
        sa.Column("grounding", sa.Double(), nullable=True),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["trend_id"], ["trend.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("story") as batch_op:
        batch_op.create_index("ix_story_trend_id", ["trend_id"], unique=False)
        batch_op.create_index("ix_story_article_id", ["article_id"], unique=False)


def downgrade() -> None:
    op.drop_table("story")
    op.drop_table("trend_item")
    op.drop_table("trend")
    with op.batch_alter_table("article") as batch_op:
        batch_op.drop_index("ix_article_external_id")
        batch_op.drop_column("external_id")
