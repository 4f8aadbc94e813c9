"""The ledger voucher of a document (DOMAIN.md L1 with T3, T6, T7, B11): pipeline/rules/ledger.py.

Accounts as pipeline/services/journal.py books them today: 1200 receivables, 3000 revenue,
2900 deferred revenue; output VAT on the tax code's account (2700 for code 3); 1900 cash.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.ledger import (
    LedgerLine,
    NetEntry,
    VoucherSide,
    as_entries,
    check_balanced,
    voucher_lines,
)
from docpost.pipeline.rules.tax import (
    GrossLine,
    LineTax,
    TaxedLine,
    in_company_currency,
    receipt_plan,
    vat_plan,
)

D = Decimal
S25 = LineTax("3", "S", D(25), "2700")
S15 = LineTax("31", "S", D(15), "2701")
Z0 = LineTax("5", "Z", D(0))
INVOICE = VoucherSide("INV-000001", "US-004", "1200")
LAPTOP = [("1000", D("1713.73")), ("Support", D("450.98")), ("S0021", D("135.29"))]


def net_entries(lines: list[tuple[str, Decimal]], account: str = "3000") -> list[NetEntry]:
    return [NetEntry(account, amount, n, item) for n, (item, amount) in enumerate(lines, 1)]


def laptop_voucher(
    side: VoucherSide = INVOICE, rate: Decimal | None = None
) -> tuple[LedgerLine, ...]:
    plan = vat_plan(TaxedLine(amount, S25) for _, amount in LAPTOP)
    return voucher_lines(side, net_entries(LAPTOP), plan, rate)


def test_l1_invoice_debits_receivables_with_the_total_and_credits_revenue_and_vat() -> None:
    """The LaptopBundle invoice: 2,875.00 receivable, revenue per component line, 575.00
    output VAT on code 3's account."""
    assert as_entries(laptop_voucher()) == [
        ("1200", D("2875.00"), "INV-000001 US-004"),
        ("3000", D("-1713.73"), "INV-000001 line 1 1000"),
        ("3000", D("-450.98"), "INV-000001 line 2 Support"),
        ("3000", D("-135.29"), "INV-000001 line 3 S0021"),
        ("2700", D("-575.00"), "INV-000001 VAT 3 25%"),
    ]


def test_l1_credit_note_writes_the_reverse() -> None:
    """T5: the full credit note of that invoice nets every account out to zero."""
    credit = laptop_voucher(VoucherSide("CN-000001", "US-004", "1200", reverse=True))
    assert [(ln.account, ln.amount) for ln in credit] == [
        ("1200", D("-2875.00")),
        ("3000", D("1713.73")),
        ("3000", D("450.98")),
        ("3000", D("135.29")),
        ("2700", D("575.00")),
    ]
    balance: dict[str, Decimal] = {}
    for line in (*laptop_voucher(), *credit):
        balance[line.account] = balance.get(line.account, D(0)) + line.amount
    assert set(balance.values()) == {D(0)}


def test_l1_mixed_rates_credit_vat_per_code_account_and_skip_zero_vat() -> None:
    lines = [("Cheese", D("551.11")), ("Knife", D("945.89")), ("Paper", D("10.00"))]
    taxes = [S15, S25, Z0]
    plan = vat_plan(TaxedLine(amount, tax) for (_, amount), tax in zip(lines, taxes, strict=True))
    entries = as_entries(voucher_lines(INVOICE, net_entries(lines), plan))
    assert entries[0] == ("1200", D("1826.14"), "INV-000001 US-004")
    assert entries[-2:] == [
        ("2700", D("-236.47"), "INV-000001 VAT 3 25%"),
        ("2701", D("-82.67"), "INV-000001 VAT 31 15%"),
    ]


def test_l1_deferred_lines_credit_deferred_revenue_with_their_note() -> None:
    """B11: revenue net per line, to deferred revenue where the item has a schedule."""
    entries = [
        NetEntry("3000", D("100.00"), 1, "1000"),
        NetEntry("2900", D("200.00"), 2, "Support", "deferred 12M"),
    ]
    plan = vat_plan([TaxedLine(D("300.00"), S25)])
    assert as_entries(voucher_lines(INVOICE, entries, plan))[1:3] == [
        ("3000", D("-100.00"), "INV-000001 line 1 1000"),
        ("2900", D("-200.00"), "INV-000001 line 2 Support deferred 12M"),
    ]


def test_l1_t6_pos_sale_debits_cash_with_the_gross() -> None:
    receipt = receipt_plan([GrossLine(D("499.00"), S25)])
    entries = [NetEntry("3000", ln.net, 1, "Mug") for ln in receipt.lines]
    side = VoucherSide("INV-000002", "POS", "1900")
    assert as_entries(voucher_lines(side, entries, receipt.vat)) == [
        ("1900", D("499.00"), "INV-000002 POS"),
        ("3000", D("-399.20"), "INV-000002 line 1 Mug"),
        ("2700", D("-99.80"), "INV-000002 VAT 3 25%"),
    ]


