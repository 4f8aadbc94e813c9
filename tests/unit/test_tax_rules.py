"""Tax rules (DOMAIN.md M8, T1-T7) as pure functions: pipeline/rules/tax.py.

The tax codes are Norway's SAF-T standard codes; "33" carries the real history of the low rate
(10 % from 2016, 12 % from 2018, 6 % from 1 April 2020, 12 % again from 1 October 2021).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.bundles import Component, explode_bundle
from docpost.pipeline.rules.credit import CreditRequest, InvoicedLine, credit_line
from docpost.pipeline.rules.money import CENT, line_net_amount, share_of_amount
from docpost.pipeline.rules.tax import (
    BundleComponent,
    GrossLine,
    LineTax,
    TaxCode,
    TaxedLine,
    TaxRate,
    TaxTable,
    VatPlan,
    determine_tax,
    exchange_rate_for,
    group_totals,
    in_company_currency,
    minor_unit,
    present_bundle,
    rate_on,
    receipt_plan,
    reversed_plan,
    rounding_bound,
    split_gross,
    to_company_currency,
    vat_of,
    vat_plan,
)

D = Decimal
DAY = dt.date(2026, 11, 30)
SINCE = dt.date(2001, 1, 1)


def code(code: str, category: str, rate: str, account: str | None = None) -> TaxCode:
    return TaxCode(code, category, (TaxRate(D(rate), SINCE),), account)


LOW_RATE = TaxCode(
    "33",
    "S",
    (
        TaxRate(D("10"), dt.date(2016, 1, 1)),
        TaxRate(D("12"), dt.date(2018, 1, 1)),
        TaxRate(D("6"), dt.date(2020, 4, 1)),
        TaxRate(D("12"), dt.date(2021, 10, 1)),
    ),
    "2702",
)
NORWAY = TaxTable(
    (
        code("3", "S", "25", "2700"),
        code("31", "S", "15", "2701"),
        LOW_RATE,
        code("5", "Z", "0"),
        code("51", "AE", "0"),
        code("52", "G", "0"),
        code("6", "O", "0"),
    )
)
S25_CODE = code("3", "S", "25", "2700")
S25 = LineTax("3", "S", D(25), "2700")
S15 = LineTax("31", "S", D(15), "2701")
Z0 = LineTax("5", "Z", D(0))
LAPTOP = [
    Component("1000", D(1), D("1900.00")),
    Component("Support", D(1), D("500.00")),
    Component("S0021", D(1), D("150.00")),
]
GIFT_BASKET = [Component("Cheese", D(1), D("349.00")), Component("Knife", D(1), D("599.00"))]
GIFT_TAX = {"Cheese": S15, "Knife": S25}


def rejection(call, *args, **kwargs) -> Rejection:  # type: ignore[no-untyped-def]
    with pytest.raises(Rejection) as caught:
        call(*args, **kwargs)
    return caught.value


# --- M8 / T1: tax determination ------------------------------------------------------------


def test_t1_domestic_line_carries_the_items_code_category_and_rate() -> None:
    assert determine_tax(NORWAY, "1000", "3", "domestic", DAY) == S25
    assert determine_tax(NORWAY, "Cheese", "31", "domestic", DAY) == S15


def test_m8_rate_change_takes_effect_on_its_valid_from_date() -> None:
    """T1 with M8: the low rate went from 12 % to 6 % on 2020-04-01 and back on 2021-10-01."""
    assert determine_tax(NORWAY, "Ticket", "33", "domestic", dt.date(2020, 3, 31)).rate == D(12)
    assert determine_tax(NORWAY, "Ticket", "33", "domestic", dt.date(2020, 4, 1)).rate == D(6)
    assert determine_tax(NORWAY, "Ticket", "33", "domestic", dt.date(2021, 9, 30)).rate == D(6)
    assert determine_tax(NORWAY, "Ticket", "33", "domestic", dt.date(2021, 10, 1)).rate == D(12)
    assert rate_on(LOW_RATE, dt.date(2017, 12, 31)) == D(10)


def test_m8_rate_change_changes_the_documents_vat() -> None:
    """T1 + T3: the same 1,000.00 ticket sale before and on the day of the change."""
    before = determine_tax(NORWAY, "Ticket", "33", "domestic", dt.date(2020, 3, 31))
    on = determine_tax(NORWAY, "Ticket", "33", "domestic", dt.date(2020, 4, 1))
    assert vat_plan([TaxedLine(D("1000.00"), before)]).vat_total == D("120.00")
    assert vat_plan([TaxedLine(D("1000.00"), on)]).vat_total == D("60.00")


def test_m8_rates_need_not_be_given_in_date_order() -> None:
    shuffled = TaxCode("33", "S", tuple(reversed(LOW_RATE.rates)), "2702")
    assert rate_on(shuffled, dt.date(2020, 4, 1)) == D(6)


def test_m8_export_maps_taxable_and_zero_rated_items_to_the_export_code() -> None:
    assert determine_tax(NORWAY, "1000", "3", "export", DAY) == LineTax("52", "G", D(0))
    assert determine_tax(NORWAY, "Paper", "5", "export", DAY) == LineTax("52", "G", D(0))


def test_m8_reverse_charge_maps_taxable_items_to_category_ae() -> None:
    assert determine_tax(NORWAY, "1000", "3", "reverse_charge", DAY) == LineTax("51", "AE", D(0))


def test_m8_treatments_leave_exempt_and_out_of_scope_items_alone() -> None:
    """Negative control for the mapping: only what would carry VAT at home is mapped."""
    outside = LineTax("6", "O", D(0))
    assert determine_tax(NORWAY, "Fee", "6", "export", DAY) == outside
    assert determine_tax(NORWAY, "Fee", "6", "reverse_charge", DAY) == outside
    assert determine_tax(NORWAY, "Paper", "5", "reverse_charge", DAY) == Z0


def test_m8_treatment_codes_can_be_named() -> None:
    table = TaxTable((*NORWAY.codes, code("53", "G", "0")), export_code="53")
    assert determine_tax(table, "1000", "3", "export", DAY).tax_code == "53"


def test_m8_unknown_code_is_refused_naming_item_and_code() -> None:
    error = rejection(determine_tax, NORWAY, "1000", "99", "domestic", DAY)
    assert (error.code, error.rule) == ("tax.unknown_code", "M8")
    assert error.message == "item 1000: tax code '99' does not exist"


def test_m8_no_rate_on_the_date_is_refused_naming_code_and_date() -> None:
    error = rejection(determine_tax, NORWAY, "Ticket", "33", "domestic", dt.date(2015, 12, 31))
    assert (error.code, error.rule) == ("tax.no_rate_on_date", "M8")
    assert error.message == (
        "tax code 33 has no rate valid on 2015-12-31; its first rate is valid from 2016-01-01"
    )
    assert error.details == {"tax_code": "33", "date": "2015-12-31"}


def test_m8_a_code_without_rates_is_refused() -> None:
    error = rejection(rate_on, TaxCode("9", "S", ()), DAY)
    assert error.message == "tax code 9 has no rate valid on 2026-11-30"


def test_m8_two_rates_from_one_date_are_refused() -> None:
    twice = TaxCode("3", "S", (TaxRate(D(25), SINCE), TaxRate(D(24), SINCE)))
    error = rejection(rate_on, twice, DAY)
    assert error.code == "tax.ambiguous_rate"
    assert error.message == "tax code 3 has two rates valid from 2001-01-01 (24 and 25 %); keep one"


def test_m8_item_without_tax_code_is_refused() -> None:
    error = rejection(determine_tax, NORWAY, "1000", None, "domestic", DAY)
    assert error.code == "tax.item_without_code"
    assert error.message == "item 1000 has no tax code; every item needs one (M8)"


def test_m8_unknown_treatment_is_refused() -> None:
    error = rejection(determine_tax, NORWAY, "1000", "3", "abroad", DAY)
    assert error.code == "tax.unknown_treatment"
    assert error.message == (
        "item 1000: tax treatment 'abroad' is not one of domestic, export, reverse_charge"
    )


def test_m8_export_without_or_with_two_export_codes_is_refused() -> None:
    domestic_only = TaxTable((code("3", "S", "25", "2700"),))
    error = rejection(determine_tax, domestic_only, "1000", "3", "export", DAY)
    assert error.code == "tax.no_export_code"
    assert error.message == (
        "tax treatment export needs exactly one tax code of category G (found: none)"
    )
    two = TaxTable((*NORWAY.codes, code("53", "G", "0")))
    error = rejection(determine_tax, two, "1000", "3", "export", DAY)
    assert error.message == (
        "tax treatment export needs exactly one tax code of category G (found: 52, 53)"
    )


def test_m8_reverse_charge_without_an_ae_code_is_refused() -> None:
    error = rejection(determine_tax, TaxTable((S25_CODE,)), "1000", "3", "reverse_charge", DAY)
    assert error.code == "tax.no_reverse_charge_code"
    assert "category AE (found: none)" in error.message


def test_m8_a_named_treatment_code_that_does_not_exist_is_refused() -> None:
    table = TaxTable(NORWAY.codes, reverse_charge_code="59")
    error = rejection(determine_tax, table, "1000", "3", "reverse_charge", DAY)
    assert error.message == "the reverse_charge tax code: tax code '59' does not exist"


# --- T3: VAT per document per category and rate ----------------------------------------------


def laptop_lines(quantity: int = 1) -> list[TaxedLine]:
    net = line_net_amount(D(quantity), D("2300.00"))
    lines = explode_bundle("LaptopBundle", D(quantity), D("2300.00"), D(0), D(0), net, LAPTOP)
    return [TaxedLine(line.net_amount, S25) for line in lines]


def test_t3_seed_laptop_bundle_at_25_percent() -> None:
    """The seed's LaptopBundle: 1,713.73 + 450.98 + 135.29 = 2,300.00 net, 575.00 VAT."""
    plan = vat_plan(laptop_lines())
    assert (plan.net_total, plan.vat_total, plan.total) == (
        D("2300.00"),
        D("575.00"),
        D("2875.00"),
    )
    [group] = plan.groups
    assert (group.category, group.rate, group.taxable, group.vat) == (
        "S",
        D(25),
        D("2300.00"),
        D("575.00"),
    )
    assert group.tax_codes == ("3",)
    assert group.parts[0].account == "2700"


