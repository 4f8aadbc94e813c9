"""Today, in the company's time zone: the one clock that decides which dates are in the future.

The zone is the catalog's company's (M6, P1: documents are dated in it). This module reads no
database: a caller with a session at hand reads the company's zone there and passes it in
(`UnitOfWork.today`, which reads it once per unit of work); without one (no company loaded, or
no session) the zone is DOCPOST_COMPANY_TIME_ZONE, the fallback for catalogs without a company.

Callers use the module attributes (`clock.company_today()`, `clock.now()`), so a test can move
"today" by monkeypatching `company_today` (the settings' today), or `now`, to stand at a given
instant in any zone.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from docpost.pipeline.config import get_settings


def zone_named(name: str) -> dt.tzinfo:
    """The IANA zone `name`. UTC needs no time zone database: a slim image without one still
    starts with the default."""
    return dt.UTC if name == "UTC" else ZoneInfo(name)


def company_zone(name: str | None = None) -> dt.tzinfo:
    """The company's time zone: `name` (the catalog's company's, M6), else the setting
    DOCPOST_COMPANY_TIME_ZONE (validated at start-up)."""
    return zone_named(name if name is not None else get_settings().company_time_zone)


def company_date(moment: dt.datetime, zone: dt.tzinfo | None = None) -> dt.date:
    """The company's calendar date at an aware moment, in `zone` (else the setting's)."""
    return moment.astimezone(zone if zone is not None else company_zone()).date()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def company_today(zone: dt.tzinfo | None = None) -> dt.date:
    """P1: today in `zone` (the catalog company's), else in the setting's zone."""
    return company_date(now(), zone)
