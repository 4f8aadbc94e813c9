"""From a posted journal (a ``JournalSnapshot``) to the reports view model: pure, no I/O.

What is printed is decided here (``docpost.reports.viewmodel`` explains the shape):

- D1 confirmation and invoice: a bundle prints as one parent line, never its components. The
  confirmation snapshots the parent itself (``is_bundle_parent``); an invoice holds only the
  component lines (B9), so the parent line is made from them: bundle count = component
  quantity / BOM quantity (the same for every component, B7), amount = sum of the component
  amounts, unit price = amount / count rounded to cents.
- D2 packing slip (and its cancellation): the component lines, never the parent, no prices.
  A confirmation's picking list (``picking_list_view``): the component and other lines to
  pick, never a bundle parent, no prices, each serialized item's line marked "Serial numbers
  to scan".
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
- P3/T3/T6/T7 (issue 15): a journal posted with tax prints what it froze (D6): each line's rate,
  the VAT breakdown per category and rate (the journal_vat rows of one category and rate
  together), net total, VAT, total incl. VAT and amount due (D4: the journal's figures, checked
  against each other), the document date, due date, payment terms (due date - document date),
  KID, buyer's reference, delivery date (of the packing slips invoiced, else the invoice date)
  and, on a credit note, the invoice it credits and its date. A POS receipt (T6) prints gross
  lines and says so. A journal posted without tax (the USMF example) prints as before.
- T4: on an invoice and a confirmation, a bundle whose components have different rates prints
  one line per (bundle, category and rate), named "Gavekurv (15 %)" (rules.tax.present_bundle).
- A confirmation posted with tax prints its frozen VAT breakdown and totals like an invoice,
  but no amount due, due date, KID nor payment block: it asks for no payment.
- T6: a point-of-sale sale's invoice prints as a receipt (``printed_kind``): "Receipt" /
  "Kvittering", gross lines, VAT per rate, no amount due, due date, KID nor payment block.
- P4: units print in the document's language (``labels.unit_label``: "stk" for "ea" in nb_NO).

The print forms are pipeline.rules.payment's (P3), so a document and an e-invoice write a
number the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal

from babel import Locale

from docpost.pipeline.documents.snapshot import (
    CompanySnapshot,
    JournalSnapshot,
    LineSnapshot,
    PartySnapshot,
    TaxSnapshot,
)
from docpost.pipeline.rules.payment import (
    bank_account_text,
    bic_text,
    iban_text,
    organisation_number_text,
)
from docpost.pipeline.rules.tax import BundleComponent, LineTax, present_bundle
from docpost.reports.formatting import rate_label
from docpost.reports.labels import unit_label
from docpost.reports.viewmodel import (
    CompanyView,
    CustomerView,
    DocumentView,
    Kind,
    LineView,
    ReferenceView,
    TotalsView,
    VatGroupView,
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
    company_currency: str | None = None,
) -> DocumentView:
    """The view model of a journal; `company_country` (M6) decides whether the customer's
    country is printed (only when it is another), `company_currency` whether the VAT is also
    stated in the company currency (T7)."""
    lines = _lines(snapshot, locale)
    for line in lines:  # P4: "stk" for "ea" in nb_NO
        line["unit"] = unit_label(line["unit"], locale)
    view: DocumentView = {
        "kind": printed_kind(snapshot),
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
    if snapshot.tax is not None and _posted_with_tax(snapshot.tax):
        _add_tax(view, snapshot, snapshot.tax, company_currency)
    return view


def printed_kind(snapshot: JournalSnapshot) -> Kind:
    """The document a journal prints as: its kind, but a point-of-sale sale's invoice is a
    receipt (T6: paid at the till, so it is titled so and has no payment block)."""
    if snapshot.kind == "invoice" and snapshot.origin == "pos":
        return "receipt"
    return snapshot.kind  # type: ignore[return-value]


def _lines(snapshot: JournalSnapshot, locale: str) -> list[LineView]:
    kind = snapshot.kind
    ordered = _in_order_line_order(snapshot.lines)
    if kind == "confirmation":
        lines = _confirmation_lines(ordered, locale)
    elif kind == "invoice":
        lines = _invoice_lines(ordered, snapshot.bundle_units, snapshot.bundle_prices, locale)
    elif kind == "credit_note":
        lines = [_priced(ln) for ln in ordered]
    elif kind == "packing_slip":
        lines = [_unpriced(ln) for ln in ordered]
    else:
        raise UnprintableJournal(f"{snapshot.number}: no document for journal kind {kind!r}")
    return lines


def picking_list_view(
    snapshot: JournalSnapshot,
    company: CompanyView,
    locale: str,
    serialized: Collection[str],
    company_country: str | None = None,
) -> DocumentView:
    """D2 (Beyond): a confirmation's picking list, for the warehouse: every line to pick (a
    bundle's components, the other lines as they are), never the bundle parent, with
    quantities and item names and no prices; a line of an item in `serialized` (serial number
    control in sales, S2) is marked, its serials to be scanned when it is packed."""
    if snapshot.kind != "confirmation":
        raise UnprintableJournal(
            f"{snapshot.number}: a picking list is made of a confirmation, not a {snapshot.kind}"
        )
    lines = []
    for line in _in_order_line_order(snapshot.lines):
        if line.is_bundle_parent:
            continue
        view = _unpriced(line)
        view["unit"] = unit_label(view["unit"], locale)  # P4
        if line.item_code in serialized:
            view["scan_serials"] = True
        lines.append(view)
    tax = snapshot.tax
    return {
        "kind": "picking_list",
        "number": snapshot.number,
        "revision": snapshot.revision,
        "date": (tax.document_date if tax else None) or snapshot.posting_date,
        "currency": snapshot.currency,
        "company": company,
        "customer": customer_view(snapshot, locale, company_country),
        "order": snapshot.order_no,
        "references": [],
        "lines": lines,
        "totals": None,
        "notes": [],
    }


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
    view: LineView = {
        **_unpriced(line),
        "unit_price": line.unit_price,
        # Stored as 0.00 when there is none; None keeps the discount column off the page.
        "discount_percent": line.discount_percent or None,
        "discount_amount": line.discount_amount or None,
        "amount": line.amount,
        "is_bundle": line.is_bundle_parent,
    }
    if line.vat_rate is not None:  # T1: the rate the line was posted with
        view["tax_rate"] = line.vat_rate
    return view


def _confirmation_lines(lines: Sequence[LineSnapshot], locale: str) -> list[LineView]:
    """D1: the confirmation froze each bundle's parent line (B3) and its components; the
    parent prints, at its components' rates as an invoice's bundle does (T4)."""
    components: dict[int, list[LineSnapshot]] = {}
    for line in lines:
        if line.bundle_line_no is not None:
            components.setdefault(line.bundle_line_no, []).append(line)
    result: list[LineView] = []
    for line in lines:
        if line.bundle_line_no is not None:
            continue
        if line.is_bundle_parent and components.get(line.line_no):
            result.extend(_bundle_at_rates(_priced(line), components[line.line_no], locale))
        else:
            result.append(_priced(line))
    return result


def _invoice_lines(
    lines: Sequence[LineSnapshot],
    bundle_units: Mapping[str, str],
    bundle_prices: Mapping[int, tuple[Decimal, Decimal, Decimal]],
    locale: str,
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
    result: list[LineView] = []
    for entry in order:
        if isinstance(entry, LineSnapshot):
            result.append(_priced(entry))
            continue
        parent = _bundle_line(entry, bundles[entry], bundle_units, bundle_prices.get(entry))
        result.extend(_bundle_at_rates(parent, bundles[entry], locale))
    return result


def _bundle_at_rates(
    parent: LineView, components: Sequence[LineSnapshot], locale: str
) -> list[LineView]:
    """T4: the parent line when the components share one category and rate (with that rate),
    else one line per (bundle, category and rate), highest rate first, named "Gavekurv (15 %)",
    whose amounts are sums of the components' and so add up to the bundle's (B4)."""
    taxes = [_line_tax(c) for c in components]
    if any(tax is None for tax in taxes):
        return [parent]  # posted without VAT: the parent line as before
    presentation = present_bundle(
        parent["item"],
        [
            BundleComponent(c.item_code, c.amount or ZERO, tax)
            for c, tax in zip(components, taxes, strict=True)
            if tax is not None
        ],
    )
    if presentation.as_parent:
        return [{**parent, "tax_rate": presentation.parts[0].rate}]
    count = parent["quantity"]
    return [
        {
            **parent,
            "name": rate_label(parent["name"], part.rate, locale),
            # The share of one bundle at this rate; the parent's discount is in the amount.
            "unit_price": (part.amount / count).quantize(CENT, ROUND_HALF_UP) if count else None,
            "discount_percent": None,
            "discount_amount": None,
            "amount": part.amount,
            "serials": [s for c in components if c.item_code in part.items for s in c.serials],
            "tax_rate": part.rate,
        }
        for part in presentation.parts
    ]


def _line_tax(line: LineSnapshot) -> LineTax | None:
    if line.tax_code is None or line.vat_category is None or line.vat_rate is None:
        return None
    return LineTax(line.tax_code, line.vat_category, line.vat_rate)


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


# --- tax and payment (P1-P3, T3, T6, T7, D4) ---------------------------------------------------


def _posted_with_tax(tax: TaxSnapshot) -> bool:
    """A journal posted by a catalog with a company (issue 15): its totals incl. VAT or its
    due date are set. Journals without (the USMF example) print as before."""
    return tax.total is not None or tax.due_date is not None


def _add_tax(
    view: DocumentView, snapshot: JournalSnapshot, tax: TaxSnapshot, company_currency: str | None
) -> None:
    """The journal's frozen tax and payment fields into the view (D6: nothing from master
    data): dates, KID, payment terms, the buyer's reference, the credited invoice, the VAT
    breakdown and the totals incl. VAT."""
    date = tax.document_date or snapshot.posting_date
    view["date"] = date
    if tax.buyer_reference:
        view["customer"]["reference"] = tax.buyer_reference
    if snapshot.origin == "pos":
        # T6: a receipt is paid at the till: gross prices, no due date, KID or amount due.
        view["prices_include_vat"] = True
    else:
        _add_payment(view, snapshot, tax, date)
    if snapshot.kind == "credit_note" and snapshot.reverses and snapshot.reverses_date:
        view["credited_invoice"] = {"number": snapshot.reverses, "date": snapshot.reverses_date}
    if any(ln.vat_category == "AE" for ln in snapshot.lines):
        view["reverse_charge"] = True
    foreign = company_currency is not None and company_currency != snapshot.currency
    if foreign and tax.exchange_rate is not None:
        view["company_currency"] = company_currency
        view["exchange_rate"] = tax.exchange_rate
    if tax.vat_total is not None and tax.total is not None and view["totals"] is not None:
        view["vat"] = vat_groups(snapshot.number, tax, foreign=foreign)
        view["totals"] = _totals_with_vat(snapshot, tax, foreign=foreign)


def _add_payment(
    view: DocumentView, snapshot: JournalSnapshot, tax: TaxSnapshot, date: dt.date
) -> None:
    """P1-P3: due date, payment terms (the days from the document date to the due date, as
    posted), KID, and an invoice's delivery date (its packing slips', else the invoice date)."""
    if tax.due_date is not None:
        view["due_date"] = tax.due_date
        view["payment_terms_days"] = (tax.due_date - date).days
    if tax.kid:
        view["kid"] = tax.kid
    if snapshot.kind == "invoice":
        view["delivery_date"] = snapshot.delivery_date or date


def vat_groups(number: str, tax: TaxSnapshot, *, foreign: bool) -> list[VatGroupView]:
    """T3: one group per category and rate (a group may hold several tax codes), highest rate
    first; D4: their VAT is the journal's VAT total, or nothing is printed."""
    groups: dict[tuple[str, Decimal], list[Decimal]] = {}
    for row in tax.vat:
        sums = groups.setdefault((row.category, row.rate), [ZERO, ZERO, ZERO])
        sums[0] += row.taxable_amount
        sums[1] += row.vat_amount
        sums[2] += row.company_vat_amount
    if sum((sums[1] for sums in groups.values()), ZERO) != (tax.vat_total or ZERO):
        raise UnprintableJournal(
            f"{number}: the VAT breakdown does not add up to the VAT total {tax.vat_total} (D4)"
        )
    result: list[VatGroupView] = []
    for (category, rate), (taxable, vat, company_vat) in sorted(
        groups.items(), key=lambda g: (-g[0][1], g[0][0])
    ):
        group: VatGroupView = {
            "category": category,  # type: ignore[typeddict-item]
            "rate": rate,
            "taxable_amount": taxable,
            "vat_amount": vat,
        }
        if foreign:
            group["vat_amount_company"] = company_vat
        result.append(group)
    return result


def _totals_with_vat(snapshot: JournalSnapshot, tax: TaxSnapshot, *, foreign: bool) -> TotalsView:
    """D4: the journal's net total, VAT and total incl. VAT (what the ledger got). A POS
    journal's total_amount is gross (T6): its net is total - VAT."""
    if tax.total is None or tax.vat_total is None:
        raise UnprintableJournal(f"{snapshot.number} has no total including VAT")
    net = tax.total - tax.vat_total
    expected = tax.total if snapshot.origin == "pos" else net
    if snapshot.total_amount != expected:
        raise UnprintableJournal(
            f"{snapshot.number}: total {tax.total} less VAT {tax.vat_total} does not match the "
            f"journal's amount {snapshot.total_amount} (D4)"
        )
    totals: TotalsView = {"net": net, "vat": tax.vat_total, "total": tax.total}
    # Only a bill is due: a receipt is paid (T6), a confirmation asks for nothing yet.
    if snapshot.kind in ("invoice", "credit_note") and snapshot.origin != "pos":
        totals["due"] = tax.total
    if foreign:
        totals["vat_company"] = sum((row.company_vat_amount for row in tax.vat), ZERO)
    return totals
