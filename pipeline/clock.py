"""Today, in the company's time zone: the one clock that decides which dates are in the future.

Callers use `clock.company_today()` (the module attribute), so a test can move "today" by
monkeypatching this one function (or `now`, to stand at a given instant). Issue 15 takes the
zone from the catalog's company instead of the setting; only `company_zone` changes then.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from docpost.pipeline.config import get_settings


def company_zone() -> dt.tzinfo:
    """The company's time zone (DOCPOST_COMPANY_TIME_ZONE, validated at start-up). UTC needs
    no time zone database: a slim image without one still starts with the default."""
    name = get_settings().company_time_zone
    return dt.UTC if name == "UTC" else ZoneInfo(name)


def company_date(moment: dt.datetime) -> dt.date:
    """The company's calendar date at an aware moment."""
    return moment.astimezone(company_zone()).date()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def company_today() -> dt.date:
    return company_date(now())
