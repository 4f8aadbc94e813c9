"""S15 (with S11's trace): an item's warranty period in months, frozen on the packing slip and
invoice lines at posting (D6), and the trace's `warranty_until` and `warranty_valid`.

Migration 0013 adds `items.warranty_months` and `journal_lines.warranty_months`."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text

from docpost.schema import Base
from docpost.schema.migrate import alembic_config
from tests.services.test_migration_0004 import At, at_revision, migrate

__all__ = ["at_revision"]  # the fixture, used by the migration test below


# --- migration 0013 ----------------------------------------------------------------------------


def _item_and_line_at_0012(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO items (item, name, unit, base_sales_price, catch_weight, bundle) "
                "VALUES ('1000', 'Surface Pro', 'ea', '1900.00', false, false)"
            )
        )
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
                "posting_date, posted_at, request_id, actor) VALUES (1, 'PS-000001', "
                "'packing_slip', 1, 'NO-1', 'NOK', '2026-01-02', '2026-01-02 10:00:00', "
                "'r-1', 'erp')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO journal_lines (id, journal_id, position, line_no, item_code, "
                "item_name, unit, quantity, is_bundle_parent) VALUES (1, 1, 1, 1, '1000', "
                "'Surface Pro', 'ea', '1', false)"
            )
        )


def _warranties(engine: Engine) -> tuple[object, object]:
    with engine.connect() as conn:
        item = conn.execute(text("SELECT warranty_months FROM items")).scalar()
        line = conn.execute(text("SELECT warranty_months FROM journal_lines")).scalar()
    return item, line


def test_0013_upgrades_a_database_at_0012_with_data_and_downgrades(at_revision: At) -> None:
    """S15, D6: 0013 adds the nullable `warranty_months` to items and journal lines; an item and
    a line from before keep NULL (no warranty: none had one); the result is the models'
    exactly; it downgrades to 0012 with warranties in it, keeping the rows."""
    engine = at_revision("0012")
    _item_and_line_at_0012(engine)
    migrate(engine, "0013")
    assert _warranties(engine) == (None, None)
    migrate(engine, "head")  # the models are the latest revision's, 0013's and those after it
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    with engine.begin() as conn:
        conn.execute(text("UPDATE items SET warranty_months = 24"))
        conn.execute(text("UPDATE journal_lines SET warranty_months = 12"))
    assert _warranties(engine) == (24, 12)
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0012")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT item FROM items")).scalar() == "1000"
        assert conn.execute(text("SELECT item_code FROM journal_lines")).scalar() == "1000"
        for table in ("items", "journal_lines"):
            columns = conn.execute(text(f"SELECT * FROM {table}")).keys()
            assert "warranty_months" not in columns
    migrate(engine, "0013")  # and up again: the chain is stable both ways
    assert _warranties(engine) == (None, None)
