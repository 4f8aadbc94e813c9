"""Every duty check (DOMAIN.md M5) with both outcomes: refused for an actor without the duty
(changing nothing but the stored outcome), then allowed for one with it.

The cases are listed per check site; test_every_duty_check_has_a_case reads the pipeline's
source and fails when a duty check appears that no case covers (or a case outlives its site).
A blank reused from a canceled packing slip (S10) is checked again like a new one: it has a
case of its own.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from docpost.pipeline import clock
from docpost.pipeline.duties import ALL_DUTIES
from docpost.pipeline.runner.execute import SERVICES, record_queued, run_invoice_batch
from docpost.pipeline.services.bulk import invoice_request
from docpost.schema import Actor, Customer, Item, SalesOrder
from tests.conftest import Runner
from tests.services.helpers import counts, order, ship, unchanged_but_outcome

PIPELINE = Path(__file__).resolve().parents[2] / "pipeline"
DUTY_CALLS = frozenset({"require_duties_of", "has_duty", "check_duty_change"})

POST = "post_sales_documents"
BLANKS = "register_non_readable_serials"
CORRECT = "correct_serial_numbers"
ORDERS = "maintain_sales_orders"
MASTER_DATA = "maintain_master_data"
ACTORS = "manage_actors"
REVENUE = "recognize_revenue"


@dataclass(frozen=True)
class Case:
    # (file under pipeline/, enclosing function, the kind of require_duties_of or the duty's
    # constant of has_duty, or "via <helper>")
    site: tuple[str, str, str]
    kind: str
    refused: str  # an actor without the duty
    allowed: str  # an actor with it
    code: str
    rule: str
    message: str  # the end of the refusal's message
    setup: Callable[[Runner], dict[str, Any]]  # prepares the order, returns the payload


def _plain_order(run: Runner) -> dict[str, Any]:
    order(run, "SO-1", ("S0021", "2", "150.00"))
    return {"order": "SO-1"}


def _shipped(run: Runner) -> dict[str, Any]:
    order(run, "SO-1", ("S0021", "2", "150.00"))
    return {"packing_slip": ship(run, "SO-1", {"line": 1, "quantity": "1"})}


def _invoiced(run: Runner) -> dict[str, Any]:
    order(run, "SO-1", ("S0021", "2", "150.00"))
    return {"invoice": run.ok("post_invoice", {"order": "SO-1"})["journal"]}


def _shipped_not_invoiced(run: Runner) -> dict[str, Any]:
    order(run, "SO-1", ("S0021", "2", "150.00"))
    ship(run, "SO-1")
    return {}


def _shipped_for_a_batch(run: Runner) -> dict[str, Any]:
    order(run, "SO-1", ("S0021", "2", "150.00"))
    return {"order": "SO-1", "packing_slips": [ship(run, "SO-1")]}


def _deferred_revenue(run: Runner) -> dict[str, Any]:
    """An invoiced Support line (revenue schedule 12M): its first month is due today."""
    order(run, "SO-1", ("Support", "1", "500.00"))
    run.ok("post_invoice", {"order": "SO-1"})
    return {"as_of": clock.company_today().isoformat()}


def _new_order(run: Runner) -> dict[str, Any]:
    return {
        "order": "SO-9",
        "customer": "US-004",
        "lines": [{"line": 1, "item": "S0021", "quantity": "1", "unit_price": "150.00"}],
    }


def _new_item(run: Runner) -> dict[str, Any]:
    return {"items": [{"item": "NEW-1", "name": "New", "unit": "ea", "base_sales_price": "1"}]}


def _every_duty_for(actor: str) -> Callable[[Runner], dict[str, Any]]:
    def setup(run: Runner) -> dict[str, Any]:
        return {"actors": [{"actor": actor, "duties": list(ALL_DUTIES)}]}

    return setup


def _new_actor_with(duty: str) -> Callable[[Runner], dict[str, Any]]:
    def setup(run: Runner) -> dict[str, Any]:
        return {"actors": [{"actor": "newbie", "duties": [duty]}]}

    return setup


def _strip_warehouse(run: Runner) -> dict[str, Any]:
    """warehouse-1 loses register_non_readable_serials, a duty the manager hr lacks."""
    return {"actors": [{"actor": "warehouse-1", "duties": [POST]}]}


def _pos_sale(run: Runner) -> dict[str, Any]:
    return {"lines": [{"item": "S0021", "quantity": "1", "unit_price": "150.00"}]}


def _pos_blank(run: Runner) -> dict[str, Any]:
    return {"lines": [{"item": "M0001", "quantity": "1", "unit_price": "299.00", "not_readable": True}]}  # fmt: skip


def _blank_on_packing_slip(run: Runner) -> dict[str, Any]:
    order(run, "SO-1", ("M0001", "1", "299.00"))
    return {"order": "SO-1", "lines": [{"line": 1, "quantity": "1", "not_readable": 1}]}


def _blank_left_by_a_canceled_packing_slip(run: Runner) -> dict[str, Any]:
    """S10: the next packing slip reuses the canceled one's blank registration."""
    order(run, "SO-1", ("M0001", "1", "299.00"))
    ps = ship(run, "SO-1", {"line": 1, "quantity": "1", "not_readable": 1})
    run.ok("cancel_packing_slip", {"packing_slip": ps})
    return {"order": "SO-1"}


