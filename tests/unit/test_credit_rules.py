"""Credit note rules (DOMAIN.md B10 with B7, B8, S2-S5, and B11's split of a credit), as pure
functions: no database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.bundles import BundleOnOrder, allocate
from docpost.pipeline.rules.credit import (
    CreditRequest,
    InvoicedLine,
    InvoiceToCredit,
    Registration,
    credited_registrations,
    plan_credit,
    remaining_lines,
    requested_line,
)
from docpost.pipeline.rules.money import CENT
from docpost.pipeline.rules.revenue import split_credit

D = Decimal
LABEL = "order SO-1 line 1 (item 1000)"


def invoiced(
    sales_line_id: int = 1,
    quantity: str = "2",
    amount: str = "3800.00",
    *,
    serials: tuple[str | None, ...] = (),
    serialized: bool | None = None,
    credited: tuple[str, str] = ("0", "0"),
    item: str = "1000",
) -> InvoicedLine:
    return InvoicedLine(
        invoice_line_id=100 + sales_line_id,
        sales_line_id=sales_line_id,
        line_no=sales_line_id,
        label=f"order SO-1 line {sales_line_id} (item {item})",
        item_code=item,
        serialized=bool(serials) if serialized is None else serialized,
        quantity=D(quantity),
        amount=D(amount),
        credited_quantity=D(credited[0]),
        credited_amount=D(credited[1]),
        open_registrations=tuple(
            Registration(1000 * sales_line_id + n, s) for n, s in enumerate(serials)
        ),
    )


def invoice(*lines: InvoicedLine) -> InvoiceToCredit:
    return InvoiceToCredit("INV-000001", lines)


def rejection(call, *args):  # type: ignore[no-untyped-def]
    with pytest.raises(Rejection) as caught:
        call(*args)
    return caught.value


# --- B10: what a credit note may take from its invoice ------------------------------------------


def test_b10_a_line_not_on_the_invoice_is_rejected() -> None:
    error = rejection(
        requested_line, invoice(invoiced(1)), 2, "order SO-1 line 2 (item S0021)", D(1), []
    )
    assert (error.code, error.rule) == ("credit.line_not_invoiced", "B10")
    assert error.message == "order SO-1 line 2 (item S0021) is not on invoice INV-000001"


def test_b10_a_line_on_the_invoice_is_taken_with_its_serials_cleaned_s4() -> None:
    request = requested_line(invoice(invoiced(1)), 1, LABEL, D(1), ["  SN-1 \t", "ＳＮ-2"])
    assert request == CreditRequest(1, D(1), ("SN-1", "SN-2"))


def test_s4_serials_are_cleaned_only_once_the_line_is_known_to_be_invoiced() -> None:
    """The line check comes first: a bad serial on a line not invoiced names the line."""
    error = rejection(requested_line, invoice(invoiced(1)), 2, LABEL, D(1), ["\u200b"])
    assert error.code == "credit.line_not_invoiced"
    error = rejection(requested_line, invoice(invoiced(1)), 1, LABEL, D(1), ["A\u200b"])
    assert (error.code, error.rule) == ("serial.invalid_character", "S4")


def test_b10_quantity_beyond_what_is_invoiced_and_not_yet_credited_is_rejected() -> None:
    facts = invoice(invoiced(1, "3", "300.00", credited=("2", "200.00")))
    error = rejection(plan_credit, facts, [CreditRequest(1, D(2))], [])
    assert error.code == "credit.quantity_exceeds_invoiced"
    assert error.message == (
        "order SO-1 line 1 (item 1000): credit quantity 2 exceeds the 1 invoiced on INV-000001 "
        "and not yet credited"
    )
    # Negative control: what is left can be credited.
    assert plan_credit(facts, [CreditRequest(1, D(1))], []).lines[0].quantity == D(1)


def test_b10_without_lines_the_rest_of_every_line_is_credited() -> None:
    facts = invoice(
        invoiced(1, "3", credited=("1", "1266.67")),
        invoiced(2, "5", "50.00", credited=("5", "50.00"), item="S0021"),
        invoiced(3, "1", "10.00", item="S0022"),
    )
    assert remaining_lines(facts) == (CreditRequest(1, D(2)), CreditRequest(3, D(1)))


def test_b10_an_invoice_credited_in_full_has_nothing_left_to_credit() -> None:
    facts = invoice(invoiced(1, "2", credited=("2", "3800.00")))
    error = rejection(remaining_lines, facts)
    assert error.code == "credit.nothing_to_credit"
    assert error.message == "invoice INV-000001 is already fully credited"


def test_b10_checks_run_line_by_line_in_the_request_order() -> None:
    """The first wrong line is the one the rejection names, whatever is wrong further on."""
    facts = invoice(invoiced(1, "1", serials=("A",)), invoiced(2, "1", "10.00", item="S0021"))
    requests = [CreditRequest(1, D(1), ("Z",)), CreditRequest(2, D(9))]
    assert rejection(plan_credit, facts, requests, []).code == "serial.not_on_invoice"
    assert rejection(plan_credit, facts, requests[::-1], []).code == (
        "credit.quantity_exceeds_invoiced"
    )


# --- B8: amounts --------------------------------------------------------------------------------


def test_b8_a_partial_credit_takes_its_share_and_the_last_takes_what_remains() -> None:
    line = invoiced(1, "3", "100.00")
    first = plan_credit(invoice(line), [CreditRequest(1, D(1))], []).lines[0]
    assert first.amount == D("33.33")
    after = invoiced(1, "3", "100.00", credited=("1", str(first.amount)))
    rest = plan_credit(invoice(after), remaining_lines(invoice(after)), []).lines[0]
    assert (rest.quantity, rest.amount) == (D(2), D("66.67"))


@given(
    amount=st.decimals(min_value=0, max_value=10**7, places=2),
    parts=st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=8),
)
def test_b8_b10_partial_credits_take_their_share_and_sum_to_the_invoiced_amount(
    amount: Decimal, parts: list[int]
) -> None:
    """However an invoice line is credited in parts, the credits so far are always their
    quantity's share of the invoiced amount to the half cent (each part is within a cent of
    its own share), no part is negative or passes what is left, and the last takes what
    remains, so the parts sum exactly to the invoiced amount and nothing is left to credit."""
    quantity = D(sum(parts))
    credited_quantity, credited_amount = D(0), D(0)
    for part in parts:
        line = invoiced(
            1, str(quantity), str(amount), credited=(str(credited_quantity), str(credited_amount))
        )
        credit = plan_credit(invoice(line), [CreditRequest(1, D(part))], []).lines[0]
        assert D(0) <= credit.amount <= amount - credited_amount
        assert abs(credit.amount - amount * part / quantity) < CENT
        credited_quantity += credit.quantity
        credited_amount += credit.amount
        assert abs(credited_amount - amount * credited_quantity / quantity) <= CENT / 2
    assert (credited_quantity, credited_amount) == (quantity, amount)
    line = invoiced(1, str(quantity), str(amount), credited=(str(quantity), str(amount)))
    assert rejection(remaining_lines, invoice(line)).code == "credit.nothing_to_credit"


def test_b8_tiny_amounts_credited_unit_by_unit_never_go_below_zero() -> None:
    """0.02 over 4 units credited one at a time: rounding each part on its own gave 0.01,
    0.01, 0.01 and then -0.01 for the last (the credits ran ahead of the line). Rounding what
    all parts so far are worth gives 0.01, 0.00, 0.01, 0.00."""
    amounts: list[Decimal] = []
    for done in range(4):
        line = invoiced(1, "4", "0.02", credited=(str(done), str(sum(amounts, D(0)))))
        amounts.append(plan_credit(invoice(line), [CreditRequest(1, D(1))], []).lines[0].amount)
    assert amounts == [D("0.01"), D("0.00"), D("0.01"), D("0.00")]


@given(
    quantity=st.integers(min_value=1, max_value=40),
    asked=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=10),
)
def test_b10_credited_quantities_never_exceed_what_was_invoiced(
    quantity: int, asked: list[int]
) -> None:
    """Credit notes asked for in any sequence: each is accepted exactly while it fits in what
    the invoice line holds and earlier credit notes left, so the credited total never passes
    the invoiced quantity."""
    credited = 0
    for part in asked:
        line = invoiced(1, str(quantity), "100.00", credited=(str(credited), "0"))
        if part <= quantity - credited:
            credited += (
                plan_credit(invoice(line), [CreditRequest(1, D(part))], []).lines[0].quantity
            )
        else:
            error = rejection(plan_credit, invoice(line), [CreditRequest(1, D(part))], [])
            assert error.code == "credit.quantity_exceeds_invoiced"
        assert credited <= quantity


# --- B7 through B10: a bundle is credited whole -------------------------------------------------

BUNDLE = BundleOnOrder(
    "order SO-1 line 1 (bundle LaptopBundle)",
    ((2, "1000", D(1)), (3, "Support", D(1)), (4, "S0021", D(1))),
)


def bundle_invoice(quantity: str = "2") -> InvoiceToCredit:
    """Two LaptopBundles invoiced: 3427.46 / 901.96 / 270.58 (B4 allocation x 2)."""
    return invoice(
        invoiced(2, quantity, "3427.46", serials=("A", "B"), item="1000"),
        invoiced(3, quantity, "901.96", item="Support"),
        invoiced(4, quantity, "270.58", item="S0021"),
    )


def test_b10_b7_a_bundle_credited_in_part_of_its_components_is_rejected() -> None:
    error = rejection(plan_credit, bundle_invoice(), [CreditRequest(3, D(1))], [BUNDLE])
    assert (error.code, error.rule) == ("bundle.not_full", "B7")
    assert error.message == (
        "order SO-1 line 1 (bundle LaptopBundle): all products in the bundle must be credited "
        "together, in full bundles; the credit note has 1000 0, Support 1, S0021 0"
    )


def test_b10_b7_a_bundle_credited_in_fractions_is_rejected() -> None:
    requests = [CreditRequest(line, D("1.5")) for line in (2, 3, 4)]
    facts = invoice(*(invoiced(n, "2", "10.00", item=f"C{n}") for n in (2, 3, 4)))
    assert rejection(plan_credit, facts, requests, [BUNDLE]).code == "bundle.not_full"


def test_b7_a_bundle_none_of_whose_components_is_credited_is_not_checked() -> None:
    """Negative control: the B7 check looks only at bundles the credit note touches."""
    facts = invoice(invoiced(9, "1", "10.00", item="S0022"))
    plan = plan_credit(facts, [CreditRequest(9, D(1))], [BUNDLE])
    assert [line.sales_line_id for line in plan.lines] == [9]


def test_b10_a_credit_note_carries_the_component_lines_with_their_serials() -> None:
    requests = [CreditRequest(2, D(1), ("B",)), CreditRequest(3, D(1)), CreditRequest(4, D(1))]
    plan = plan_credit(bundle_invoice(), requests, [BUNDLE])
    assert [(ln.sales_line_id, ln.invoice_line_id) for ln in plan.lines] == [
        (2, 102),
        (3, 103),
        (4, 104),
    ]
    assert [ln.amount for ln in plan.lines] == [D("1713.73"), D("450.98"), D("135.29")]
    assert plan.lines[0].registration_ids == (2001,)  # B, not A: the serial named
    assert plan.total == D("2300.00")


@given(
    unit_price=st.decimals(min_value=1, max_value=100_000, places=2),
    weights=st.lists(st.integers(min_value=1, max_value=5_000), min_size=2, max_size=5),
    bundles=st.integers(min_value=2, max_value=9),
    first=st.integers(min_value=1, max_value=8),
)
def test_b10_b8_a_bundle_credit_keeps_the_allocation(
    unit_price: Decimal, weights: list[int], bundles: int, first: int
) -> None:
    """Components invoiced with their B4 shares, credited in two parts of full bundles: each
    credit's component amounts stay within a cent per component of the same split of the
    credit, and both credits together give back exactly each component's invoiced amount."""
    first = min(first, bundles - 1)
    shares = allocate(unit_price * bundles, [D(w) for w in weights])
    lines = [
        invoiced(n, str(bundles), str(share), item=f"C{n}") for n, share in enumerate(shares, 1)
    ]
    components = tuple((n, f"C{n}", D(1)) for n in range(1, len(shares) + 1))
    bundle = BundleOnOrder("order SO-1 line 9 (bundle B)", components)
    part = [CreditRequest(n, D(first)) for n in range(1, len(shares) + 1)]
    credit = plan_credit(invoice(*lines), part, [bundle])
    expected = allocate(unit_price * first, [D(w) for w in weights])
    for got, want, share in zip(credit.lines, expected, shares, strict=True):
        assert abs(got.amount - share * first / bundles) <= CENT / 2  # B8 per component
        assert abs(got.amount - want) <= CENT * len(shares)
    after = [
        invoiced(n, str(bundles), str(share), credited=(str(first), str(c.amount)), item=f"C{n}")
        for n, (share, c) in enumerate(zip(shares, credit.lines, strict=True), 1)
    ]
    rest = plan_credit(invoice(*after), remaining_lines(invoice(*after)), [bundle])
    assert [a.amount + b.amount for a, b in zip(credit.lines, rest.lines, strict=True)] == shares


