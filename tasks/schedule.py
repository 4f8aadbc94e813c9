"""Beat's schedule: bulk invoicing and the release of deferred revenue at configurable crons,
the outbox sweep every ~30 s, the recovery sweep (tasks.recovery) every minute at most.

A scheduled bulk invoicing run is an ordinary `bulk_invoice` request whose id names its
schedule slot (`bulk-invoice-run:2026-11-21T02:00Z`), so a slot triggered twice (two beats,
a redelivered message) invoices once. Slots are in UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from celery.schedules import ParseException, crontab

from docpost.tasks.routing import (
    RELAY_OUTBOX,
    SCHEDULED_BULK_INVOICE,
    SCHEDULED_REVENUE_RECOGNITION,
)

# Beat's sweep for what the broker lost (tasks.recovery); named here, where beat needs it.
RECOVER_LOST = "docpost.recover_lost"

CRON_FIELDS = "minute hour day month weekday"
# Every slot of a valid cron recurs within 28 years (Feb 29 on a given weekday).
_SEARCH_DAYS = 366 * 29


def parse_cron(expression: str) -> crontab:
    """A crontab from five fields "minute hour day month weekday" (weekday 0 or sun = Sunday).
    Like Celery's crontab, a day must match both the day-of-month and weekday fields."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(
            f"cron schedule {expression!r} needs five fields ({CRON_FIELDS}), got {len(fields)}"
        )
    minute, hour, day_of_month, month_of_year, day_of_week = fields
    try:
        return crontab(
            minute=minute,
            hour=hour,
            day_of_month=day_of_month,
            month_of_year=month_of_year,
            day_of_week=day_of_week,
        )
    except (ValueError, ParseException) as exc:
        raise ValueError(f"cron schedule {expression!r} is invalid: {exc}") from None


def latest_slot(schedule: crontab, now: dt.datetime) -> dt.datetime:
    """The latest time at or before `now` (UTC, to the minute) that the schedule fires at."""
    now = now.astimezone(dt.UTC).replace(second=0, microsecond=0)
    times = sorted(((h, m) for h in schedule.hour for m in schedule.minute), reverse=True)
    day = now.date()
    for _ in range(_SEARCH_DAYS):
        if (
            day.month in schedule.month_of_year
            and day.day in schedule.day_of_month
            and day.isoweekday() % 7 in schedule.day_of_week
        ):
            for hour, minute in times:
                slot = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.UTC)
                if slot <= now:
                    return slot
        day -= dt.timedelta(days=1)
    raise ValueError(f"the schedule {schedule!r} never fired in the last {_SEARCH_DAYS} days")


def slot_request_id(slot: dt.datetime) -> str:
    return f"bulk-invoice-run:{slot.astimezone(dt.UTC):%Y-%m-%dT%H:%MZ}"


def bulk_invoice_request(
    request_id: str, actor: str, customer: str | None = None
) -> dict[str, Any]:
    payload: dict[str, Any] = {} if customer is None else {"customer": customer}
    return {"request_id": request_id, "kind": "bulk_invoice", "actor": actor, "payload": payload}


def revenue_recognition_request(as_of: dt.date, actor: str) -> dict[str, Any]:
    """The same request as `docpost recognize --as-of`: one id per date, so a date released
    by hand and by beat is released once."""
    return {
        "request_id": f"recognize-revenue:{as_of.isoformat()}",
        "kind": "recognize_revenue",
        "actor": actor,
        "payload": {"as_of": as_of.isoformat()},
    }


def beat_schedule(
    bulk_invoice_cron: str,
    sweep_seconds: float,
    revenue_recognition_cron: str = "30 2 * * *",
    *,
    recovery_seconds: float = 60.0,
) -> dict[str, dict[str, Any]]:
    return {
        "bulk-invoice": {
            "task": SCHEDULED_BULK_INVOICE,
            "schedule": parse_cron(bulk_invoice_cron),
        },
        "revenue-recognition": {
            "task": SCHEDULED_REVENUE_RECOGNITION,
            "schedule": parse_cron(revenue_recognition_cron),
        },
        "outbox-sweep": {
            "task": RELAY_OUTBOX,
            "schedule": sweep_seconds,
            # A sweep nobody ran in time is superseded by the next one: don't pile them up
            # while the workers are down.
            "options": {"expires": sweep_seconds},
        },
        "recovery-sweep": {
            "task": RECOVER_LOST,
            "schedule": recovery_seconds,
            "options": {"expires": recovery_seconds},
        },
    }
