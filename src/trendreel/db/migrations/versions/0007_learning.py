"""the learning loop: imported publication histories, fitted models, recorded choices

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A publication imported from elsewhere (a channel's past videos) has no video of ours.
    with op.batch_alter_table("publication") as batch_op:
        batch_op.alter_column("video_id", existing_type=sa.String(length=32), nullable=True)
    op.create_table(
        "learned_model",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("backend", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("features_version", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trained_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("n_train", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("evaluation", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "version", name="uq_learned_model_kind_version"),
    )
    op.create_table(
        "decision",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("context", sa.String(length=200), nullable=False),
        sa.Column("policy", sa.String(length=20), nullable=False),
        sa.Column("arm", sa.String(length=20), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("trend_id", sa.String(length=32), nullable=False),
        sa.Column("model_id", sa.String(length=32), nullable=True),
        sa.Column("expected_views", sa.Double(), nullable=True),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("candidates", sa.Integer(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("decision") as batch_op:
        batch_op.create_index("ix_decision_trend_id", ["trend_id"], unique=False)


def downgrade() -> None:
    op.drop_table("decision")
    op.drop_table("learned_model")
    with op.batch_alter_table("publication") as batch_op:
        batch_op.alter_column("video_id", existing_type=sa.String(length=32), nullable=False)
