"""Banks, entries, crop-robust window hashes, API keys.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "banks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "bank_id", sa.Integer, sa.ForeignKey("banks.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("signal_type", sa.String(32), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("quality", sa.Integer, nullable=True),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.String(200), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
    )
    op.create_index("ix_entries_bank_id", "entries", ["bank_id"])
    op.create_index("ix_entries_signal_value", "entries", ["signal_type", "value"])
    op.create_table(
        "entry_windows",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "entry_id",
            sa.Integer,
            sa.ForeignKey("entries.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("value", sa.String(64), nullable=False),
        sa.Column("quality", sa.Integer, nullable=False),
    )
    op.create_index("ix_entry_windows_entry_id", "entry_windows", ["entry_id"])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("scopes", sa.JSON, nullable=False),
        sa.Column("banks", sa.JSON, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("api_keys")
    op.drop_table("entry_windows")
    op.drop_table("entries")
    op.drop_table("banks")
