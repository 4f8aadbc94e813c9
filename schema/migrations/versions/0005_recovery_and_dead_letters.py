"""recovery sweep and dead letters: when requests and documents were last published, and
messages no worker could decode

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import docpost.schema.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_REQUEST = sa.text("status IN ('queued', 'running')")
PENDING_DOCUMENT = sa.text("status = 'pending'")


def upgrade() -> None:
    _add_published_at("requests", "ix_requests_open", OPEN_REQUEST)
    _add_published_at("documents", "ix_documents_pending", PENDING_DOCUMENT)
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", docpost.schema.types.UtcDateTime(), nullable=False),
        sa.Column("queue", sa.String(length=200), nullable=False),
        sa.Column("task", sa.String(length=200), nullable=True),
        sa.Column("content_type", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw_head", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
    )
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dead_letters_received_at"), ["received_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dead_letters_received_at"))
    op.drop_table("dead_letters")
    _drop_published_at("documents", "ix_documents_pending")
    _drop_published_at("requests", "ix_requests_open")


# Local to this migration, not shared with others or with app code: a migration is the record
# of one step and must emit the same DDL however the code around it changes later.
def _add_published_at(table: str, open_index: str, open_rows: sa.TextClause) -> None:
    """When the recovery sweep last published a row of `table`, and the partial index by age
    of the rows it sweeps (those still open)."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("published_at", docpost.schema.types.UtcDateTime(), nullable=True)
        )
        batch_op.create_index(
            open_index,
            ["created_at"],
            unique=False,
            postgresql_where=open_rows,
            sqlite_where=open_rows,
        )


def _drop_published_at(table: str, open_index: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_index(open_index)
        batch_op.drop_column("published_at")
