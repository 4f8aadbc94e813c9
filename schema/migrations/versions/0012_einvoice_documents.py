"""e-invoice documents (E1, E2): a document row is a PDF or an EHF / Peppol BIS 3.0 e-invoice

`format` ("pdf", "ubl") on every document, the PDFs posted before this revision included
(server default "pdf"); revisions are counted per journal and format, so the unique key becomes
(journal_id, format, revision) and an invoice's PDF and its e-invoice are both revision 1.
`findings`: the official rules' findings on an e-invoice (DOCPOST_EINVOICE_RULES); an
e-invoice with a fatal one is stored with the status `invalid` (a string column: no DDL).

Downgrading deletes the e-invoice rows: 0011's table has no place for them (its unique key
would refuse an invoice's second revision 1), and they can be rendered again from their
journals after upgrading.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING_DOCUMENT = sa.text("status = 'pending'")


def upgrade() -> None:
    # SQLite recreates the table to change its unique key; the partial index of the recovery
    # sweep is dropped and made again around it so that it keeps its WHERE clause.
    _drop_pending_index()
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("format", sa.String(length=10), server_default="pdf", nullable=False)
        )
        batch_op.add_column(sa.Column("findings", sa.JSON(), nullable=True))
        batch_op.drop_constraint("uq_documents_journal_id_revision", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_documents_journal_id_format_revision"),
            ["journal_id", "format", "revision"],
        )
    _create_pending_index()


def downgrade() -> None:
    op.execute("DELETE FROM documents WHERE format <> 'pdf'")
    _drop_pending_index()
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_constraint("uq_documents_journal_id_format_revision", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_documents_journal_id_revision"), ["journal_id", "revision"]
        )
        batch_op.drop_column("findings")
        batch_op.drop_column("format")
    _create_pending_index()


# Local to this migration (as 0005's helpers are): it must emit the same DDL however the code
# around it changes later.
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
