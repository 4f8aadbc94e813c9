"""D6 for the parties (M6, M7, P3, P4): every journal freezes the seller (the catalog's company)
and the buyer (its customer) at posting, in `journals.seller` and `journals.buyer` (migration
0010); journals posted before keep NULL and their documents read master data."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text

from docpost.schema import Base
from docpost.schema.migrate import alembic_config
from tests.services.test_migration_0004 import At, at_revision, migrate

__all__ = ["at_revision"]  # the fixture, used by the migration test below


# --- migration 0010 ----------------------------------------------------------------------------


def _journal_at_0009(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO customers (customer, name, currency, address, tax_treatment) "
                "VALUES ('NO-1', 'Kunde', 'NOK', '', 'domestic')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO sales_orders (id, order_no, customer_code, currency, origin, "
                "created_at) VALUES (1, 'SO-1', 'NO-1', 'NOK', 'order', '2026-01-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO journals (id, number, kind, order_id, customer_code, currency, "
                "posting_date, posted_at, request_id, actor) VALUES (1, 'INV-000001', "
                "'invoice', 1, 'NO-1', 'NOK', '2026-01-02', '2026-01-02 10:00:00', 'r-1', 'erp')"
            )
        )


def test_0010_upgrades_a_database_at_0009_with_data_and_downgrades(at_revision: At) -> None:
    """D6: 0010 adds the nullable `seller` and `buyer` to journals; a journal posted before
    keeps NULL (its documents read master data, nothing is back-filled); the result is the
    models' exactly; it downgrades to 0009 with a frozen journal in it, keeping the journal."""
    engine = at_revision("0009")
    _journal_at_0009(engine)
    migrate(engine, "0010")
    with engine.connect() as conn:
        row = conn.execute(text("SELECT number, seller, buyer FROM journals")).one()
        assert tuple(row) == ("INV-000001", None, None)
    migrate(engine, "head")  # the models are the latest revision's, 0010's and those after it
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE journals SET seller = :s, buyer = :b"),
            {"s": '{"name": "Nordlys AS"}', "b": '{"name": "Kunde", "language": "nb_NO"}'},
        )
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0009")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT number FROM journals")).scalar() == "INV-000001"
        columns = conn.execute(text("SELECT * FROM journals")).keys()
        assert "seller" not in columns and "buyer" not in columns
    migrate(engine, "0010")  # and up again: the chain is stable both ways
    with engine.connect() as conn:
        assert conn.execute(text("SELECT seller FROM journals")).scalar() is None
