"""D6 for the parties (M6, M7, P3, P4): every journal freezes the seller (the catalog's company)
and the buyer (its customer, with its document language) at posting, in `journals.seller` and
`journals.buyer` (migration 0010), written by services.journal.new_journal for every kind, the
bulk batches' invoices included; a later catalog change reaches only journals posted after it.
Journals posted before 0010 keep NULL (their documents read master data: the documents' tests,
tests/documents/test_frozen_parties_documents.py). Freezing costs no statement: the rows are
the request's already."""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, event, select, text

from docpost.pipeline.outbox import drain_inline
from docpost.pipeline.rules.pos import WALK_IN_CUSTOMER
from docpost.pipeline.runner.execute import run_invoice_batch
from docpost.schema import Base, Journal
from docpost.schema.journals import BUYER_FIELDS, SELLER_FIELDS
from docpost.schema.migrate import alembic_config
from tests.conftest import Runner, norway_catalog
from tests.services.test_migration_0004 import At, at_revision, migrate

__all__ = ["at_revision"]  # the fixture, used by the migration test below

# The Norwegian example's company and its customer NO-1001 as a journal freezes them: the
# columns as stored (compact numbers, address lines joined by line feeds).
SELLER = {
    "name": "Fjellost og Stål AS",
    "address_lines": "Karl Johans gate 12",
    "postcode": "0154",
    "city": "OSLO",
    "country": "NO",
    "organisation_number": "923609016",
    "vat_registered": True,
    "foretaksregisteret": True,
    "currency": "NOK",
    "bank_account": "12345678903",
    "iban": "NO7112345678903",
    "bic": "DNBANOKKXXX",
    "peppol_endpoint": "0192:923609016",
}
BUYER = {
    "name": "Bergen Matsenter AS",
    "address": "Strandkaien 2",
    "postcode": "5013",
    "city": "BERGEN",
    "country": "NO",
    "organisation_number": "912345602",
    "vat_id": None,
    "peppol_endpoint": "0192:912345602",
    "language": "nb_NO",
}
# What changed_catalog() makes of them.
NEW_SELLER = {**SELLER, "name": "Nordlys Ysteri AS", "bank_account": "15032112347"}
NEW_BUYER = {
    **BUYER,
    "name": "Vestland Delikatesse AS",
    "address": "Bryggen 7\nInngang B",
    "postcode": "5003",
    "language": "en_US",
}


def changed_catalog() -> dict[str, Any]:
    """The Norwegian example after the company renamed itself and moved its bank account
    (M6) and NO-1001 renamed, moved and now reads English (M7, P4)."""
    catalog = copy.deepcopy(norway_catalog())
    catalog["company"].update(name="Nordlys Ysteri AS", bank_account="1503.21.12347")
    customer = next(c for c in catalog["customers"] if c["customer"] == "NO-1001")
    customer.update(name="Vestland Delikatesse AS", language="en_US")
    customer["address"] = {
        **customer["address"],
        "lines": ["Bryggen 7", "Inngang B"],
        "postcode": "5003",
    }
    return catalog