def test_t3_vat_is_rounded_per_group_not_per_line() -> None:
    """Three lines of 0.10 at 25 %: 0.025 each would round to 0.03 each (0.09); T3 rounds the
    group's 0.30 once: 0.075 -> 0.08."""
    plan = vat_plan([TaxedLine(D("0.10"), S25)] * 3)
    assert plan.vat_total == D("0.08")


def test_t3_rounds_half_up() -> None:
    assert vat_of(D("0.02"), D(25)) == D("0.01")  # 0.005
    assert vat_of(D("0.06"), D(25)) == D("0.02")  # 0.015
    assert vat_of(D("-0.02"), D(25)) == D("-0.01")  # a tie goes away from zero


def test_t3_groups_come_highest_rate_first_whatever_the_line_order() -> None:
    lines = [TaxedLine(D("100.00"), Z0), TaxedLine(D("100.00"), S15), TaxedLine(D("100.00"), S25)]
    plan = vat_plan(lines)
    assert [(g.category, g.rate) for g in plan.groups] == [("S", D(25)), ("S", D(15)), ("Z", D(0))]
    assert vat_plan(reversed(lines)) == plan
    assert plan.vat_total == D("40.00")
    assert plan.total == D("340.00")


def test_t3_two_codes_of_one_category_and_rate_make_one_group_split_by_taxable() -> None:
    """EN 16931 has one breakdown per category and rate; the ledger still needs each code."""
    other = LineTax("3X", "S", D(25), "2709")
    plan = vat_plan([TaxedLine(D("0.02"), S25), TaxedLine(D("0.02"), other)])
    [group] = plan.groups
    assert (group.taxable, group.vat) == (D("0.04"), D("0.01"))
    assert [(p.tax_code, p.taxable, p.vat) for p in group.parts] == [
        ("3", D("0.02"), D("0.01")),
        ("3X", D("0.02"), D("0.00")),
    ]