# --- B10 with S2-S5: which serialized units a credit note takes back ---------------------------


def test_b10_named_serials_first_then_the_rest_in_invoiced_order() -> None:
    line = invoiced(1, "3", serials=("A", "B", "C"))
    assert credited_registrations(line, D(2), ["C"]) == (1002, 1000)
    assert credited_registrations(line, D(2), []) == (1000, 1001)


def test_b10_blank_registrations_are_credited_like_the_others() -> None:
    line = invoiced(1, "3", serials=("A", None, "C"))
    assert credited_registrations(line, D(3), ["C"]) == (1002, 1000, 1001)


def test_b10_a_serial_not_on_the_invoice_line_or_already_credited_is_rejected() -> None:
    line = invoiced(1, "2", serials=("A", "B"))
    error = rejection(credited_registrations, line, D(1), ["Z"])
    assert (error.code, error.rule, error.details) == (
        "serial.not_on_invoice",
        "B10",
        {"serial": "Z"},
    )
    assert error.message == (
        "order SO-1 line 1 (item 1000): serial 'Z' is not on invoice line 1 of this invoice, "
        "or is already credited"
    )


def test_s5_a_serial_named_twice_is_rejected() -> None:
    line = invoiced(1, "2", serials=("A", "B"))
    error = rejection(credited_registrations, line, D(2), ["A", "A"])
    assert (error.code, error.rule) == ("serial.duplicate", "S5")
    assert error.message == "order SO-1 line 1 (item 1000): serial 'A' is given twice"


