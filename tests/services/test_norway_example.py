"""The Norwegian example `docpost demo` runs (pipeline/examples/norway/requests.jsonl), on
SQLite and PostgreSQL without the queue: every request succeeds, and its postings carry the
figures the demo prints (T3, T4, T5, T6, T7, L1, M8's export treatment).

The demo itself (through the embedded queue, the PDFs, the output) is in
tests/integration/test_demo.py.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from docpost.pipeline import queries
from docpost.pipeline.entrypoints.cli.demo import example_requests
from docpost.pipeline.runner.execute import execute
from docpost.schema import LedgerEntry
from tests.conftest import Runner
from tests.services.test_tax_postings import assert_every_voucher_balances, journal, vat_rows


@pytest.fixture
def outcomes(run: Runner) -> list[dict[str, Any]]:
    """The example's catalog load and requests, in file order, as the demo runs them."""
    return [
        execute(body if isinstance(body, str) else json.dumps(body, default=str), run.sessions)
        for body in example_requests("norway")
    ]


def test_every_request_of_the_norwegian_example_succeeds(
    run: Runner, outcomes: list[dict[str, Any]]
) -> None:
    # Negative control against an empty file: the catalog load and nine requests.
    assert len(outcomes) == 10
    assert [o["status"] for o in outcomes] == ["succeeded"] * 10, outcomes
    journals = [o["result"].get("journal") for o in outcomes]
    assert journals == [
        None, None, "CONF-000001", "PS-000001", "INV-000001", "CN-000001", "INV-000002",
        None, "CONF-000002", "INV-000003",
    ]  # fmt: skip
    assert_every_voucher_balances(run)


def test_t3_t4_the_invoice_splits_the_gift_basket_per_rate(
    run: Runner, outcomes: list[dict[str, Any]]
) -> None:
    """T4: the gift basket at 365.00 (base 438.00 = cheese 189.00 at 15 % + knife 249.00 at
    25 %) shares its price by base price (B4): 157.50 + 207.50 a basket; T3: VAT per rate of
    the whole invoice, the book (code 5, Z) at 0 %."""
    shown = journal(run, "INV-000001")
    assert vat_rows(shown) == [
        ("3", "S", "25.00", "7571.00", "1892.75"),  # 10 x 207.50 + 4 x 249.00 + 4,500.00
        ("31", "S", "15.00", "1575.00", "236.25"),  # 10 x 157.50
        ("5", "Z", "0.00", "1570.50", "0.00"),  # 5 x 349.00 less 10 %
    ]
    assert (shown["net_total"], shown["vat_total"], shown["total"]) == (
        "10716.50",
        "2129.00",
        "12845.50",
    )
    assert shown["buyer_reference"] == "Innkjøp 4711, Ola Hansen"
    assert shown["kid"] == "0000018"  # MOD10 (Luhn) on 000001 (P2)


def test_t5_t6_the_credit_note_and_the_pos_sale(
    run: Runner, outcomes: list[dict[str, Any]]
) -> None:
    """T5: one knife credited, VAT on its own line; T6: POS prices include VAT, per line."""
    credit = journal(run, "CN-000001")
    assert vat_rows(credit) == [("3", "S", "25.00", "249.00", "62.25")]
    pos = journal(run, "INV-000002")
    assert vat_rows(pos) == [
        ("3", "S", "25.00", "239.20", "59.80"),  # 299.00 x 25 / 125
        ("31", "S", "15.00", "398.26", "59.74"),  # 2 x 229.00 x 15 / 115
    ]
    assert pos["total"] == "757.00"


def test_t7_m8_the_sek_export_order_posts_in_nok(
    run: Runner, outcomes: list[dict[str, Any]]
) -> None:
    """M8: SE-2001's export treatment maps every item to code 52 (G, 0 %); T7: the invoice is
    in SEK at 0.9876 NOK per SEK and its voucher in NOK (10,680.00 SEK = 10,547.57 NOK)."""
    shown = journal(run, "INV-000003")
    assert shown["currency"] == "SEK"
    assert vat_rows(shown) == [("52", "G", "0.00", "10680.00", "0.00")]
    with run.sessions() as session:
        receivable = session.scalar(
            select(LedgerEntry.amount).where(
                LedgerEntry.account == "1200", LedgerEntry.text.startswith("INV-000003")
            )
        )
    assert receivable == Decimal("10547.57")


def test_l1_the_vat_summary_the_demo_prints(run: Runner, outcomes: list[dict[str, Any]]) -> None:
    """L1: per tax code, the invoices less the credit note, in NOK (T7): what a VAT return
    needs and what `docpost demo` prints for the Norwegian company."""
    with run.sessions() as session:
        summary = queries.ledger(session)["vat_summary"]
    assert [tuple(v.values()) for v in summary] == [
        ("3", "S", "25.00", "7561.20", "1890.30"),  # 7,571.00 - 249.00 + 239.20
        ("31", "S", "15.00", "1973.26", "295.99"),  # 1,575.00 + 398.26
        ("5", "Z", "0.00", "1570.50", "0.00"),
        ("52", "G", "0.00", "10547.57", "0.00"),
    ]
