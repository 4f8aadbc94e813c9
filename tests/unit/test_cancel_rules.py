"""Packing slip rules (DOMAIN.md S10: cancellation; S1: what may still ship), as pure
functions: no database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.packing_slips import (
    ReversalLine,
    ShippedLine,
    check_cancelable,
    check_within_open,
    plan_cancellation,
    standing_ids,
)

D = Decimal
LABEL = "order SO-1 line 1 (item 1000)"


def test_s10_a_standing_packing_slip_not_invoiced_can_be_canceled() -> None:
    """Negative control for the refusals below."""
    check_cancelable("PS-000001", is_reversal=False, canceled_by=None, invoiced=False)


def test_s10_a_cancellation_cannot_be_canceled() -> None:
    with pytest.raises(Rejection) as caught:
        check_cancelable("PS-000002", is_reversal=True, canceled_by=None, invoiced=False)
    assert (caught.value.code, caught.value.rule) == ("packing_slip.is_reversal", None)
    assert caught.value.message == "PS-000002 is itself the cancellation of a packing slip"


def test_s10_a_packing_slip_is_canceled_once() -> None:
    with pytest.raises(Rejection) as caught:
        check_cancelable("PS-000001", is_reversal=False, canceled_by="PS-000002", invoiced=False)
    assert (caught.value.code, caught.value.rule) == ("packing_slip.already_canceled", "S10")
    assert caught.value.message == "packing slip PS-000001 was already canceled by PS-000002"


def test_s10_an_invoiced_packing_slip_cannot_be_canceled() -> None:
    with pytest.raises(Rejection) as caught:
        check_cancelable("PS-000001", is_reversal=False, canceled_by=None, invoiced=True)
    assert (caught.value.code, caught.value.rule) == ("packing_slip.invoiced", "S10")
    assert caught.value.message == (
        "packing slip PS-000001 is already invoiced; it can no longer be canceled, credit the "
        "invoice instead"
    )


@pytest.mark.parametrize(
    ("is_reversal", "canceled_by", "invoiced", "code"),
    [
        (True, "PS-000003", True, "packing_slip.is_reversal"),
        (False, "PS-000003", True, "packing_slip.already_canceled"),
    ],
)
def test_s10_the_refusals_come_in_a_fixed_order(
    is_reversal: bool, canceled_by: str | None, invoiced: bool, code: str
) -> None:
    with pytest.raises(Rejection) as caught:
        check_cancelable("PS-000001", is_reversal, canceled_by, invoiced)
    assert caught.value.code == code


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=10**6),
            st.decimals(min_value="0.000001", max_value=10**6, places=6),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_s10_every_line_is_reversed_in_full_and_in_order(
    lines: list[tuple[int, Decimal]],
) -> None:
    """No part of a line stays shipped: the cancellation and its packing slip sum to zero."""
    shipped = [
        ShippedLine(n, sales_line, quantity) for n, (sales_line, quantity) in enumerate(lines)
    ]
    plan = plan_cancellation(shipped)
    assert [(r.reverses_line_id, r.sales_line_id) for r in plan] == [
        (s.journal_line_id, s.sales_line_id) for s in shipped
    ]
    assert all(r.quantity + s.quantity == 0 for r, s in zip(plan, shipped, strict=True))


def test_s10_the_reversal_of_two_units_is_minus_two() -> None:
    assert plan_cancellation([ShippedLine(7, 1, D(2))]) == (ReversalLine(7, 1, D(-2)),)


def test_s10_a_canceled_packing_slip_and_its_cancellation_do_not_stand() -> None:
    """PS 1 canceled by PS 3, PS 2 untouched, PS 4 shipping again what PS 1 held."""
    assert standing_ids([(1, None), (2, None), (3, 1), (4, None)]) == {2, 4}


def test_s10_packing_slips_without_cancellations_all_stand() -> None:
    """Negative control: the rule drops nothing when nothing was canceled."""
    assert standing_ids([(1, None), (2, None)]) == {1, 2}
    assert standing_ids(iter([(5, None)])) == {5}  # read once, as a generator gives it


@given(
    st.sets(st.integers(min_value=1, max_value=10**6), max_size=20),
    st.data(),
)
def test_s10_standing_are_the_packing_slips_no_cancellation_is_or_names(
    ids: set[int], data: st.DataObject
) -> None:
    """Packing slips posted in id order, each shipping (it stands) or canceling one that
    stands (which then no longer does, S10): the rule, given them in any order, finds the ones
    left standing."""
    standing: set[int] = set()
    rows: list[tuple[int, int | None]] = []
    for id_ in sorted(ids):
        cancels = data.draw(st.sampled_from([None, *sorted(standing)]))
        rows.append((id_, cancels))
        if cancels is None:
            standing.add(id_)
        else:
            standing.discard(cancels)
    assert standing_ids(data.draw(st.permutations(rows))) == standing


def test_s1_shipping_more_than_is_open_is_rejected() -> None:
    with pytest.raises(Rejection) as caught:
        check_within_open(LABEL, "invoice", D(3), D("2.5"))
    assert (caught.value.code, caught.value.rule) == ("order.quantity_exceeds_open", None)
    assert caught.value.message == (
        "order SO-1 line 1 (item 1000): invoice quantity 3 exceeds the 2.5 not yet shipped or "
        "invoiced"
    )
    check_within_open(LABEL, "packing slip", D("2.5"), D("2.5"))  # all that is open: fine