def test_s3_more_serials_than_the_credited_quantity_are_rejected() -> None:
    line = invoiced(1, "2", serials=("A", "B"))
    error = rejection(credited_registrations, line, D(1), ["A", "B"])
    assert (error.code, error.rule) == ("serial.too_many", "S3")


def test_s2_serials_on_a_line_without_serials_in_sales_are_rejected() -> None:
    facts = invoice(invoiced(1, "5", "50.00", item="S0021"))
    error = rejection(plan_credit, facts, [CreditRequest(1, D(1), ("K",))], [])
    assert (error.code, error.rule) == ("serial.not_serialized", "S2")
    assert error.message == (
        "order SO-1 line 1 (item S0021): item S0021 has no serials in the sales process; send "
        "the line without serials"
    )
    # Negative control: the same line without serials is credited.
    assert plan_credit(facts, [CreditRequest(1, D(1))], []).lines[0].registration_ids == ()


@given(
    serials=st.lists(st.text("ABCDEFGH", min_size=1, max_size=3), unique=True, max_size=12),
    data=st.data(),
)
def test_b10_s5_the_units_taken_back_are_distinct_open_ones_one_per_unit(
    serials: list[str], data: st.DataObject
) -> None:
    line = invoiced(1, str(max(len(serials), 1)), serials=tuple(serials), serialized=True)
    quantity = data.draw(st.integers(min_value=1, max_value=max(len(serials), 1)))
    named = (
        data.draw(st.lists(st.sampled_from(serials), unique=True, max_size=quantity))
        if serials
        else []
    )
    taken = credited_registrations(line, D(quantity), named)
    open_ids = [r.id for r in line.open_registrations]
    assert len(set(taken)) == len(taken) == min(quantity, len(open_ids))
    assert set(taken) <= set(open_ids)
    by_id = {r.id: r.serial for r in line.open_registrations}
    assert [by_id[i] for i in taken[: len(named)]] == named


