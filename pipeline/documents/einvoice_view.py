"""From a posted journal to its e-invoice model (DOMAIN.md E1, E3): pure, no I/O.

The e-invoice says what the PDF prints: its lines (D1 bundle parents, D3 credited components,
T4 one line per bundle and rate), VAT groups and totals are taken from the PDF's view model
(``view.document_view`` of the same snapshot), so the two agree to the cent (E3) because they
are the same figures. What a PDF prints formatted or not at all comes from the journal as
posted (``JournalSnapshot``, D6): the parties' raw numbers (organisation number, VAT id,
Peppol endpoint, bank account, IBAN, BIC), ISO country codes, each line's EN 16931 VAT
category (T1: frozen on its journal lines) and the items' units as UN/ECE codes.

Which journals get one (E1) is decided by ``rules.einvoice_recipients``, the rule posting
uses to write the e-invoice's row: this module only words its refusal (NoEInvoice), and
refuses besides only what the e-invoice cannot express (an endpoint that is not
scheme:identifier, a line posted without VAT, a line of several VAT categories at one rate).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from decimal import Decimal

from docpost.pipeline.documents.snapshot import (
    CompanySnapshot,
    JournalSnapshot,
    LineSnapshot,
    PartySnapshot,
)
from docpost.pipeline.rules.einvoice_recipients import (
    ORGANISATION_SCHEMES,
    Refusal,
    buyer_scheme,
    einvoice_refusal,
)
from docpost.pipeline.rules.payment import legal_form_text
from docpost.reports.einvoice.model import EInvoice, Line, Party, VatGroup
from docpost.reports.labels import labels_for
from docpost.reports.viewmodel import DocumentView, LineView

# UN/ECE Recommendation 20 codes of the catalog's units (BT-130); a unit not listed is
# assumed to be a code already ("KGM").
UNIT_CODES = {"ea": "EA", "pcs": "H87", "stk": "EA", "kg": "KGM", "h": "HUR", "hr": "HUR",
              "set": "SET", "m": "MTR", "l": "LTR"}  # fmt: skip


OUTSIDE_VAT = "O"  # UNCL5305 "not subject to VAT": a seller not VAT registered (M6)
ZERO = Decimal(0)


class NoEInvoice(ValueError):
    """This journal gets no e-invoice (E1 names which do); the message says why."""


# E1's refusals (rules.einvoice_recipients) in words, formatted with the journal snapshot.
REFUSALS = {
    Refusal.POINT_OF_SALE: "{s.number}: a point-of-sale sale is paid at the till (T6)",
    Refusal.KIND: "{s.number}: only invoices and credit notes (E1)",
    Refusal.SELLER_WITHOUT_ENDPOINT: "{s.number}: the seller has no Peppol endpoint (E1)",
    Refusal.WITHOUT_VAT: "{s.number} was posted without VAT: no e-invoice",
    Refusal.BUYER_NOT_ADDRESSABLE: (
        "{s.number}: customer {s.customer_code} has no Peppol endpoint nor an organisation "
        "number to address an e-invoice to (PEPPOL-EN16931-R010)"
    ),
}


def einvoice_view(snapshot: JournalSnapshot, view: DocumentView, locale: str) -> EInvoice:
    """The e-invoice of a journal whose PDF prints `view` (made from the same snapshot, in
    the document's `locale`)."""
    company, party = _parties(snapshot)
    totals = view["totals"]
    if totals is None:
        raise NoEInvoice(f"{snapshot.number} has no totals: no e-invoice")
    outside_vat = _outside_vat(snapshot, view, company)
    labels = labels_for(locale)
    seller = _seller(company)
    buyer = _buyer(snapshot, party, company)
    credited = view.get("credited_invoice")
    foreign = view.get("company_currency")
    return EInvoice(
        kind=snapshot.kind,  # type: ignore[arg-type]
        number=snapshot.number,
        issue_date=view["date"],
        currency=snapshot.currency,
        seller=seller,
        buyer=buyer,
        lines=tuple(_lines(snapshot, view["lines"], labels, outside_vat=outside_vat)),
        vat=(VatGroup(OUTSIDE_VAT, ZERO, totals["net"], ZERO),)
        if outside_vat
        else tuple(
            VatGroup(g["category"], g["rate"], g["taxable_amount"], g["vat_amount"])
            for g in view.get("vat") or []
        ),
        net_total=totals["net"],
        vat_total=totals.get("vat") or ZERO,
        total=totals["total"],
        payable=totals.get("due") or totals["total"],
        due_date=view.get("due_date") if snapshot.kind == "invoice" else None,
        delivery_date=view.get("delivery_date"),
        buyer_reference=view["customer"].get("reference"),
        order_reference=snapshot.order_no or None,
        kid=view.get("kid"),
        bank_account=re.sub(r"\D", "", company.bank_account) if company.bank_account else None,
        iban=re.sub(r"\s", "", company.iban).upper() if company.iban else None,
        bic=re.sub(r"\s", "", company.bic).upper() if company.bic else None,
        payment_terms=_payment_terms(snapshot, view, labels),
        tax_currency=foreign,
        tax_currency_vat_total=totals.get("vat_company") if foreign else None,
        credited_invoice=credited["number"] if credited else snapshot.reverses,
        credited_invoice_date=credited["date"] if credited else None,
        notes=tuple(view.get("notes") or ()),
    )


def _outside_vat(snapshot: JournalSnapshot, view: DocumentView, company: CompanySnapshot) -> bool:
    """M6: a seller that is not VAT registered posts no VAT; its e-invoice says so with
    category O ("not subject to VAT", BR-O-*) on every line and one VAT group of nothing. A
    VAT-registered seller's journal without VAT (posted before issue 15) gets none: E1 refused
    it already; a view without the VAT breakdown of a journal posted with VAT cannot say it."""
    totals = view["totals"]
    if view.get("vat") is not None and totals is not None and totals.get("vat") is not None:
        return False
    if company.vat_registered:
        raise NoEInvoice(REFUSALS[Refusal.WITHOUT_VAT].format(s=snapshot))
    return True


def _parties(snapshot: JournalSnapshot) -> tuple[CompanySnapshot, PartySnapshot]:
    """The seller and the buyer as posted, once E1 (the rule posting used) gives the journal
    an e-invoice; NoEInvoice with the rule's reason when it does not."""
    company = snapshot.company
    party = snapshot.customer_party or PartySnapshot(
        address_lines=tuple(snapshot.customer_address.splitlines())
    )
    refusal = einvoice_refusal(
        snapshot.kind,
        snapshot.origin,
        asdict(company) if company is not None else None,
        asdict(party),
        with_vat=snapshot.tax is not None and snapshot.tax.vat_total is not None,
    )
    if refusal is not None or company is None:  # (None: the rule refused it already)
        raise NoEInvoice(REFUSALS[refusal or Refusal.SELLER_WITHOUT_ENDPOINT].format(s=snapshot))
    return company, party


def endpoint(value: str) -> tuple[str, str]:
    """ "0192:923609016" -> ("0192", "923609016"): a Peppol endpoint as stored (M6, M7)."""
    scheme, _, identifier = value.partition(":")
    if not scheme or not identifier:
        raise NoEInvoice(f"Peppol endpoint {value!r} is not scheme:identifier")
    return scheme, identifier


def _seller(company: CompanySnapshot) -> Party:
    """M6: the company, its VAT number "NO…MVA" when VAT registered (NO-R-001) and its
    registration in Foretaksregisteret (NO-R-002)."""
    country = company.country or "NO"
    scheme, identifier = endpoint(company.peppol_endpoint or "")
    org = company.organisation_number
    vat_id = f"NO{org}MVA" if company.vat_registered and org and country == "NO" else None
    return Party(
        **_address(company, country),
        name=company.name,
        endpoint_scheme=scheme,
        endpoint_id=identifier,
        vat_id=vat_id,
        legal_id=org,
        legal_id_scheme=ORGANISATION_SCHEMES.get(country) if org else None,
        legal_form=legal_form_text(company.foretaksregisteret) if country == "NO" else None,
    )


def _buyer(snapshot: JournalSnapshot, party: PartySnapshot, company: CompanySnapshot) -> Party:
    """M7: the customer as posted; its endpoint, else its organisation number under its
    country's scheme (E1 refused a buyer with neither: rules.einvoice_recipients)."""
    country = party.country or company.country or "NO"
    org = party.organisation_number
    org_scheme = buyer_scheme(asdict(party), company.country)
    if party.peppol_endpoint:
        scheme, identifier = endpoint(party.peppol_endpoint)
    elif org and org_scheme:
        scheme, identifier = org_scheme, org
    else:  # E1 refused it already (_parties): kept for the type checker
        raise NoEInvoice(REFUSALS[Refusal.BUYER_NOT_ADDRESSABLE].format(s=snapshot))
    return Party(
        **_address(party, country),
        name=snapshot.customer_name,
        endpoint_scheme=scheme,
        endpoint_id=identifier,
        vat_id=party.vat_id,
        legal_id=org,
        legal_id_scheme=org_scheme,
    )


def _address(party: PartySnapshot, country: str) -> dict[str, object]:
    return {
        "address_lines": party.address_lines,
        "postcode": party.postcode,
        "city": party.city,
        "country": country,
    }


def _lines(
    snapshot: JournalSnapshot,
    printed: Sequence[LineView],
    labels: Mapping[str, str],
    *,
    outside_vat: bool,
) -> list[Line]:
    """The printed lines with what the PDF leaves out: each line's VAT category (of the
    journal lines it stands for at its rate; O outside VAT), its unit's code, and a unique
    line id (T4 prints a bundle at two rates as two lines of the same order line)."""
    seen: dict[str, int] = {}
    result = []
    for line in printed:
        key = line["line"]
        seen[key] = seen.get(key, 0) + 1
        sources = [
            ln for ln in snapshot.lines if str(ln.line_no) == key or str(ln.bundle_line_no) == key
        ]
        rate = ZERO if outside_vat else line.get("tax_rate")
        if rate is None or not sources:
            raise NoEInvoice(f"{snapshot.number}: line {key} was posted without VAT")
        serials = line.get("serials") or []
        blanks = sum(1 for s in serials if s is None)
        result.append(
            Line(
                line_id=key if seen[key] == 1 else f"{key}-{seen[key]}",
                item=line["item"],
                name=line["name"],
                quantity=line["quantity"],
                unit_code=_unit_code(snapshot, line, sources),
                amount=line.get("amount") or Decimal(0),
                category=OUTSIDE_VAT
                if outside_vat
                else _category(snapshot.number, key, rate, sources),
                rate=rate,
                unit_price=line.get("unit_price"),
                discount_percent=line.get("discount_percent"),
                discount_amount=line.get("discount_amount"),
                serials=tuple(s for s in serials if s is not None),
                blank_serials=blanks,
                note=_blank_note(blanks, labels) if blanks else None,
            )
        )
    return result


def _category(number: str, key: str, rate: Decimal, sources: Sequence[LineSnapshot]) -> str:
    categories = {ln.vat_category for ln in sources if ln.vat_rate == rate and ln.vat_category}
    if len(categories) != 1:
        raise NoEInvoice(f"{number}: line {key} at {rate} % has VAT categories {categories}")
    (category,) = categories
    return category


def _unit_code(snapshot: JournalSnapshot, line: LineView, sources: Sequence[LineSnapshot]) -> str:
    unit = (
        snapshot.bundle_units.get(line["item"], sources[0].unit)
        if line.get("is_bundle")
        else sources[0].unit
    )
    return UNIT_CODES.get(unit.lower(), unit.upper())


def _blank_note(blanks: int, labels: Mapping[str, str]) -> str:
    """D5: blank registrations have no serial to send: the line note says how many."""
    return f"{labels['serials']}: {blanks} × {labels['not_readable']}"


def _payment_terms(
    snapshot: JournalSnapshot, view: DocumentView, labels: Mapping[str, str]
) -> str | None:
    """BT-20 as printed: "30 dager netto"; a credit note's "Til gode" (BR-CO-25 wants terms or
    a due date for a positive amount, and a credit note is due to the buyer)."""
    if snapshot.kind == "credit_note":
        return labels["amount_credited"]
    days = view.get("payment_terms_days")
    return None if days is None else labels["payment_terms_days"].format(days=days)
