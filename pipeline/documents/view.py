"""From a posted journal (a ``JournalSnapshot``) to the reports view model: pure, no I/O.

What is printed is decided here (``docpost.reports.viewmodel`` explains the shape):

- D1 confirmation and invoice: a bundle prints as one parent line, never its components. The
  confirmation snapshots the parent itself (``is_bundle_parent``); an invoice holds only the
  component lines (B9), so the parent line is made from them: bundle count = component
  quantity / BOM quantity (the same for every component, B7), amount = sum of the component
  amounts, unit price = amount / count rounded to cents.
- D2 packing slip (and its cancellation): the component lines, never the parent, no prices.
- D3 credit note: the component lines it credits.
- D4 totals: the journal's total, which is what the ledger got; the printed lines must add
  up to it or nothing is printed.
- D5 serials under their line; on an invoice, the serials of every serialized component of a
  bundle under the bundle line. ``None`` is a blank registration ("not readable").
- M6/P3 the seller: the catalog's company, its address lines, "postcode city" and country, its
  organisation number ("NO 923 609 016 MVA" when VAT registered), Foretaksregisteret, bank
  account ("1234.56.78903"), IBAN and BIC as printed (``company_view``).
- M7/P3 the buyer: its address lines, "postcode city", and its country when not the company's;
  its organisation number and VAT id when known (``customer_view``).

The print forms are pipeline.rules.payment's (P3), so a document and an e-invoice write a
number the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal

from babel import Locale

from docpost.pipeline.documents.snapshot import (
    CompanySnapshot,
    JournalSnapshot,
    LineSnapshot,
    PartySnapshot,
)
from docpost.pipeline.rules.payment import (
    bank_account_text,
    bic_text,
    iban_text,
    organisation_number_text,
)
from docpost.reports.viewmodel import (
    CompanyView,
    CustomerView,
    DocumentView,
    LineView,
    ReferenceView,
    TotalsView,
)

CENT = Decimal("0.01")
ZERO = Decimal(0)
PRICED_KINDS = ("confirmation", "invoice", "credit_note")

# Sentences printed in a document's notes. reports.labels holds single words only, so these
# live here; every locale must have the same keys (a test checks it).
NOTES: Mapping[str, Mapping[str, str]] = {
    "en_US": {
        "credits": "Credit for invoice {invoice}.",
        "cancels": "Cancels packing slip {packing_slip}.",
        "revision": "Serial numbers corrected: revision {revision} replaces revision {previous}.",
    },
    "nb_NO": {
        "credits": "Kreditering av faktura {invoice}.",
        "cancels": "Annullerer følgeseddel {packing_slip}.",
        "revision": "Serienumre korrigert: revisjon {revision} erstatter revisjon {previous}.",
    },
}


class UnprintableJournal(ValueError):
    """The journal breaks a rule the document relies on (B7, D4): a bug, never printed."""


def document_view(
    snapshot: JournalSnapshot,
    company: CompanyView,
    locale: str,
    company_country: str | None = None,
) -> DocumentView:
    """The view model of a journal; `company_country` (M6) decides whether the customer's
    country is printed (only when it is another)."""
    kind = snapshot.kind
    ordered = _in_order_line_order(snapshot.lines)
    if kind == "confirmation":
        lines = [_priced(ln) for ln in ordered if ln.bundle_line_no is None]
    elif kind == "invoice":
        lines = _invoice_lines(ordered, snapshot.bundle_units, snapshot.bundle_prices)
    elif kind == "credit_note":
        lines = [_priced(ln) for ln in ordered]
    elif kind == "packing_slip":
        lines = [_unpriced(ln) for ln in ordered]
    else:
        raise UnprintableJournal(f"{snapshot.number}: no document for journal kind {kind!r}")
    view: DocumentView = {
        "kind": kind,  # type: ignore[typeddict-item]
        "number": snapshot.number,
        "revision": snapshot.revision,
        "date": snapshot.posting_date,
        "currency": snapshot.currency,
        "company": company,
        "customer": customer_view(snapshot, locale, company_country),
        "order": snapshot.order_no,
        "references": _references(snapshot),
        "lines": lines,
        "totals": _totals(snapshot, lines),
        "notes": _notes(snapshot, locale),
    }
    return view


# --- parties (M6, M7, P3) ----------------------------------------------------------------------


def company_view(company: CompanySnapshot, locale: str) -> CompanyView:
    """M6/P3: the seller as printed, from the catalog's company."""
    norwegian = company.country in (None, "NO")
    view: CompanyView = {
        "name": company.name,
        "address": _address(company, locale, print_country=company.country is not None),
        "foretaksregisteret": company.foretaksregisteret,
    }
    if company.organisation_number:
        view["org_number"] = organisation_number_text(
            company.organisation_number, company.country, vat_registered=company.vat_registered
        )
    if company.bank_account:
        view["bank_account"] = (
            bank_account_text(company.bank_account) if norwegian else company.bank_account
        )
    if company.iban:
        view["iban"] = iban_text(company.iban)
    if company.bic:
        view["bic"] = bic_text(company.bic)
    return view


