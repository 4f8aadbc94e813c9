"""company and tax codes (M6, M8): the company row, tax codes with their dated rates, items'
tax code and customers' address parts, identifiers and terms (M7)

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Local, not schema.types.ExactDecimal: a migration emits the same DDL however the app code
# changes later. The same DDL as that type: NUMERIC on PostgreSQL; on SQLite text, so a rate
# never passes through a float (NUMERIC affinity would store "12.50" as a REAL).
RATE = sa.Numeric(5, 2).with_variant(sa.String(length=48), "sqlite")

# Existing customers and items keep working unchanged: every new column is nullable, but the
# tax treatment, which every customer had implicitly (domestic).
CUSTOMER_COLUMNS = (
    ("postcode", sa.String(length=20)),
    ("city", sa.String(length=100)),
    ("country", sa.String(length=2)),
    ("organisation_number", sa.String(length=50)),
    ("vat_id", sa.String(length=50)),
    ("peppol_endpoint", sa.String(length=100)),
    ("payment_terms_days", sa.Integer()),
    ("language", sa.String(length=10)),
)


def upgrade() -> None:
    _create_company()
    _create_tax_codes()
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tax_code", sa.String(length=50), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_items_tax_code_tax_codes"), "tax_codes", ["tax_code"], ["code"]
        )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        for name, type_ in CUSTOMER_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
        batch_op.add_column(
            sa.Column(
                "tax_treatment", sa.String(length=20), server_default="domestic", nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("tax_treatment")
        for name, _ in reversed(CUSTOMER_COLUMNS):
            batch_op.drop_column(name)
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_items_tax_code_tax_codes"), type_="foreignkey")
        batch_op.drop_column("tax_code")
    op.drop_table("tax_rates")
    op.drop_table("tax_codes")
    op.drop_table("company")


def _create_company() -> None:
    op.create_table(
        "company",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address_lines", sa.String(length=500), nullable=False),
        sa.Column("postcode", sa.String(length=20), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("organisation_number", sa.String(length=50), nullable=True),
        sa.Column("vat_registered", sa.Boolean(), nullable=False),
        sa.Column("foretaksregisteret", sa.Boolean(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("bank_account", sa.String(length=50), nullable=True),
        sa.Column("iban", sa.String(length=50), nullable=True),
        sa.Column("bic", sa.String(length=11), nullable=True),
        sa.Column("peppol_endpoint", sa.String(length=100), nullable=True),
        sa.Column("time_zone", sa.String(length=50), nullable=False),
        sa.Column("payment_terms_days", sa.Integer(), nullable=False),
        sa.Column("kid_scheme", sa.String(length=5), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_company_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company")),
    )


def _create_tax_codes() -> None:
    op.create_table(
        "tax_codes",
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=2), nullable=False),
        sa.Column("account", sa.String(length=20), nullable=True),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_tax_codes")),
    )
    op.create_table(
        "tax_rates",
        sa.Column("tax_code", sa.String(length=50), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("rate", RATE, nullable=False),
        sa.ForeignKeyConstraint(
            ["tax_code"], ["tax_codes.code"], name=op.f("fk_tax_rates_tax_code_tax_codes")
        ),
        sa.PrimaryKeyConstraint("tax_code", "valid_from", name=op.f("pk_tax_rates")),
    )
