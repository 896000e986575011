"""the publishing schedule: planned posts, one per video and account

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduled_post",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("video_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("jitter_s", sa.Double(), nullable=False),
        sa.Column("how", sa.String(length=10), nullable=False),
        sa.Column("privacy", sa.String(length=20), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("publication_id", sa.String(length=32), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["video_id"], ["video.id"]),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("video_id", "account_id", name="uq_scheduled_post_video_account"),
    )
    with op.batch_alter_table("scheduled_post") as batch_op:
        batch_op.create_index("ix_scheduled_post_video_id", ["video_id"], unique=False)
        batch_op.create_index("ix_scheduled_post_account_id", ["account_id"], unique=False)
        batch_op.create_index("ix_scheduled_post_status_planned", ["status", "planned_at"], unique=False)


def downgrade() -> None:
    op.drop_table("scheduled_post")