def test_t3_codes_cancelling_out_in_one_group_carry_no_vat() -> None:
    other = LineTax("3X", "S", D(25), "2709")
    [group] = vat_plan([TaxedLine(D("10.00"), S25), TaxedLine(D("-10.00"), other)]).groups
    assert [p.vat for p in group.parts] == [D(0), D(0)]


def test_t3_negative_group_split_sums_exactly() -> None:
    other = LineTax("3X", "S", D(25), "2709")
    [group] = vat_plan([TaxedLine(D("-0.02"), S25), TaxedLine(D("-0.02"), other)]).groups
    assert group.vat == D("-0.01")
    assert sum(p.vat for p in group.parts) == D("-0.01")


def test_t3_zero_decimal_currency_rounds_to_whole_units() -> None:
    assert minor_unit("JPY") == D(1)
    assert minor_unit("NOK") == CENT
    assert minor_unit("KWD") == D("0.001")
    plan = vat_plan([TaxedLine(D("1234"), S25)], quantum=minor_unit("JPY"))
    assert plan.vat_total == D("309")  # 308.5 rounds half up


def test_t3_empty_document_has_no_vat() -> None:
    plan = vat_plan([])
    assert (plan.groups, plan.net_total, plan.vat_total, plan.total) == ((), 0, 0, 0)


