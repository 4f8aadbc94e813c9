"""The e-invoice section of the bench (bench.einvoice; issue 16's "`python -m bench` reports
generation and validation time per e-invoice"): it posts the tax scenario's invoices and
credit notes, which get e-invoices (E1), times what it claims on documents that pass the
official rules with 0 fatal (E2), and refuses to measure otherwise. On SQLite and PostgreSQL;
no timing is asserted, only that the figures are there.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

import bench.einvoice
from bench.__main__ import SECTIONS, main, table
from bench.common import Database
from bench.einvoice import STEPS, measure, rules_folder
from bench.scenarios import no_tax_catalog, tax_catalog
from docpost.reports.einvoice.validation import RulesNotFound
from docpost.schema import Journal
from tests.conftest import IN_CI, Runner

CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


@pytest.fixture
def bench_db(db_url: str, engine: Engine, sessions: sessionmaker[Session]) -> Database:
    """The bench's view of the test database (its schema is in the URL's search_path)."""
    return Database(db_url, "", engine, sessions)


@pytest.fixture
def rules() -> Path:
    """The official rules the bench finds (DOCPOST_EINVOICE_RULES or ../shared/einvoice); as
    tests/einvoice: missing, a skip outside CI and a failure in CI."""
    try:
        return rules_folder()
    except RulesNotFound as exc:
        if IN_CI:
            pytest.fail(f"{exc}; CI=true: the e-invoice bench test must run", pytrace=False)
        pytest.skip(str(exc))


def journals(run: Runner) -> int:
    with run.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Journal)) or 0)


def test_e1_e2_the_section_times_valid_einvoices_and_the_pdf_peer(
    run: Runner, bench_db: Database, rules: Path
) -> None:
    """E1, E2: 2 invoices and 1 credit note of the tax scenario, each generated, validated
    with 0 fatal findings and rendered as PDF; every figure the table prints is there."""
    run.ok("upsert_catalog", tax_catalog())
    figures = measure(bench_db, invoices=2, credit_notes=1, rules=rules)
    assert figures["einvoice_documents"] == 3
    assert figures["einvoice_credit_notes"] == 1
    assert figures["einvoice_fatal"] == 0
    print("warnings accepted:", figures["einvoice_warnings"], figures["einvoice_warning_rules"])
    for step in STEPS:
        for figure in ("ms", "p95_ms", "cpu_ms"):
            assert figures[f"einvoice_{step}_{figure}"] >= 0
    for step in ("generation", "validation"):
        assert figures[f"einvoice_{step}_ratio_to_pdf"] >= 0
        assert figures[f"einvoice_{step}_cpu_ratio_to_pdf"] >= 0
    assert figures["einvoice_rules_compile_s"] >= 0
    printed = table(figures)
    assert "e-invoice generation (3 documents, 1 credit notes)" in printed
    assert "| 0 fatal " in printed and "| yes " in printed.split("fatal findings")[1]


def payable_changed(xml: bytes) -> bytes:
    """The document with its PayableAmount one more than its totals (BR-CO-16 fails)."""
    root = etree.fromstring(xml)
    (payable,) = root.iter(f"{{{CBC}}}PayableAmount")
    payable.text = str(Decimal(payable.text or "0") + 1)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_e2_negative_control_a_document_with_a_fatal_finding_fails_the_section(
    run: Runner, bench_db: Database, rules: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Negative control: were the generator to make invalid XML, the section would not
    report its time: it fails, naming the rule."""
    run.ok("upsert_catalog", tax_catalog())
    generate = bench.einvoice.generate
    monkeypatch.setattr(bench.einvoice, "generate", lambda j: payable_changed(generate(j)))
    with pytest.raises(RuntimeError, match=r"2 of 2 generated e-invoices fail the official rules"):
        measure(bench_db, invoices=2, credit_notes=0, rules=rules)
    with pytest.raises(RuntimeError, match="BR-CO-16"):
        measure(bench_db, invoices=1, credit_notes=0, rules=rules)


def test_e1_journals_posted_without_an_einvoice_are_refused(
    run: Runner, bench_db: Database, rules: Path
) -> None:
    """E1, negative control: the same orders in the catalog without company (no Peppol
    endpoint, no VAT) get no e-invoice; the section says so rather than time documents the
    pipeline never makes."""
    run.ok("upsert_catalog", no_tax_catalog())
    with pytest.raises(RuntimeError, match="posting gave no e-invoice to"):
        measure(bench_db, invoices=1, credit_notes=0, rules=rules)


def test_a_missing_rules_folder_is_refused_before_anything_is_posted(
    run: Runner, bench_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the official rules the section refuses, saying where it looked and what to do:
    in measure before posting, in rules_folder, and in `python -m bench` before any section
    runs (before it connects to Redis)."""
    run.ok("upsert_catalog", tax_catalog())
    with pytest.raises(RulesNotFound, match="e-invoice rules not found"):
        measure(bench_db, invoices=1, credit_notes=0, rules=tmp_path)
    assert journals(run) == 0
    monkeypatch.setenv("DOCPOST_EINVOICE_RULES", str(tmp_path))
    expected = (
        rf"the einvoice bench needs the official rules: e-invoice rules not found: "
        rf"{tmp_path}/CEN-EN16931-UBL\.xslt.*DOCPOST_EINVOICE_RULES.*--skip einvoice"
    )
    with pytest.raises(RulesNotFound, match=expected):
        rules_folder()
    others = [s for s in SECTIONS if s != "einvoice"]
    with pytest.raises(RulesNotFound, match=expected):
        main(["--quick", "--skip", *others])


@pytest.mark.parametrize(("invoices", "credit_notes"), [(0, 0), (1, 2), (2, -1)])
def test_sizes_without_an_invoice_or_with_more_credit_notes_are_refused(
    run: Runner, bench_db: Database, rules: Path, invoices: int, credit_notes: int
) -> None:
    """A credit note credits one of the invoices posted (a full credit note each)."""
    run.ok("upsert_catalog", tax_catalog())
    with pytest.raises(ValueError, match="at least 1 invoice, at most as many credit notes"):
        measure(bench_db, invoices=invoices, credit_notes=credit_notes, rules=rules)
    assert journals(run) == 0
