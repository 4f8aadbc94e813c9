"""Revenue recognition bundles (DOMAIN.md B1-B10, B12) through the posting services."""

from __future__ import annotations

from decimal import Decimal

from docpost.pipeline import queries
from tests.conftest import Runner
from tests.services.helpers import counts, order, ship, unchanged_but_outcome

COMPONENTS = ("1000", "Support", "S0021")


def bundle_order(run: Runner, quantity: str = "5", **extra: str) -> dict:
    order(run, "SO-1", ("LaptopBundle", quantity, "2300.00"), **extra)
    return run.ok("confirm_order", {"order": "SO-1"})


def full(quantity: str, serials: list[str]) -> list[dict]:
    return [
        {"line": 1, "item": "1000", "quantity": quantity, "serials": serials},
        {"line": 1, "item": "Support", "quantity": quantity},
        {"line": 1, "item": "S0021", "quantity": quantity},
    ]


def test_b1_b3_confirmation_explodes_and_cancels_the_parent(usmf: Runner) -> None:
    result = bundle_order(usmf)
    assert result["journal"] == "CONF-000001"
    with usmf.sessions() as session:
        lines = queries.show_order(session, "SO-1")["lines"]
    parent, *components = lines
    assert (parent["status"], parent["bundle_net_amount"], parent["net_amount"]) == (
        "canceled",
        "11500.00",
        "11500.00",
    )
    assert [
        (c["line"], c["item"], c["quantity"], c["bundle_parent"], c["status"]) for c in components
    ] == [(2, "1000", "5", 1, "open"), (3, "Support", "5", 1, "open"), (4, "S0021", "5", 1, "open")]
    assert [c["unit_price"] for c in components] == ["1713.73", "450.98", "135.29"]
    assert sum(Decimal(c["net_amount"]) for c in components) == Decimal("11500.00")


def test_b1_bundles_explode_only_by_confirmation_and_b2_posting_needs_it(usmf: Runner) -> None:
    order(usmf, "SO-1", ("LaptopBundle", "1", "2300.00"))
    before = counts(usmf)
    for kind in ("post_packing_slip", "post_invoice"):
        error = usmf.rejected(kind, {"order": "SO-1"}, actor="warehouse-1")
        assert (error["code"], error["rule"]) == ("order.not_confirmed", "B2")
    document = "invoice"
    assert error["message"] == (
        f"order SO-1 holds bundle LaptopBundle on line 1; confirm the order before posting a {document}"
    )
    assert unchanged_but_outcome(before, {**counts(usmf), "requests": counts(usmf)["requests"] - 1})


def test_b4_seed_allocation_with_a_discount_sums_to_the_bundle_net_amount(usmf: Runner) -> None:
    order(
        usmf,
        "SO-1",
        ("LaptopBundle", "7", "2300.00"),
        discount_percent="12.5",
        discount_amount="3.33",
    )
    usmf.ok("confirm_order", {"order": "SO-1"})
    with usmf.sessions() as session:
        parent, *components = queries.show_order(session, "SO-1")["lines"]
    assert sum(Decimal(c["net_amount"]) for c in components) == Decimal(parent["bundle_net_amount"])
    assert {c["discount_percent"] for c in components} == {"12.50"}


def test_b5_component_lines_are_locked(usmf: Runner) -> None:
    bundle_order(usmf)
    for field, value, name in (
        ("unit_price", "1.00", "unit_price"),
        ("site", "2", "site"),
        ("warehouse", "24", "warehouse"),
    ):
        line = {"line": 2, "item": "1000", "quantity": "5", "unit_price": "1713.73", field: value}
        error = usmf.rejected(
            "upsert_order", {"order": "SO-1", "customer": "US-004", "lines": [line]}
        )
        assert (error["code"], error["rule"]) == ("bundle.component_locked", "B5")
        assert error["details"] == {"field": name}
        assert error["message"].startswith(
            f"order SO-1 line 2 (item 1000 of bundle LaptopBundle, line 1): {name} cannot be changed"
        )
    # Sending a component as it is changes nothing and is accepted.
    usmf.ok(
        "upsert_order",
        {
            "order": "SO-1",
            "customer": "US-004",
            "lines": [{"line": 2, "item": "1000", "quantity": "5", "unit_price": "1713.73"}],
        },
    )