TAXES = st.sampled_from(
    [S25, S15, Z0, LineTax("33", "S", D(12), "2702"), LineTax("32", "S", D("11.11"), "2703")]
)
AMOUNTS = st.decimals(min_value=D("-500"), max_value=D("100000"), places=2)


@st.composite
def discounted_lines(draw: st.DrawFn) -> list[TaxedLine]:
    """Lines as an order makes them: quantity x price less discounts (line_net_amount)."""
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        quantity = D(draw(st.integers(1, 50)))
        price = draw(st.decimals(min_value=D("0.01"), max_value=D("5000"), places=2))
        percent = draw(st.decimals(min_value=D(0), max_value=D(100), places=2))
        discount = draw(st.decimals(min_value=D(0), max_value=price, places=2))
        amount = line_net_amount(quantity, price, percent, discount)
        lines.append(TaxedLine(amount, draw(TAXES)))
    return lines


@given(discounted_lines())
def test_t3_property_groups_sum_to_the_document_vat(lines: list[TaxedLine]) -> None:
    """T3 for random lines, rates and discounts: the groups sum to the document's VAT and net,
    total = net + VAT, each group's VAT is its taxable at its rate, rounded, and its parts
    sum to it."""
    plan = vat_plan(lines)
    assert plan.vat_total == sum((g.vat for g in plan.groups), D(0))
    assert plan.net_total == sum((ln.amount for ln in lines), D(0))
    assert plan.total == plan.net_total + plan.vat_total
    for group in plan.groups:
        assert group.vat == vat_of(group.taxable, group.rate)
        assert abs(group.vat - group.taxable * group.rate / 100) <= D("0.005")
        assert sum((p.vat for p in group.parts), D(0)) == group.vat


# --- T4: bundles -------------------------------------------------------------------------------


def gift_basket(quantity: int) -> list[BundleComponent]:
    net = line_net_amount(D(quantity), D("499.00"))
    lines = explode_bundle("GiftBasket", D(quantity), D("499.00"), D(0), D(0), net, GIFT_BASKET)
    return [BundleComponent(ln.item, ln.net_amount, GIFT_TAX[ln.item]) for ln in lines]


def test_t4_single_rate_bundle_prints_as_its_parent_line() -> None:
    components = [BundleComponent("c", line.amount, line.tax) for line in laptop_lines()]
    shown = present_bundle("LaptopBundle", components)
    assert shown.as_parent
    assert [(p.rate, p.amount) for p in shown.parts] == [(D(25), D("2300.00"))]


def test_t4_mixed_rate_gift_basket_prints_one_line_per_rate_summing_to_the_bundle() -> None:
    """Cheese at 15 %, knife at 25 %: 3 baskets at 499.00 = 1,497.00, allocated 551.11 / 945.89
    (B4); printed as two lines of the bundle, 25 % first, summing to 1,497.00 exactly."""
    components = gift_basket(3)
    shown = present_bundle("GiftBasket", components)
    assert not shown.as_parent
    assert [(p.category, p.rate, p.amount, p.items) for p in shown.parts] == [
        ("S", D(25), D("945.89"), ("Knife",)),
        ("S", D(15), D("551.11"), ("Cheese",)),
    ]
    assert shown.amount == D("1497.00")


