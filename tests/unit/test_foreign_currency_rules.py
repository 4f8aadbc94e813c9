"""Credit notes of deferred revenue in a foreign currency, as pure rules (no database): T7's
company-currency share of a credited line (rules.credit.company_part), B11's split of a credit
over a schedule in the company currency (rules.revenue.split_deferred_credit, cumulative_shares,
document_split), and L1's voucher taking a company amount decided by its caller
(rules.ledger.NetEntry.company_amount).

The model in the property below is the ledger's deferred revenue (2900) and revenue (3000) of
one deferred line and its schedule, driven the way services.revenue drives them: invoicing
defers the line in the company currency, releases move what a period holds, credits take
their split. tests/services/test_foreign_currency_revenue.py runs the same through postings.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docpost.pipeline.rules.bundles import allocate
from docpost.pipeline.rules.credit import company_part
from docpost.pipeline.rules.ledger import NetEntry, VoucherSide, voucher_lines
from docpost.pipeline.rules.money import share_of_amount
from docpost.pipeline.rules.revenue import (
    CreditSplit,
    DeferredLine,
    cumulative_shares,
    document_split,
    schedule_amounts,
    split_credit,
    split_deferred_credit,
)
from docpost.pipeline.rules.tax import LineTax, TaxedLine, to_company_currency, vat_plan

D = Decimal
CENT = D("0.01")
rates = st.sampled_from([D("10.5"), D("0.0937"), D("11.23456"), D("1"), D("9.87654321")])
amounts = st.decimals(min_value="0.01", max_value=10**6, places=2)


# --- T7: a credited line's company amount --------------------------------------------------------


def test_t7_company_part_of_the_worked_example() -> None:
    """999.99 USD posted as 10,499.90 NOK (10.5): a third is 3,499.97 (not 333.33 x 10.5 =
    3,499.965 -> 3,499.97 by chance alike), two thirds 6,999.93, all of it 10,499.90."""
    total, company = D("999.99"), D("10499.90")
    assert company_part(total, company, D(0)) == 0
    assert company_part(total, company, D("333.33")) == D("3499.97")
    assert company_part(total, company, D("666.66")) == D("6999.93")
    assert company_part(total, company, total) == company


def test_t7_three_credits_of_a_cent_add_up_to_the_line_not_beyond() -> None:
    """Negative control for converting each credit on its own: 0.03 USD at 10.5 is 0.32 NOK
    (0.315 rounded), but three credits of 0.01 converted one by one make 0.33 (0.105 each);
    company_part's differences make 0.11 + 0.10 + 0.11 = 0.32."""
    total, company = D("0.03"), to_company_currency(D("0.03"), D("10.5"))
    assert company == D("0.32")
    assert 3 * to_company_currency(D("0.01"), D("10.5")) == D("0.33")
    parts = [
        company_part(total, company, D(n) * CENT) - company_part(total, company, D(n - 1) * CENT)
        for n in (1, 2, 3)
    ]
    assert parts == [D("0.11"), D("0.10"), D("0.11")] and sum(parts) == company


def test_t7_company_part_of_a_line_of_nothing_is_nothing() -> None:
    assert company_part(D(0), D(0), D(0)) == 0
    assert company_part(D("0.00"), D("0.00"), D("0.00")) == 0


@given(
    amount=amounts,
    rate=rates,
    quantity=st.integers(min_value=1, max_value=12),
    steps=st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=6),
)
def test_t7_credits_add_up_to_the_line_in_the_company_currency(
    amount: Decimal, rate: Decimal, quantity: int, steps: list[int]
) -> None:
    """Partial credits by quantity (B8's amounts), then the rest: their company amounts are
    never negative, each within 2 minor units of its own conversion, and add up exactly to
    the line as invoiced in the company currency (to_company_currency of the whole)."""
    company = to_company_currency(amount, rate)
    credited_q, credited, parts = 0, D(0), []
    for step in [*steps, quantity]:
        q = min(step, quantity - credited_q)
        if q <= 0:
            break
        part = share_of_amount(amount, D(quantity), D(q), D(credited_q), credited)
        before = company_part(amount, company, credited)
        after = company_part(amount, company, credited + part)
        parts.append((part, after - before))
        credited_q, credited = credited_q + q, credited + part
    assert credited == amount
    assert sum(c for _, c in parts) == company
    for document, in_company in parts:
        assert in_company >= 0
        assert abs(in_company - to_company_currency(document, rate)) <= 2 * CENT


