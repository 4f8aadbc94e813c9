"""`docpost demo` in an empty folder (CONTRACT.md): the USMF example in ./docpost.db and
./documents, and the Norwegian company with VAT in ./norway (its own database: one company per
database), both through the embedded queue; a second run finds every outcome kept.

The Norwegian example's postings, on SQLite and PostgreSQL without the queue, are in
tests/services/test_norway_example.py.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from docpost.pipeline.entrypoints.cli import demo
from docpost.schema import Journal, LedgerEntry
from tests.documents.pdfs import pdf_text, squash


def docpost(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`docpost ARGS` in `cwd` with no DOCPOST_* variable set but `env`: the embedded defaults."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DOCPOST_")}
    return subprocess.run(
        [sys.executable, "-m", "docpost.pipeline.entrypoints.cli.main", *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@dataclass
class Runs:
    folder: Path
    first: subprocess.CompletedProcess[str]
    again: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """The demo in an empty folder, then once more with --json (once for the module: each
    run takes seconds)."""
    folder = tmp_path_factory.mktemp("demo")
    first = docpost(["demo"], folder)
    again = docpost(["demo", "--json"], folder)
    return Runs(folder, first, again)


def section(stdout: str, heading: str) -> list[str]:
    """The lines of the output part whose heading starts with `heading`, up to the next."""
    parts = stdout.split("\n== ")
    [part] = [p for p in parts if p.lstrip("= ").startswith(heading)]
    return part.splitlines()


def test_demo_runs_both_examples_in_an_empty_folder(runs: Runs) -> None:
    result = runs.first
    assert result.returncode == 0, result.stdout + result.stderr
    assert (runs.folder / "docpost.db").exists()
    assert (runs.folder / "norway" / "docpost.db").exists()
    # D2: each of the 2 confirmations of either example has its picking list beside it.
    assert len(list((runs.folder / "documents").glob("*.pdf"))) == 14
    assert len(list((runs.folder / "norway" / "documents").glob("*.pdf"))) == 10

    usmf, norway = section(result.stdout, "USMF example"), section(result.stdout, "Norwegian")
    for part, last in ((usmf, "usmf-012 "), (norway, "norway-009 ")):
        header = next(i for i, line in enumerate(part) if line.split()[:2] == ["request", "kind"])
        rows = part[header + 2 : part.index("", header)]
        assert rows and all(row.split()[2] == "succeeded" for row in rows), rows
        assert rows[-1].startswith(last)
        assert "Trial balance" in part
        trial_total = next(line.split() for line in part if line.split()[:1] == ["total"])
        assert trial_total == ["total", "0.00"]
    assert section(result.stdout, "USMF")[0].endswith(": docpost.db")
    assert section(result.stdout, "Norwegian")[0].endswith(": norway/docpost.db")
    assert "10 PDF(s) and 3 e-invoice(s) written to norway/documents/" in norway
    assert result.stdout.splitlines()[-2:] == [
        "USMF example: 15/15 requests succeeded, 14 PDF(s) written, trial balance 0.00",
        "Norwegian company: 10/10 requests succeeded, 10 PDF(s) and 3 e-invoice(s) written, "
        "trial balance 0.00",
    ]
    # The progress on stderr names each example as it starts.
    assert "USMF example: 13 requests through the embedded queue on docpost.db" in result.stderr
    assert "Norwegian company: 10 requests" in result.stderr


def test_l1_demo_prints_the_norwegian_vat_summary_per_code(runs: Runs) -> None:
    """L1: base and output VAT per SAF-T code in NOK, the invoices less the credit note."""
    norway = section(runs.first.stdout, "Norwegian")
    start = norway.index("VAT summary per tax code (NOK)")
    assert [line.split() for line in norway[start + 3 : start + 8]] == [
        ["3", "S", "25.00", "7561.20", "1890.30"],
        ["31", "S", "15.00", "1973.26", "295.99"],
        ["5", "Z", "0.00", "1570.50", "0.00"],
        ["52", "G", "0.00", "10547.57", "0.00"],
        ["total", "21652.53", "2186.29"],
    ]
    assert "VAT summary" not in "\n".join(section(runs.first.stdout, "USMF"))  # no VAT there


def test_demo_again_finds_every_outcome_kept(runs: Runs) -> None:
    result = runs.again
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    # The USMF example's keys at the top, as before; the Norwegian company beside them.
    assert {o["status"] for o in document["outcomes"]} == {"succeeded"}
    assert len(document["outcomes"]) == 15
    assert document["trial_balance"]["total"] == "0.00"
    norway = document["norway"]
    assert [o["status"] for o in norway["outcomes"]] == ["succeeded"] * 10
    assert norway["trial_balance"]["total"] == "0.00"
    assert norway["database"].endswith("/norway/docpost.db")
    assert [v["tax_code"] for v in norway["vat_summary"]] == ["3", "31", "5", "52"]
    assert len(norway["documents"]) == 10 + 3 and not norway["documents_not_rendered"]
    # E1: the Norwegian company's invoices and credit note to businesses, beside their PDFs
    assert sorted(Path(p).name for p in norway["documents"] if p.endswith(".xml")) == [
        "CN-000001.xml", "INV-000001.xml", "INV-000003.xml"
    ]  # fmt: skip


def test_p3_p4_t4_d4_the_norwegian_invoice_pdf(runs: Runs) -> None:
    """The demo's Norwegian invoice in nb_NO (the customer's language, P4): the VAT breakdown
    per rate with the gift basket split per rate (T4), totals, KID, bank account and the
    seller's number with MVA (P3); the amount due is the receivable the ledger holds (D4)."""
    pdf = (runs.folder / "norway" / "documents" / "INV-000001.pdf").read_bytes()
    text = pdf_text(pdf)
    flat = squash(text)
    for label in ("Faktura", "Fakturadato", "Forfallsdato", "Leveringsdato", "Deres referanse"):
        assert label in text, label
    for label in ("SPESIFIKASJON AV MERVERDIAVGIFT", "KONTONUMMER", "KID", "stk"):
        assert label in text, label
    assert "OrganisasjonsnummerNO923609016MVA" in flat
    assert "Foretaksregisteret" in text
    assert "Gavekurv:fjellostogostekniv(25%)" in flat
    assert "Gavekurv:fjellostogostekniv(15%)" in flat
    for row in ("25%7571,001892,75", "15%1575,00236,25", "0%nullsats1570,500,00"):
        assert row in flat, row
    assert "Sumeks.mva.10716,50kr" in flat
    assert "Merverdiavgift2129,00kr" in flat
    assert "Suminkl.mva.12845,50kr" in flat
    assert "Åbetale12845,50kr" in flat
    assert "1234.56.78903" in text and "0000018" in text  # account and KID (MOD10)

    engine = create_engine(f"sqlite:///{runs.folder / 'norway' / 'docpost.db'}")
    with Session(engine) as session:
        receivable = session.scalar(
            select(func.sum(LedgerEntry.amount))
            .join(Journal, Journal.id == LedgerEntry.journal_id)
            .where(Journal.number == "INV-000001", LedgerEntry.account == "1200")
        )
    engine.dispose()
    assert receivable == Decimal("12845.50")