def test_b6_removing_the_parent_removes_its_components_and_it_can_be_added_again(
    usmf: Runner,
) -> None:
    bundle_order(usmf)
    error = usmf.rejected(
        "upsert_order", {"order": "SO-1", "customer": "US-004", "remove_lines": [3]}
    )
    assert (error["code"], error["rule"]) == ("bundle.component_locked", "B5")
    usmf.ok("upsert_order", {"order": "SO-1", "customer": "US-004", "remove_lines": [1]})
    with usmf.sessions() as session:
        assert queries.show_order(session, "SO-1")["lines"] == []
    usmf.ok(
        "upsert_order",
        {
            "order": "SO-1",
            "customer": "US-004",
            "lines": [
                {"line": 1, "item": "LaptopBundle", "quantity": "2", "unit_price": "2000.00"}
            ],
        },
    )
    usmf.ok("confirm_order", {"order": "SO-1"})
    with usmf.sessions() as session:
        _, *components = queries.show_order(session, "SO-1")["lines"]
    assert sum(Decimal(c["net_amount"]) for c in components) == Decimal("4000.00")


def test_b6_parent_cannot_be_removed_once_anything_is_posted(usmf: Runner) -> None:
    bundle_order(usmf, "2")
    ship(usmf, "SO-1", *full("1", ["A"]))
    error = usmf.rejected(
        "upsert_order", {"order": "SO-1", "customer": "US-004", "remove_lines": [1]}
    )
    assert (error["code"], error["rule"]) == ("order.line_posted", "B6")


def test_b7_packing_slip_must_carry_full_bundles(usmf: Runner) -> None:
    bundle_order(usmf)
    before = counts(usmf)
    lines = full("5", ["A", "B", "C", "D"])
    lines[0]["quantity"] = "4"
    error = usmf.rejected(
        "post_packing_slip", {"order": "SO-1", "lines": lines}, actor="warehouse-1"
    )
    assert (error["code"], error["rule"]) == ("bundle.not_full", "B7")
    assert error["message"] == (
        "order SO-1 line 1 (bundle LaptopBundle): all products in the bundle must be shipped "
        "together, in full bundles; the packing slip has 1000 4, Support 5, S0021 5"
    )
    assert unchanged_but_outcome(before, counts(usmf))
    error = usmf.rejected(
        "post_packing_slip",
        {"order": "SO-1", "lines": full("5", list("ABCDE"))[:2]},
        actor="warehouse-1",
    )
    assert "the packing slip has 1000 5, Support 5, S0021 0" in error["message"]


def test_b7_partial_bundles_reduced_for_all_components_post(usmf: Runner) -> None:
    bundle_order(usmf)
    ship(usmf, "SO-1", *full("3", ["A", "B", "C"]))
    ship(usmf, "SO-1", *full("2", ["D", "E"]))
    error = usmf.rejected(
        "post_invoice",
        {
            "order": "SO-1",
            "lines": [
                {"line": 1, "item": "1000", "quantity": "2"},
                {"line": 1, "item": "Support", "quantity": "2"},
            ],
        },
    )
    assert (error["code"], error["rule"]) == ("bundle.not_full", "B7")
    assert "must be invoiced together" in error["message"]


def test_b8_partial_invoices_sum_exactly_to_the_bundle_net_amount(usmf: Runner) -> None:
    bundle_order(usmf, "3")
    ship(usmf, "SO-1", *full("3", ["A", "B", "C"]))
    totals = []
    for _ in range(3):
        invoice = usmf.ok(
            "post_invoice",
            {
                "order": "SO-1",
                "lines": [{"line": 1, "item": c, "quantity": "1"} for c in COMPONENTS],
            },
        )["journal"]
        with usmf.sessions() as session:
            totals.append(Decimal(queries.show_journal(session, invoice)["total_amount"]))
    assert totals == [Decimal("2300.00")] * 3
    assert sum(totals) == Decimal("6900.00")


def test_b8_uneven_split_last_invoice_takes_the_remainder(usmf: Runner) -> None:
    order(usmf, "SO-1", ("LaptopBundle", "3", "1000.00"))
    usmf.ok("confirm_order", {"order": "SO-1"})
    ship(usmf, "SO-1", *full("3", ["A", "B", "C"]))
    first = usmf.ok(
        "post_invoice",
        {"order": "SO-1", "lines": [{"line": 1, "item": c, "quantity": "1"} for c in COMPONENTS]},
    )["journal"]
    second = usmf.ok("post_invoice", {"order": "SO-1"})["journal"]
    with usmf.sessions() as session:
        amounts = [
            Decimal(queries.show_journal(session, j)["total_amount"]) for j in (first, second)
        ]
        parent = queries.show_order(session, "SO-1")["lines"][0]
    assert sum(amounts) == Decimal(parent["bundle_net_amount"]) == Decimal("3000.00")