def test_t4_mixed_rate_bundle_vat_groups_come_from_the_components_and_sum_exactly() -> None:
    plan = vat_plan(TaxedLine(c.amount, c.tax) for c in gift_basket(3))
    assert [(g.rate, g.taxable, g.vat) for g in plan.groups] == [
        (D(25), D("945.89"), D("236.47")),  # 236.4725
        (D(15), D("551.11"), D("82.67")),  # 82.6665
    ]
    assert plan.net_total == D("1497.00")
    assert plan.vat_total == D("319.14") == sum(g.vat for g in plan.groups)
    assert plan.total == D("1816.14")


def test_t4_components_sharing_a_rate_print_together() -> None:
    components = [
        BundleComponent("A", D("10.00"), S25),
        BundleComponent("B", D("5.00"), S15),
        BundleComponent("C", D("2.50"), S25),
    ]
    shown = present_bundle("X", components)
    assert [(p.rate, p.amount, p.items) for p in shown.parts] == [
        (D(25), D("12.50"), ("A", "C")),
        (D(15), D("5.00"), ("B",)),
    ]


def test_t4_a_bundle_without_components_is_a_bug() -> None:
    with pytest.raises(ValueError, match="bundle X has no component lines"):
        present_bundle("X", [])


@given(
    st.lists(st.tuples(AMOUNTS, TAXES), min_size=1, max_size=10),
)
def test_t4_property_printed_parts_sum_to_the_bundle_amount(
    parts: list[tuple[Decimal, LineTax]],
) -> None:
    components = [BundleComponent(f"C{i}", amount, tax) for i, (amount, tax) in enumerate(parts)]
    shown = present_bundle("X", components)
    assert shown.amount == sum(amount for amount, _ in parts)
    assert shown.as_parent == (len({(t.category, t.rate) for _, t in parts}) == 1)


# --- B8 with T3 and T5: partial invoices and credit notes --------------------------------------


def partial_amounts(total: Decimal, quantity: int, parts: list[int]) -> list[Decimal]:
    """B8: a line's amounts over partial postings of `parts` units each (share_of_amount)."""
    done_quantity, done_amount, amounts = D(0), D(0), []
    for part in parts:
        amount = share_of_amount(total, D(quantity), D(part), done_quantity, done_amount)
        amounts.append(amount)
        done_quantity += part
        done_amount += amount
    return amounts


def partial_plans(
    components: list[BundleComponent], quantity: int, parts: list[int]
) -> list[VatPlan]:
    per_component = [partial_amounts(c.amount, quantity, parts) for c in components]
    return [
        vat_plan(
            TaxedLine(amounts[i], c.tax)
            for c, amounts in zip(components, per_component, strict=True)
        )
        for i in range(len(parts))
    ]


def test_t5_three_partial_invoices_of_the_laptop_bundle_sum_to_the_whole_vat() -> None:
    """5 LaptopBundles invoiced 2 + 2 + 1 (B7, B8): 4,600.00 / 4,600.00 / 2,300.00 net with
    1,150.00 / 1,150.00 / 575.00 VAT: 2,875.00, the VAT of all 5 at once, to the cent."""
    components = [BundleComponent("c", ln.amount, ln.tax) for ln in laptop_lines(5)]
    plans = partial_plans(components, 5, [2, 2, 1])
    assert [p.net_total for p in plans] == [D("4600.00"), D("4600.00"), D("2300.00")]
    assert [p.vat_total for p in plans] == [D("1150.00"), D("1150.00"), D("575.00")]
    whole = vat_plan(TaxedLine(c.amount, c.tax) for c in components)
    assert sum(p.vat_total for p in plans) == whole.vat_total == D("2875.00")
    assert group_totals(plans) == group_totals([whole])


