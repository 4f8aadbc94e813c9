"""`docpost ledger --from DATE --to DATE` (extends CONTRACT.md's `docpost ledger [--voucher V]`;
issue 15, L1, P1) on SQLite and PostgreSQL with the Norwegian catalog (15 % and 25 %): the
entries and trial balance of a period, vouchers dated on their journal's document date, and the
VAT summary per tax code that a VAT return needs, in the text output and in `--json`.

The postings are dated in 2025 by their requests while they are posted today, so a filter that
read the posting date instead of the document date finds nothing in them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from docpost.pipeline import clock
from docpost.pipeline.config import get_settings
from docpost.pipeline.db import engine_for
from docpost.pipeline.entrypoints.cli.common import EXIT_OK, EXIT_USAGE
from docpost.pipeline.entrypoints.cli.main import main
from tests.conftest import Runner

JANUARY = ["--from", "2025-01-01", "--to", "2025-01-31"]
FEBRUARY = ["--from", "2025-02-01", "--to", "2025-02-28"]


@pytest.fixture
def cli(norway: Runner, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runner]:
    """`docpost` on the test database, with, by document date:

    January: SO-1 confirmed (3rd: a confirmation shows VAT but charges none), shipped (8th)
    and invoiced (10th): two gift baskets (cheese 189.00 at 15 %, knife 249.00 at 25 %) and
    a course at 4,500.00 (25 %); one basket credited (20th).
    February: a POS sale of a knife at 499.00 incl. 25 % (2nd) and SO-2, a course at 1,000.00
    invoiced without packing slip (3rd).
    """
    monkeypatch.setenv("DOCPOST_DATABASE_URL", db_url)
    get_settings.cache_clear()
    norway.ok(
        "upsert_order",
        {
            "order": "SO-1",
            "customer": "NO-1001",
            "lines": [
                {"line": 1, "item": "GAVE-1", "quantity": "2", "unit_price": "438.00"},
                {"line": 2, "item": "KURS-1", "quantity": "1", "unit_price": "4500.00"},
            ],
        },
    )
    norway.ok("confirm_order", {"order": "SO-1", "document_date": "2025-01-03"})
    norway.ok("post_packing_slip", {"order": "SO-1", "document_date": "2025-01-08"})
    invoice = norway.ok("post_invoice", {"order": "SO-1", "document_date": "2025-01-10"})
    norway.ok(
        "post_credit_note",
        {
            "invoice": invoice["journal"],
            "lines": [{"line": 1, "item": i, "quantity": "1"} for i in ("OST-1", "KNIV-1")],
            "document_date": "2025-01-20",
        },
    )
    norway.ok(
        "post_pos_sale",
        {
            "lines": [{"item": "KNIV-1", "quantity": "1", "unit_price": "499.00"}],
            "document_date": "2025-02-02",
        },
        actor="pos-1",
    )
    norway.ok(
        "upsert_order",
        {
            "order": "SO-2",
            "customer": "NO-1001",
            "lines": [{"line": 1, "item": "KURS-1", "quantity": "1", "unit_price": "1000.00"}],
        },
    )
    norway.ok("confirm_order", {"order": "SO-2"})
    norway.ok("post_invoice", {"order": "SO-2", "document_date": "2025-02-03"})
    yield norway
    get_settings.cache_clear()
    engine_for(db_url).dispose()


def ledger_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["ledger", *args, "--json"]) == EXIT_OK
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document


def ledger_text(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["ledger", *args]) == EXIT_OK
    captured = capsys.readouterr()
    assert captured.err == ""
    return captured.out


def journals_and_dates(ledger: dict[str, Any]) -> tuple[set[str], set[str]]:
    return {e["journal"] for e in ledger["entries"]}, {e["date"] for e in ledger["entries"]}


# --- the period in --json -----------------------------------------------------------------------


def test_l1_january_entries_trial_balance_and_vat_summary(
    cli: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    """L1: January's vouchers are the invoice's (10th) and the credit note's (20th) on their
    document dates; the period's trial balance balances; the VAT summary per tax code is the
    invoice less the credit note, in NOK. The confirmation of the 3rd shows VAT but is not in
    the VAT return; February's sales are out of the period (negative controls)."""
    ledger = ledger_json(capsys, *JANUARY)
    assert ledger["period"] == {"from": "2025-01-01", "to": "2025-01-31"}
    assert ledger["currency"] == "NOK"
    assert journals_and_dates(ledger) == ({"INV-000001", "CN-000001"}, {"2025-01-10", "2025-01-20"})
    assert ledger["trial_balance"] == {
        "accounts": [
            {"account": "1200", "name": "Accounts receivable", "balance": "6153.60"},
            {"account": "2700", "name": "Output VAT, code 3", "balance": "-1187.25"},
            {"account": "2701", "name": "Output VAT, code 31", "balance": "-28.35"},
            {"account": "3000", "name": "Sales revenue", "balance": "-4938.00"},
        ],
        "total": "0.00",
    }
    assert ledger["vat_summary"] == [
        {"tax_code": "3", "category": "S", "rate": "25.00", "taxable_amount": "4749.00", "vat_amount": "1187.25"},
        {"tax_code": "31", "category": "S", "rate": "15.00", "taxable_amount": "189.00", "vat_amount": "28.35"},
    ]  # fmt: skip
    assert ledger["vat_totals"] == {"taxable_amount": "4938.00", "vat_amount": "1215.60"}
    # The summary's VAT is what the period's vouchers put on the output VAT accounts.
    balances = {a["account"]: a["balance"] for a in ledger["trial_balance"]["accounts"]}
    assert (balances["2700"], balances["2701"]) == ("-1187.25", "-28.35")