def _blank_on_direct_invoice(run: Runner) -> dict[str, Any]:
    order(run, "SO-1", ("M0001", "1", "299.00"))
    return {"order": "SO-1", "lines": [{"line": 1, "quantity": "1", "not_readable": 1}]}


def _registered_serial(new: str | None) -> Callable[[Runner], dict[str, Any]]:
    def setup(run: Runner) -> dict[str, Any]:
        order(run, "SO-1", ("1000", "1", "1900.00"))
        ship(run, "SO-1", {"line": 1, "quantity": "1", "serials": ["A"]})
        return {"order": "SO-1", "line": 1, "old": "A", "new": new}

    return setup


def _missing(what: str, duty: str) -> str:
    return f"may not {what}; that needs the duty {duty}"


BATCH = "invoice_batch"  # not a request kind: run_invoice_batch with one child
BLANK_REFUSED = "may not register not-readable serials; that needs the duty register_non_readable_serials"  # fmt: skip

CASES = {
    "packing_slip": Case(
        ("services/packing_slips.py", "post_packing_slip", "'post_packing_slip'"),
        "post_packing_slip", "viewer", "erp", "actor.missing_duty", "M5",
        _missing("post packing slips", POST), _plain_order,
    ),
    "cancel_packing_slip": Case(
        ("services/packing_slips.py", "cancel_packing_slip", "'cancel_packing_slip'"),
        "cancel_packing_slip", "viewer", "erp", "actor.missing_duty", "M5",
        _missing("cancel packing slips", POST), _shipped,
    ),
    "invoice": Case(
        ("services/invoices.py", "post_invoice", "'post_invoice'"),
        "post_invoice", "viewer", "erp", "actor.missing_duty", "M5",
        _missing("post invoices", POST), _plain_order,
    ),
    "credit_note": Case(
        ("services/credit_notes.py", "post_credit_note", "'post_credit_note'"),
        "post_credit_note", "viewer", "erp", "actor.missing_duty", "M5",
        _missing("post credit notes", POST), _invoiced,
    ),
    "bulk_invoice": Case(
        ("services/bulk.py", "bulk_invoice", "'bulk_invoice'"),
        "bulk_invoice", "viewer", "erp", "actor.missing_duty", "M5",
        _missing("run bulk invoicing", POST), _shipped_not_invoiced,
    ),
    # Bulk invoicing's batch (services.invoice_batch) checks each child's actor; a refused
    # child is left out and its own request refuses it.
    "invoice_batch": Case(
        ("services/invoice_batch.py", "invoice_batch", "via _plan_all"),
        BATCH, "viewer", "erp", "actor.missing_duty", "M5",
        _missing("post invoices", POST), _shipped_for_a_batch,
    ),
    # warehouse-1 may post sales documents, which was once enough to release revenue.
    "recognize_revenue": Case(
        ("services/revenue.py", "recognize_revenue", "'recognize_revenue'"),
        "recognize_revenue", "warehouse-1", "erp", "actor.missing_duty", "M5",
        _missing("recognise revenue", REVENUE), _deferred_revenue,
    ),
    "upsert_order": Case(
        ("services/orders.py", "upsert_order", "'upsert_order'"),
        "upsert_order", "warehouse-1", "erp", "actor.missing_duty", "M5",
        _missing("enter sales orders", ORDERS), _new_order,
    ),
    "confirm_order": Case(
        ("services/orders.py", "confirm_order", "'confirm_order'"),
        "confirm_order", "warehouse-1", "erp", "actor.missing_duty", "M5",
        _missing("confirm sales orders", ORDERS), _plain_order,
    ),
    # upsert_catalog: its parts decide its duties; then the duties it grants or takes away.
    "catalog_master_data": Case(
        ("services/catalog.py", "upsert_catalog", "via _check_catalog_actor"),
        "upsert_catalog", "warehouse-1", "erp", "actor.missing_duty", "M5",
        _missing("load master data", MASTER_DATA), _new_item,
    ),
    "catalog_actors": Case(
        ("services/catalog.py", "upsert_catalog", "via _check_catalog_actor"),
        "upsert_catalog", "viewer", "erp", "actor.missing_duty", "M5",
        _missing("create actors or change their duties", ACTORS), _every_duty_for("viewer"),
    ),
    "catalog_grant": Case(
        ("services/catalog.py", "upsert_catalog", "via _check_catalog_actor"),
        "upsert_catalog", "hr", "erp", "actor.grant_not_held", "M5",
        f"may not grant the duty {POST} to actor 'newbie': nobody grants a duty they do not "
        "hold themselves", _new_actor_with(POST),
    ),
    "catalog_revoke": Case(
        ("services/catalog.py", "upsert_catalog", "via _check_catalog_actor"),
        "upsert_catalog", "hr", "erp", "actor.revoke_not_held", "M5",
        f"may not take the duty {BLANKS} from actor 'warehouse-1': nobody takes away a duty "
        "they do not hold themselves", _strip_warehouse,
    ),
    "pos_sale": Case(
        ("services/pos.py", "post_pos_sale", "'post_pos_sale'"),
        "post_pos_sale", "viewer", "pos-1", "actor.missing_duty", "M5",
        _missing("post point-of-sale sales", POST), _pos_sale,
    ),
    "pos_blank": Case(
        ("services/pos.py", "post_pos_sale", "REGISTER_NON_READABLE"),
        "post_pos_sale", "pos-1", "warehouse-1", "serial.blank_not_allowed", "S6",
        BLANK_REFUSED, _pos_blank,
    ),
    "packing_slip_blank": Case(
        ("services/packing_slips.py", "_prepare_registrations", "via check_new_registrations"),
        "post_packing_slip", "pos-1", "warehouse-1", "serial.blank_not_allowed", "S6",
        BLANK_REFUSED, _blank_on_packing_slip,
    ),
    "packing_slip_reused_blank": Case(
        ("services/packing_slips.py", "_prepare_registrations", "via check_new_registrations"),
        "post_packing_slip", "pos-1", "warehouse-1", "serial.blank_not_allowed", "S6",
        BLANK_REFUSED, _blank_left_by_a_canceled_packing_slip,
    ),
    "direct_invoice_blank": Case(
        ("services/invoices.py", "_plan_direct", "via check_new_registrations"),
        "post_invoice", "pos-1", "warehouse-1", "serial.blank_not_allowed", "S6",
        BLANK_REFUSED, _blank_on_direct_invoice,
    ),
    "change_serial": Case(
        ("services/serial_changes.py", "change_serial", "'change_serial'"),
        "change_serial", "warehouse-1", "supervisor", "actor.missing_duty", "M5",
        _missing("correct serial numbers", CORRECT), _registered_serial("B"),
    ),
    "change_serial_to_blank": Case(
        ("services/serial_changes.py", "change_serial", "REGISTER_NON_READABLE"),
        "change_serial", "corrector", "supervisor", "serial.blank_not_allowed", "S6",
        BLANK_REFUSED, _registered_serial(None),
    ),
}  # fmt: skip


