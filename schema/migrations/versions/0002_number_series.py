"""seed the gapless number series

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SERIES = ("CONF", "PS", "INV", "CN", "VOU", "POS")


def upgrade() -> None:
    table = sa.table(
        "number_series", sa.column("code", sa.String), sa.column("next_value", sa.Integer)
    )
    op.bulk_insert(table, [{"code": code, "next_value": 1} for code in SERIES])


def downgrade() -> None:
    op.execute("DELETE FROM number_series")
