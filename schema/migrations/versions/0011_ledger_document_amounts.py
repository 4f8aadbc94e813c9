"""ledger entries keep their document-currency amount (T7): a voucher of an invoice in USD is
in the company currency (NOK), and each entry also keeps what it is in the invoice's own
currency, so a receivable can be matched with the customer's payment in USD and a revaluation
knows what it revalues

Both nullable and set only where the journal has an exchange rate (its currency is not the
company's): elsewhere the amount is the document amount. Entries posted before this revision
keep NULL; nothing is back-filled (their vouchers computed the document amounts and dropped
them).

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Local, not schema.types.Money (as 0009's MONEY): NUMERIC on PostgreSQL, text on SQLite, so
# that an amount never passes through a float.
MONEY = sa.Numeric(18, 2).with_variant(sa.String(length=48), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("currency", sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column("document_amount", MONEY, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_column("document_amount")
        batch_op.drop_column("currency")