def test_p3_the_norwegian_credit_note_names_its_invoice(runs: Runs) -> None:
    text = pdf_text((runs.folder / "norway" / "documents" / "CN-000001.pdf").read_bytes())
    assert "Kreditnota" in text
    assert "Krediterer faktura INV-000001" in text
    assert "Til gode 311,25" in text.replace("\u00a0", " ").replace("\u202f", " ")


@pytest.mark.postgres
def test_demo_on_postgresql_keeps_the_norwegian_company_in_its_folder(
    pg_url: str, tmp_path: Path
) -> None:
    """DOCPOST_DATABASE_URL decides the USMF example's database; the Norwegian company always
    gets its own SQLite file in ./norway (a database holds one company)."""
    result = docpost(["demo", "--json"], tmp_path, env={"DOCPOST_DATABASE_URL": pg_url})
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["database"] == pg_url
    assert not (tmp_path / "docpost.db").exists()
    assert (tmp_path / "norway" / "docpost.db").exists()
    engine = create_engine(pg_url)
    with Session(engine) as session:
        numbers = set(session.scalars(select(Journal.number)))
    engine.dispose()
    assert {"INV-000004", "CN-000001"} <= numbers  # the USMF example's, in PostgreSQL
    assert {o["status"] for o in document["norway"]["outcomes"]} == {"succeeded"}


