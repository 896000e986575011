"""login attempts by name and address, counted to throttle password guessing

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("login_attempt") as batch_op:
        batch_op.create_index("ix_login_attempt_at", ["at"], unique=False)
        batch_op.create_index("ix_login_attempt_username", ["username"], unique=False)
        batch_op.create_index("ix_login_attempt_address", ["address"], unique=False)


def downgrade() -> None:
    op.drop_table("login_attempt")
