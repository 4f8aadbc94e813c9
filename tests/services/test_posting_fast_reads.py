"""The reads every posting makes (issue 19): the actor's duties by one Core statement, kept per
transaction; the locked order's lines read again under its lock."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.errors import Rejection
from docpost.pipeline.runner.kinds import needs_of
from docpost.pipeline.uow import UnitOfWork
from docpost.schema import ActorDuty, SalesLine
from tests.conftest import Runner


def test_duties_are_read_again_in_the_next_transaction_of_the_same_session(
    usmf: Runner,
) -> None:
    """A duty taken away between two transactions of one session is missing in the second;
    within the first, the duties read once stand."""
    with usmf.sessions() as session:
        with UnitOfWork(session, "u-1", "warehouse-1", needs_of=needs_of) as uow:
            assert uow.has_duty("post_sales_documents")
            assert uow.has_duty("register_non_readable_serials")
            assert not uow.has_duty("correct_serial_numbers")
        with usmf.sessions() as other, other.begin():
            other.query(ActorDuty).filter_by(
                actor="warehouse-1", duty="register_non_readable_serials"
            ).delete()
        with UnitOfWork(session, "u-2", "warehouse-1", needs_of=needs_of) as uow:
            assert uow.has_duty("post_sales_documents")
            assert not uow.has_duty("register_non_readable_serials")


def test_an_actor_without_duties_is_known_and_an_unknown_one_is_refused(
    usmf: Runner,
) -> None:
    with usmf.sessions() as session, session.begin():
        session.query(ActorDuty).filter_by(actor="pos-1").delete()
    with usmf.sessions() as session, UnitOfWork(session, "u-3", "pos-1", needs_of=needs_of) as uow:
        assert uow.duty_names == frozenset()
        with pytest.raises(Rejection) as missing:
            uow.require_duties_of("post_packing_slip")
        assert missing.value.code == "actor.missing_duty"
    with usmf.sessions() as session, UnitOfWork(session, "u-4", "nobody", needs_of=needs_of) as uow:
        with pytest.raises(Rejection) as unknown:
            uow.require_duties_of("post_packing_slip")
        assert (unknown.value.code, unknown.value.rule) == ("actor.unknown", "M5")


def order_with_lines(run: Runner, number: str) -> None:
    run.ok(
        "upsert_order",
        {
            "order": number,
            "customer": "US-004",
            "lines": [
                {"line": 1, "item": "S0021", "quantity": "2", "unit_price": "10"},
                {"line": 2, "item": "S0021", "quantity": "3", "unit_price": "10"},
            ],
        },
    )


def test_the_locked_order_comes_with_its_lines_read_under_the_lock(
    usmf: Runner, sessions: sessionmaker[Session]
) -> None:
    """Lines the session read before the lock are read again under it (another transaction
    changed one meanwhile), in line order, with their items."""
    order_with_lines(usmf, "FAST-1")
    with sessions() as session:
        before = session.query(SalesLine).order_by(SalesLine.line_no).all()
        assert [line.delivered_qty for line in before] == [0, 0]
        session.commit()  # the lines stay in the session (expire_on_commit=False)
        with sessions() as other, other.begin():
            other.execute(
                update(SalesLine)
                .where(SalesLine.id == before[1].id)
                .values(delivered_qty=Decimal(1))
            )
        with UnitOfWork(session, "u-5", "erp", needs_of=needs_of) as uow:
            order = uow.lock_order("FAST-1")
            assert [line.line_no for line in order.lines] == [1, 2]
            assert [line.delivered_qty for line in order.lines] == [0, 1]
            assert order.lines[1] is before[1]  # the same object, read again
            assert all(line.item.item == "S0021" for line in order.lines)
            assert order.customer.customer == "US-004"
    with (
        sessions() as session,
        UnitOfWork(session, "u-6", "erp", needs_of=needs_of) as uow,
        pytest.raises(Rejection, match="does not exist"),
    ):
        uow.lock_order("NO-SUCH-ORDER")