def parties(run: Runner, number: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """A journal's frozen (seller, buyer)."""
    with run.sessions() as session:
        row = session.execute(
            select(Journal.seller, Journal.buyer).where(Journal.number == number)
        ).one()
    return row.seller, row.buyer


def sell(run: Runner, order: str, customer: str = "NO-1001", quantity: str = "2") -> None:
    """An order of cheese and gift baskets, confirmed."""
    run.ok(
        "upsert_order",
        {
            "order": order,
            "customer": customer,
            "lines": [
                {"line": 1, "item": "OST-1", "quantity": quantity, "unit_price": "189.00"},
                {"line": 2, "item": "GAVE-1", "quantity": "1", "unit_price": "438.00"},
            ],
        },
    )
    run.ok("confirm_order", {"order": order})


def bulk_invoice(run: Runner, orders: list[str]) -> None:
    """Bulk invoicing's set-based batches (services.invoice_batch), run in this process."""
    run.ok("bulk_invoice", {"orders": orders})
    drain_inline(
        run.sessions, {"invoice_batch": lambda p: run_invoice_batch(p["bodies"], run.sessions)}
    )


def all_parties(run: Runner) -> dict[tuple[str, str], tuple[Any, Any]]:
    with run.sessions() as session:
        rows = session.execute(
            select(Journal.kind, Journal.number, Journal.seller, Journal.buyer).order_by(Journal.id)
        ).all()
    return {(r.kind, r.number): (r.seller, r.buyer) for r in rows}


# --- every kind freezes both parties (D6, M6, M7) ------------------------------------------------


def test_d6_m6_m7_every_journal_kind_freezes_seller_and_buyer(norway: Runner) -> None:
    """D6: confirmations, packing slips, their cancellations, invoices (single and of a bulk
    batch), credit notes and POS sales all keep the seller and the buyer as posted, with
    exactly the master-data columns schema.journals names (the POS buyer: the walk-in
    customer)."""
    sell(norway, "SO-1")
    norway.ok("post_packing_slip", {"order": "SO-1"}, actor="warehouse-1")
    norway.ok("cancel_packing_slip", {"packing_slip": "PS-000001"})
    norway.ok("post_packing_slip", {"order": "SO-1"}, actor="warehouse-1")
    invoice = norway.ok("post_invoice", {"order": "SO-1"})["journal"]
    norway.ok("post_credit_note", {"invoice": invoice})
    sell(norway, "SO-2")
    norway.ok("post_packing_slip", {"order": "SO-2"}, actor="warehouse-1")
    bulk_invoice(norway, ["SO-2"])
    pos = norway.ok(
        "post_pos_sale",
        {"store": "OSLO", "lines": [{"item": "KNIV-1", "quantity": "1", "unit_price": "499.00"}]},
        actor="pos-1",
    )["journal"]

    frozen = all_parties(norway)
    kinds = Counter(kind for kind, _ in frozen)
    # The POS sale posts a packing slip and an invoice of its own (T6).
    assert kinds == {"confirmation": 2, "packing_slip": 5, "invoice": 3, "credit_note": 1}
    with norway.sessions() as session:
        walk_in = session.scalars(
            select(Journal.number).where(Journal.customer_code == WALK_IN_CUSTOMER)
        ).all()
        walk_in_name = session.scalar(
            text("SELECT name FROM customers WHERE customer = :c"), {"c": WALK_IN_CUSTOMER}
        )
    assert pos in walk_in and len(walk_in) == 2
    for (_, number), (seller, buyer) in frozen.items():
        assert seller == SELLER, number
        assert set(seller) == set(SELLER_FIELDS) and set(buyer) == set(BUYER_FIELDS), number
        if number in walk_in:
            assert buyer["name"] == walk_in_name and buyer["address"] == "", number
        else:
            assert buyer == BUYER, number


def test_d6_a_catalog_change_reaches_only_journals_posted_after_it(norway: Runner) -> None:
    """D6/M6/M7: after upsert_catalog renames the company, moves its bank account and renames,
    moves and re-languages the customer, the journals posted before still hold what they
    were posted with (single invoice, bulk batch invoice, packing slip); negative control:
    journals posted after the change, the same ways, hold the new values."""
    sell(norway, "SO-1")
    sell(norway, "SO-2")
    before_slip = norway.ok("post_packing_slip", {"order": "SO-1"}, actor="warehouse-1")["journal"]
    norway.ok("post_packing_slip", {"order": "SO-2"}, actor="warehouse-1")
    before_invoice = norway.ok("post_invoice", {"order": "SO-1"})["journal"]
    bulk_invoice(norway, ["SO-2"])
    [before_batch] = [n for (k, n) in all_parties(norway) if k == "invoice" and n != before_invoice]

    norway.ok("upsert_catalog", changed_catalog())

    for number in (before_slip, before_invoice, before_batch):
        assert parties(norway, number) == (SELLER, BUYER), number
    sell(norway, "SO-3")
    sell(norway, "SO-4")
    after_slip = norway.ok("post_packing_slip", {"order": "SO-3"}, actor="warehouse-1")["journal"]
    norway.ok("post_packing_slip", {"order": "SO-4"}, actor="warehouse-1")
    after_invoice = norway.ok("post_invoice", {"order": "SO-3"})["journal"]
    known = set(all_parties(norway))
    bulk_invoice(norway, ["SO-4"])
    [(_, after_batch)] = set(all_parties(norway)) - known
    for number in (after_slip, after_invoice, after_batch):
        assert parties(norway, number) == (NEW_SELLER, NEW_BUYER), number


def test_d6_a_catalog_without_company_freezes_an_empty_seller(usmf: Runner) -> None:
    """M6's fallback: a journal posted while the catalog has no company freezes the seller as
    {} (its documents print the DOCPOST_COMPANY_* settings, as when posted), not NULL (which
    is a journal posted before parties were frozen); the buyer is frozen all the same."""
    usmf.ok(
        "upsert_order",
        {
            "order": "SO-1",
            "customer": "US-004",
            "lines": [{"line": 1, "item": "S0021", "quantity": "1", "unit_price": "150.00"}],
        },
    )
    number = usmf.ok("confirm_order", {"order": "SO-1"})["journal"]
    seller, buyer = parties(usmf, number)
    assert seller == {}
    assert buyer is not None and buyer["name"] and buyer["language"] is None


# --- cost: no statement of its own ------------------------------------------------------------------


@contextmanager
def reads(engine: Engine) -> Iterator[Counter[str]]:
    """The tables the statements run inside the block SELECT FROM, counted."""
    seen: Counter[str] = Counter()

    def listener(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            for table in re.findall(r"\bFROM\s+\"?(\w+)", statement, re.IGNORECASE):
                seen[table] += 1

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def test_d6_freezing_the_parties_reads_no_row_again(norway: Runner, engine: Engine) -> None:
    """The cost of D6's parties: none. Each posting request reads the company once (the unit of
    work holds the row it dates the request with, P1) and never the customer on its own (the
    order's, loaded with it), so writing both into the journal adds no SELECT. The counter's
    own negative control: it does see the company read."""
    sell(norway, "SO-1")
    norway.ok("upsert_order", {"order": "SO-2", "customer": "NO-1001", "lines": [
        {"line": 1, "item": "OST-1", "quantity": "1", "unit_price": "189.00"}]})  # fmt: skip
    requests: list[tuple[str, dict[str, Any], str]] = [
        ("confirm_order", {"order": "SO-2"}, "erp"),
        ("post_packing_slip", {"order": "SO-1"}, "warehouse-1"),
        ("post_invoice", {"order": "SO-1"}, "erp"),
        ("post_credit_note", {"invoice": "INV-000001"}, "erp"),
    ]
    for kind, payload, actor in requests:
        with reads(engine) as seen:
            norway.ok(kind, payload, actor=actor)
        assert (seen["company"], seen["customers"]) == (1, 0), (kind, seen)
    frozen = all_parties(norway)
    assert len(frozen) == 5 and all(p == (SELLER, BUYER) for p in frozen.values())


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