def customer_view(
    snapshot: JournalSnapshot, locale: str, company_country: str | None = None
) -> CustomerView:
    """M7/P3: the buyer: its address in parts, its country only when not the company's, and
    its organisation number or VAT id when known. A customer loaded without address parts
    prints its address as it always did."""
    view: CustomerView = {
        "customer": snapshot.customer_code,
        "name": snapshot.customer_name,
        "address": snapshot.customer_address,
    }
    party = snapshot.customer_party
    if party is None:
        return view
    country = party.country or company_country
    if party.has_parts:
        foreign = country is not None and country != company_country
        view["address"] = _address(party, locale, print_country=foreign)
    if party.organisation_number:
        view["org_number"] = organisation_number_text(
            party.organisation_number, country, vat_registered=False
        )
    if party.vat_id:
        view["vat_id"] = party.vat_id
    return view


def _address(party: PartySnapshot, locale: str, *, print_country: bool) -> list[str]:
    """The address lines, then "postcode city", then the country's name in the document's
    language ("Norge", "Sweden") when asked for."""
    lines = list(party.address_lines)
    place = " ".join(part for part in (party.postcode, party.city) if part)
    if place:
        lines.append(place)
    if print_country and party.country:
        lines.append(Locale.parse(locale).territories.get(party.country, party.country))
    return lines


# --- lines -----------------------------------------------------------------------------------


def _in_order_line_order(lines: Sequence[LineSnapshot]) -> list[LineSnapshot]:
    """As the order lists them, components at their bundle's place: a journal keeps the order
    the request named the lines in, and confirmation numbers components after every line."""
    return sorted(
        lines,
        key=lambda ln: (
            ln.line_no if ln.bundle_line_no is None else ln.bundle_line_no,
            ln.line_no,
        ),
    )


def _unpriced(line: LineSnapshot) -> LineView:
    return {
        "line": str(line.line_no),
        "item": line.item_code,
        "name": line.item_name,
        "unit": line.unit,
        "quantity": _plain(line.quantity),
        "serials": list(line.serials),
        "is_bundle": False,
    }


def _priced(line: LineSnapshot) -> LineView:
    return {
        **_unpriced(line),
        "unit_price": line.unit_price,
        # Stored as 0.00 when there is none; None keeps the discount column off the page.
        "discount_percent": line.discount_percent or None,
        "discount_amount": line.discount_amount or None,
        "amount": line.amount,
        "is_bundle": line.is_bundle_parent,
    }


def _invoice_lines(
    lines: Sequence[LineSnapshot],
    bundle_units: Mapping[str, str],
    bundle_prices: Mapping[int, tuple[Decimal, Decimal, Decimal]],
) -> list[LineView]:
    """D1: each bundle's component lines become one parent line, where its first one is."""
    bundles: dict[int, list[LineSnapshot]] = {}
    order: list[LineSnapshot | int] = []
    for line in lines:
        if line.bundle_line_no is None:
            order.append(line)
        elif line.bundle_line_no in bundles:
            bundles[line.bundle_line_no].append(line)
        else:
            bundles[line.bundle_line_no] = [line]
            order.append(line.bundle_line_no)
    return [
        _priced(entry)
        if isinstance(entry, LineSnapshot)
        else _bundle_line(entry, bundles[entry], bundle_units, bundle_prices.get(entry))
        for entry in order
    ]