def test_p1_l1_pos_sale_and_invoice_with_document_date_are_in_their_period(
    cli: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    """P1, L1 (issue 15, piece 3): the POS sale (2nd) and the invoice (3rd) dated by their
    requests have their vouchers on those dates in February's period, cash debited for the
    sale (T6), and February's VAT summary is theirs alone. Negative control: today, the day
    they were posted, holds none of their vouchers."""
    ledger = ledger_json(capsys, *FEBRUARY)
    assert journals_and_dates(ledger) == (
        {"INV-000002", "INV-000003"},
        {"2025-02-02", "2025-02-03"},
    )
    by_journal = {(e["journal"], e["account"]): e for e in ledger["entries"]}
    assert by_journal[("INV-000002", "1900")]["debit"] == "499.00"
    assert by_journal[("INV-000003", "1200")]["debit"] == "1250.00"
    assert ledger["vat_summary"] == [
        {"tax_code": "3", "category": "S", "rate": "25.00", "taxable_amount": "1399.20", "vat_amount": "349.80"},
    ]  # fmt: skip
    assert ledger["trial_balance"]["total"] == "0.00"

    today = clock.company_today(clock.zone_named("Europe/Oslo")).isoformat()
    on_the_posting_day = ledger_json(capsys, "--from", today, "--to", today)
    assert on_the_posting_day["entries"] == [] and on_the_posting_day["vat_summary"] == []


def test_an_open_ended_period_and_all_time(cli: Runner, capsys: pytest.CaptureFixture[str]) -> None:
    """--from alone runs to the newest voucher, --to alone from the oldest; without either,
    everything as before (the period is null in the JSON)."""
    since = ledger_json(capsys, "--from", "2025-02-01")
    until = ledger_json(capsys, "--to", "2025-01-31")
    everything = ledger_json(capsys)
    assert since["period"] == {"from": "2025-02-01", "to": None}
    assert until["period"] == {"from": None, "to": "2025-01-31"}
    assert everything["period"] == {"from": None, "to": None}
    assert journals_and_dates(since)[0] == {"INV-000002", "INV-000003"}
    assert journals_and_dates(until)[0] == {"INV-000001", "CN-000001"}
    assert len(everything["entries"]) == len(since["entries"]) + len(until["entries"])
    assert everything["vat_totals"] == {"taxable_amount": "6337.20", "vat_amount": "1565.40"}


def test_a_period_of_one_day(cli: Runner, capsys: pytest.CaptureFixture[str]) -> None:
    """--from equal to --to is the one day (both ends included): the credit note's."""
    ledger = ledger_json(capsys, "--from", "2025-01-20", "--to", "2025-01-20")
    assert journals_and_dates(ledger) == ({"CN-000001"}, {"2025-01-20"})
    assert ledger["vat_totals"] == {"taxable_amount": "-438.00", "vat_amount": "-90.60"}


# --- the text output ----------------------------------------------------------------------------


def test_text_trial_balance_and_vat_summary_of_the_period(
    cli: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    """The text output heads each part with the period, aligns its columns (rich's table: two
    spaces apart, a dashed rule under the header and over the totals) and right-aligns the
    amounts, and ends with the VAT summary per tax code with its totals."""
    out = ledger_text(capsys, *JANUARY)
    assert out.startswith("Ledger entries 2025-01-01 to 2025-01-31\n")
    trial_balance = out[out.index("Trial balance") : out.index("VAT summary")].rstrip("\n")
    assert trial_balance.splitlines() == [
        "Trial balance 2025-01-01 to 2025-01-31",
        "account  name                  balance",
        "-------- -------------------- --------",
        "1200     Accounts receivable   6153.60",
        "2700     Output VAT, code 3   -1187.25",
        "2701     Output VAT, code 31    -28.35",
        "3000     Sales revenue        -4938.00",
        "-------- -------------------- --------",
        "total                             0.00",
    ]
    assert out[out.index("VAT summary") :].splitlines() == [
        "VAT summary 2025-01-01 to 2025-01-31 (NOK)",
        "tax code  category  rate %     base      VAT",
        "--------- --------- ------- -------- -------",
        "3         S          25.00  4749.00  1187.25",
        "31        S          15.00   189.00    28.35",
        "--------- --------- ------- -------- -------",
        "total                       4938.00  1215.60",
    ]


def test_text_entries_right_align_debit_and_credit(
    cli: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    """The entries' debit and credit columns end on the same column on every row, the
    header's included, so their decimal points line up."""
    out = ledger_text(capsys, *FEBRUARY)
    lines = out[: out.index("\n\n")].splitlines()[1:]  # the entries table, without its title
    header, rows = lines[0], lines[2:]
    debit_end = header.index("debit") + len("debit")
    credit_end = header.index("credit") + len("credit")
    debits = [ln[:debit_end].split()[-1] for ln in rows if "1900" in ln or "1200" in ln]
    credits = [ln[:credit_end].split()[-1] for ln in rows if "3000" in ln or "2700" in ln]
    assert debits == ["499.00", "1250.00"]
    assert sorted(credits) == ["1000.00", "250.00", "399.20", "99.80"]


def test_text_a_period_without_postings(cli: Runner, capsys: pytest.CaptureFixture[str]) -> None:
    """A period with nothing posted says so instead of printing empty tables."""
    out = ledger_text(capsys, "--from", "2024-01-01", "--to", "2024-12-31")
    assert out.splitlines() == [
        "Ledger entries 2024-01-01 to 2024-12-31",
        "no entries in this period",
        "",
        "VAT summary 2024-01-01 to 2024-12-31 (NOK)",
        "no VAT in this period",
    ]


# --- refusals and help --------------------------------------------------------------------------

REFUSALS = [
    (
        ["--from", "2025-02-30"],
        "ledger: --from '2025-02-30' is not a date; write it YYYY-MM-DD, e.g. 2026-01-31",
    ),
    (
        ["--to", "31.01.2025"],
        "ledger: --to '31.01.2025' is not a date; write it YYYY-MM-DD, e.g. 2026-01-31",
    ),
    (
        ["--from", "20250101"],
        "ledger: --from '20250101' is not a date; write it YYYY-MM-DD, e.g. 2026-01-31",
    ),
    (
        ["--from", "2025-02-01", "--to", "2025-01-31"],
        "ledger: --from 2025-02-01 is after --to 2025-01-31; "
        "the period runs from its first day to its last",
    ),
]


@pytest.mark.parametrize(("args", "message"), REFUSALS)
def test_a_bad_period_is_a_one_line_usage_error(
    cli: Runner, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    """A date that is no YYYY-MM-DD day, or a period ending before it begins, exits with the
    usage code (2) and one line on stderr saying what would be right: no traceback, nothing
    on stdout."""
    assert main(["ledger", *args]) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"docpost: {message}\n"


@pytest.mark.parametrize(("args", "message"), REFUSALS)
def test_a_bad_period_with_json_is_an_error_document(
    cli: Runner, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    """With --json, the same refusal is one JSON error document on stdout (code `usage`)."""
    assert main(["ledger", *args, "--json"]) == EXIT_USAGE
    assert json.loads(capsys.readouterr().out) == {"error": {"code": "usage", "message": message}}


def test_help_explains_the_period_options(capsys: pytest.CaptureFixture[str]) -> None:
    """`docpost ledger --help` names --from and --to with their form, says both days are
    included, and that the VAT summary is part of the output."""
    with pytest.raises(SystemExit) as exited:
        main(["ledger", "--help"])
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for expected in (
        "--from YYYY-MM-DD",
        "--to YYYY-MM-DD",
        "first day of the period, included",
        "last day of the period, included",
        "VAT summary per tax code",
        "document date",
    ):
        assert expected in text
