"""`docpost show journal` lists the journal's e-invoice with its status (E1, E2), in text and
--json, as `docpost documents` says it: pending, rendered, or invalid with the rules it fails.
SQLite and PostgreSQL (the db fixtures).
"""

from __future__ import annotations

import json

import pytest

import docpost.reports.render
from docpost.pipeline.documents import render_pending
from docpost.pipeline.entrypoints.cli.main import main
from tests.conftest import Runner
from tests.einvoice.test_stored_einvoices import (  # noqa: F401
    FAKE_PDF,
    changed_payable_amount,
    checked_env,
    einvoice_row,
    invoice,
    settings_env,
)


@pytest.fixture(autouse=True)
def fake_pdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """The PDFs are not under test here: WeasyPrint's seconds are spared."""
    monkeypatch.setattr(docpost.reports.render, "render_pdf", lambda view, locale: FAKE_PDF)


def show(capsys: pytest.CaptureFixture[str], number: str, *flags: str) -> str:
    assert main(["show", "journal", number, *flags]) == 0
    return capsys.readouterr().out


def test_e1_show_journal_lists_the_einvoice_pending_then_rendered(
    shop: Runner,
    settings_env: pytest.MonkeyPatch,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    """E1: the invoice's e-invoice is listed beside its PDF: pending after posting, rendered
    after the render; --json gives each document's format and media type, and the
    e-invoice's findings (null: not checked)."""
    invoice(shop)
    row = einvoice_row(shop.sessions, "INV-000001")
    assert f"e-invoice INV-000001.xml (id {row.id}): pending" in show(capsys, "INV-000001")
    render_pending(shop.sessions)
    assert f"e-invoice INV-000001.xml (id {row.id}): rendered" in show(capsys, "INV-000001")
    documents = json.loads(show(capsys, "INV-000001", "--json"))["documents"]
    assert [
        (d["filename"], d["format"], d["media_type"], d["status"], d["findings"]) for d in documents
    ] == [
        ("INV-000001.pdf", "pdf", "application/pdf", "rendered", None),
        ("INV-000001.xml", "ubl", "application/xml", "rendered", None),
    ]


def test_e2_show_journal_says_an_invalid_einvoice_fails_its_rules(
    shop: Runner,
    checked_env: pytest.MonkeyPatch,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    """E2: an e-invoice stored invalid is shown with the rule ids it fails (text) and its
    findings (--json)."""
    invoice(shop)
    changed_payable_amount(checked_env)
    render_pending(shop.sessions)
    row = einvoice_row(shop.sessions, "INV-000001")
    assert f"e-invoice INV-000001.xml (id {row.id}): invalid, fails BR-CO-16" in show(
        capsys, "INV-000001"
    )
    documents = json.loads(show(capsys, "INV-000001", "--json"))["documents"]
    (shown,) = [d for d in documents if d["format"] == "ubl"]
    assert shown["status"] == "invalid"
    assert "BR-CO-16" in {f["rule"] for f in shown["findings"] if f["flag"] != "warning"}


def test_e1_show_journal_of_a_journal_without_einvoice_lists_none(
    shop: Runner,
    settings_env: pytest.MonkeyPatch,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Negative control: the consumer's invoice (no electronic address) and a confirmation have
    no e-invoice line, and their documents are PDFs only."""
    invoice(shop, customer="NO-1002")
    for number in ("INV-000001", "CONF-000001"):
        assert "e-invoice" not in show(capsys, number)
        documents = json.loads(show(capsys, number, "--json"))["documents"]
        assert {d["format"] for d in documents} == {"pdf"}