def _bundle_line(
    bundle_line_no: int,
    components: Sequence[LineSnapshot],
    bundle_units: Mapping[str, str],
    parent_price: tuple[Decimal, Decimal, Decimal] | None,
) -> LineView:
    first = components[0]
    counts = {_bundle_count(c) for c in components}
    if len(counts) != 1:
        raise UnprintableJournal(
            f"bundle line {bundle_line_no} ({first.bundle_item_code}): components posted for "
            f"different bundle counts {sorted(counts)} (B7)"
        )
    (count,) = counts
    amount = sum((c.amount or ZERO for c in components), ZERO)
    return {
        "line": str(bundle_line_no),
        "item": first.bundle_item_code or "",
        "name": first.bundle_item_name or "",
        "unit": bundle_units.get(first.bundle_item_code or "", first.unit),
        "quantity": count,
        # The parent's price and discounts as entered, as on the confirmation (D1); without
        # the parent line, the net price per bundle.
        "unit_price": parent_price[0]
        if parent_price
        else (amount / count).quantize(CENT, ROUND_HALF_UP)
        if count
        else None,
        "discount_percent": (parent_price[1] or None) if parent_price else None,
        "discount_amount": (parent_price[2] or None) if parent_price else None,
        "amount": amount,
        "serials": [s for c in components for s in c.serials],
        "is_bundle": True,
    }


def _bundle_count(component: LineSnapshot) -> Decimal:
    if not component.bom_quantity:
        raise UnprintableJournal(
            f"line {component.line_no} ({component.item_code}) is a bundle component without "
            "a BOM quantity"
        )
    return _plain(component.quantity / component.bom_quantity)


def _plain(quantity: Decimal) -> Decimal:
    """5.000000 -> 5: quantities as people write them (the view may also be shown as JSON)."""
    return Decimal(f"{quantity.normalize():f}")


# --- header and footer -----------------------------------------------------------------------


def _references(snapshot: JournalSnapshot) -> list[ReferenceView]:
    if snapshot.kind == "credit_note" and snapshot.reverses:
        return [{"label": "invoice", "value": snapshot.reverses}]
    if snapshot.kind == "packing_slip" and snapshot.reverses:
        return [{"label": "packing_slip", "value": snapshot.reverses}]
    if snapshot.kind == "invoice":
        return [{"label": "packing_slip", "value": number} for number in snapshot.packing_slips]
    return []


def _notes(snapshot: JournalSnapshot, locale: str) -> list[str]:
    phrases = NOTES[locale]
    notes = []
    if snapshot.kind == "credit_note" and snapshot.reverses:
        notes.append(phrases["credits"].format(invoice=snapshot.reverses))
    if snapshot.kind == "packing_slip" and snapshot.reverses:
        notes.append(phrases["cancels"].format(packing_slip=snapshot.reverses))
    if snapshot.revision > 1:
        notes.append(
            phrases["revision"].format(revision=snapshot.revision, previous=snapshot.revision - 1)
        )
    return notes


def _totals(snapshot: JournalSnapshot, lines: Iterable[LineView]) -> TotalsView | None:
    """D4: the journal's total (what the ledger got), after checking the lines add up to it."""
    if snapshot.kind not in PRICED_KINDS:
        return None
    if snapshot.total_amount is None:
        raise UnprintableJournal(f"{snapshot.number} has no total amount")
    printed = sum((ln.get("amount") or ZERO for ln in lines), ZERO)
    if printed != snapshot.total_amount:
        raise UnprintableJournal(
            f"{snapshot.number}: the printed lines add up to {printed}, the journal total is "
            f"{snapshot.total_amount} (D4)"
        )
    return {"net": snapshot.total_amount, "total": snapshot.total_amount}