def test_t5_partial_invoices_sum_to_the_whole_within_the_rounding_bound() -> None:
    """What holds exactly for partial documents (T3 per document, T5): the taxable amounts
    per group sum to the whole's exactly (B8), and the VAT to within rounding_bound of the
    whole's. The gift basket invoiced 1 + 1 + 1 of 3 shows the bound is met, not vacuous:
    each group's three roundings carry one cent more than rounding the whole once."""
    components = gift_basket(3)
    plans = partial_plans(components, 3, [1, 1, 1])
    whole = vat_plan(TaxedLine(c.amount, c.tax) for c in components)
    parts = group_totals(plans)
    for group in whole.groups:
        taxable, vat = parts[(group.category, group.rate)]
        assert taxable == group.taxable
        assert abs(vat - group.vat) <= rounding_bound(3) == D("0.01")
    assert [p.vat_total for p in plans] == [D("106.39"), D("106.38"), D("106.39")]
    assert sum(p.vat_total for p in plans) == D("319.16")
    assert whole.vat_total == D("319.14")


def test_t5_rounding_bound_is_reached_by_two_documents() -> None:
    """Two invoices of 0.02 at 25 % carry 0.01 each; 0.04 at once carries 0.01."""
    halves = [vat_plan([TaxedLine(D("0.02"), S25)]) for _ in range(2)]
    assert sum(p.vat_total for p in halves) - vat_of(D("0.04"), D(25)) == rounding_bound(2)
    assert rounding_bound(1) == 0
    assert rounding_bound(5, D(1)) == D(2)


@given(
    st.lists(
        st.decimals(min_value=D("0.01"), max_value=D("10000"), places=2), min_size=1, max_size=6
    ),
    st.sampled_from([D(25), D(15), D(12), D("11.11"), D(6)]),
    st.lists(st.integers(1, 5), min_size=1, max_size=8),
    st.data(),
)
def test_t5_property_partial_documents_stay_within_the_bound(
    amounts: list[Decimal], rate: Decimal, parts: list[int], data: st.DataObject
) -> None:
    """For random lines of one rate posted in random partial invoices (B8 shares), some of
    those invoices credited in full: the taxable amounts net out exactly to what is still
    invoiced, and the signed VAT of all documents is within rounding_bound(documents) of T3
    applied to that at once."""
    tax = LineTax("t", "S", rate, "2700")
    quantity = sum(parts)
    invoices = [
        [TaxedLine(a, tax) for a in amounts_of_part]
        for amounts_of_part in zip(
            *(partial_amounts(a, quantity, parts) for a in amounts), strict=True
        )
    ]
    plans = [vat_plan(lines) for lines in invoices]
    credited = data.draw(st.lists(st.sampled_from(range(len(invoices))), unique=True))
    credits = [vat_plan(TaxedLine(ln.amount, tax) for ln in invoices[i]) for i in credited]
    signed = [*plans, *(reversed_plan(p) for p in credits)]
    [(taxable, vat)] = group_totals(signed).values() or [(D(0), D(0))]
    still = sum(amounts) - sum(sum(ln.amount for ln in invoices[i]) for i in credited)
    assert taxable == still
    assert abs(vat - vat_of(still, rate)) <= rounding_bound(len(signed))


def test_t5_a_full_credit_note_reverses_the_invoices_vat_in_every_group() -> None:
    """B10/B8: crediting a whole invoice takes each line's remaining amount, i.e. its whole
    amount (credit_line), so its T3 plan equals the invoice's and nets it out exactly."""
    invoice_lines = [TaxedLine(c.amount, c.tax) for c in gift_basket(3)]
    invoice = vat_plan(invoice_lines)
    credited = []
    for i, line in enumerate(invoice_lines):
        invoiced = InvoicedLine(i, i, i + 1, f"line {i + 1}", "x", False, D(3), line.amount)
        credit = credit_line("INV-000001", invoiced, CreditRequest(i, D(3)))
        credited.append(TaxedLine(credit.amount, line.tax))
    credit_note = vat_plan(credited)
    assert credit_note == invoice
    totals = group_totals([invoice, reversed_plan(credit_note)])
    assert totals == {("S", D(25)): (D(0), D(0)), ("S", D(15)): (D(0), D(0))}


def test_t5_a_whole_invoice_credited_in_parts_can_differ_by_the_bound() -> None:
    """Negative control for the exact reversal: two credit notes of 0.02 each for an invoice of
    0.04 at 25 % take back 0.02 VAT where the invoice carried 0.01: exact only in one note."""
    invoice = vat_plan([TaxedLine(D("0.04"), S25)])
    credits = [vat_plan([TaxedLine(D("0.02"), S25)])] * 2
    [(taxable, vat)] = group_totals([invoice, *map(reversed_plan, credits)]).values()
    assert (taxable, vat) == (D(0), D("-0.01"))
    assert abs(vat) <= rounding_bound(3)


