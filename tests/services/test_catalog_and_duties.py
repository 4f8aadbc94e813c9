"""Master data (M2-M4) and duties (M5)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
from sqlalchemy import select

from docpost.pipeline import clock, queries
from docpost.pipeline.config import get_settings
from docpost.pipeline.contract import PAYLOADS, Duty, UpsertCatalog
from docpost.pipeline.db import engine_for
from docpost.pipeline.duties import ALL_DUTIES
from docpost.pipeline.entrypoints.cli.main import main as cli_main
from docpost.pipeline.runner.execute import SERVICES
from docpost.pipeline.runner.kinds import KINDS, needs_of
from docpost.schema import Actor, Customer, Item, SalesOrder
from tests.conftest import EXAMPLES, Runner, usmf_catalog
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
            "actors": [{"actor": "admin", "duties": ["maintain_master_data", "manage_actors"]}],
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
    from docpost.schema import TrackingGroup

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
        error = usmf.rejected(kind, payload, actor="pos-1")
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


# --- M5 (beyond): master data, actors and duties -----------------------------------------------


def master_data(run: Runner) -> dict[str, Any]:
    """Everything a catalog load or order entry could change."""
    with run.sessions() as session:
        return {
            "actors": {a.actor: sorted(a.duty_names) for a in session.scalars(select(Actor))},
            "items": sorted((i.item, i.name) for i in session.scalars(select(Item))),
            "customers": sorted(
                (c.customer, c.name, c.address) for c in session.scalars(select(Customer))
            ),
            "orders": sorted(
                (o.order_no, o.confirmed_at is not None, len(o.lines))
                for o in session.scalars(select(SalesOrder))
            ),
        }


def test_m5_first_load_into_an_empty_database_must_create_an_actor_manager(run: Runner) -> None:
    """The very first load is the only one taken without an actor: it must leave someone who
    can manage actors, or the database could never be administered."""
    catalog = usmf_catalog()
    catalog["actors"] = [{"actor": "erp", "duties": ["post_sales_documents"]}]
    before = master_data(run)
    error = run.rejected("upsert_catalog", catalog, actor="anyone")
    assert (error["code"], error["rule"]) == ("actor.first_load_without_manager", "M5")
    assert error["message"] == (
        "the first catalog loaded into an empty database must create an actor holding the "
        "duty manage_actors (it is the only load taken without an actor); add one to "
        '"actors", e.g. {"actor": "erp", "duties": ["manage_actors", "maintain_master_data", '
        "...]}"
    )
    assert master_data(run) == before  # nothing loaded, not even the items
    # Negative control: the same first load with a manager, sent by an actor nobody knows yet.
    run.ok("upsert_catalog", usmf_catalog(), actor="anyone")
    assert "manage_actors" in master_data(run)["actors"]["erp"]


def test_m5_a_second_load_is_checked_like_any_request(usmf: Runner) -> None:
    """Once an actor exists, an unknown actor is refused, even one the catalog itself
    defines (the old bootstrap rule let anybody in that way)."""
    before = master_data(usmf)
    error = usmf.rejected(
        "upsert_catalog",
        {"actors": [{"actor": "mallory", "duties": list(ALL_DUTIES)}]},
        actor="mallory",
    )
    assert (error["code"], error["rule"]) == ("actor.unknown", "M5")
    assert master_data(usmf) == before


def test_m5_loading_master_data_needs_maintain_master_data(usmf: Runner) -> None:
    before = master_data(usmf)
    error = usmf.rejected(
        "upsert_catalog",
        {"customers": [{"customer": "US-004", "name": "Cave Wholesales", "address": "Evil 1"}]},
        actor="warehouse-1",
    )
    assert (error["code"], error["rule"]) == ("actor.missing_duty", "M5")
    assert error["message"] == (
        "actor 'warehouse-1' may not load master data; that needs the duty maintain_master_data"
    )
    assert error["details"] == {"duty": "maintain_master_data"}
    assert master_data(usmf) == before
    usmf.ok(
        "upsert_catalog",
        {"customers": [{"customer": "US-004", "name": "Cave Wholesales", "address": "Oslo"}]},
    )
    assert ("US-004", "Cave Wholesales", "Oslo") in master_data(usmf)["customers"]


def test_m5_the_escalation_of_issue_13_changes_nothing(usmf: Runner) -> None:
    """An actor without duties grants itself every duty, creates actors, strips the system
    actor, rewrites a customer, enters and confirms an order: each is refused."""
    usmf.ok("upsert_catalog", {"actors": [{"actor": "nobody", "duties": []}]})
    order(usmf, "SO-1", ("S0021", "1", "150.00"))
    before = master_data(usmf)
    attempts = {
        "upsert_catalog": [
            {"actors": [{"actor": "nobody", "duties": list(ALL_DUTIES)}]},
            {"actors": [{"actor": "sock-puppet", "duties": []}]},
            {"actors": [{"actor": "erp", "duties": []}]},
            {"customers": [{"customer": "US-004", "name": "x", "address": "Attacker Street"}]},
        ],
        "upsert_order": [{"order": "SO-2", "customer": "US-004", "lines": []}],
        "confirm_order": [{"order": "SO-1"}],
    }
    duties = {
        "upsert_catalog": "manage_actors",
        "upsert_order": "maintain_sales_orders",
        "confirm_order": "maintain_sales_orders",
    }
    for kind, payloads in attempts.items():
        for payload in payloads:
            error = usmf.rejected(kind, payload, actor="nobody")
            assert error["code"] == "actor.missing_duty", error
            assert error["message"].startswith("actor 'nobody' may not "), error
            if "customers" not in payload:
                assert error["details"] == {"duty": duties[kind]}, error
    assert master_data(usmf) == before


def test_m5_nobody_grants_a_duty_they_do_not_hold(usmf: Runner) -> None:
    usmf.ok("upsert_catalog", {"actors": [{"actor": "hr", "duties": ["manage_actors"]}]})
    before = master_data(usmf)
    error = usmf.rejected(
        "upsert_catalog",
        {"actors": [{"actor": "hr", "duties": ["manage_actors", "post_sales_documents"]}]},
        actor="hr",
    )
    assert (error["code"], error["rule"]) == ("actor.grant_not_held", "M5")
    assert error["message"] == (
        "actor 'hr' may not grant the duty post_sales_documents to actor 'hr': nobody grants "
        "a duty they do not hold themselves"
    )
    assert error["details"] == {"duty": "post_sales_documents", "target": "hr"}
    # A catalog naming an actor twice is checked entry by entry: no laundering via a detour.
    error = usmf.rejected(
        "upsert_catalog",
        {
            "actors": [
                {"actor": "temp", "duties": ["manage_actors"]},
                {"actor": "temp", "duties": ["maintain_master_data"]},
            ]
        },
        actor="hr",
    )
    assert error["code"] == "actor.grant_not_held"
    assert master_data(usmf) == before
    # What it holds it may grant, to a new actor or to an existing one.
    usmf.ok(
        "upsert_catalog", {"actors": [{"actor": "hr-2", "duties": ["manage_actors"]}]}, actor="hr"
    )
    assert master_data(usmf)["actors"]["hr-2"] == ["manage_actors"]


def test_m5_nobody_strips_a_duty_they_do_not_hold(usmf: Runner) -> None:
    """A lesser manager cannot strip the system actor, nor anyone else of a duty it lacks;
    an actor listed as it is (a whole catalog loaded again) needs nothing."""
    usmf.ok(
        "upsert_catalog",
        {"actors": [{"actor": "hr", "duties": ["manage_actors", "post_sales_documents"]}]},
    )
    before = master_data(usmf)
    error = usmf.rejected(
        "upsert_catalog", {"actors": [{"actor": "erp", "duties": []}]}, actor="hr"
    )
    assert (error["code"], error["rule"]) == ("actor.revoke_not_held", "M5")
    assert error["message"] == (
        "actor 'hr' may not take the duty correct_serial_numbers from actor 'erp': nobody "
        "takes away a duty they do not hold themselves"
    )
    assert master_data(usmf) == before
    usmf.ok("upsert_catalog", {"actors": usmf_catalog()["actors"]}, actor="hr")
    assert master_data(usmf) == before
    # A duty it holds it may take away: pos-1 loses post_sales_documents.
    usmf.ok("upsert_catalog", {"actors": [{"actor": "pos-1", "duties": []}]}, actor="hr")
    assert master_data(usmf)["actors"]["pos-1"] == []


def test_m5_entering_and_confirming_orders_need_maintain_sales_orders(usmf: Runner) -> None:
    usmf.ok("upsert_catalog", {"actors": [{"actor": "clerk", "duties": ["maintain_sales_orders"]}]})
    payload = {
        "order": "SO-1",
        "customer": "US-004",
        "lines": [{"line": 1, "item": "S0021", "quantity": "1", "unit_price": "150.00"}],
    }
    error = usmf.rejected("upsert_order", payload, actor="warehouse-1")
    assert error["message"] == (
        "actor 'warehouse-1' may not enter sales orders; that needs the duty maintain_sales_orders"
    )
    assert master_data(usmf)["orders"] == []
    usmf.ok("upsert_order", payload, actor="clerk")
    error = usmf.rejected("confirm_order", {"order": "SO-1"}, actor="warehouse-1")
    assert error["message"] == (
        "actor 'warehouse-1' may not confirm sales orders; that needs the duty "
        "maintain_sales_orders"
    )
    usmf.ok("confirm_order", {"order": "SO-1"}, actor="clerk")


def test_m5_every_kind_has_its_duties_in_the_one_table() -> None:
    """The services and the HTTP service read pipeline.runner.kinds; the contract's duty names and
    the table agree, and every kind of the contract needs a duty."""
    assert set(get_args(Duty)) == set(ALL_DUTIES)
    assert set(PAYLOADS) == set(SERVICES) == set(KINDS)
    catalog = UpsertCatalog.model_validate
    assert [n.duty for n in needs_of("upsert_catalog", catalog({}))] == ["maintain_master_data"]
    assert [n.duty for n in needs_of("upsert_catalog", catalog({"actors": [{"actor": "a"}]}))] == [
        "manage_actors"
    ]
    both = catalog(
        {
            "actors": [{"actor": "a"}],
            "revenue_schedules": [{"code": "M", "name": "m", "occurrences": 2}],
        }
    )
    assert [n.duty for n in needs_of("upsert_catalog", both)] == [
        "maintain_master_data",
        "manage_actors",
    ]


# --- the CLI acts as DOCPOST_SYSTEM_ACTOR -------------------------------------------------------


@pytest.fixture
def cli_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DOCPOST_DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()
    engine_for(db_url).dispose()


def test_m5_a_second_docpost_load_acts_as_the_system_actor(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`docpost load` without --actor used to act as `admin`, which no catalog defines: a
    second load failed with "unknown actor". Now it is DOCPOST_SYSTEM_ACTOR (erp)."""
    more = tmp_path / "more.json"
    more.write_text(json.dumps(_new_item_catalog("CABLE-1")))
    assert cli_main(["load", str(EXAMPLES / "catalog.json"), "--json"]) == 0
    capsys.readouterr()
    assert cli_main(["load", str(more), "--json"]) == 0
    [outcome] = json.loads(capsys.readouterr().out)
    assert outcome["status"] == "succeeded", outcome
    assert outcome["request_id"].startswith("load-more.json-")
    # Another actor still has to hold the duty (the negative control).
    less = tmp_path / "less.json"
    less.write_text(json.dumps(_new_item_catalog("CABLE-2")))
    assert cli_main(["load", str(less), "--actor", "warehouse-1", "--json"]) == 1
    [outcome] = json.loads(capsys.readouterr().out)
    assert outcome["error"]["message"] == (
        "actor 'warehouse-1' may not load master data; that needs the duty maintain_master_data"
    )
    # The same file as another actor is that actor's own request, refused for its duty, not
    # a `request.conflict` with erp's load of it.
    assert cli_main(["load", str(more), "--actor", "warehouse-1", "--json"]) == 1
    [outcome] = json.loads(capsys.readouterr().out)
    assert outcome["error"]["code"] == "actor.missing_duty", outcome


def test_b11_docpost_recognize_acts_as_the_system_actor_and_not_ahead_of_time(
    cli_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["load", str(EXAMPLES / "catalog.json"), "--json"]) == 0
    capsys.readouterr()
    assert cli_main(["recognize", "--as-of", "2099-12-31", "--json"]) == 1
    [outcome] = json.loads(capsys.readouterr().out)
    assert outcome["error"]["code"] == "revenue.as_of_in_future"
    today = clock.company_today().isoformat()
    assert cli_main(["recognize", "--as-of", today, "--json"]) == 0


def _new_item_catalog(item: str) -> dict[str, Any]:
    return {"items": [{"item": item, "name": "Cable", "unit": "ea", "base_sales_price": "5"}]}