@pytest.fixture
def duty_run(usmf: Runner) -> Runner:
    """The USMF catalog, plus an actor without duties, one that may only correct serials and
    one that may only manage actors."""
    usmf.ok(
        "upsert_catalog",
        {
            "actors": [
                {"actor": "viewer", "duties": []},
                {"actor": "corrector", "duties": [CORRECT]},
                {"actor": "hr", "duties": [ACTORS]},
            ]
        },
    )
    return usmf


@pytest.mark.parametrize("name", sorted(CASES))
def test_duty_check_refuses_without_and_allows_with_the_duty(duty_run: Runner, name: str) -> None:
    case = CASES[name]
    payload = case.setup(duty_run)
    before = counts(duty_run)

    run = _in_a_batch if case.kind == BATCH else _as_a_request
    master_data = _master_data(duty_run)
    refused = run(duty_run, case.kind, payload, case.refused)
    assert refused["status"] == "rejected", refused
    error = refused["error"]
    assert (error["code"], error["rule"]) == (case.code, case.rule), error
    assert error["message"].endswith(f"actor {case.refused!r} {case.message}"), error
    assert unchanged_but_outcome(before, counts(duty_run))
    assert _master_data(duty_run) == master_data

    allowed = run(duty_run, case.kind, payload, case.allowed)
    assert allowed["status"] == "succeeded" and allowed["result"], allowed