# --- without a subprocess ------------------------------------------------------------------


def test_settings_for_restores_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCPOST_LOCALE", "en_US")
    monkeypatch.delenv("DOCPOST_DOCUMENTS_DIR", raising=False)
    with demo.settings_for({"DOCPOST_LOCALE": "nb_NO", "DOCPOST_DOCUMENTS_DIR": "/x"}) as s:
        assert (s.locale, s.documents_dir) == ("nb_NO", "/x")
    assert os.environ["DOCPOST_LOCALE"] == "en_US"
    assert "DOCPOST_DOCUMENTS_DIR" not in os.environ
    assert demo.get_settings().locale == "en_US"  # the cache does not keep the example's


def test_example_environment_puts_norway_in_its_folder(tmp_path: Path) -> None:
    assert demo.example_environment(demo.USMF, tmp_path) == {}
    assert demo.example_environment(demo.NORWAY, tmp_path) == {
        "DOCPOST_DATABASE_URL": f"sqlite:///{tmp_path / 'norway' / 'docpost.db'}",
        "DOCPOST_DOCUMENTS_DIR": str(tmp_path / "norway" / "documents"),
        "DOCPOST_LOCALE": "nb_NO",
    }


def test_shown_database_hides_a_password() -> None:
    assert demo.shown_database("postgresql://u:secret@h/db") == "postgresql://u:***@h/db"


def test_a_rejected_request_makes_the_demo_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """CONTRACT.md: exit 1 when a request was rejected; the summary names its code."""
    rejected = {
        "request_id": "norway-001",
        "status": "rejected",
        "error": {"code": "order.unknown_item", "rule": "M1", "message": "..."},
    }
    ledger = {"trial_balance": {"accounts": [], "total": "0"}, "vat_summary": []}
    part = demo.PartResult(demo.NORWAY, "sqlite://", "d", [rejected], {}, ledger)
    monkeypatch.setattr(demo, "run_demo", lambda **_: demo.DemoResult([part]))
    assert demo.demo_command(json_output=False) == 1
    out = capsys.readouterr().out
    assert "norway-001" in out and "order.unknown_item" in out
    assert out.splitlines()[-1].startswith("Norwegian company: 0/1 requests succeeded")
    ok = demo.PartResult(
        demo.USMF, "sqlite://", "d", [{**rejected, "status": "succeeded"}], {}, ledger
    )
    assert demo.DemoResult([ok]).ok and not demo.DemoResult([ok, part]).ok  # negative control


def test_progress_redraws_only_on_a_terminal() -> None:
    log = io.StringIO()
    progress = demo.DemoProgress(log)
    progress.start(demo.NORWAY, "sqlite:///norway/docpost.db", 2)
    progress.outcome({"request_id": "norway-001"})
    progress.rendering()
    progress.done()
    assert log.getvalue() == (
        "docpost: Norwegian company: 2 requests through the embedded queue on norway/docpost.db\n"
    )


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_counts_fanned_out_requests() -> None:
    """Bulk invoicing's invoices join the total when their parent names them. The bar is
    rich's (issue 18): its state is what it draws, on its own refresh; cleared when done."""
    screen = Terminal()
    progress = demo.DemoProgress(screen)
    progress.start(demo.USMF, "sqlite:///docpost.db", 2)
    bulk = {"request_id": "b", "status": "succeeded", "result": {"requests": ["b:1", "b:2"]}}
    seen = []
    for outcome in (bulk, {"request_id": "b:1"}, {"request_id": "b:2"}, {"request_id": "c"}):
        progress.outcome(outcome)
        task = progress.progress.tasks[0]
        seen.append((task.completed, task.total, task.fields["at"]))
    assert seen == [(1, 4, "b"), (2, 4, "b:1"), (3, 4, "b:2"), (4, 4, "c")]
    progress.stopping()
    progress.done()
    assert "4/4\x1b[0m stopping the embedded queue" in screen.getvalue()  # drawn as it stops
    assert screen.getvalue().endswith("\033[2K")  # the terminal's line left clean
