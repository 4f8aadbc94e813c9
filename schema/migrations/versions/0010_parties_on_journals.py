"""parties on journals (D6, M6, M7, P3, P4): every journal keeps the seller (the catalog's
company) and the buyer (its customer) as they were at posting, so a document rendered later, or
a later revision of a packing slip, prints the parties it was posted with

Two JSON columns rather than some twenty explicit ones: they are written once and read whole,
only by the documents (never filtered or joined on), and an e-invoice's extra party fields (the
Peppol endpoint is frozen already) need no new migration. Their keys are the master-data
columns' names (schema.journals.SELLER_FIELDS, BUYER_FIELDS).

Both nullable: journals posted before this revision have none and their documents keep reading
the company and the customer from master data, as they did when they were posted (the fallback
in pipeline.documents.snapshot). Nothing is back-filled: today's master data is not what those
journals were posted with.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("seller", "buyer")


def upgrade() -> None:
    with op.batch_alter_table("journals", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("journals", schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