@given(st.lists(st.tuples(AMOUNTS, TAXES), max_size=12))
def test_t5_property_negated_lines_give_the_reversed_plan(
    lines: list[tuple[Decimal, LineTax]],
) -> None:
    """Half-up rounding is symmetric, so a credit booked with negated lines is exactly the
    invoice's plan negated, group by group and part by part."""
    plan = vat_plan(TaxedLine(amount, tax) for amount, tax in lines)
    negated = vat_plan(TaxedLine(-amount, tax) for amount, tax in lines)
    assert negated == reversed_plan(plan)


# --- T6: point of sale ---------------------------------------------------------------------------


def test_t6_pos_sale_of_499_including_25_percent() -> None:
    assert split_gross(D("499.00"), D(25)) == (D("399.20"), D("99.80"))
    receipt = receipt_plan([GrossLine(D("499.00"), S25)])
    assert (receipt.vat.net_total, receipt.vat.vat_total, receipt.vat.total) == (
        D("399.20"),
        D("99.80"),
        D("499.00"),
    )


def test_t6_receipt_vat_per_rate_is_the_sum_of_its_lines() -> None:
    """Two lines of 0.03 incl. 25 %: 0.006 -> 0.01 VAT each, 0.02 for the rate, although 0.04
    net at 25 % would be 0.01: the receipt adds up line by line, to what was paid."""
    receipt = receipt_plan(
        [GrossLine(D("0.03"), S25), GrossLine(D("0.03"), S25), GrossLine(D("115.00"), S15)]
    )
    assert [(ln.net, ln.vat) for ln in receipt.lines] == [
        (D("0.02"), D("0.01")),
        (D("0.02"), D("0.01")),
        (D("100.00"), D("15.00")),
    ]
    assert [(g.rate, g.taxable, g.vat) for g in receipt.vat.groups] == [
        (D(25), D("0.04"), D("0.02")),
        (D(15), D("100.00"), D("15.00")),
    ]
    assert receipt.vat.total == D("115.06")


@given(
    st.decimals(min_value=D("-100000"), max_value=D("100000"), places=2),
    st.sampled_from([D(25), D(15), D(12), D("11.11"), D(0)]),
)
def test_t6_property_net_plus_vat_is_the_gross(gross: Decimal, rate: Decimal) -> None:
    net, vat = split_gross(gross, rate)
    assert net + vat == gross
    assert abs(vat - gross * rate / (100 + rate)) <= D("0.005")
    assert split_gross(-gross, rate) == (-net, -vat)


@given(st.lists(st.tuples(AMOUNTS, TAXES), max_size=12))
def test_t6_property_receipt_totals_are_the_gross_paid(
    lines: list[tuple[Decimal, LineTax]],
) -> None:
    receipt = receipt_plan([GrossLine(gross, tax) for gross, tax in lines])
    assert receipt.vat.total == sum((gross for gross, _ in lines), D(0))
    assert receipt.vat.vat_total == sum((ln.vat for ln in receipt.lines), D(0))
    assert receipt.vat.net_total == sum((ln.net for ln in receipt.lines), D(0))


# --- T7: foreign currency -------------------------------------------------------------------


def test_t7_usd_order_states_its_vat_in_nok() -> None:
    """The LaptopBundle sold in USD at 10.8571 NOK per USD: 575.00 USD VAT is 6,242.83 NOK
    (6,242.8325), the taxable 2,300.00 USD 24,971.33 NOK (24,971.33)."""
    rate = exchange_rate_for("USD", "NOK", D("10.8571"))
    assert rate == D("10.8571")
    usd = vat_plan(laptop_lines())
    nok = in_company_currency(usd, rate)
    [group] = nok.groups
    assert (group.taxable, group.vat) == (D("24971.33"), D("6242.83"))
    assert group.parts[0].vat == D("6242.83")
    assert nok.vat_total == D("6242.83")
    assert nok.total == D("31214.16")


