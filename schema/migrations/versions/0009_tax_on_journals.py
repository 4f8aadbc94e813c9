"""tax on journals (T1, T3, T7, P1-P3): journal lines keep their tax code, VAT category and
rate; journals their document and due dates, KID, VAT and total including VAT, exchange rate
and buyer's reference, and their VAT breakdown (journal_vat); orders their buyer's reference
and exchange rate

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Local, not schema.types.ExactDecimal (as 0008's RATE): NUMERIC on PostgreSQL, text on SQLite
# so that an amount or a rate never passes through a float.
def _exact(precision: int, scale: int) -> sa.types.TypeEngine[object]:
    return sa.Numeric(precision, scale).with_variant(sa.String(length=48), "sqlite")


MONEY = _exact(18, 2)
RATE = _exact(5, 2)
EXCHANGE_RATE = _exact(20, 10)

# Every new column is nullable: journals posted before keep no VAT, as they were posted.
JOURNAL_COLUMNS = (
    ("document_date", sa.Date()),
    ("vat_total", MONEY),
    ("total", MONEY),
    ("due_date", sa.Date()),
    ("kid", sa.String(length=30)),
    ("exchange_rate", EXCHANGE_RATE),
    ("buyer_reference", sa.String(length=200)),
)
JOURNAL_LINE_COLUMNS = (
    ("tax_code", sa.String(length=50)),
    ("vat_category", sa.String(length=2)),
    ("vat_rate", RATE),
)
ORDER_COLUMNS = (
    ("buyer_reference", sa.String(length=200)),
    ("exchange_rate", EXCHANGE_RATE),
)
TABLES = (
    ("journals", JOURNAL_COLUMNS),
    ("journal_lines", JOURNAL_LINE_COLUMNS),
    ("sales_orders", ORDER_COLUMNS),
)


def upgrade() -> None:
    for table, columns in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, type_ in columns:
                batch_op.add_column(sa.Column(name, type_, nullable=True))
    op.create_table(
        "journal_vat",
        sa.Column("journal_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("tax_code", sa.String(length=50), nullable=False),
        sa.Column("category", sa.String(length=2), nullable=False),
        sa.Column("rate", RATE, nullable=False),
        sa.Column("account", sa.String(length=20), nullable=True),
        sa.Column("taxable_amount", MONEY, nullable=False),
        sa.Column("vat_amount", MONEY, nullable=False),
        sa.Column("company_taxable_amount", MONEY, nullable=False),
        sa.Column("company_vat_amount", MONEY, nullable=False),
        sa.ForeignKeyConstraint(
            ["journal_id"], ["journals.id"], name=op.f("fk_journal_vat_journal_id_journals")
        ),
        sa.PrimaryKeyConstraint("journal_id", "position", name=op.f("pk_journal_vat")),
    )


def downgrade() -> None:
    op.drop_table("journal_vat")
    for table, columns in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _ in reversed(columns):
                batch_op.drop_column(name)
