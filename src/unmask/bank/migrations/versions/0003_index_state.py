"""Index state: what a saved match index must agree with to be used.

One row: a random token naming this database (an index saved for another database, or for
this one before it was restored from a backup under another token, is never used), a
generation counted up by every write that adds or removes entries, the highest entry id ever
given (ids are handed out from it, so they are never reused and come in commit order) and how
many entries were ever removed.

Revision ID: 0003
Revises: 0002
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    state = op.create_table(
        "index_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token", sa.String(32), nullable=False),
        sa.Column("generation", sa.BigInteger, nullable=False),
        sa.Column("last_entry_id", sa.BigInteger, nullable=False),
        sa.Column("removed", sa.BigInteger, nullable=False),
    )
    last = op.get_bind().execute(sa.text("SELECT max(id) FROM entries")).scalar() or 0
    op.bulk_insert(
        state,
        [
            {
                "id": 1,
                "token": secrets.token_hex(16),
                "generation": 0,
                "last_entry_id": int(last),
                "removed": 0,
            }
        ],
    )


def downgrade() -> None:
    op.drop_table("index_state")
