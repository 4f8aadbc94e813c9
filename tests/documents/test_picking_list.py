"""D2: confirming an order produces its picking list, an internal document for the warehouse
(issue 17 item 5), on SQLite and PostgreSQL.

The order (USMF catalog): line 1 a LaptopBundle (components 1000 Surface Pro, serialized;
Support; S0021 Docking station), line 2 M0001 Mobile phone (serialized, blank issue allowed),
line 3 S0021 Docking station. The picking list shows the components and the other lines with
quantities and item names, never the bundle parent, no prices, and marks the serialized lines
"Serial numbers to scan" ("Serienumre skal skannes"). The confirmation beside it still shows
the parent only (D1, the negative control).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, select, text

from docpost.pipeline.config import get_settings
from docpost.pipeline.db import engine_for
from docpost.pipeline.documents import list_documents, render_document, stored_pdf
from docpost.pipeline.entrypoints.cli.main import main
from docpost.pipeline.runner.kinds import needs_of
from docpost.pipeline.uow import UnitOfWork
from docpost.schema import Base, Document, Journal
from docpost.schema.documents import PICKING_LIST, document_filename
from docpost.schema.migrate import alembic_config
from tests.conftest import Runner
from tests.documents.pdfs import pdf_text
from tests.services.test_migration_0004 import At, at_revision, migrate  # noqa: F401

CONFIRMATION, PICKING = "CONF-000001.pdf", "CONF-000001-picking.pdf"


def confirm(run: Runner) -> dict[str, Any]:
    run.ok(
        "upsert_order",
        {
            "order": "SO-1",
            "customer": "US-004",
            "lines": [
                {"line": 1, "item": "LaptopBundle", "quantity": "2", "unit_price": "2300.00"},
                {"line": 2, "item": "M0001", "quantity": "3", "unit_price": "300.00"},
                {"line": 3, "item": "S0021", "quantity": "1", "unit_price": "150.00"},
            ],
        },
    )
    return run.ok("confirm_order", {"order": "SO-1"})


def stored_text(run: Runner, filename: str, locale: str | None = None) -> str:
    """The document rendered and stored as the render task does, read back as text."""
    with run.sessions() as session:
        document_id = session.scalars(
            select(Document.id).where(Document.filename == filename)
        ).one()
    render_document(run.sessions, document_id, locale)
    with run.sessions() as session:
        stored = stored_pdf(session, document_id)
    assert stored.status == "rendered", stored
    return pdf_text(stored.content or b"")


def table_rows(text: str) -> list[str]:
    """The rows of the line table, as the PDF's text gives them."""
    rows = text.split("\n")
    start = next(i for i, row in enumerate(rows) if row.split(" ")[0] in ("LINE", "LINJE")) + 1
    return list(itertools.takewhile(lambda row: row[:1].isdigit(), rows[start:]))


def test_d2_confirm_order_lists_the_picking_list_beside_the_confirmation(usmf: Runner) -> None:
    """CONTRACT: `confirm_order`'s result lists the picking list beside the confirmation (D2);
    both are pending PDF rows of the confirmation's journal, told apart by their kind."""
    result = confirm(usmf)
    assert result["documents"] == [CONFIRMATION, PICKING]
    with usmf.sessions() as session:
        rows = list_documents(session, "CONF-000001")
    assert [(r["kind"], r["format"], r["revision"], r["filename"], r["status"]) for r in rows] == [
        ("confirmation", "pdf", 1, CONFIRMATION, "pending"),
        (PICKING_LIST, "pdf", 1, PICKING, "pending"),
    ]


def test_d2_picking_list_shows_components_not_the_parent_en_us(usmf: Runner) -> None:
    """D2: the bundle's three components and the two other lines, with quantities and names;
    no bundle parent, no prices; the two serialized lines (1000 and M0001) marked."""
    confirm(usmf)
    text = stored_text(usmf, PICKING, "en_US")
    assert "Picking list\nCONF-000001" in text and "SHIP TO" in text
    assert "LaptopBundle" not in text and "Laptop bundle" not in text
    # Line, item, name, the mark (the tag prints in capitals), quantity, unit: the bundle's
    # components at its place (their own line numbers, CONTRACT), then the other lines.
    assert table_rows(text) == [
        "4 1000 Surface Pro 128 GB SERIAL NUMBERS TO SCAN 2 ea",
        "5 Support Support, 12 months 2 ea",
        "6 S0021 Docking station 2 ea",
        "2 M0001 Mobile phone SERIAL NUMBERS TO SCAN 3 ea",
        "3 S0021 Docking station 1 ea",
    ]
    assert "2,300.00" not in text and "$" not in text and "UNIT PRICE" not in text.upper()


def test_d1_the_confirmation_beside_it_still_shows_the_parent_only(usmf: Runner) -> None:
    """Negative control (D1): the external confirmation prints the bundle, not the Surface Pro,
    and nothing on it is to be scanned."""
    confirm(usmf)
    text = stored_text(usmf, CONFIRMATION, "en_US")
    assert "Laptop bundle" in text and "Surface Pro 128 GB" not in text
    assert "SERIAL NUMBERS TO SCAN" not in text and "Picking list" not in text


