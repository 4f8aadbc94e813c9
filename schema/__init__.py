"""Database schema: SQLAlchemy 2.x typed models and the Alembic migrations that create them.

Import the models from here; `docpost.schema.migrate.upgrade(url)` creates or upgrades a database.
"""

from docpost.schema.api_keys import ApiKey
from docpost.schema.base import Base
from docpost.schema.company import Company
from docpost.schema.dead_letters import DeadLetter
from docpost.schema.documents import Document, OutboxMessage
from docpost.schema.journals import (
    Journal,
    JournalLine,
    JournalLineSerial,
    JournalVat,
    PackingSlipInvoicing,
)
from docpost.schema.ledger import LedgerEntry, NumberSeries, RevenueScheduleLine
from docpost.schema.masterdata import (
    Actor,
    ActorDuty,
    BomLine,
    Customer,
    Item,
    RevenueSchedule,
    TrackingGroup,
)
from docpost.schema.orders import SalesLine, SalesOrder
from docpost.schema.requests import RequestRecord
from docpost.schema.serials import SerialChange, SerialRegistration
from docpost.schema.tax import TaxCode, TaxRate

__all__ = [
    "Actor",
    "ActorDuty",
    "ApiKey",
    "Base",
    "BomLine",
    "Company",
    "Customer",
    "DeadLetter",
    "Document",
    "Item",
    "Journal",
    "JournalLine",
    "JournalLineSerial",
    "JournalVat",
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
    "TaxCode",
    "TaxRate",
    "TrackingGroup",
]