# --- B11: a credit of a deferred line splits over its periods -----------------------------------


def test_b11_credit_in_month_4_splits_into_recognised_and_deferred() -> None:
    """Half of Support 901.96 (11 x 75.16 + 75.20), four periods released."""
    periods = [(D("75.16"), n < 4) for n in range(11)] + [(D("75.20"), False)]
    split = split_credit(D("450.98"), periods)
    assert split.recognised == 4 * D("37.58")
    assert split.deferred == D("450.98") - 4 * D("37.58")


def test_b11_nothing_released_means_nothing_recognised() -> None:
    """Negative control: the recognised part comes only from released periods."""
    split = split_credit(D("100.00"), [(D("50.00"), False), (D("50.00"), False)])
    assert (split.recognised, split.deferred) == (D(0), D("100.00"))


@given(
    amount=st.decimals(min_value=0, max_value=10**6, places=2),
    periods=st.lists(
        st.tuples(st.decimals(min_value="0.01", max_value=10**5, places=2), st.booleans()),
        min_size=1,
        max_size=24,
    ),
)
def test_b11_credit_split_sums_to_the_credit(
    amount: Decimal, periods: list[tuple[Decimal, bool]]
) -> None:
    split = split_credit(amount, periods)
    assert split.recognised + split.deferred == amount
    assert sum(split.shares, D(0)) == amount
    assert len(split.shares) == len(periods)
    unreleased = sum(
        (s for s, (_, done) in zip(split.shares, periods, strict=True) if not done), D(0)
    )
    assert unreleased == split.deferred
    assert all(s >= 0 for s in split.shares)