def test_d2_picking_list_in_nb_no(usmf: Runner) -> None:
    """D2 and P4 in nb_NO: "Plukkliste", the serialized lines "Serienumre skal skannes", units
    "stk"; the components, never the bundle parent."""
    confirm(usmf)
    text = stored_text(usmf, PICKING, "nb_NO")
    assert "Plukkliste\nCONF-000001" in text and "Picking list" not in text
    assert "LEVERINGSADRESSE" in text and "Laptop bundle" not in text
    assert table_rows(text) == [
        "4 1000 Surface Pro 128 GB SERIENUMRE SKAL SKANNES 2 stk",
        "5 Support Support, 12 months 2 stk",
        "6 S0021 Docking station 2 stk",
        "2 M0001 Mobile phone SERIENUMRE SKAL SKANNES 3 stk",
        "3 S0021 Docking station 1 stk",
    ]


def test_d6_picking_list_stored_with_its_checksum_and_downloadable(
    usmf: Runner, db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Any
) -> None:
    """D6: the picking list is stored with its sha256; `docpost documents` lists it beside the
    confirmation and `docpost download` writes it under its filename."""
    confirm(usmf)
    stored_text(usmf, PICKING)
    monkeypatch.setenv("DOCPOST_DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        assert main(["documents", "--journal", "CONF-000001", "--json"]) == 0
        listed = json.loads(capsys.readouterr().out)["documents"]
        picking = next(d for d in listed if d["filename"] == PICKING)
        assert (picking["kind"], picking["status"]) == (PICKING_LIST, "rendered")
        assert main(["download", str(picking["id"]), "-o", str(tmp_path)]) == 0
        content = (tmp_path / PICKING).read_bytes()
        assert hashlib.sha256(content).hexdigest() == picking["sha256"]
        assert "Picking list" in pdf_text(content)
    finally:
        get_settings.cache_clear()
        engine_for(db_url).dispose()


def test_d2_picking_list_revisions_are_counted_apart_from_the_confirmation(
    usmf: Runner,
) -> None:
    """D6: a later revision of the picking list is CONF-000001-picking-r2.pdf, counted per
    kind: the confirmation's own next revision is still its second."""
    confirm(usmf)
    with (
        usmf.sessions() as session,
        UnitOfWork(session, "revise", "erp", needs_of=needs_of) as uow,
    ):
        journal = session.scalars(select(Journal).where(Journal.number == "CONF-000001")).one()
        assert uow.add_document(journal, PICKING_LIST) == "CONF-000001-picking-r2.pdf"
        assert uow.add_document(journal) == "CONF-000001-r2.pdf"
        uow.commit()
    assert document_filename("CONF-000001", 1, kind=PICKING_LIST) == PICKING
    assert document_filename("CONF-000001", 3) == "CONF-000001-r3.pdf"


def test_d2_an_order_without_bundles_gets_its_picking_list_too(usmf: Runner) -> None:
    """D2: every confirmation has one; lines print as they are, the unserialized unmarked."""
    usmf.ok(
        "upsert_order",
        {
            "order": "SO-2",
            "customer": "US-004",
            "lines": [{"line": 1, "item": "S0021", "quantity": "4", "unit_price": "150.00"}],
        },
    )
    assert usmf.ok("confirm_order", {"order": "SO-2"})["documents"] == [CONFIRMATION, PICKING]
    text = stored_text(usmf, PICKING, "en_US")
    assert table_rows(text) == ["1 S0021 Docking station 4 ea"]


# --- migration 0014 ----------------------------------------------------------------------------


def _confirmation_at_0013(engine: Engine) -> None:
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
                "posting_date, posted_at, request_id, actor) VALUES (1, 'CONF-000001', "
                "'confirmation', 1, 'NO-1', 'NOK', '2026-01-02', '2026-01-02 10:00:00', "
                "'r-1', 'erp')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO documents (id, journal_id, kind, format, revision, filename, status, "
                "attempts, created_at) VALUES (1, 1, 'confirmation', 'pdf', 1, "
                "'CONF-000001.pdf', 'pending', 0, '2026-01-02 10:00:00')"
            )
        )


def _insert_picking_list(engine: Engine, document_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO documents (id, journal_id, kind, format, revision, filename, status, "
                f"attempts, created_at) VALUES ({document_id}, 1, 'picking_list', 'pdf', 1, "
                "'CONF-000001-picking.pdf', 'pending', 0, '2026-01-02 10:00:00')"
            )
        )


def _filenames(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(text("SELECT filename FROM documents ORDER BY id")))


def test_0014_upgrades_documents_with_data_and_downgrades(at_revision: At) -> None:  # noqa: F811
    """D2: 0014 makes the unique key (journal_id, kind, format, revision): a confirmation's
    PDF and its picking list are both revision 1, a second picking list revision 1 is still
    refused; the result is the models' exactly; downgrading deletes the picking lists only
    (0013's key has no room for them) and it upgrades again."""
    engine = at_revision("0013")
    _confirmation_at_0013(engine)
    with pytest.raises(Exception, match=r"(?i)unique"):
        _insert_picking_list(engine, 2)  # negative control: 0013 refuses it
    migrate(engine, "0014")
    assert _filenames(engine) == ["CONF-000001.pdf"]
    _insert_picking_list(engine, 2)
    with pytest.raises(Exception, match=r"(?i)unique"):
        _insert_picking_list(engine, 3)
    migrate(engine, "head")
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0013")
    assert _filenames(engine) == ["CONF-000001.pdf"]
    migrate(engine, "0014")  # and up again: the chain is stable both ways
    _insert_picking_list(engine, 4)
    assert _filenames(engine) == ["CONF-000001.pdf", "CONF-000001-picking.pdf"]
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            index = conn.execute(
                text("SELECT sql FROM sqlite_master WHERE name = 'ix_documents_pending'")
            ).scalar()
            assert index is not None and "WHERE status = 'pending'" in index