def test_l1_t7_usd_invoice_is_booked_in_nok_keeping_the_usd_amounts() -> None:
    """At 10.8571 NOK per USD: each revenue line and the VAT converted; the VAT entry equals
    the NOK VAT the invoice states (in_company_currency); receivables are their sum."""
    voucher = laptop_voucher(rate=D("10.8571"))
    assert [(ln.account, ln.amount, ln.document_amount) for ln in voucher] == [
        ("1200", D("31214.16"), D("2875.00")),
        ("3000", D("-18606.14"), D("-1713.73")),  # 18,606.137983
        ("3000", D("-4896.33"), D("-450.98")),  # 4,896.334958
        ("3000", D("-1468.86"), D("-135.29")),  # 1,468.857059
        ("2700", D("-6242.83"), D("-575.00")),  # 6,242.8325
    ]
    stated = in_company_currency(vat_plan(TaxedLine(a, S25) for _, a in LAPTOP), D("10.8571"))
    assert -voucher[-1].amount == stated.vat_total


def test_l1_t7_receivable_is_the_sum_of_its_converted_parts() -> None:
    """At 10.8577 the parts round to 31,215.90 NOK while 2,875.00 x 10.8577 = 31,215.89: the
    voucher books the parts' sum (it balances by construction; documented in voucher_lines)."""
    voucher = laptop_voucher(rate=D("10.8577"))
    assert [ln.amount for ln in voucher] == [
        D("31215.90"),
        D("-18607.17"),
        D("-4896.61"),
        D("-1468.94"),
        D("-6243.18"),
    ]


def test_l1_a_vat_code_without_an_account_is_refused() -> None:
    no_account = LineTax("3", "S", D(25), None)
    plan = vat_plan([TaxedLine(D("100.00"), no_account)])
    with pytest.raises(Rejection) as caught:
        voucher_lines(INVOICE, [NetEntry("3000", D("100.00"), 1, "1000")], plan)
    assert (caught.value.code, caught.value.rule) == ("tax.no_account", "L1")
    assert caught.value.message == (
        "INV-000001: tax code 3 carries VAT 25.00 but has no output VAT account; give the tax "
        "code its account (M8)"
    )


def test_l1_a_zero_rated_code_needs_no_account() -> None:
    plan = vat_plan([TaxedLine(D("100.00"), Z0)])
    lines = voucher_lines(INVOICE, [NetEntry("3000", D("100.00"), 1, "1000")], plan)
    assert [ln.account for ln in lines] == ["1200", "3000"]


def test_l1_net_entries_that_do_not_match_the_plan_are_a_bug() -> None:
    plan = vat_plan([TaxedLine(D("100.00"), S25)])
    with pytest.raises(AssertionError, match=r"net entries sum to 99\.00, its VAT plan to 100\.00"):
        voucher_lines(INVOICE, [NetEntry("3000", D("99.00"), 1, "1000")], plan)


def test_l1_check_balanced_catches_an_unbalanced_voucher() -> None:
    """Negative control: the check is not vacuous, in either currency."""
    with pytest.raises(AssertionError, match="does not balance"):
        check_balanced([LedgerLine("1200", D("1.00"), "x", D("1.00"))])
    with pytest.raises(AssertionError, match="in the document currency"):
        check_balanced(
            [
                LedgerLine("1200", D("1.00"), "x", D("1.00")),
                LedgerLine("3000", D("-1.00"), "y", D(0)),
            ]
        )


TAXES = st.sampled_from([S25, S15, Z0, LineTax("33", "S", D(12), "2702")])
AMOUNTS = st.decimals(min_value=D("-100"), max_value=D("100000"), places=2)
RATES = st.none() | st.decimals(min_value=D("0.0001"), max_value=D("200"), places=4)


@given(st.lists(st.tuples(AMOUNTS, TAXES), max_size=12), RATES, st.booleans())
def test_l1_property_every_invoice_voucher_balances(
    lines: list[tuple[Decimal, LineTax]], rate: Decimal | None, reverse: bool
) -> None:
    """For random lines, rates, exchange rates, invoices and credit notes: the voucher
    balances in both currencies, its VAT entries are the (converted) plan's VAT, and its
    debit is the document total."""
    plan = vat_plan(TaxedLine(amount, tax) for amount, tax in lines)
    entries = [NetEntry("3000", amount, n, "X") for n, (amount, _) in enumerate(lines, 1)]
    side = VoucherSide("CN-1" if reverse else "INV-1", "C", "1200", reverse)
    voucher = voucher_lines(side, entries, plan, rate)
    sign = -1 if reverse else 1
    assert sum(ln.amount for ln in voucher) == 0
    assert voucher[0].document_amount == sign * plan.total
    stated = in_company_currency(plan, rate) if rate else plan
    vat_booked = sum(ln.amount for ln in voucher if ln.account.startswith("27"))
    assert vat_booked == -sign * stated.vat_total


@given(st.lists(st.tuples(AMOUNTS, TAXES), max_size=12))
def test_l1_property_every_pos_voucher_balances(lines: list[tuple[Decimal, LineTax]]) -> None:
    receipt = receipt_plan([GrossLine(gross, tax) for gross, tax in lines])
    entries = [NetEntry("3000", ln.net, n, "X") for n, ln in enumerate(receipt.lines, 1)]
    voucher = voucher_lines(VoucherSide("INV-1", "POS", "1900"), entries, receipt.vat)
    assert sum(ln.amount for ln in voucher) == 0
    assert voucher[0].amount == sum((gross for gross, _ in lines), D(0))