def test_b9_invoice_journal_holds_components_never_the_parent(usmf: Runner) -> None:
    bundle_order(usmf, "1")
    ship(usmf, "SO-1", *full("1", ["A"]))
    invoice = usmf.ok("post_invoice", {"order": "SO-1"})["journal"]
    with usmf.sessions() as session:
        journal = queries.show_journal(session, invoice)
        ledger = queries.ledger(session)
    assert [ln["item"] for ln in journal["lines"]] == list(COMPONENTS)
    assert not any(ln["bundle_parent"] for ln in journal["lines"])
    assert {ln["bundle_item"] for ln in journal["lines"]} == {"LaptopBundle"}
    credits = [(e["account"], e["credit"]) for e in ledger["entries"] if e["credit"]]
    # B9/B11: revenue per component; Support has a revenue schedule, so it is deferred.
    assert credits == [("3000", "1713.73"), ("2900", "450.98"), ("3000", "135.29")]
    error = usmf.rejected(
        "post_invoice", {"order": "SO-1", "lines": [{"line": 1, "quantity": "1"}]}
    )
    assert (error["code"], error["rule"]) == ("bundle.parent_line", "B9")


def test_b10_credit_note_carries_components_and_frees_serials(usmf: Runner) -> None:
    bundle_order(usmf, "2")
    ship(usmf, "SO-1", *full("2", ["A", "B"]))
    invoice = usmf.ok("post_invoice", {"order": "SO-1"})["journal"]
    credit = usmf.ok(
        "post_credit_note",
        {
            "invoice": invoice,
            "lines": [
                {"line": 1, "item": "1000", "quantity": "1", "serials": ["B"]},
                {"line": 1, "item": "Support", "quantity": "1"},
                {"line": 1, "item": "S0021", "quantity": "1"},
            ],
        },
    )
    with usmf.sessions() as session:
        journal = queries.show_journal(session, credit["journal"])
        assert [ln["item"] for ln in journal["lines"]] == list(COMPONENTS)
        assert journal["lines"][0]["serials"] == ["B"]
        # B8 per component: half of 3427.45 / 901.96 / 270.59, each rounded.
        assert [ln["amount"] for ln in journal["lines"]] == ["1713.73", "450.98", "135.30"]
        assert queries.trace(session, "B")["sales"][0]["credited"] is True
        assert queries.ledger(session)["trial_balance"]["total"] == "0.00"
    rest = usmf.ok("post_credit_note", {"invoice": invoice})["journal"]
    with usmf.sessions() as session:
        # The last credit takes what remains: both credits sum to the invoice.
        assert queries.show_journal(session, rest)["total_amount"] == "2299.99"
    order(usmf, "SO-2", ("1000", "1", "1900.00"))
    ship(usmf, "SO-2", {"line": 1, "quantity": "1", "serials": ["B"]})


def test_b10_credit_note_must_carry_full_bundles(usmf: Runner) -> None:
    bundle_order(usmf, "2")
    ship(usmf, "SO-1", *full("2", ["A", "B"]))
    invoice = usmf.ok("post_invoice", {"order": "SO-1"})["journal"]
    error = usmf.rejected(
        "post_credit_note",
        {"invoice": invoice, "lines": [{"line": 1, "item": "Support", "quantity": "1"}]},
    )
    assert (error["code"], error["rule"]) == ("bundle.not_full", "B7")
    assert error["message"] == (
        "order SO-1 line 1 (bundle LaptopBundle): all products in the bundle must be credited "
        "together, in full bundles; the credit note has 1000 0, Support 1, S0021 0"
    )


def test_b12_explosion_is_frozen_at_confirmation(usmf: Runner) -> None:
    bundle_order(usmf, "1")
    usmf.ok(
        "upsert_catalog",
        {
            "items": [
                {
                    "item": "S0021",
                    "name": "Docking station",
                    "unit": "ea",
                    "base_sales_price": "9999.00",
                }
            ],
            "boms": [{"bundle": "LaptopBundle", "components": [{"item": "1000", "quantity": "2"}]}],
        },
    )
    with usmf.sessions() as session:
        _, *components = queries.show_order(session, "SO-1")["lines"]
    assert [(c["item"], c["quantity"], c["unit_price"]) for c in components] == [
        ("1000", "1", "1713.73"),
        ("Support", "1", "450.98"),
        ("S0021", "1", "135.29"),
    ]