# --- B11: splitting a credit over a schedule -----------------------------------------------------


def test_b11_cumulative_shares_stay_within_each_period() -> None:
    """0.08 over periods of 0.03, 0.03, 0.03 and 0.01: B4's allocate (the remainder on the
    last) takes 0.02 from the period of 0.01, leaving it at -0.01 (it would release more than
    was deferred in it); cumulative rounding takes 0.02, 0.03, 0.02, 0.01."""
    weights = [D("0.03"), D("0.03"), D("0.03"), D("0.01")]
    assert allocate(D("0.08"), weights)[-1] == D("0.02")  # the defect, as a control
    assert cumulative_shares(D("0.08"), weights) == [D("0.02"), D("0.03"), D("0.02"), D("0.01")]
    assert cumulative_shares(sum(weights, D(0)), weights) == weights  # all: exactly each


def test_b11_cumulative_shares_refuse_weights_of_nothing() -> None:
    with pytest.raises(ValueError, match=r"^weights must sum to more than zero$"):
        cumulative_shares(D("1.00"), [D(0), D(0)])


@given(
    total=st.decimals(min_value=0, max_value=10**6, places=2),
    weights=st.lists(st.decimals(min_value=0, max_value=10**5, places=2), min_size=1, max_size=24),
)
def test_b11_cumulative_shares_sum_and_bounds(total: Decimal, weights: list[Decimal]) -> None:
    if sum(weights, D(0)) == 0:
        return
    shares = cumulative_shares(total, weights)
    assert sum(shares, D(0)) == total and all(s >= 0 for s in shares)
    if total <= sum(weights, D(0)):
        assert all(s <= w for s, w in zip(shares, weights, strict=True))


def test_b11_t7_the_worked_example_after_one_release() -> None:
    """services' worked example: 10,499.90 NOK deferred over 3,499.96 / 3,499.96 / 3,499.98;
    a course credited before any release took 1,166.65 / 1,166.66 / 1,166.66 (3,499.97); the
    first period released its 2,333.31; a second course (3,499.96 NOK of the 6,999.93 open)
    is 1,166.65 recognised revenue and 2,333.31 out of the two pending periods; the last
    (3,499.97) takes exactly what is left of each."""
    before = split_deferred_credit(
        D("3499.97"), DeferredLine(D("10499.90"), (D("3499.96"), D("3499.96"), D("3499.98")))
    )
    assert before == CreditSplit(D(0), D("3499.97"), (D("1166.65"), D("1166.66"), D("1166.66")))
    pending = (D("3499.96") - D("1166.66"), D("3499.98") - D("1166.66"))
    second = split_deferred_credit(D("3499.96"), DeferredLine(D("6999.93"), pending))
    assert (second.recognised, second.deferred) == (D("1166.65"), D("2333.31"))
    left = tuple(p - s for p, s in zip(pending, second.shares, strict=True))
    last = split_deferred_credit(D("3499.97"), DeferredLine(D("3499.97"), left))
    assert last.shares == left and last.recognised == D("1166.66")


def test_b11_nothing_credited_takes_nothing() -> None:
    split = split_deferred_credit(D(0), DeferredLine(D("100.00"), (D("50.00"), D("50.00"))))
    assert split == CreditSplit(D(0), D(0), (D(0), D(0)))


def test_b11_split_credit_keeps_its_worked_example() -> None:
    """The split over the periods as invoiced is unchanged by cumulative rounding: half of
    Support 901.96 (11 x 75.16 + 75.20), four periods released, 150.32 recognised."""
    periods = [(D("75.16"), n < 4) for n in range(11)] + [(D("75.20"), False)]
    assert split_credit(D("450.98"), periods).recognised == 4 * D("37.58")


