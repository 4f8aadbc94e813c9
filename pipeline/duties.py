"""Who may do what (DOMAIN.md M5): the duties, what they allow, and the checks on granting them.

Which duties each request kind needs is a column of the one kind table, pipeline.runner.kinds,
which the runner, the services (through UnitOfWork.require_duties_of) and the HTTP service
(before it queues a request) all read. `register_non_readable_serials` is no kind's duty: it
is checked per line, where a not-readable blank is registered (S6).
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from typing import Any

from docpost.pipeline.errors import Rejection

POST_SALES_DOCUMENTS = "post_sales_documents"
MAINTAIN_SALES_ORDERS = "maintain_sales_orders"
MAINTAIN_MASTER_DATA = "maintain_master_data"
MANAGE_ACTORS = "manage_actors"
RECOGNIZE_REVENUE = "recognize_revenue"
REGISTER_NON_READABLE = "register_non_readable_serials"
CORRECT_SERIALS = "correct_serial_numbers"

ALL_DUTIES: tuple[str, ...] = (
    POST_SALES_DOCUMENTS,
    MAINTAIN_SALES_ORDERS,
    MAINTAIN_MASTER_DATA,
    MANAGE_ACTORS,
    RECOGNIZE_REVENUE,
    REGISTER_NON_READABLE,
    CORRECT_SERIALS,
)


@dataclass(frozen=True)
class Need:
    """A duty a request needs, and what it allows in the words of a refusal ("actor 'x' may
    not <what>; that needs the duty <duty>")."""

    duty: str
    what: str


LOAD_MASTER_DATA = Need(MAINTAIN_MASTER_DATA, "load master data")
CHANGE_ACTORS = Need(MANAGE_ACTORS, "create actors or change their duties")
# The catalog part that is not master data; every other part is: items, BOMs, customers, the
# company (M6) and tax codes (M8) among them, and any part added later without an edit here.
ACTORS_PART = "actors"


def catalog_needs(catalog: Any) -> tuple[Need, ...]:
    """An upsert_catalog needs maintain_master_data unless it only loads actors (a company
    given, a non-empty list of tax codes or items, ... is master data), and manage_actors
    when it loads actors."""
    parts = type(catalog).model_fields
    master_data = any(getattr(catalog, p) for p in parts if p != ACTORS_PART)
    actors = bool(getattr(catalog, ACTORS_PART))
    needs: list[Need] = []
    if master_data or not actors:
        needs.append(LOAD_MASTER_DATA)
    if actors:
        needs.append(CHANGE_ACTORS)
    return tuple(needs)


def missing_duty(actor: str, need: Need) -> Rejection:
    return Rejection(
        "actor.missing_duty",
        f"actor {actor!r} may not {need.what}; that needs the duty {need.duty}",
        rule="M5",
        duty=need.duty,
    )


def check_duty_change(
    granter: str, held: Set[str], actor: str, before: Set[str], after: Set[str]
) -> None:
    """M5: nobody grants a duty they do not hold themselves, and nobody takes away a duty
    they could not grant back (so a lesser manager cannot strip the system actor). Duties an
    actor keeps unchanged need nothing: a whole catalog can be loaded again as it is."""
    # Grants are checked before revocations, each in name order: the first refused is reported.
    directions = (
        (after - before, "actor.grant_not_held", "grant the duty {} to", "grants"),
        (before - after, "actor.revoke_not_held", "take the duty {} from", "takes away"),
    )
    for changed, code, doing, nobody in directions:
        for duty in sorted(changed):
            if duty not in held:
                raise Rejection(
                    code,
                    f"actor {granter!r} may not {doing.format(duty)} actor {actor!r}: "
                    f"nobody {nobody} a duty they do not hold themselves",
                    rule="M5",
                    duty=duty,
                    target=actor,
                )
