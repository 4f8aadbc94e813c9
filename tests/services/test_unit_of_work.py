"""The unit of work owns its transaction (pipeline/uow.py), on SQLite and PostgreSQL: work is
kept only on commit(); a Rejection, any other exception or a return before commit rolls it
back. Duties are checked by the kind table the runner hands in, also by a unit of work made
for another request inside its transaction (bulk invoicing's per invoice); one without a table
refuses."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.duties import Need
from docpost.pipeline.errors import Rejection
from docpost.pipeline.runner.kinds import needs_of
from docpost.pipeline.uow import UnitOfWork
from docpost.schema import NumberSeries
from tests.conftest import Runner


def next_invoice_number(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        series = session.get(NumberSeries, "INV")
        assert series is not None
        return series.next_value


def take_a_number(
    sessions: sessionmaker[Session], *, commit: bool, fail: Exception | None = None
) -> None:
    with sessions() as session, UnitOfWork(session, "uow-1", "erp") as uow:
        assert uow.next_number("INV") == "INV-000001"
        if fail is not None:
            raise fail
        if commit:
            uow.commit()


def test_committed_work_is_kept(sessions: sessionmaker[Session]) -> None:
    take_a_number(sessions, commit=True)
    assert next_invoice_number(sessions) == 2


def test_work_not_committed_is_rolled_back(sessions: sessionmaker[Session]) -> None:
    take_a_number(sessions, commit=False)
    assert next_invoice_number(sessions) == 1  # L2: the number is given back
    take_a_number(sessions, commit=True)  # and taken again: nothing was left half done
    assert next_invoice_number(sessions) == 2


@pytest.mark.parametrize(
    "fail", [Rejection("order.unknown", "order 'SO-1' does not exist"), ValueError("a bug")]
)
def test_a_rejection_or_any_exception_rolls_back_and_goes_on(
    sessions: sessionmaker[Session], fail: Exception
) -> None:
    with pytest.raises(type(fail)):
        take_a_number(sessions, commit=True, fail=fail)
    assert next_invoice_number(sessions) == 1


def refusing(kind: str, command: Any) -> tuple[Need, ...]:
    return (Need("no_such_duty", f"send {kind} requests"),)


def test_duties_come_from_the_table_handed_in(usmf: Runner) -> None:
    """M5, through the table the runner hands in: the real one allows erp, one that needs a
    duty nobody holds refuses it (a negative control: the check reads the table given)."""
    with usmf.sessions() as session, UnitOfWork(session, "u-1", "erp", needs_of=needs_of) as uow:
        uow.require_duties_of("post_invoice")
    with (
        usmf.sessions() as session,
        UnitOfWork(session, "u-2", "erp", needs_of=refusing) as uow,
        pytest.raises(Rejection) as refused,
    ):
        uow.require_duties_of("post_invoice")
    assert (refused.value.code, refused.value.rule) == ("actor.missing_duty", "M5")
    assert refused.value.message == (
        "actor 'erp' may not send post_invoice requests; that needs the duty no_such_duty"
    )


def test_a_unit_of_work_for_another_request_checks_by_the_same_table(usmf: Runner) -> None:
    """Bulk invoicing's per-invoice unit of work (for_request) checks M5 for its own actor by
    the table its parent was handed, inside the parent's transaction."""
    with usmf.sessions() as session, UnitOfWork(session, "batch", "", needs_of=refusing) as uow:
        child = uow.for_request("child-1", "erp")
        assert (child.session, child.posting_date) == (uow.session, uow.posting_date)
        with pytest.raises(Rejection, match="no_such_duty"):
            child.require_duties_of("post_invoice")
    with usmf.sessions() as session, UnitOfWork(session, "batch", "", needs_of=needs_of) as uow:
        uow.for_request("child-2", "erp").require_duties_of("post_invoice")
    with usmf.sessions() as session, UnitOfWork(session, "batch", "", needs_of=needs_of) as uow:
        stranger = uow.for_request("child-3", "nobody")
        with pytest.raises(Rejection) as unknown:
            stranger.require_duties_of("post_invoice")
        assert unknown.value.code == "actor.unknown"


def test_a_unit_of_work_without_a_kind_table_refuses_to_guess(usmf: Runner) -> None:
    with (
        usmf.sessions() as session,
        UnitOfWork(session, "u-3", "erp") as uow,
        pytest.raises(RuntimeError, match="kind table"),
    ):
        uow.require_duties_of("post_invoice")
