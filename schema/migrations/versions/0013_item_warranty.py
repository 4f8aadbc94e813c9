"""warranty periods (S15): items get `warranty_months`, and journal lines freeze it at posting

`items.warranty_months`: the item's warranty in whole months, NULL for an item without one.
`journal_lines.warranty_months`: the item's period when the line was posted (D6: a posted
journal never changes, so a later change of the item's warranty reaches only units sold after
it). Both nullable; nothing is back-filled: no item had a warranty before this revision, so
NULL (no warranty) is also the truth for every line posted before it.

Downgrading drops both columns: the warranty periods are lost (0012 has no place for them).

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("warranty_months", sa.Integer(), nullable=True))
    with op.batch_alter_table("journal_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("warranty_months", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("journal_lines", schema=None) as batch_op:
        batch_op.drop_column("warranty_months")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("warranty_months")
