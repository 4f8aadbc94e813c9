"""The unit of work a posting service runs in: one session, one transaction, one request.

It owns the transaction, as cosmicpython's does: the runner opens it with `with`, and the work
is kept only when `commit()` is called; leaving the block without (a Rejection, any other
exception, a return before commit) rolls everything back:

    with sessions() as session, UnitOfWork(session, request_id, actor, needs_of=...) as uow:
        result = service(uow, command)
        uow.commit()

Services receive it and never commit: a request's writes stand or fall together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.orm import Session, joinedload

from docpost.pipeline import clock
from docpost.pipeline.duties import (  # noqa: F401  (re-exported: services import the duties here)
    CORRECT_SERIALS,
    POST_SALES_DOCUMENTS,
    REGISTER_NON_READABLE,
    Need,
    missing_duty,
)
from docpost.pipeline.errors import Rejection
from docpost.pipeline.journal_rows import insert_rows
from docpost.pipeline.rules.einvoice_recipients import gets_einvoice
from docpost.schema import (
    Actor,
    ActorDuty,
    Company,
    Document,
    Journal,
    NumberSeries,
    OutboxMessage,
    SalesOrder,
)
from docpost.schema.company import COMPANY_ROW
from docpost.schema.documents import document_filename

SERIES = ("CONF", "PS", "INV", "CN", "VOU", "POS")

_series = NumberSeries.__table__
_TAKE_NUMBERS = (
    update(_series)
    .where(_series.c.code == bindparam("series"))
    .values(next_value=_series.c.next_value + bindparam("count"))
    .returning(_series.c.next_value)
)


def stored_company_zone(session: Session) -> dt.tzinfo | None:
    """The catalog's company's time zone (M6, P1), or None when no company is loaded (the
    caller falls back to DOCPOST_COMPANY_TIME_ZONE through pipeline.clock)."""
    # The whole row by its key: a posting that reads the company again (services.posting
    # tax_setup) then finds it in the session instead of asking the database twice.
    company = session.get(Company, COMPANY_ROW)
    return None if company is None else clock.zone_named(company.time_zone)


_actors, _actor_duties = Actor.__table__, ActorDuty.__table__
# An actor's duties, one row per duty; one row with NULL for an actor without duties, none for
# an unknown actor. Built once.
_ACTOR_DUTIES = (
    select(_actor_duties.c.duty)
    .select_from(_actors.outerjoin(_actor_duties, _actor_duties.c.actor == _actors.c.actor))
    .where(_actors.c.actor == bindparam("actor"))
)
# session.info key: (the transaction, actor name -> its duties), read once per transaction
# (UnitOfWork.duty_names).
_DUTIES_READ = "docpost.uow.duties"


def unknown_actor(name: str) -> Rejection:
    return Rejection(
        "actor.unknown",
        f"unknown actor {name!r}; load it with its duties in the catalog",
        rule="M5",
    )


# The duties a request kind needs, given its parsed command: pipeline.runner.kinds.needs_of.
NeedsOf = Callable[[str, Any], tuple[Need, ...]]


@dataclass
class UnitOfWork:
    """What every service needs: the session of the request's transaction, who asks, and
    today's posting date. Opened with `with` (see the module), it commits on `commit()` only.
    One made by `for_request` (bulk invoicing's, one per invoice) shares the transaction of
    the one that opened it, which commits it."""

    session: Session
    request_id: str
    actor_name: str
    # The posting date once fixed: by the caller (for_request passes its parent's), else by
    # `posting_date` at first use, as today in the company's time zone (P1).
    fixed_posting_date: dt.date | None = None
    # Follow-up messages this unit of work wrote: published right after its commit.
    outbox: list[OutboxMessage] = field(default_factory=list)
    # The kind table's duties, handed in by the runner: this module sits below the table's
    # (pipeline.runner.kinds) and cannot import it.
    needs_of: NeedsOf | None = None
    _actor: Actor | None = None
    _new_journals: list[Journal] = field(default_factory=list)
    # The company's zone, read once on this session (None read: no company loaded), and its
    # row, held: the session's identity map keeps rows only while someone holds them.
    _zone: dt.tzinfo | None = None
    _zone_read: bool = False
    _company: Company | None = None

    # --- the transaction ------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.session.begin()
        return self

    def for_request(self, request_id: str, actor_name: str) -> UnitOfWork:
        """A unit of work for another request inside this one's transaction (bulk invoicing
        plans many invoices in one): its own actor and duty checks, this one's session,
        posting date and kind table; not opened, so only this one commits."""
        return UnitOfWork(
            self.session, request_id, actor_name, self.posting_date, needs_of=self.needs_of
        )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # After commit() there is nothing left to roll back; before it, nothing is kept.
        self.rollback()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    # --- today, in the company's time zone (M6, P1) ----------------------------------------------

    @property
    def company_zone(self) -> dt.tzinfo | None:
        """The catalog's company's time zone (M6), read once, lazily, on this unit of work's
        session (inside its transaction: reading it when the unit is made would begin one
        before `with` does); None when no company is loaded."""
        self._read_company()
        return self._zone

    @property
    def company(self) -> Company | None:
        """The catalog's company row (M6), read once on this unit of work's session and held,
        so later `session.get(Company, COMPANY_ROW)` of the request (posting's tax_setup, the
        parties a journal freezes, D6) find it without a statement; None: no company loaded."""
        self._read_company()
        return self._company

    def _read_company(self) -> None:
        if not self._zone_read:
            company = self._company = self.session.get(Company, COMPANY_ROW)
            self._zone = None if company is None else clock.zone_named(company.time_zone)
            self._zone_read = True

    def today(self) -> dt.date:
        """P1: today in the company's time zone; without a company, in DOCPOST_COMPANY_TIME_ZONE.
        The latter is `clock.company_today()` as every caller without a session asks it, so a
        test that moves the settings' today (patching that function) moves this one too."""
        zone = self.company_zone
        return clock.company_today() if zone is None else clock.company_today(zone)

    @property
    def posting_date(self) -> dt.date:
        """The date this request posts on (P1): the given one, else today (M6's zone), fixed
        at first use so every journal of the request carries the same date."""
        if self.fixed_posting_date is None:
            self.fixed_posting_date = self.today()
        return self.fixed_posting_date

    # --- who asks (M5) -----------------------------------------------------------------------

    @property
    def actor(self) -> Actor:
        if self._actor is None:
            actor = self.session.get(
                Actor, self.actor_name, options=[joinedload(Actor.duties)]
            )  # one query with the duties, on every request
            if actor is None:
                raise unknown_actor(self.actor_name)
            self._actor = actor
        return self._actor

    @property
    def duty_names(self) -> frozenset[str]:
        """The actor's duties (M5), read once per transaction by one Core statement: the ORM's
        load of the actor with its duties was ~5 % of a posting's CPU (issue 19). Kept in the
        session's info by actor name for the transaction, as the ORM's identity map kept the
        actor: bulk invoicing's children, one transaction, read each actor once."""
        # Per transaction: a catalog committed in between (a test's session, a catalog load
        # then a posting) may have changed them.
        transaction = self.session.get_transaction()
        read = self.session.info.get(_DUTIES_READ)
        known: dict[str, frozenset[str]] = {}
        if read is not None and transaction is not None and read[0] is transaction:
            known = read[1]
        duties = known.get(self.actor_name)
        if duties is None:
            rows = self.session.connection().execute(_ACTOR_DUTIES, {"actor": self.actor_name})
            names = [duty for (duty,) in rows]
            if not names:
                raise unknown_actor(self.actor_name)
            duties = known[self.actor_name] = frozenset(n for n in names if n is not None)
            # the transaction the statement ran in (begun by it, if none was)
            self.session.info[_DUTIES_READ] = (self.session.get_transaction(), known)
        return duties

    def has_duty(self, duty: str) -> bool:
        return duty in self.duty_names

    def require_duties_of(self, kind: str, command: Any = None) -> None:
        """The duties of a request of `kind` (the kind table, pipeline.runner.kinds, which
        the HTTP service checks too)."""
        if self.needs_of is None:
            raise RuntimeError(
                "this unit of work knows no kind table: open it as pipeline.runner does"
            )
        for need in self.needs_of(kind, command):
            if not self.has_duty(need.duty):
                raise missing_duty(self.actor_name, need)

    # --- locks and numbers (L2, L3) ------------------------------------------------------------

    def lock_order(self, order_no: str) -> SalesOrder:
        """The order row, locked until commit so postings on one order run one at a time."""
        order = self.session.scalars(
            select(SalesOrder)
            .where(SalesOrder.order_no == order_no)
            .with_for_update(of=SalesOrder)
            .execution_options(populate_existing=True)
        ).one_or_none()
        if order is None:
            raise Rejection("order.unknown", f"order {order_no!r} does not exist")
        # populate_existing also re-runs the lines' selectin load, so lines read before the
        # lock (by an earlier query of this session) are read again under it. The lines must
        # be read by a statement of their own, after the lock: joined to the order's (tried
        # for issue 19, a round trip less), PostgreSQL re-reads only the locked order row once
        # the lock is granted and returns the lines as they were when the statement began,
        # before the posting that held the lock committed (two packing slips then over-ship,
        # tests/services/test_concurrency.py).
        return order

    def next_number(self, series: str) -> str:
        """Take the next number of a gapless series (L2): the UPDATE locks the series row
        until this transaction ends, so a rollback gives the number back."""
        return self.next_numbers(series, 1)[0]

    def next_numbers(self, series: str, count: int) -> list[str]:
        """Take the next `count` numbers of a gapless series at once (L2)."""
        if count == 0:
            return []
        # Core on the table, built once: the ORM's UPDATE would look for rows to refresh in
        # the session, and there are none (no one holds a series row).
        value = (
            self.session.connection()
            .execute(_TAKE_NUMBERS, {"series": series, "count": count})
            .scalar_one_or_none()
        )
        if value is None:
            raise RuntimeError(f"number series {series} is missing: run `docpost init`")
        return [f"{series}-{n:06d}" for n in range(value - count, value)]

    # --- follow-up work (outbox) ---------------------------------------------------------------

    def add_outbox(self, task: str, payload: dict[str, Any]) -> None:
        message = OutboxMessage(task=task, payload=payload)
        self.session.add(message)
        self.outbox.append(message)

    def insert_outbox(self, messages: list[OutboxMessage]) -> None:
        """Write follow-up messages at once (one statement, journal_rows), outside the
        session: published after commit as those of `add_outbox` are."""
        insert_rows(self.session, messages)
        self.outbox.extend(messages)

    # --- journals and their documents ----------------------------------------------------------

    def add_journal(self, journal: Journal) -> None:
        self.session.add(journal)
        self._new_journals.append(journal)

    def insert_journal(self, journal: Journal, series: str) -> None:
        """Number a drafted journal (services.journal.draft_journal) and write it with its
        lines, one statement each (journal_rows). The number is taken here, when everything
        the posting decides is decided: the series row it locks (L2) is held only for the
        posting's last inserts and its commit. (Not later still: the journal's row needs its
        number, and every other row of the posting refers to the journal or its lines.) A
        journal numbered already (an invoice's KID is made of its number, P2) keeps it."""
        if journal.number is None:
            journal.number = self.next_number(series)
        insert_rows(self.session, [journal])
        for line in journal.lines:
            line.journal_id = journal.id
        insert_rows(self.session, journal.lines)
        self._new_journals.append(journal)

    def add_document(self, journal: Journal, kind: str | None = None) -> str:
        """A pending document row for the journal's next PDF revision, and its render task.
        `kind`: another PDF of the journal than its own (PICKING_LIST, D2), with revisions of
        its own."""
        kind = kind or journal.kind
        self._flush_for_id(journal)
        revision = 1
        if not any(new is journal for new in self._new_journals):  # else it has none yet
            revision += (
                self.session.scalar(
                    select(text("max(revision)"))
                    .select_from(Document)
                    .where(
                        Document.journal_id == journal.id,
                        Document.kind == kind,
                        Document.format == "pdf",
                    )
                )
                or 0
            )
        document = self.document_row(journal, revision, kind=kind)
        self.insert_documents([document])
        return document.filename

    def add_documents(self, journal: Journal, origin: str) -> list[str]:
        """An invoice's or credit note's documents, pending, with their render tasks: its PDF
        and, when it gets one (E1), its e-invoice; their filenames, as the outcome lists them.
        `origin` is its order's ("pos": a receipt, no e-invoice)."""
        self._flush_for_id(journal)
        documents = self.document_rows(journal, origin)
        self.insert_documents(documents)
        return [document.filename for document in documents]

    def _flush_for_id(self, journal: Journal) -> None:
        """A journal the ORM writes (new_journal) has its id once flushed."""
        if journal.id is None:
            self.session.flush()

    def insert_documents(self, documents: list[Document]) -> None:
        """Write document rows (outside the session) and their render tasks: one statement
        each (journal_rows)."""
        insert_rows(self.session, documents)
        self.insert_outbox(
            [
                OutboxMessage(task="render_document", payload={"document_id": document.id})
                for document in documents
            ]
        )

    def document_rows(self, journal: Journal, origin: str) -> list[Document]:
        """The first revision's rows of a new invoice or credit note: the PDF, and the
        e-invoice when E1 gives it one (rules.einvoice_recipients)."""
        documents = [self.document_row(journal)]
        if gets_einvoice(
            journal.kind,
            origin,
            journal.seller,
            journal.buyer,
            with_vat=journal.vat_total is not None,
        ):
            documents.append(self.document_row(journal, format="ubl"))
        return documents

    def document_row(
        self, journal: Journal, revision: int = 1, format: str = "pdf", kind: str | None = None
    ) -> Document:
        """The row of a revision of the journal's PDF (or, format "ubl", its e-invoice; or,
        `kind` PICKING_LIST, a confirmation's picking list, D2), to be rendered; not in the
        session."""
        kind = kind or journal.kind
        return Document(
            journal_id=journal.id,
            kind=kind,
            format=format,
            revision=revision,
            filename=document_filename(journal.number, revision, format, kind),
        )
