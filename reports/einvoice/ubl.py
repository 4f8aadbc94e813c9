"""EHF / Peppol BIS Billing 3.0 (UBL 2.1) from the e-invoice model (DOMAIN.md E1, E2).

``invoice_xml`` writes an ``Invoice`` for an invoice and a ``CreditNote`` (with its
``BillingReference`` to the invoice) for a credit note, as lxml element trees, in the element
order of the UBL 2.1 schema. What each part says, and which official rule it satisfies:

- CustomizationID/ProfileID of BIS 3.0; supplier with its endpoint (0192 + organisation
  number), ``NO…MVA`` under the VAT scheme (NO-R-001) and Foretaksregisteret under the TAX
  scheme (NO-R-002), its organisation number as legal registration (BT-30).
- The buyer with its endpoint (PEPPOL-EN16931-R010); the buyer's reference when given and the
  sales order as ``OrderReference/SalesOrderID`` with ``ID`` "NA" (BIS 3.0's value for "no
  purchase order reference"), so PEPPOL-EN16931-R003 always has an order reference.
- Payment means 30 (credit transfer) with the KID as PaymentID (P2) and the account (BR-61):
  the domestic account number for a buyer in the seller's country, else IBAN and BIC.
- One TaxTotal with a subtotal per VAT group (T3), categories that need one with their
  exemption reason code and text (BR-G-10, BR-AE-10, BR-E-10, BR-O-10, BR-IC-10); a second
  TaxTotal with only the VAT in the company currency when the document currency differs (T7,
  BR-53, PEPPOL-EN16931-R054).
- Lines as printed (D1, D3, T4): discounts as a price discount per unit (the price's
  allowance, PEPPOL-EN16931-R046) and a line allowance for the discount percent (reason 95,
  with its percentage when it is that percentage of its base, PEPPOL-EN16931-R040), so that
  quantity x net price - allowance = the line amount (PEPPOL-EN16931-R120). A line whose amount
  is not its price times its quantity (a bundle's share at one rate, a partial bundle, B8)
  states its net price as amount / quantity instead. Serials as ``Item/ItemInstance/SerialID``
  (S14; a CEN warning, UBL-CR-622, says receivers may ignore them), blank ones in the line note.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from lxml import etree

from docpost.reports.einvoice.model import EInvoice, Line, Party, VatGroup

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
ROOTS = {
    "invoice": ("urn:oasis:names:specification:ubl:schema:xsd:Invoice-2", "Invoice"),
    "credit_note": ("urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2", "CreditNote"),
}
INVOICE_TYPE = "380"  # UNCL1001 commercial invoice
CREDIT_NOTE_TYPE = "381"  # credit note
CREDIT_TRANSFER = "30"  # UNCL4461
DISCOUNT = "95"  # UNCL5189 allowance reason "Discount"
# Categories whose VAT breakdown needs an exemption reason (BR-E/G/AE/O/IC-10), as the VATEX
# code list names them; S and Z must have none (BR-S-10, BR-Z-10).
EXEMPTIONS = {
    "E": (None, "Exempt from VAT"),
    "G": ("VATEX-EU-G", "Export outside the EU"),
    "AE": ("VATEX-EU-AE", "Reverse charge"),
    "O": ("VATEX-EU-O", "Not subject to VAT"),
    "K": ("VATEX-EU-IC", "Intra-Community supply"),
}
CENT = Decimal("0.01")
PRICE_QUANTUM = Decimal("0.000001")
ZERO = Decimal(0)


class NotAnEInvoice(ValueError):
    """The model cannot be written as a BIS 3.0 document (a bug of the caller)."""


def invoice_xml(einvoice: EInvoice) -> bytes:
    """The UBL 2.1 Invoice or CreditNote of an e-invoice model, UTF-8 with declaration."""
    if einvoice.kind not in ROOTS:
        raise NotAnEInvoice(f"{einvoice.number}: no e-invoice for {einvoice.kind!r}")
    namespace, name = ROOTS[einvoice.kind]
    root = etree.Element(f"{{{namespace}}}{name}", nsmap={None: namespace, "cac": CAC, "cbc": CBC})
    _header(root, einvoice)
    _parties(root, einvoice)
    _payment(root, einvoice)
    _tax_totals(root, einvoice)
    _monetary_total(root, einvoice)
    for line in einvoice.lines:
        _line(root, einvoice, line)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# --- element helpers ---------------------------------------------------------------------------


def _cbc(parent: etree._Element, tag: str, text: str, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{CBC}}}{tag}", attributes)
    element.text = text
    return element


def _cac(parent: etree._Element, name: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{CAC}}}{name}")


def _amount(parent: etree._Element, name: str, value: Decimal, currency: str) -> None:
    _cbc(parent, name, money_text(value), currencyID=currency)


def money_text(value: Decimal) -> str:
    """An amount with its 2 decimals (BR-DEC-*: never more)."""
    return f"{value.quantize(CENT, ROUND_HALF_UP):f}"


def number_text(value: Decimal) -> str:
    """A quantity or rate as people write it: 5, 25, 12.5."""
    return f"{value.normalize():f}"


def price_text(value: Decimal) -> str:
    """A unit price with its cents, more decimals only where it has them: 249.00, 0.333333."""
    cents = value.quantize(CENT, ROUND_HALF_UP)
    return f"{cents:f}" if cents == value else number_text(value)


# --- header ------------------------------------------------------------------------------------


def _header(root: etree._Element, e: EInvoice) -> None:
    _cbc(root, "CustomizationID", CUSTOMIZATION_ID)
    _cbc(root, "ProfileID", PROFILE_ID)
    _cbc(root, "ID", e.number)
    _cbc(root, "IssueDate", e.issue_date.isoformat())
    if e.kind == "invoice":
        if e.due_date is not None:
            _cbc(root, "DueDate", e.due_date.isoformat())
        _cbc(root, "InvoiceTypeCode", INVOICE_TYPE)
    else:
        _cbc(root, "CreditNoteTypeCode", CREDIT_NOTE_TYPE)
    if e.notes:  # PEPPOL-EN16931-R002: one note at most
        _cbc(root, "Note", " ".join(e.notes))
    _cbc(root, "DocumentCurrencyCode", e.currency)
    if e.tax_currency and e.tax_currency != e.currency:
        _cbc(root, "TaxCurrencyCode", e.tax_currency)
    if e.buyer_reference:
        _cbc(root, "BuyerReference", e.buyer_reference)
    order = _cac(root, "OrderReference")
    _cbc(order, "ID", "NA")  # no purchase order reference of the buyer's (module docstring)
    if e.order_reference:
        _cbc(order, "SalesOrderID", e.order_reference)
    if e.kind == "credit_note" and e.credited_invoice:
        reference = _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference")
        _cbc(reference, "ID", e.credited_invoice)
        if e.credited_invoice_date is not None:
            _cbc(reference, "IssueDate", e.credited_invoice_date.isoformat())


# --- parties -----------------------------------------------------------------------------------


def _parties(root: etree._Element, e: EInvoice) -> None:
    _party(_cac(_cac(root, "AccountingSupplierParty"), "Party"), e.seller)
    _party(_cac(_cac(root, "AccountingCustomerParty"), "Party"), e.buyer)
    if e.delivery_date is not None:
        _cbc(_cac(root, "Delivery"), "ActualDeliveryDate", e.delivery_date.isoformat())


def _party(element: etree._Element, party: Party) -> None:
    if party.endpoint_id:
        _cbc(element, "EndpointID", party.endpoint_id, schemeID=party.endpoint_scheme or "")
    _cbc(_cac(element, "PartyName"), "Name", party.name)
    _address(_cac(element, "PostalAddress"), party)
    if party.vat_id:
        _tax_scheme(element, party.vat_id, "VAT")
    if party.legal_form:  # NO-R-002: "Foretaksregisteret" under the TAX scheme
        _tax_scheme(element, party.legal_form, "TAX")
    legal = _cac(element, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", party.name)
    if party.legal_id:
        scheme = {"schemeID": party.legal_id_scheme} if party.legal_id_scheme else {}
        _cbc(legal, "CompanyID", party.legal_id, **scheme)


def _address(element: etree._Element, party: Party) -> None:
    lines = list(party.address_lines)
    for name, text in zip(("StreetName", "AdditionalStreetName"), lines, strict=False):
        _cbc(element, name, text)
    if party.city:
        _cbc(element, "CityName", party.city)
    if party.postcode:
        _cbc(element, "PostalZone", party.postcode)
    if len(lines) > 2:  # BT-162: a third line; more would be lost, so they are joined
        _cbc(_cac(element, "AddressLine"), "Line", ", ".join(lines[2:]))
    if not party.country:
        raise NotAnEInvoice(f"{party.name} has no country code (BR-9, BR-11)")
    _cbc(_cac(element, "Country"), "IdentificationCode", party.country)


def _tax_scheme(element: etree._Element, company_id: str, scheme: str) -> None:
    tax_scheme = _cac(element, "PartyTaxScheme")
    _cbc(tax_scheme, "CompanyID", company_id)
    _cbc(_cac(tax_scheme, "TaxScheme"), "ID", scheme)


# --- payment -----------------------------------------------------------------------------------


def payment_account(e: EInvoice) -> tuple[str, str | None] | None:
    """The account to pay to and its BIC: the domestic account number for a buyer in the
    seller's country (what a Norwegian payer's bank takes with a KID), else the IBAN and BIC
    (a foreign payer), else whichever the seller has."""
    domestic = e.buyer.country is not None and e.buyer.country == e.seller.country
    if e.bank_account and (domestic or not e.iban):
        return e.bank_account, None
    if e.iban:
        return e.iban, e.bic
    return None


def _payment(root: etree._Element, e: EInvoice) -> None:
    """An invoice's payment means (code 30 with the KID and the account, BR-61) and its terms
    (BR-CO-25: a positive amount due needs a due date or terms). A credit note pays nothing
    to the seller: only its terms text."""
    account = payment_account(e) if e.kind == "invoice" else None
    if account is not None:
        means = _cac(root, "PaymentMeans")
        _cbc(means, "PaymentMeansCode", CREDIT_TRANSFER, name="Credit transfer")
        if e.kid:
            _cbc(means, "PaymentID", e.kid)
        financial = _cac(means, "PayeeFinancialAccount")
        _cbc(financial, "ID", account[0])
        if account[1]:
            _cbc(_cac(financial, "FinancialInstitutionBranch"), "ID", account[1])
    if e.payment_terms:
        _cbc(_cac(root, "PaymentTerms"), "Note", e.payment_terms)


# --- VAT and totals ----------------------------------------------------------------------------


def _tax_totals(root: etree._Element, e: EInvoice) -> None:
    total = _cac(root, "TaxTotal")
    _amount(total, "TaxAmount", e.vat_total, e.currency)
    for group in e.vat:
        _tax_subtotal(total, group, e.currency)
    if e.tax_currency and e.tax_currency != e.currency:
        if e.tax_currency_vat_total is None:
            raise NotAnEInvoice(f"{e.number}: no VAT total in {e.tax_currency} (BR-53, T7)")
        _amount(_cac(root, "TaxTotal"), "TaxAmount", e.tax_currency_vat_total, e.tax_currency)


def _tax_subtotal(total: etree._Element, group: VatGroup, currency: str) -> None:
    subtotal = _cac(total, "TaxSubtotal")
    _amount(subtotal, "TaxableAmount", group.taxable_amount, currency)
    _amount(subtotal, "TaxAmount", group.vat_amount, currency)
    _tax_category(subtotal, "TaxCategory", group.category, group.rate, exemption=True)


def _tax_category(
    parent: etree._Element, name: str, category: str, rate: Decimal, *, exemption: bool
) -> None:
    element = _cac(parent, name)
    _cbc(element, "ID", category)
    if category != "O":  # BR-O-05/BR-O-06: "not subject to VAT" has no rate
        _cbc(element, "Percent", number_text(rate))
    if exemption and category in EXEMPTIONS:
        code, reason = EXEMPTIONS[category]
        if code:
            _cbc(element, "TaxExemptionReasonCode", code)
        _cbc(element, "TaxExemptionReason", reason)
    _cbc(_cac(element, "TaxScheme"), "ID", "VAT")


def _monetary_total(root: etree._Element, e: EInvoice) -> None:
    totals = _cac(root, "LegalMonetaryTotal")
    _amount(totals, "LineExtensionAmount", e.net_total, e.currency)
    _amount(totals, "TaxExclusiveAmount", e.net_total, e.currency)
    _amount(totals, "TaxInclusiveAmount", e.total, e.currency)
    _amount(totals, "PayableAmount", e.payable, e.currency)


# --- lines -------------------------------------------------------------------------------------


def _line(root: etree._Element, e: EInvoice, line: Line) -> None:
    invoice = e.kind == "invoice"
    element = _cac(root, "InvoiceLine" if invoice else "CreditNoteLine")
    _cbc(element, "ID", line.line_id)
    if line.note:
        _cbc(element, "Note", line.note)
    quantity = "InvoicedQuantity" if invoice else "CreditedQuantity"
    _cbc(element, quantity, number_text(line.quantity), unitCode=line.unit_code)
    _amount(element, "LineExtensionAmount", line.amount, e.currency)
    pricing = line_pricing(line)
    if pricing.allowance:
        _line_allowance(element, pricing, e.currency)
    _item(_cac(element, "Item"), line)
    price = _cac(element, "Price")
    _cbc(price, "PriceAmount", price_text(pricing.net_price), currencyID=e.currency)
    if pricing.price_discount:
        charge = _cac(price, "AllowanceCharge")
        _cbc(charge, "ChargeIndicator", "false")
        # A unit price amount (BT-147, BT-148): its decimals as posted, so that the net price
        # is exactly base - discount (PEPPOL-EN16931-R046).
        _cbc(charge, "Amount", price_text(pricing.price_discount), currencyID=e.currency)
        _cbc(charge, "BaseAmount", price_text(pricing.gross_price), currencyID=e.currency)


def _line_allowance(element: etree._Element, pricing: Pricing, currency: str) -> None:
    charge = _cac(element, "AllowanceCharge")
    _cbc(charge, "ChargeIndicator", "false")
    _cbc(charge, "AllowanceChargeReasonCode", DISCOUNT)
    _cbc(charge, "AllowanceChargeReason", "Discount")
    if pricing.percent is not None:
        _cbc(charge, "MultiplierFactorNumeric", number_text(pricing.percent))
    _amount(charge, "Amount", pricing.allowance, currency)
    if pricing.percent is not None:
        _amount(charge, "BaseAmount", pricing.base, currency)


def _item(item: etree._Element, line: Line) -> None:
    _cbc(item, "Name", line.name)
    _cbc(_cac(item, "SellersItemIdentification"), "ID", line.item)
    _tax_category(item, "ClassifiedTaxCategory", line.category, line.rate, exemption=False)
    for serial in line.serials:  # S14: each registered unit
        _cbc(_cac(item, "ItemInstance"), "SerialID", serial)


class Pricing:
    """How a line's amount is stated (module docstring): net price per unit, the price's
    discount per unit, and a line allowance (with its percentage and base when it is one)."""

    def __init__(
        self,
        gross_price: Decimal,
        price_discount: Decimal = ZERO,
        allowance: Decimal = ZERO,
        percent: Decimal | None = None,
        base: Decimal = ZERO,
    ) -> None:
        self.gross_price = gross_price
        self.price_discount = price_discount
        self.net_price = gross_price - price_discount
        self.allowance = allowance
        self.percent = percent
        self.base = base


def line_pricing(line: Line) -> Pricing:
    """PEPPOL-EN16931-R120: quantity x net price - allowance = the line amount. The ERP's
    formula (rules.money.line_net_amount) is (price - discount per unit) x quantity less the
    discount percent, rounded: the discount per unit is the price's allowance, the percent a
    line allowance of base - amount. When the line amount is not that (a bundle's share, B8,
    T4), the net price is the amount per unit and nothing is discounted."""
    if line.unit_price is None or line.quantity <= 0:
        return _amount_per_unit(line)
    per_unit = line.discount_amount or ZERO
    net_price = line.unit_price - per_unit
    exact = net_price * line.quantity
    base = exact.quantize(CENT, ROUND_HALF_UP)
    allowance = base - line.amount
    if net_price < 0:
        return _amount_per_unit(line)
    if allowance == 0:
        return Pricing(line.unit_price, per_unit)
    percent = line.discount_percent
    if percent and allowance > 0:
        # R040: the percentage only when it gives the allowance (within its cent of rounding)
        stated = percent if abs(base * percent / 100 - allowance) <= CENT else None
        return Pricing(line.unit_price, per_unit, allowance, stated, base)
    return _amount_per_unit(line)


def _amount_per_unit(line: Line) -> Pricing:
    if line.quantity <= 0:
        raise NotAnEInvoice(f"line {line.line_id} ({line.item}): quantity {line.quantity}")
    return Pricing((line.amount / line.quantity).quantize(PRICE_QUANTUM, ROUND_HALF_UP))
