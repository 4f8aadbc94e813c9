"""EHF / Peppol BIS Billing 3.0 e-invoices (DOMAIN.md E1-E3): the model, its UBL 2.1 writer
and the official rules run on it. Pure like the rest of reports: no database."""

from docpost.reports.einvoice.model import EInvoice, Line, Party, VatGroup
from docpost.reports.einvoice.ubl import NotAnEInvoice, invoice_xml

__all__ = ["EInvoice", "Line", "NotAnEInvoice", "Party", "VatGroup", "invoice_xml"]
