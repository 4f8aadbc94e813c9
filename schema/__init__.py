"""Database schema: SQLAlchemy 2.x typed models and the Alembic migrations that create them.

Import the models from here; `schema.migrate.upgrade(url)` creates or upgrades a database.
"""

from schema.api_keys import ApiKey
from schema.base import Base
from schema.dead_letters import DeadLetter
from schema.documents import Document, OutboxMessage
from schema.journals import Journal, JournalLine, JournalLineSerial, PackingSlipInvoicing
from schema.ledger import LedgerEntry, NumberSeries, RevenueScheduleLine
from schema.masterdata import (
    Actor,
    ActorDuty,
    BomLine,
    Customer,
    Item,
    RevenueSchedule,
    TrackingGroup,
)
from schema.orders import SalesLine, SalesOrder
from schema.requests import RequestRecord
from schema.serials import SerialChange, SerialRegistration

__all__ = [
    "Actor",
    "ActorDuty",
    "ApiKey",
    "Base",
    "BomLine",
    "Customer",
    "DeadLetter",
    "Document",
    "Item",
    "Journal",
    "JournalLine",
    "JournalLineSerial",
    "LedgerEntry",
    "NumberSeries",
    "OutboxMessage",
    "PackingSlipInvoicing",
    "RequestRecord",
    "RevenueSchedule",
    "RevenueScheduleLine",
    "SalesLine",
    "SalesOrder",
    "SerialChange",
    "SerialRegistration",
    "TrackingGroup",
]
