"""Master data (M2-M4) and duties (M5)."""

from __future__ import annotations

import pytest

from pipeline import queries
from tests.conftest import Runner
from tests.services.helpers import counts, order, ship, unchanged_but_outcome


def test_m2_active_in_sales_sets_serial_control_and_clears_other_selections(run: Runner) -> None:
    result = run.ok(
        "upsert_catalog",
        {
            "tracking_groups": [
                {
                    "code": "G",
                    "name": "g",
                    "serial_active_in_sales_process": True,
                    "serial_number_control": False,
                    "blank_issue_allowed": True,
                    "serial_physical_inventory": True,
                    "serial_primary_stocking": True,
                }
            ],
            "actors": [{"actor": "admin", "duties": []}],
        },
        actor="admin",
    )
    assert result["normalised"] == [
        {
            "tracking_group": "G",
            "changes": [
                "serial_number_control set",
                "serial_primary_stocking cleared",
                "serial_physical_inventory cleared",
            ],
        }
    ]
    from schema import TrackingGroup

    with run.sessions() as session:
        group = session.get(TrackingGroup, "G")
        assert group is not None
        assert (group.serial_number_control, group.blank_issue_allowed) == (True, True)
        assert (group.serial_physical_inventory, group.serial_primary_stocking) == (False, False)


def test_m3_catch_weight_item_with_sales_serial_group_is_rejected(usmf: Runner) -> None:
    before = counts(usmf)
    error = usmf.rejected(
        "upsert_catalog",
        {
            "items": [
                {
                    "item": "CW-2",
                    "name": "Ham",
                    "unit": "kg",
                    "base_sales_price": "9",
                    "catch_weight": True,
                    "tracking_group": "SN-SALES",
                }
            ]
        },
    )
    assert (error["code"], error["rule"]) == ("catalog.catch_weight_serials", "M3")
    assert error["message"] == (
        "item CW-2 is a catch-weight item and cannot use tracking group SN-SALES, whose serials "
        "are active in the sales process"
    )
    assert error["details"] == {"item": "CW-2", "tracking_group": "SN-SALES"}
    assert unchanged_but_outcome(before, counts(usmf))


def test_m3_turning_a_catch_weight_items_group_active_in_sales_is_rejected(usmf: Runner) -> None:
    usmf.ok(
        "upsert_catalog",
        {
            "tracking_groups": [{"code": "PLAIN", "name": "plain"}],
            "items": [
                {
                    "item": "CW-2",
                    "name": "Ham",
                    "unit": "kg",
                    "base_sales_price": "9",
                    "catch_weight": True,
                    "tracking_group": "PLAIN",
                }
            ],
        },
    )
    error = usmf.rejected(
        "upsert_catalog",
        {
            "tracking_groups": [
                {"code": "PLAIN", "name": "plain", "serial_active_in_sales_process": True}
            ]
        },
    )
    assert (error["code"], error["rule"]) == ("catalog.catch_weight_serials", "M3")
    assert "item CW-2" in error["message"] and "tracking group PLAIN" in error["message"]


def test_m4_bundle_components_may_not_be_bundles(usmf: Runner) -> None:
    usmf.ok(
        "upsert_catalog",
        {
            "items": [
                {
                    "item": "Big",
                    "name": "Big bundle",
                    "unit": "ea",
                    "base_sales_price": "1",
                    "bundle": True,
                }
            ]
        },
    )
    error = usmf.rejected(
        "upsert_catalog",
        {"boms": [{"bundle": "Big", "components": [{"item": "LaptopBundle", "quantity": "1"}]}]},
    )
    assert (error["code"], error["rule"]) == ("catalog.nested_bundle", "M4")
    assert (
        error["message"]
        == "bundle Big: component LaptopBundle is itself a bundle; bundles do not nest"
    )


def test_m4_bundle_with_zero_base_prices_is_rejected_at_confirmation(usmf: Runner) -> None:
    usmf.ok(
        "upsert_catalog",
        {
            "items": [
                {"item": "Free", "name": "Free thing", "unit": "ea", "base_sales_price": "0"},
                {
                    "item": "FB",
                    "name": "Free bundle",
                    "unit": "ea",
                    "base_sales_price": "10",
                    "bundle": True,
                },
            ],
            "boms": [{"bundle": "FB", "components": [{"item": "Free", "quantity": "2"}]}],
        },
    )
    order(usmf, "SO-1", ("FB", "1", "10.00"))
    error = usmf.rejected("confirm_order", {"order": "SO-1"})
    assert (error["code"], error["rule"]) == ("bundle.zero_weight", "M4")
    assert error["message"] == (
        "bundle FB: its components' base sales prices sum to zero, so its price cannot be "
        "allocated; give the components base sales prices"
    )


def test_m5_unknown_actor_is_rejected_and_changes_nothing(usmf: Runner) -> None:
    order(usmf, "SO-1", ("S0021", "1", "150.00"))
    before = counts(usmf)
    error = usmf.rejected("post_packing_slip", {"order": "SO-1"}, actor="mallory")
    assert (error["code"], error["rule"]) == ("actor.unknown", "M5")
    assert error["message"] == "unknown actor 'mallory'; load it with its duties in the catalog"
    assert unchanged_but_outcome(before, counts(usmf))
    error = usmf.rejected(
        "upsert_order", {"order": "SO-9", "customer": "US-004", "lines": []}, actor="mallory"
    )
    assert error["code"] == "actor.unknown"