@given(
    deferred=amounts,
    occurrences=st.integers(min_value=1, max_value=12),
    steps=st.lists(
        st.one_of(st.just("release"), st.decimals(min_value=0, max_value=1, places=2)),
        max_size=8,
    ),
)
def test_b11_ledger_and_schedule_stay_together_until_all_is_credited(
    deferred: Decimal, occurrences: int, steps: list[str | Decimal]
) -> None:
    """A deferred line (company currency) through releases and credits of random fractions
    of what is open, then a credit of the rest: deferred revenue always equals what the
    pending periods hold, no period holds less than nothing, revenue never goes below zero;
    at the end both are zero and every pending period is empty."""
    periods = schedule_amounts(deferred, occurrences)
    held, released = list(periods), [False] * occurrences
    ledger_deferred, ledger_revenue, open_amount = deferred, D(0), deferred
    for step in [*steps, D(1)]:
        if step == "release":
            if False in released:
                n = released.index(False)
                released[n] = True
                ledger_deferred -= held[n]
                ledger_revenue += held[n]
            continue
        assert isinstance(step, Decimal)
        amount = (open_amount * step).quantize(CENT)
        pending = [n for n in range(occurrences) if not released[n]]
        split = split_deferred_credit(
            amount, DeferredLine(open_amount, tuple(held[n] for n in pending))
        )
        assert split.recognised + split.deferred == amount
        for n, share in zip(pending, split.shares, strict=True):
            held[n] -= share
        ledger_deferred -= split.deferred
        ledger_revenue -= split.recognised
        open_amount -= amount
        assert ledger_deferred == sum((held[n] for n in pending), D(0))
        assert ledger_revenue == open_amount - ledger_deferred  # DeferredLine.recognised
        assert all(h >= 0 for h in held) and ledger_revenue >= 0
    assert open_amount == 0
    assert (ledger_deferred, ledger_revenue) == (0, 0)
    assert all(held[n] == 0 for n in range(occurrences) if not released[n])


def test_t7_document_split_follows_the_company_split() -> None:
    """The voucher's document side (USD) is split like its NOK side: 333.33 USD of which
    1,166.65 of 3,499.96 NOK was recognised: 111.11 USD recognised, 222.22 deferred."""
    split = CreditSplit(D("1166.65"), D("2333.31"), ())
    assert document_split(D("333.33"), split) == (D("111.11"), D("222.22"))
    assert document_split(D("0.01"), CreditSplit(D(0), D(0), ())) == (D(0), D("0.01"))


# --- L1 with T7: a company amount decided by the caller --------------------------------------


TAX = LineTax("3", "S", D("25.00"), "2700")
CREDIT_NOTE = VoucherSide("CN-1", "NO-1001", "1200", reverse=True)


def test_t7_l1_a_credit_note_posts_the_company_amounts_it_is_given() -> None:
    """A credit note of 333.33 USD at 10.5, split 111.11 / 222.22 USD, posts the NOK amounts
    its split decided (1,166.65 / 2,333.31), not the USD parts converted (1,166.66 /
    2,333.31); VAT per T7 (83.33 USD -> 874.97 NOK); the voucher balances in both."""
    plan = vat_plan([TaxedLine(D("333.33"), TAX)])
    entries = [
        NetEntry("3000", D("111.11"), 1, "KURS-1", "recognised", D("1166.65")),
        NetEntry("2900", D("222.22"), 1, "KURS-1", "deferred", D("2333.31")),
    ]
    lines = voucher_lines(CREDIT_NOTE, entries, plan, D("10.5"))
    assert [(ln.account, ln.amount, ln.document_amount) for ln in lines] == [
        ("1200", D("-4374.93"), D("-416.66")),
        ("3000", D("1166.65"), D("111.11")),
        ("2900", D("2333.31"), D("222.22")),
        ("2700", D("874.97"), D("83.33")),
    ]
    converted = voucher_lines(
        CREDIT_NOTE, [NetEntry("3000", D("111.11"), 1, "K"), *entries[1:]], plan, D("10.5")
    )
    assert converted[1].amount == D("1166.66")  # without a company amount: converted


def test_l1_without_an_exchange_rate_the_amount_is_the_company_amount() -> None:
    plan = vat_plan([TaxedLine(D("100.00"), TAX)])
    entries = [NetEntry("3000", D("100.00"), 1, "KNIV-1", "", D("100.00"))]
    lines = voucher_lines(CREDIT_NOTE, entries, plan)
    assert [(ln.account, ln.amount) for ln in lines] == [
        ("1200", D("-125.00")),
        ("3000", D("100.00")),
        ("2700", D("25.00")),
    ]