def test_t7_company_currency_groups_are_the_sums_of_their_parts() -> None:
    other = LineTax("3X", "S", D(25), "2709")
    usd = vat_plan([TaxedLine(D("10.01"), S25), TaxedLine(D("10.01"), other)])
    nok = in_company_currency(usd, D("3.333"))
    [group] = nok.groups
    assert group.vat == sum(p.vat for p in group.parts)
    assert group.taxable == sum(p.taxable for p in group.parts)


def test_t7_conversion_rounds_to_the_company_currencys_minor_unit() -> None:
    assert to_company_currency(D("100.00"), D("10.857149")) == D("1085.71")
    assert to_company_currency(D("100.00"), D("150.125"), minor_unit("JPY")) == D("15013")


def test_t7_same_currency_needs_no_rate() -> None:
    assert exchange_rate_for("NOK", "NOK", None) is None
    assert exchange_rate_for("NOK", "NOK", D("2")) is None


def test_t7_foreign_currency_without_a_rate_is_refused() -> None:
    error = rejection(exchange_rate_for, "USD", "NOK", None)
    assert (error.code, error.rule) == ("currency.exchange_rate_required", "T7")
    assert error.message == (
        "an order in USD needs an exchange_rate (NOK per USD): the company's currency is NOK"
    )


def test_t7_a_rate_of_zero_or_less_is_refused() -> None:
    error = rejection(exchange_rate_for, "USD", "NOK", D(0))
    assert error.code == "currency.exchange_rate_not_positive"
    assert error.message == "exchange_rate 0 (NOK per USD) must be more than zero"


# --- the shipped Norwegian example (pipeline/examples/norway) ----------------------------------

NORWAY_EXAMPLE = Path(__file__).resolve().parents[2] / "pipeline" / "examples" / "norway"


def example_catalog() -> dict[str, Any]:
    catalog: dict[str, Any] = json.loads((NORWAY_EXAMPLE / "catalog.json").read_text("utf-8"))
    return catalog


def example_table() -> TaxTable:
    return TaxTable(
        tuple(
            TaxCode(
                c["code"],
                c["category"],
                tuple(
                    TaxRate(D(r["rate"]), dt.date.fromisoformat(r["valid_from"]))
                    for r in c["rates"]
                ),
                c.get("account"),
                c["name"],
            )
            for c in example_catalog()["tax_codes"]
        )
    )


def test_m8_the_shipped_norwegian_codes_map_export_and_reverse_charge() -> None:
    """The example's codes need no named treatment codes: 52 is its one G code, 51 its AE."""
    table = example_table()
    assert determine_tax(table, "KNIV-1", "3", "export", DAY) == LineTax("52", "G", D(0))
    assert determine_tax(table, "KNIV-1", "3", "reverse_charge", DAY) == LineTax("51", "AE", D(0))
    assert determine_tax(table, "OST-1", "31", "domestic", DAY) == LineTax("31", "S", D(15), "2701")


def test_t4_the_shipped_gift_basket_at_its_base_price() -> None:
    """GAVE-1 = OST-1 (189.00, code 31) + KNIV-1 (249.00, code 3) at 438.00: 28.35 + 62.25 VAT."""
    catalog = example_catalog()
    items = {i["item"]: i for i in catalog["items"]}
    [bom] = catalog["boms"]
    components = [
        Component(c["item"], D(c["quantity"]), D(items[c["item"]]["base_sales_price"]))
        for c in bom["components"]
    ]
    price = D(items["GAVE-1"]["base_sales_price"])
    lines = explode_bundle("GAVE-1", D(1), price, D(0), D(0), price, components)
    table = example_table()
    taxed = [
        BundleComponent(
            ln.item,
            ln.net_amount,
            determine_tax(table, ln.item, items[ln.item]["tax_code"], "domestic", DAY),
        )
        for ln in lines
    ]
    assert [p.amount for p in present_bundle("GAVE-1", taxed).parts] == [D("249.00"), D("189.00")]
    plan = vat_plan(TaxedLine(c.amount, c.tax) for c in taxed)
    assert [(g.rate, g.vat) for g in plan.groups] == [(D(25), D("62.25")), (D(15), D("28.35"))]
    assert plan.total == D("528.60")