POSTINGS = {
    "post_packing_slip": ("post packing slips", lambda: {"order": "SO-1"}),
    "post_invoice": ("post invoices", lambda: {"order": "SO-1"}),
    "post_pos_sale": (
        "post point-of-sale sales",
        lambda: {"lines": [{"item": "S0021", "quantity": "1", "unit_price": "150"}]},
    ),
    "bulk_invoice": ("run bulk invoicing", lambda: {}),
}


@pytest.mark.parametrize("kind", sorted(POSTINGS))
def test_m5_posting_needs_post_sales_documents(usmf: Runner, kind: str) -> None:
    usmf.ok("upsert_catalog", {"actors": [{"actor": "viewer", "duties": []}]})
    order(usmf, "SO-1", ("S0021", "1", "150.00"))
    what, payload = POSTINGS[kind]
    before = counts(usmf)
    error = usmf.rejected(kind, payload(), actor="viewer")
    assert (error["code"], error["rule"]) == ("actor.missing_duty", "M5")
    assert (
        error["message"]
        == f"actor 'viewer' may not {what}; that needs the duty post_sales_documents"
    )
    assert unchanged_but_outcome(before, counts(usmf))
    assert usmf(kind, payload(), actor="erp")["status"] == "succeeded"


def test_m5_credit_note_and_cancel_need_post_sales_documents(usmf: Runner) -> None:
    usmf.ok("upsert_catalog", {"actors": [{"actor": "viewer", "duties": []}]})
    order(usmf, "SO-1", ("S0021", "2", "150.00"))
    ps = ship(usmf, "SO-1", {"line": 1, "quantity": "1"})
    error = usmf.rejected("cancel_packing_slip", {"packing_slip": ps}, actor="viewer")
    assert (
        error["message"]
        == "actor 'viewer' may not cancel packing slips; that needs the duty post_sales_documents"
    )
    usmf.ok("cancel_packing_slip", {"packing_slip": ps}, actor="erp")
    invoice = usmf.ok("post_invoice", {"order": "SO-1"})["journal"]
    error = usmf.rejected("post_credit_note", {"invoice": invoice}, actor="viewer")
    assert (
        error["message"]
        == "actor 'viewer' may not post credit notes; that needs the duty post_sales_documents"
    )
    usmf.ok("post_credit_note", {"invoice": invoice}, actor="erp")


def test_m5_not_readable_needs_register_non_readable_serials(usmf: Runner) -> None:
    order(usmf, "SO-1", ("M0001", "1", "300.00"))
    for kind, payload in (
        (
            "post_packing_slip",
            {"order": "SO-1", "lines": [{"line": 1, "quantity": "1", "not_readable": 1}]},
        ),
        (
            "post_invoice",
            {"order": "SO-1", "lines": [{"line": 1, "quantity": "1", "not_readable": 1}]},
        ),
    ):
        error = usmf.rejected(kind, payload, actor="erp")
        assert (error["code"], error["rule"]) == ("serial.blank_not_allowed", "S6")
    error = usmf.rejected(
        "post_pos_sale",
        {"lines": [{"item": "M0001", "quantity": "1", "unit_price": "1", "not_readable": True}]},
        actor="pos-1",
    )
    assert error["message"] == (
        "order POS-000001 line 1 (item M0001): actor 'pos-1' may not register not-readable "
        "serials; that needs the duty register_non_readable_serials"
    )
    usmf.ok(
        "post_packing_slip",
        {"order": "SO-1", "lines": [{"line": 1, "quantity": "1", "not_readable": 1}]},
        actor="warehouse-1",
    )


def test_m5_changing_a_serial_needs_correct_serial_numbers(usmf: Runner) -> None:
    order(usmf, "SO-1", ("1000", "1", "1900.00"))
    ship(usmf, "SO-1", {"line": 1, "quantity": "1", "serials": ["A"]})
    before = counts(usmf)
    error = usmf.rejected(
        "change_serial", {"order": "SO-1", "line": 1, "old": "A", "new": "B"}, actor="warehouse-1"
    )
    assert (error["code"], error["rule"]) == ("actor.missing_duty", "M5")
    assert error["message"] == (
        "actor 'warehouse-1' may not correct serial numbers; that needs the duty correct_serial_numbers"
    )
    assert unchanged_but_outcome(before, counts(usmf))
    usmf.ok(
        "change_serial", {"order": "SO-1", "line": 1, "old": "A", "new": "B"}, actor="supervisor"
    )
    with usmf.sessions() as session:
        assert queries.trace(session, "B")["sales"][0]["order"] == "SO-1"


def test_m5_changing_a_serial_to_not_readable_also_needs_that_duty(usmf: Runner) -> None:
    usmf.ok(
        "upsert_catalog", {"actors": [{"actor": "corrector", "duties": ["correct_serial_numbers"]}]}
    )
    order(usmf, "SO-1", ("1000", "1", "1900.00"))
    ship(usmf, "SO-1", {"line": 1, "quantity": "1", "serials": ["A"]})
    error = usmf.rejected(
        "change_serial", {"order": "SO-1", "line": 1, "old": "A", "new": None}, actor="corrector"
    )
    assert (error["code"], error["rule"]) == ("serial.blank_not_allowed", "S6")
    usmf.ok(
        "change_serial", {"order": "SO-1", "line": 1, "old": "A", "new": None}, actor="supervisor"
    )
