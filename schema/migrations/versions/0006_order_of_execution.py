"""order of execution: each request's order key, accept number and parking time

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import docpost.schema.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_REQUEST = sa.text("status IN ('queued', 'running')")


def upgrade() -> None:
    # Requests accepted before this migration keep no key and no number: they are run as
    # they come, as before (pipeline.runner.ordering).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.schema.CreateSequence(sa.Sequence("request_sequence")))
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("order_key", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("sequence", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("parked_at", docpost.schema.types.UtcDateTime(), nullable=True)
        )
        batch_op.create_index(
            "ix_requests_open_order_key",
            ["order_key", "sequence"],
            unique=False,
            postgresql_where=OPEN_REQUEST,
            sqlite_where=OPEN_REQUEST,
        )
        batch_op.create_index(
            "ix_requests_open_sequence",
            ["sequence"],
            unique=False,
            postgresql_where=OPEN_REQUEST,
            sqlite_where=OPEN_REQUEST,
        )


def downgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_index("ix_requests_open_sequence")
        batch_op.drop_index("ix_requests_open_order_key")
        batch_op.drop_column("parked_at")
        batch_op.drop_column("sequence")
        batch_op.drop_column("order_key")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.schema.DropSequence(sa.Sequence("request_sequence")))
