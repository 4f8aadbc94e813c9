"""Every duty check (DOMAIN.md M5) as one table: (check, actor) -> allowed, or the refusal.

A check is a place in the pipeline that checks a duty, with the request that reaches it and the
state it needs. Each cell of the table runs that request as that actor on a fresh database
(SQLite and PostgreSQL): a refused one changes nothing but its stored outcome, an allowed one
succeeds. Every check has at least one actor refused and one allowed, so no refusal can pass
because the check refuses everyone.

test_every_duty_check_has_a_case reads the pipeline's source and fails when a duty check
appears that no check covers (or a check outlives its site). A blank reused from a canceled
packing slip (S10) is checked again like a new one: it has a check of its own.
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
from docpost.pipeline.runner.execute import SERVICES, run_invoice_batch
from docpost.pipeline.runner.request_record import record_queued
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
class Check:
    # (file under pipeline/, enclosing function, the kind of require_duties_of or the duty's
    # constant of has_duty, or "via <helper>")
    site: tuple[str, str, str]
    kind: str
    setup: Callable[[Runner], dict[str, Any]]  # prepares the order, returns the payload


@dataclass(frozen=True)
class Refused:
    code: str
    rule: str
    message: str  # the end of the refusal's message; {actor} is the actor's name, quoted

    def __str__(self) -> str:
        return self.code


@dataclass(frozen=True)
class Allowed:
    def __str__(self) -> str:
        return "allowed"


ALLOWED = Allowed()


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


def _missing(what: str, duty: str) -> Refused:
    return Refused(
        "actor.missing_duty", "M5", f"actor {{actor}} may not {what}; that needs the duty {duty}"
    )


BATCH = "invoice_batch"  # not a request kind: run_invoice_batch with one child
UNKNOWN = Refused("actor.unknown", "M5", "unknown actor {actor}; load it with its duties in the catalog")  # fmt: skip
BLANK_REFUSED = Refused(
    "serial.blank_not_allowed", "S6",
    "actor {actor} may not register not-readable serials; that needs the duty register_non_readable_serials",
)  # fmt: skip

CHECKS = {
    "packing_slip": Check(
        ("services/packing_slips.py", "post_packing_slip", "'post_packing_slip'"),
        "post_packing_slip", _plain_order,
    ),
    "cancel_packing_slip": Check(
        ("services/packing_slips.py", "cancel_packing_slip", "'cancel_packing_slip'"),
        "cancel_packing_slip", _shipped,
    ),
    "invoice": Check(
        ("services/invoices.py", "post_invoice", "'post_invoice'"),
        "post_invoice", _plain_order,
    ),
    "credit_note": Check(
        ("services/credit_notes.py", "post_credit_note", "'post_credit_note'"),
        "post_credit_note", _invoiced,
    ),
    "bulk_invoice": Check(
        ("services/bulk.py", "bulk_invoice", "'bulk_invoice'"),
        "bulk_invoice", _shipped_not_invoiced,
    ),
    # Bulk invoicing's batch (services.invoice_batch) checks each child's actor; a refused
    # child is left out and its own request refuses it.
    "invoice_batch": Check(
        ("services/invoice_batch.py", "invoice_batch", "via _plan_all"),
        BATCH, _shipped_for_a_batch,
    ),
    "recognize_revenue": Check(
        ("services/revenue.py", "recognize_revenue", "'recognize_revenue'"),
        "recognize_revenue", _deferred_revenue,
    ),
    "upsert_order": Check(
        ("services/orders.py", "upsert_order", "'upsert_order'"),
        "upsert_order", _new_order,
    ),
    "confirm_order": Check(
        ("services/orders.py", "confirm_order", "'confirm_order'"),
        "confirm_order", _plain_order,
    ),
    # upsert_catalog: its parts decide its duties; then the duties it grants or takes away.
    "catalog_master_data": Check(
        ("services/catalog.py", "upsert_catalog", "via _check_catalog_actor"),
        "upsert_catalog", _new_item,
    ),
    "catalog_actors": Check(
        ("services/catalog.py", "upsert_catalog", "via _check_catalog_actor"),
        "upsert_catalog", _every_duty_for("viewer"),
    ),
    "catalog_grant": Check(
        ("services/catalog.py", "upsert_catalog", "via _check_catalog_actor"),
        "upsert_catalog", _new_actor_with(POST),
    ),
    "catalog_revoke": Check(
        ("services/catalog.py", "upsert_catalog", "via _check_catalog_actor"),
        "upsert_catalog", _strip_warehouse,
    ),
    "pos_sale": Check(
        ("services/pos.py", "post_pos_sale", "'post_pos_sale'"),
        "post_pos_sale", _pos_sale,
    ),
    "pos_blank": Check(
        ("services/pos.py", "post_pos_sale", "REGISTER_NON_READABLE"),
        "post_pos_sale", _pos_blank,
    ),
    "packing_slip_blank": Check(
        ("services/packing_slips.py", "_prepare_registrations", "via check_new_registrations"),
        "post_packing_slip", _blank_on_packing_slip,
    ),
    "packing_slip_reused_blank": Check(
        ("services/packing_slips.py", "_prepare_registrations", "via check_new_registrations"),
        "post_packing_slip", _blank_left_by_a_canceled_packing_slip,
    ),
    "direct_invoice_blank": Check(
        ("services/invoices.py", "_plan_direct", "via check_new_registrations"),
        "post_invoice", _blank_on_direct_invoice,
    ),
    "change_serial": Check(
        ("services/serial_changes.py", "change_serial", "'change_serial'"),
        "change_serial", _registered_serial("B"),
    ),
    "change_serial_to_blank": Check(
        ("services/serial_changes.py", "change_serial", "REGISTER_NON_READABLE"),
        "change_serial", _registered_serial(None),
    ),
}  # fmt: skip

# The actors (duty_run): erp holds every duty, viewer none; warehouse-1 posts sales documents
# and registers blanks; pos-1 posts but registers no blanks; supervisor corrects serials and
# registers blanks, corrector only corrects; hr only manages actors; mallory is not loaded.
ACCESS: dict[tuple[str, str], Refused | Allowed] = {
    # The check before every duty: who asks must be a loaded actor.
    ("packing_slip", "mallory"): UNKNOWN,
    ("packing_slip", "viewer"): _missing("post packing slips", POST),
    ("packing_slip", "erp"): ALLOWED,
    ("cancel_packing_slip", "viewer"): _missing("cancel packing slips", POST),
    ("cancel_packing_slip", "erp"): ALLOWED,
    ("invoice", "viewer"): _missing("post invoices", POST),
    ("invoice", "erp"): ALLOWED,
    ("credit_note", "viewer"): _missing("post credit notes", POST),
    ("credit_note", "erp"): ALLOWED,
    ("bulk_invoice", "viewer"): _missing("run bulk invoicing", POST),
    ("bulk_invoice", "erp"): ALLOWED,
    ("invoice_batch", "viewer"): _missing("post invoices", POST),
    ("invoice_batch", "erp"): ALLOWED,
    # warehouse-1 may post sales documents, which was once enough to release revenue.
    ("recognize_revenue", "warehouse-1"): _missing("recognise revenue", REVENUE),
    ("recognize_revenue", "erp"): ALLOWED,
    ("upsert_order", "warehouse-1"): _missing("enter sales orders", ORDERS),
    ("upsert_order", "erp"): ALLOWED,
    ("confirm_order", "warehouse-1"): _missing("confirm sales orders", ORDERS),
    ("confirm_order", "erp"): ALLOWED,
    ("catalog_master_data", "warehouse-1"): _missing("load master data", MASTER_DATA),
    ("catalog_master_data", "erp"): ALLOWED,
    ("catalog_actors", "viewer"): _missing("create actors or change their duties", ACTORS),
    ("catalog_actors", "erp"): ALLOWED,
    ("catalog_grant", "hr"): Refused(
        "actor.grant_not_held", "M5",
        f"actor {{actor}} may not grant the duty {POST} to actor 'newbie': nobody grants a duty "
        "they do not hold themselves",
    ),
    ("catalog_grant", "erp"): ALLOWED,
    ("catalog_revoke", "hr"): Refused(
        "actor.revoke_not_held", "M5",
        f"actor {{actor}} may not take the duty {BLANKS} from actor 'warehouse-1': nobody takes "
        "away a duty they do not hold themselves",
    ),
    ("catalog_revoke", "erp"): ALLOWED,
    ("pos_sale", "viewer"): _missing("post point-of-sale sales", POST),
    ("pos_sale", "pos-1"): ALLOWED,
    ("pos_blank", "pos-1"): BLANK_REFUSED,
    ("pos_blank", "warehouse-1"): ALLOWED,
    ("packing_slip_blank", "pos-1"): BLANK_REFUSED,
    ("packing_slip_blank", "warehouse-1"): ALLOWED,
    ("packing_slip_reused_blank", "pos-1"): BLANK_REFUSED,
    ("packing_slip_reused_blank", "warehouse-1"): ALLOWED,
    ("direct_invoice_blank", "pos-1"): BLANK_REFUSED,
    ("direct_invoice_blank", "warehouse-1"): ALLOWED,
    ("change_serial", "warehouse-1"): _missing("correct serial numbers", CORRECT),
    ("change_serial", "supervisor"): ALLOWED,
    ("change_serial_to_blank", "corrector"): BLANK_REFUSED,
    ("change_serial_to_blank", "supervisor"): ALLOWED,
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


@pytest.mark.parametrize(
    ("check", "actor"), list(ACCESS), ids=[f"{c}:{a}:{o}" for (c, a), o in ACCESS.items()]
)
def test_the_duty_table(duty_run: Runner, check: str, actor: str) -> None:
    kind, outcome = CHECKS[check].kind, ACCESS[check, actor]
    payload = CHECKS[check].setup(duty_run)
    before, master_data = counts(duty_run), _master_data(duty_run)
    run = _in_a_batch if kind == BATCH else _as_a_request

    answer = run(duty_run, kind, payload, actor)

    if isinstance(outcome, Allowed):
        assert answer["status"] == "succeeded" and answer["result"], answer
        return
    assert answer["status"] == "rejected", answer
    error = answer["error"]
    assert (error["code"], error["rule"]) == (outcome.code, outcome.rule), error
    assert error["message"].endswith(outcome.message.format(actor=repr(actor))), error
    assert unchanged_but_outcome(before, counts(duty_run))
    assert _master_data(duty_run) == master_data


def test_every_check_refuses_one_actor_and_allows_another() -> None:
    """The table's negative controls: a check that refused everyone (or no one) would pass
    the cells of one side only."""
    outcomes: dict[str, set[type]] = {name: set() for name in CHECKS}
    for (check, _), outcome in ACCESS.items():
        outcomes[check].add(type(outcome))
    assert outcomes == {name: {Refused, Allowed} for name in CHECKS}


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


def duty_check_sites() -> Counter[tuple[str, str, str]]:
    """Where the pipeline checks a duty: (file, function, kind or duty constant) per
    require_duties_of / has_duty / check_duty_change call; a helper that checks one
    (check_new_registrations) counts at each of its call sites instead, as (file, calling
    function, "via helper")."""
    calls = _calls_in_functions()
    sites, helpers = _direct_sites(calls)
    for helper in helpers:
        for key in [k for k in sites if k[1] == helper]:
            del sites[key]
        sites.update((file, function, f"via {helper}") for file, function, call in calls if _called(call) == helper)  # fmt: skip
    return sites


def _calls_in_functions() -> list[tuple[str, str, ast.Call]]:
    """(file under pipeline/, enclosing function, call) for each call in each function; a call
    in a nested function counts for the outer one too."""
    calls: list[tuple[str, str, ast.Call]] = []
    for path in sorted(PIPELINE.rglob("*.py")):
        file = str(path.relative_to(PIPELINE))
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                calls.extend((file, node.name, c) for c in ast.walk(node) if isinstance(c, ast.Call))  # fmt: skip
    return calls


def _called(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _direct_sites(
    calls: list[tuple[str, str, ast.Call]],
) -> tuple[Counter[tuple[str, str, str]], set[str]]:
    """The duty calls themselves, and the functions holding one that are not services
    (pipeline.runner.execute.SERVICES): helpers, whose callers are the sites."""
    # UnitOfWork's own methods define require_duties_of; they are not sites.
    in_uow = {
        n.name
        for n in ast.walk(ast.parse((PIPELINE / "uow.py").read_text()))
        if isinstance(n, ast.FunctionDef)
    }
    services = {service.__name__ for service in SERVICES.values()}
    sites: Counter[tuple[str, str, str]] = Counter()
    helpers: set[str] = set()
    for file, function, call in calls:
        if _called(call) not in DUTY_CALLS or (file == "uow.py" and function in in_uow):
            continue
        duty = call.args[0]
        sites[(file, function, duty.id if isinstance(duty, ast.Name) else ast.unparse(duty))] += 1
        if function not in services:
            helpers.add(function)
    return sites, helpers


def test_every_duty_check_has_a_case() -> None:
    found = duty_check_sites()
    covered = Counter(check.site for check in CHECKS.values())
    print(
        f"\nfaults: duties check_sites={sum(found.values())} checks={len(CHECKS)} "
        f"cells={len(ACCESS)} (actor x check, each on SQLite and PostgreSQL)"
    )
    for site, n in sorted(found.items()):
        print(f"  {site[0]}:{site[1]} {site[2]} x{n}")
    # Every site has a check, and every check a site (a refactoring may merge or move sites).
    assert set(found) == set(covered), (
        sorted(set(found) - set(covered)),
        sorted(set(covered) - set(found)),
    )
