"""Revenue recognition (DOMAIN.md B11, beyond): deferral at invoicing, credit notes, release."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from docpost.pipeline import clock, queries
from docpost.pipeline.config import ConfigurationError, Settings, get_settings
from docpost.pipeline.rules.revenue import monthly_periods, schedule_amounts
from docpost.schema import RevenueScheduleLine
from tests.conftest import Runner, norway_catalog
from tests.services.helpers import counts, order, ship

D = Decimal
TODAY = dt.date.today()


def balances(run: Runner) -> dict[str, Decimal]:
    with run.sessions() as session:
        trial = queries.ledger(session)["trial_balance"]
    assert trial["total"] == "0.00"  # L1: the trial balance stays zero throughout
    return {a["account"]: D(a["balance"]) for a in trial["accounts"]}


def month(offset: int) -> dt.date:
    return monthly_periods(TODAY, offset + 1)[-1]


def invoiced_bundles(run: Runner, quantity: str) -> str:
    order(run, "SO-1", ("LaptopBundle", quantity, "2300.00"), confirm=True)
    n = int(quantity)
    ship(
        run,
        "SO-1",
        {"line": 1, "item": "1000", "quantity": quantity, "serials": [f"S{i}" for i in range(n)]},
        {"line": 1, "item": "Support", "quantity": quantity},
        {"line": 1, "item": "S0021", "quantity": quantity},
    )
    return run.ok("post_invoice", {"order": "SO-1"})["journal"]


class Calendar:
    """The company's "today" as the tests set it (pipeline.clock.company_today, the one
    clock): a release is run on the day it is due, never ahead of it (B11)."""

    def __init__(self) -> None:
        self.today = TODAY

    @contextlib.contextmanager
    def on(self, day: dt.date) -> Iterator[None]:
        before, self.today = self.today, day
        try:
            yield
        finally:
            self.today = before


@pytest.fixture
def calendar(monkeypatch: pytest.MonkeyPatch) -> Calendar:
    calendar = Calendar()
    monkeypatch.setattr(clock, "company_today", lambda: calendar.today)
    return calendar


def recognize(run: Runner, as_of: dt.date, calendar: Calendar) -> dict[str, Any]:
    """Release on the day `as_of` itself."""
    with calendar.on(as_of):
        return run.ok("recognize_revenue", {"as_of": as_of.isoformat()}, request_id=f"rr-{as_of}")


def test_b11_schedule_amounts_last_absorbs_rounding() -> None:
    assert schedule_amounts(D("450.98"), 12) == [D("37.58")] * 11 + [D("37.60")]
    assert schedule_amounts(D("0.18"), 12) == [D("0.01")] * 11 + [D("0.07")]
    assert monthly_periods(dt.date(2026, 11, 21), 3) == [
        dt.date(2026, 11, 1),
        dt.date(2026, 12, 1),
        dt.date(2027, 1, 1),
    ]


def test_b11_usmf_support_line_is_deferred_over_12_months(usmf: Runner) -> None:
    invoice = invoiced_bundles(usmf, "1")
    with usmf.sessions() as session:
        schedule = queries.show_schedule(session, invoice)
    assert [line["amount"] for line in schedule["lines"]] == ["37.58"] * 11 + ["37.60"]
    assert {line["item"] for line in schedule["lines"]} == {"Support"}
    assert schedule["lines"][0]["period"] == TODAY.replace(day=1).isoformat()
    assert balances(usmf)["2900"] == D("-450.98")
    assert balances(usmf)["3000"] == D("-1849.02")  # 1,713.73 + 135.29 recognised at once


def test_b11_releasing_every_month_empties_deferred_revenue_once(
    usmf: Runner, calendar: Calendar
) -> None:
    invoice = invoiced_bundles(usmf, "1")
    for offset in range(12):
        result = recognize(usmf, month(offset), calendar)
        assert result["released"] == 1
        assert D(result["amount"]) == (D("37.60") if offset == 11 else D("37.58"))
        assert result["voucher"].startswith("VOU-")
    totals = balances(usmf)
    assert totals["2900"] == 0
    assert -totals["3000"] == D("2300.00")
    with usmf.sessions() as session:
        assert queries.show_schedule(session, invoice)["remaining"] == "0.00"


def test_b11_releasing_twice_for_a_date_posts_once(usmf: Runner, calendar: Calendar) -> None:
    invoiced_bundles(usmf, "1")
    first = recognize(usmf, month(3), calendar)
    assert first["released"] == 4
    with calendar.on(month(3)):
        again = usmf.ok(
            "recognize_revenue", {"as_of": month(3).isoformat()}, request_id="another-id"
        )
    assert (again["released"], again["voucher"]) == (0, None)
    assert balances(usmf)["2900"] == D("-450.98") + 4 * D("37.58")


def test_b11_credit_note_in_month_4_reverses_released_and_deferred(
    usmf: Runner, calendar: Calendar
) -> None:
    invoice = invoiced_bundles(usmf, "2")  # Support 901.96: 11 x 75.16 + 75.20
    recognize(usmf, month(3), calendar)
    credit_note = usmf.ok(
        "post_credit_note",
        {
            "invoice": invoice,
            "lines": [
                {"line": 1, "item": c, "quantity": "1"} for c in ("1000", "Support", "S0021")
            ],
        },
    )["journal"]
    with usmf.sessions() as session:
        credited = D(queries.show_journal(session, credit_note)["total_amount"])
        credit = [ln for ln in queries.ledger(session)["entries"] if ln["journal"] == credit_note]
    # Half of Support is credited: 450.98, of which 4 of 12 periods were already recognised.
    support = {(e["account"], e["debit"]) for e in credit if "Support" in e["text"]}
    recognised_share = 4 * D("37.58")
    assert support == {
        ("3000", str(recognised_share)),
        ("2900", str(D("450.98") - recognised_share)),
    }
    for offset in range(4, 12):
        recognize(usmf, month(offset), calendar)
    totals = balances(usmf)
    assert totals["2900"] == 0
    assert -totals["3000"] == D("4600.00") - credited


# --- never ahead of time: as_of after the company's today -------------------------------------


def deferred(run: Runner) -> list[tuple[int, bool]]:
    with run.sessions() as session:
        return [
            (line.occurrence, line.released_voucher is not None)
            for line in session.query(RevenueScheduleLine).order_by(RevenueScheduleLine.id)
        ]


@pytest.mark.parametrize("as_of", ["2099-12-31", "5388-09-03"])
def test_b11_a_release_dated_after_today_is_rejected(usmf: Runner, as_of: str) -> None:
    """Issue 13: 2099-12-31 (and 5388-09-03, found by schemathesis) released every deferred
    line, dated in the future. The real clock: nothing is patched here."""
    invoiced_bundles(usmf, "1")
    before, schedule = counts(usmf), deferred(usmf)
    today = clock.company_today()
    error = usmf.rejected("recognize_revenue", {"as_of": as_of})
    assert (error["code"], error["rule"]) == ("revenue.as_of_in_future", "B11")
    assert error["message"] == (
        f"cannot release deferred revenue as of {as_of}: that is after today, "
        f"{today.isoformat()} in the company's time zone; give today's date or an earlier one"
    )
    assert error["details"] == {"as_of": as_of, "today": today.isoformat()}
    assert counts(usmf) == {**before, "requests": before["requests"] + 1}
    assert deferred(usmf) == schedule and not any(released for _, released in schedule)
    assert balances(usmf)["2900"] == D("-450.98")  # still all deferred


def test_b11_a_release_dated_today_is_accepted(usmf: Runner) -> None:
    """The negative control: today (the real clock) releases the month that has begun."""
    invoiced_bundles(usmf, "1")
    result = usmf.ok("recognize_revenue", {"as_of": clock.company_today().isoformat()})
    assert (result["released"], result["amount"]) == (1, "37.58")
    tomorrow = clock.company_today() + dt.timedelta(days=1)
    error = usmf.rejected("recognize_revenue", {"as_of": tomorrow.isoformat()})
    assert error["code"] == "revenue.as_of_in_future"


def test_b11_today_is_the_company_s_today(usmf: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    """At 12:00 UTC on 30 November it is already 1 December fourteen hours east: that date
    may be released (a check in UTC would refuse it), 2 December may not."""
    monkeypatch.setattr(get_settings(), "company_time_zone", "Etc/GMT-14")
    monkeypatch.setattr(clock, "now", lambda: dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC))
    assert clock.company_today() == dt.date(2026, 12, 1)
    usmf.ok("recognize_revenue", {"as_of": "2026-12-01"})
    error = usmf.rejected("recognize_revenue", {"as_of": "2026-12-02"})
    assert error["details"] == {"as_of": "2026-12-02", "today": "2026-12-01"}


def _beat_release(monkeypatch: pytest.MonkeyPatch, sessions: Any) -> tuple[dt.date, dt.datetime]:
    """Run beat's revenue release with the 02:30 UTC slot; its request's as_of and the slot."""
    import docpost.tasks.execute
    from docpost.tasks.schedule import latest_slot, parse_cron

    monkeypatch.setattr(get_settings(), "revenue_recognition_cron", "30 2 * * *")
    published: list[dict[str, Any]] = []
    monkeypatch.setattr(docpost.tasks.execute, "publish_request", published.append)
    monkeypatch.setattr(docpost.tasks.execute, "record_queued", lambda request, sessions: None)
    monkeypatch.setattr(docpost.tasks.execute, "worker_sessions", lambda: sessions)
    docpost.tasks.execute.scheduled_revenue_recognition()
    slot = latest_slot(parse_cron("30 2 * * *"), dt.datetime.now(dt.UTC))
    [request] = published
    as_of = dt.date.fromisoformat(request["payload"]["as_of"])
    assert request["request_id"] == f"recognize-revenue:{as_of.isoformat()}"
    return as_of, slot


def test_b11_beat_releases_as_of_the_slot_s_date_in_the_company_s_zone(
    monkeypatch: pytest.MonkeyPatch, sessions: Any
) -> None:
    """The 02:30 UTC slot is the evening before in Los Angeles: beat asks for that date, which
    is never after the company's today (it asked for the UTC date before). No company is
    loaded, so DOCPOST_COMPANY_TIME_ZONE decides."""
    monkeypatch.setattr(get_settings(), "company_time_zone", "America/Los_Angeles")
    as_of, slot = _beat_release(monkeypatch, sessions)
    assert as_of == slot.date() - dt.timedelta(days=1)
    assert as_of <= clock.company_today()


def test_b11_p1_beat_dates_the_slot_in_the_catalog_company_s_zone(
    monkeypatch: pytest.MonkeyPatch, sessions: Any, run: Runner
) -> None:
    """With a company in the catalog (Europe/Oslo), its zone wins over the setting: 02:30 UTC
    is 03:30 the same day in Oslo, while the setting (Los Angeles) would say the day before."""
    run.ok("upsert_catalog", norway_catalog())
    monkeypatch.setattr(get_settings(), "company_time_zone", "America/Los_Angeles")
    as_of, slot = _beat_release(monkeypatch, sessions)
    assert as_of == slot.date()


def test_the_company_time_zone_must_be_an_iana_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCPOST_COMPANY_TIME_ZONE", "Mars/Olympus_Mons")
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigurationError) as refused:
            get_settings()
    finally:
        monkeypatch.delenv("DOCPOST_COMPANY_TIME_ZONE")
        get_settings.cache_clear()
    assert str(refused.value) == (
        "DOCPOST_COMPANY_TIME_ZONE: 'Mars/Olympus_Mons' is not an IANA time zone "
        "(e.g. UTC, Europe/Oslo, America/New_York)"
    )
    assert Settings(company_time_zone="Europe/Oslo").company_time_zone == "Europe/Oslo"