def _master_data(run: Runner) -> dict[str, Any]:
    """What the catalog and order entry change: actors with their duties, items, customers,
    orders with their lines."""
    with run.sessions() as session:
        return {
            "actors": {a.actor: sorted(a.duty_names) for a in session.scalars(select(Actor))},
            "items": sorted(session.scalars(select(Item.item))),
            "customers": sorted(
                (c.customer, c.name, c.address) for c in session.scalars(select(Customer))
            ),
            "orders": sorted(
                (o.order_no, len(o.lines)) for o in session.scalars(select(SalesOrder))
            ),
        }


def _as_a_request(run: Runner, kind: str, payload: dict[str, Any], actor: str) -> dict[str, Any]:
    return run(kind, payload, actor=actor)


def _in_a_batch(run: Runner, _: str, payload: dict[str, Any], actor: str) -> dict[str, Any]:
    """One bulk invoicing child of `actor`, queued as bulk_invoice queues it, run by a batch."""
    child = invoice_request(payload["order"], payload["packing_slips"], actor)
    child["request_id"] += f":{actor}"  # the refused and the allowed are two requests
    record_queued(child, run.sessions)
    [outcome] = run_invoice_batch([child], run.sessions).outcomes
    return outcome


def test_an_unknown_actor_is_refused_and_a_known_one_allowed(duty_run: Runner) -> None:
    """The check before every duty: who asks must be a loaded actor (M5)."""
    payload = _plain_order(duty_run)
    before = counts(duty_run)
    error = duty_run.rejected("post_packing_slip", payload, actor="mallory")
    assert (error["code"], error["rule"]) == ("actor.unknown", "M5")
    assert unchanged_but_outcome(before, counts(duty_run))
    duty_run.ok("post_packing_slip", payload, actor="erp")


def duty_check_sites() -> Counter[tuple[str, str, str]]:
    """Where the pipeline checks a duty: (file, function, kind or duty constant) per
    require_duties_of / has_duty / check_duty_change call; a helper that checks one (check_new_registrations) counts at each of its
    call sites instead, as (file, calling function, "via helper")."""
    calls: list[tuple[str, str, ast.Call]] = []
    for path in sorted(PIPELINE.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name == "UnitOfWork":
                continue  # require_duties_of's own definition
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for call in ast.walk(node):
                    if isinstance(call, ast.Call):
                        calls.append((str(path.relative_to(PIPELINE)), node.name, call))
    in_uow = {
        n.name
        for n in ast.walk(ast.parse((PIPELINE / "uow.py").read_text()))
        if isinstance(n, ast.FunctionDef)
    }

    def called(call: ast.Call) -> str:
        func = call.func
        return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")

    # A check outside a service function (pipeline.runner.execute.SERVICES) is in a helper.
    services = {service.__name__ for service in SERVICES.values()}
    sites: Counter[tuple[str, str, str]] = Counter()
    helpers: set[str] = set()
    for file, function, call in calls:
        if called(call) in DUTY_CALLS and not (file == "uow.py" and function in in_uow):
            duty = call.args[0]
            name = duty.id if isinstance(duty, ast.Name) else ast.unparse(duty)
            sites[(file, function, name)] += 1
            if function not in services:
                helpers.add(function)
    for helper in helpers:
        for key in [k for k in sites if k[1] == helper]:
            del sites[key]
        for file, function, call in calls:
            if called(call) == helper:
                sites[(file, function, f"via {helper}")] += 1
    return sites


def test_every_duty_check_has_a_case() -> None:
    found = duty_check_sites()
    covered = Counter(case.site for case in CASES.values())
    print(
        f"\nfaults: duties check_sites={sum(found.values())} cases={len(CASES) + 1} "
        "(each refused and allowed, on SQLite and PostgreSQL; +1: unknown actor)"
    )
    for site, n in sorted(found.items()):
        print(f"  {site[0]}:{site[1]} {site[2]} x{n}")
    # Every site has a case, and every case a site (a refactoring may merge or move sites).
    assert set(found) == set(covered), (
        sorted(set(found) - set(covered)),
        sorted(set(covered) - set(found)),
    )
