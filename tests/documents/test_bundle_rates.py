"""T4 on paper, without a database: an invoice prints a bundle whose components have
different rates as one line per (bundle, category and rate), highest rate first, named with
the parent and the rate, whose amounts sum exactly to the components' (B4); at one rate, the
parent line with that rate (D1). Hypothesis draws the components."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from docpost.pipeline.documents.snapshot import JournalSnapshot, LineSnapshot
from docpost.pipeline.documents.view import document_view
from tests.documents.test_party_views import journal

RATES = st.sampled_from([(Decimal("25.00"), "3"), (Decimal("15.00"), "31"), (Decimal("0"), "6")])
AMOUNTS = st.decimals(min_value=0, max_value=10000, places=2)


def _component(n: int, amount: Decimal, rate: Decimal, code: str) -> LineSnapshot:
    return LineSnapshot(
        position=n,
        line_no=n + 1,
        item_code=f"C{n}",
        item_name=f"Component {n}",
        unit="ea",
        quantity=Decimal(2),
        unit_price=None,
        discount_percent=None,
        discount_amount=None,
        amount=amount,
        bundle_line_no=1,
        bundle_item_code="GAVE-1",
        bundle_item_name="Gavekurv",
        bom_quantity=Decimal(1),
        is_bundle_parent=False,
        serials=(),
        tax_code=code,
        vat_category="S" if rate else "Z",
        vat_rate=rate,
    )


def _invoice(lines: tuple[LineSnapshot, ...]) -> JournalSnapshot:
    return dataclasses.replace(
        journal(None),
        kind="invoice",
        number="INV-000001",
        total_amount=sum((ln.amount or Decimal(0) for ln in lines), Decimal(0)),
        bundle_units={"GAVE-1": "ea"},
        lines=lines,
    )


@given(st.lists(st.tuples(AMOUNTS, RATES), min_size=1, max_size=6))
def test_t4_bundle_lines_per_rate_sum_to_the_components(
    components: list[tuple[Decimal, tuple[Decimal, str]]],
) -> None:
    """T4/B4: one printed line per rate present, highest first, "Gavekurv (15 %)" when
    several (nb_NO), the parent's name and rate when one; amounts sum to the components'."""
    lines = tuple(_component(n, amount, *rate) for n, (amount, rate) in enumerate(components))
    view = document_view(_invoice(lines), {"name": "Fjellost og Stål AS", "address": ""}, "nb_NO")
    printed = view["lines"]
    rates = sorted({rate for _, (rate, _) in components}, reverse=True)
    assert [ln.get("tax_rate") for ln in printed] == rates
    assert sum((ln["amount"] or Decimal(0) for ln in printed), Decimal(0)) == sum(
        (amount for amount, _ in components), Decimal(0)
    )
    assert all(ln["quantity"] == 2 and ln["unit"] == "stk" and ln["is_bundle"] for ln in printed)
    if len(rates) == 1:
        assert [ln["name"] for ln in printed] == ["Gavekurv"]
    else:
        assert [ln["name"] for ln in printed] == [f"Gavekurv ({rate:.0f}\u00a0%)" for rate in rates]
