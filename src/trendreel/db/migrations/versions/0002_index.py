"""index stage: what was indexed, transcripts, the RDB side of the vector link

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("article") as batch_op:
        batch_op.add_column(sa.Column("index_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("media_item") as batch_op:
        batch_op.add_column(sa.Column("transcript_path", sa.Text(), nullable=True))
    op.create_table(
        "vector_ref",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("article_id", sa.String(length=32), nullable=False),
        sa.Column("media_id", sa.String(length=40), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("model", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("vector_ref") as batch_op:
        batch_op.create_index("ix_vector_ref_article_id", ["article_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("vector_ref") as batch_op:
        batch_op.drop_index("ix_vector_ref_article_id")
    op.drop_table("vector_ref")
    with op.batch_alter_table("media_item") as batch_op:
        batch_op.drop_column("transcript_path")
    with op.batch_alter_table("article") as batch_op:
        batch_op.drop_column("indexed_at")
        batch_op.drop_column("index_key")
