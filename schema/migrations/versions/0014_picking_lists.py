"""picking lists (D2): a confirmation gets a second PDF, its picking list, told apart by `kind`

A document row's `kind` was always its journal's; a confirmation's picking list is a row of the
same journal with the kind "picking_list" (filename CONF-000001-picking.pdf). Both are revision
1 of a PDF, so the unique key becomes (journal_id, kind, format, revision): revisions are
counted per journal, kind and format. No column is added and no row changes: every row before
this revision keeps its kind, and the old key's rows are unique under the new one.

Downgrading deletes the picking list rows: 0013's key would refuse a confirmation's two PDFs of
revision 1, and a picking list can be rendered again from its confirmation after upgrading.

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING_DOCUMENT = sa.text("status = 'pending'")


def upgrade() -> None:
    # SQLite recreates the table to change its unique key; the recovery sweep's partial index
    # is dropped and made again around it so that it keeps its WHERE clause (as in 0012).
    _drop_pending_index()
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_constraint("uq_documents_journal_id_format_revision", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_documents_journal_id_kind_format_revision"),
            ["journal_id", "kind", "format", "revision"],
        )
    _create_pending_index()


def downgrade() -> None:
    op.execute("DELETE FROM documents WHERE kind = 'picking_list'")
    _drop_pending_index()
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_constraint("uq_documents_journal_id_kind_format_revision", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_documents_journal_id_format_revision"),
            ["journal_id", "format", "revision"],
        )
    _create_pending_index()


# Local to this migration (as 0005's and 0012's are): it must emit the same DDL however the
# code around it changes later.
def _drop_pending_index() -> None:
    op.drop_index("ix_documents_pending", table_name="documents")


def _create_pending_index() -> None:
    op.create_index(
        "ix_documents_pending",
        "documents",
        ["created_at"],
        unique=False,
        postgresql_where=PENDING_DOCUMENT,
        sqlite_where=PENDING_DOCUMENT,
    )
