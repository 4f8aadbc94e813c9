"""E1-E3 on real postings (SQLite and PostgreSQL) through the Norwegian catalog: every invoice
and credit note of the matrix becomes an EHF / Peppol BIS 3.0 document that passes the
official EN 16931 and Peppol rules with no fatal finding (E2; the warnings accepted are
printed, run with -s), and whose totals and VAT groups are the PDF view's, the journal's and
the ledger's, to the cent (E3, D4). Negative controls prove the rules do fail: a wrong
supplier check digit gives NO-R-001, a changed PayableAmount BR-CO-16.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from docpost.pipeline.documents.einvoice_view import NoEInvoice
from docpost.reports.einvoice import invoice_xml
from tests.conftest import Runner, usmf_catalog
from tests.einvoice.conftest import (
    NO_ENDPOINT,
    NS,
    REVERSE_CHARGE,
    Case,
    Validator,
    einvoice_case,
    einvoice_catalog,
)
from tests.services.test_tax_postings import by_account, journal, sell, vouchers

D = Decimal
TIMES: dict[str, list[float]] = defaultdict(list)


def checked(run: Runner, number: str, validator: Validator) -> Case:
    """E2 and E3 for one posted journal: its e-invoice passes both rule sets with no fatal
    finding (warnings printed), and says the journal's, the PDF's and the ledger's figures."""
    started = time.perf_counter()
    case = einvoice_case(run, number)
    TIMES["generate (view + model + XML)"].append(time.perf_counter() - started)
    started = time.perf_counter()
    found = validator(case.xml)
    TIMES["validate (CEN + PEPPOL)"].append(time.perf_counter() - started)
    for finding in found:
        if not finding.fatal:
            print(f"{number} accepted warning: {finding}")
    assert [str(f) for f in found if f.fatal] == [], case.xml.decode()
    assert_e3(run, case)
    return case


def assert_e3(run: Runner, case: Case) -> None:
    """E3/D4: the e-invoice's totals and VAT groups equal the PDF view's and the journal's
    (show_journal), and its total the ledger's receivables (in NOK, T7)."""
    shown = journal(run, case.number)
    totals = case.view["totals"]
    assert totals is not None
    money = "cac:LegalMonetaryTotal/cbc:"
    # M6: a seller not VAT registered posts no VAT: the e-invoice states one O group of 0
    outside_vat = shown["vat_total"] is None
    net, vat, total = D(shown["net_total"]), D(shown["vat_total"] or 0), D(shown["total"])
    assert case.amounts(money + "LineExtensionAmount/text()") == [net] == [totals["net"]]
    assert case.amounts(money + "TaxExclusiveAmount/text()") == [net]
    assert case.amounts(money + "TaxInclusiveAmount/text()") == [total] == [totals["total"]]
    due = totals["total"] if outside_vat else totals.get("due")
    assert case.amounts(money + "PayableAmount/text()") == [total] == [due]
    assert (
        sum(case.amounts("cac:InvoiceLine/cbc:LineExtensionAmount/text()"))
        + sum(case.amounts("cac:CreditNoteLine/cbc:LineExtensionAmount/text()"))
        == net
    )
    currency = shown["currency"]
    tax_totals = case.tree.findall("cac:TaxTotal", NS)
    assert (
        D(tax_totals[0].findtext("cbc:TaxAmount", namespaces=NS)) == vat == (totals.get("vat") or 0)
    )
    groups: dict[tuple[str, Decimal], list[Decimal]] = defaultdict(lambda: [D(0), D(0), D(0)])
    for row in shown["vat"]:
        sums = groups[(row["category"], D(row["rate"]))]
        sums[0] += D(row["taxable_amount"])
        sums[1] += D(row["vat_amount"])
        sums[2] += D(row["company_vat_amount"])
    xml_groups = {
        (
            sub.findtext("cac:TaxCategory/cbc:ID", namespaces=NS),
            D(sub.findtext("cac:TaxCategory/cbc:Percent", namespaces=NS) or "0"),
        ): [
            D(sub.findtext(f"cbc:{name}", namespaces=NS)) for name in ("TaxableAmount", "TaxAmount")
        ]
        for sub in tax_totals[0].findall("cac:TaxSubtotal", NS)
    }
    if outside_vat:
        assert not groups and case.view.get("vat") is None
        assert xml_groups == {("O", D(0)): [net, D(0)]}
    else:
        assert xml_groups == {key: sums[:2] for key, sums in groups.items()}
        assert xml_groups == {
            (g["category"], g["rate"]): [g["taxable_amount"], g["vat_amount"]]
            for g in case.view.get("vat") or []
        }
    if currency != "NOK":  # T7: the VAT also in NOK, the journal's
        nok = sum((sums[2] for sums in groups.values()), D(0))
        assert case.text("cbc:TaxCurrencyCode/text()") == ["NOK"]
        assert [t.findtext("cbc:TaxAmount", namespaces=NS) for t in tax_totals[1:]] == [
            f"{nok:.2f}"
        ]
        assert tax_totals[1].find("cbc:TaxAmount", NS).get("currencyID") == "NOK"
        assert nok == totals.get("vat_company")
    else:
        assert len(tax_totals) == 1 and case.text("cbc:TaxCurrencyCode") == []
        [entries] = vouchers(run, case.number).values()
        sign = 1 if shown["kind"] == "invoice" else -1
        assert by_account(entries)["1200"] == sign * total  # D4: receivables incl. VAT


@pytest.fixture(scope="module", autouse=True)
def _report_times() -> Any:
    yield
    for what, times in TIMES.items():
        if times:
            mean = sum(times) / len(times) * 1000
            print(
                f"\n{what}: {len(times)} e-invoices, mean {mean:.1f} ms, max {max(times) * 1000:.1f} ms"
            )


# --- the matrix --------------------------------------------------------------------------------


def test_e1_e2_domestic_invoice_at_25_percent(shop: Runner, validator: Validator) -> None:
    """E1: BIS 3.0 ids, the seller's endpoint 0192 + organisation number, NO…MVA and
    Foretaksregisteret (NO-R-001, NO-R-002), the buyer's endpoint, credit transfer (30) with
    the KID (P2) and the domestic account, the due date (P1)."""
    sell(shop, "SO-1", ("KNIV-1", "2", "249.00"))
    number = shop.ok("post_invoice", {"order": "SO-1"})["journal"]
    case = checked(shop, number, validator)
    shown = journal(shop, number)
    assert case.text("cbc:CustomizationID/text()") == [
        "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
    ]
    assert case.text("cbc:ProfileID/text()") == ["urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"]
    seller = "cac:AccountingSupplierParty/cac:Party/"
    assert case.text(seller + "cbc:EndpointID/@schemeID") == ["0192"]
    assert case.text(seller + "cbc:EndpointID/text()") == ["923609016"]
    assert case.text(seller + "cac:PartyTaxScheme/cbc:CompanyID/text()") == [
        "NO923609016MVA",
        "Foretaksregisteret",
    ]
    assert case.text(seller + "cac:PartyTaxScheme/cac:TaxScheme/cbc:ID/text()") == ["VAT", "TAX"]
    assert case.text("cac:AccountingCustomerParty/cac:Party/cbc:EndpointID/text()") == ["912345602"]
    assert case.text("cac:PaymentMeans/cbc:PaymentMeansCode/text()") == ["30"]
    assert case.text("cac:PaymentMeans/cbc:PaymentID/text()") == [shown["kid"]]
    assert case.text("cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID/text()") == ["12345678903"]
    assert case.text("cbc:DueDate/text()") == [shown["due_date"]]
    assert case.text("cac:OrderReference/cbc:SalesOrderID/text()") == ["SO-1"]
    assert case.amounts("cac:TaxTotal/cbc:TaxAmount/text()") == [D("124.50")]


def test_e2_t4_mixed_rates_in_one_bundle_and_across_lines(
    shop: Runner, validator: Validator
) -> None:
    """T4: the gift basket at 15 % and 25 % is two lines of the bundle (unique ids), beside a
    knife at 25 % and a zero-rated book (Z): three VAT groups."""
    sell(
        shop, "SO-1", ("GAVE-1", "3", "438.00"), ("KNIV-1", "1", "249.00"), ("BOK-1", "1", "349.00")
    )
    number = shop.ok("post_invoice", {"order": "SO-1"})["journal"]
    case = checked(shop, number, validator)
    assert case.text("cac:InvoiceLine/cbc:ID/text()") == ["1", "1-2", "2", "3"]
    assert case.text("cac:InvoiceLine/cac:Item/cbc:Name/text()")[:2] == [
        "Gavekurv: fjellost og ostekniv (25\xa0%)",
        "Gavekurv: fjellost og ostekniv (15\xa0%)",
    ]
    assert case.text("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:ID/text()") == [
        "S",
        "S",
        "Z",
    ]


def test_e2_b1_t4_bundle_at_one_rate_is_its_parent_line(shop: Runner, validator: Validator) -> None:
    """D1/T4: the laptop bundle's components share 25 %: one parent line of 2 bundles."""
    sell(shop, "SO-1", ("PCPAKKE", "2", "2300.00"))
    number = shop.ok("post_invoice", {"order": "SO-1"})["journal"]
    case = checked(shop, number, validator)
    assert case.text("cac:InvoiceLine/cac:Item/cac:SellersItemIdentification/cbc:ID/text()") == [
        "PCPAKKE"
    ]
    assert case.text("cac:InvoiceLine/cbc:InvoicedQuantity/text()") == ["2"]


def test_e2_b8_partial_invoices_one_of_three(shop: Runner, validator: Validator) -> None:
    """B8/T5: three invoices of one bundle of 3 (one each), each valid on its own: the last
    takes the remainder, so a line's amount is not price x quantity (net price per unit)."""
    sell(shop, "SO-1", ("PCPAKKE", "3", "2299.99"))
    one_each = [{"line": 1, "item": i, "quantity": "1"} for i in ("PC", "STOTTE", "KABEL")]
    amounts = []
    for _ in range(3):
        number = shop.ok("post_invoice", {"order": "SO-1", "lines": one_each})["journal"]
        amounts += checked(shop, number, validator).amounts(
            "cac:InvoiceLine/cbc:LineExtensionAmount/text()"
        )
    assert sum(amounts) == D("6899.97")


def test_e2_full_and_partial_credit_notes(shop: Runner, validator: Validator) -> None:
    """D3/T5: a full credit note of a mixed invoice (bundles at two rates) and a partial one
    of a single line, each a CreditNote (381) referring to its invoice and its date (BT-25,
    BT-26), its lines the credited components."""
    sell(shop, "SO-1", ("GAVE-1", "1", "438.00"), ("PCPAKKE", "1", "2300.00"))
    invoice = shop.ok("post_invoice", {"order": "SO-1"})["journal"]
    checked(shop, invoice, validator)
    full = checked(shop, shop.ok("post_credit_note", {"invoice": invoice})["journal"], validator)
    assert etree.QName(full.tree).localname == "CreditNote"
    assert full.text("cbc:CreditNoteTypeCode/text()") == ["381"]
    reference = "cac:BillingReference/cac:InvoiceDocumentReference/"
    assert full.text(reference + "cbc:ID/text()") == [invoice]
    assert full.text(reference + "cbc:IssueDate/text()") == [
        journal(shop, invoice)["document_date"]
    ]
    assert full.text("cac:CreditNoteLine/cac:Item/cac:SellersItemIdentification/cbc:ID/text()") == [
        "OST-1",
        "KNIV-1",
        "PC",
        "STOTTE",
        "KABEL",
    ]
    assert full.amounts("cac:LegalMonetaryTotal/cbc:PayableAmount/text()") == [D("3403.60")]

    sell(shop, "SO-2", ("KNIV-1", "2", "249.00"), ("OST-1", "1", "189.00"))
    invoice = shop.ok("post_invoice", {"order": "SO-2"})["journal"]
    partial = shop.ok(
        "post_credit_note", {"invoice": invoice, "lines": [{"line": 1, "quantity": "1"}]}
    )["journal"]
    case = checked(shop, partial, validator)
    assert case.text("cac:CreditNoteLine/cbc:CreditedQuantity/text()") == ["1"]
    assert case.amounts("cac:LegalMonetaryTotal/cbc:PayableAmount/text()") == [D("311.25")]


def test_e2_discounts_percent_and_amount(shop: Runner, validator: Validator) -> None:
    """Discounts as the rules allow: a discount per unit is the price's allowance (net price =
    base - discount, PEPPOL-EN16931-R046), a discount percent a line allowance (reason 95)
    with its percentage and base (R040); on a bundle too, and both on one line (R120)."""
    shop.ok(
        "upsert_order",
        {
            "order": "SO-1",
            "customer": "NO-1001",
            "lines": [
                {"line": 1, "item": "KNIV-1", "quantity": "3", "unit_price": "249.00",
                 "discount_percent": "12.5"},
                {"line": 2, "item": "OST-1", "quantity": "2", "unit_price": "189.00",
                 "discount_amount": "10.00"},
                {"line": 3, "item": "KURS-1", "quantity": "1", "unit_price": "4500.00",
                 "discount_percent": "3.33", "discount_amount": "100.00"},
                {"line": 4, "item": "GAVE-1", "quantity": "2", "unit_price": "438.00",
                 "discount_percent": "10"},
                {"line": 5, "item": "PCPAKKE", "quantity": "1", "unit_price": "2300.00",
                 "discount_percent": "5"},
            ],
        },
    )  # fmt: skip
    shop.ok("confirm_order", {"order": "SO-1"})
    number = shop.ok("post_invoice", {"order": "SO-1"})["journal"]
    case = checked(shop, number, validator)
    line = "cac:InvoiceLine[cbc:ID='{}']/"
    assert case.text(line.format(1) + "cac:AllowanceCharge/cbc:MultiplierFactorNumeric/text()") == [
        "12.5"
    ]
    assert case.amounts(line.format(1) + "cac:AllowanceCharge/cbc:Amount/text()") == [
        D("93.37")
    ]  # 747.00 - 653.63 (rounded half up)
    assert case.text(line.format(2) + "cac:Price/cac:AllowanceCharge/cbc:Amount/text()") == [
        "10.00"
    ]
    assert case.text(line.format(2) + "cac:Price/cbc:PriceAmount/text()") == ["179.00"]
    assert case.text(line.format(3) + "cac:AllowanceCharge/cbc:MultiplierFactorNumeric/text()") == [
        "3.33"
    ]
    assert case.text(line.format(5) + "cac:AllowanceCharge/cbc:MultiplierFactorNumeric/text()") == [
        "5"
    ]


def test_e2_s14_serials_on_the_item_with_blanks_in_the_note(
    shop: Runner, validator: Validator
) -> None:
    """S14/D5: registered serials as Item/ItemInstance/SerialID; a blank registration has no
    serial to send, so the line's note says "1 × Ikke lesbart" (the PDF's "not readable")."""
    sell(shop, "SO-1", ("HOVEL-1", "3", "1290.00"))
    shop.ok(
        "post_packing_slip",
        {"order": "SO-1", "lines": [{"line": 1, "quantity": "3", "serials": ["H-1", "H-2"],
                                     "not_readable": 1}]},
    )  # fmt: skip
    number = shop.ok("post_invoice", {"order": "SO-1"})["journal"]
    case = checked(shop, number, validator)
    assert case.text("cac:InvoiceLine/cac:Item/cac:ItemInstance/cbc:SerialID/text()") == [
        "H-1",
        "H-2",
    ]
    assert case.text("cac:InvoiceLine/cbc:Note/text()") == ["Serienumre: 1 × Ikke lesbart"]
    credit = shop.ok("post_credit_note", {"invoice": number})["journal"]
    assert checked(shop, credit, validator).text(
        "cac:CreditNoteLine/cac:Item/cac:ItemInstance/cbc:SerialID/text()"
    ) == ["H-1", "H-2"]


def test_e2_t7_usd_invoice_with_its_vat_in_nok(shop: Runner, validator: Validator) -> None:
    """T7: a USD invoice at 10.5 NOK per USD: TaxCurrencyCode NOK and a second TaxTotal of
    262.50 NOK (BR-53, PEPPOL-EN16931-R054); a foreign payer gets the IBAN and BIC."""
    sell(shop, "SO-1", ("KNIV-1", "1", "100.00"), currency="USD", exchange_rate="10.5")
    number = shop.ok("post_invoice", {"order": "SO-1"})["journal"]
    case = checked(shop, number, validator)
    assert case.text("cbc:DocumentCurrencyCode/text()") == ["USD"]
    assert case.amounts("cac:TaxTotal/cbc:TaxAmount/text()") == [D("25.00"), D("262.50")]
    credit = shop.ok("post_credit_note", {"invoice": number})["journal"]
    checked(shop, credit, validator)


def test_e2_export_category_g_with_its_exemption_reason(shop: Runner, validator: Validator) -> None:
    """M8 export treatment: SE-2001's knife is category G at 0 % with VATEX-EU-G and its
    reason (BR-G-10), in SEK with the VAT (0) also in NOK; the buyer's Swedish organisation
    number addresses it (0007) and its VAT id is stated; the IBAN and BIC are its account."""
    sell(shop, "SO-1", ("KNIV-1", "1", "100.00"), customer="SE-2001", exchange_rate="0.9876")
    number = shop.ok("post_invoice", {"order": "SO-1"})["journal"]
    case = checked(shop, number, validator)
    category = "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/"
    assert case.text(category + "cbc:ID/text()") == ["G"]
    assert case.text(category + "cbc:TaxExemptionReasonCode/text()") == ["VATEX-EU-G"]
    buyer = "cac:AccountingCustomerParty/cac:Party/"
    assert case.text(buyer + "cbc:EndpointID/@schemeID") == ["0007"]
    assert case.text(buyer + "cac:PartyTaxScheme/cbc:CompanyID/text()") == ["SE556123456701"]
    account = "cac:PaymentMeans/cac:PayeeFinancialAccount/"
    assert case.text(account + "cbc:ID/text()") == ["NO7112345678903"]
    assert case.text(account + "cac:FinancialInstitutionBranch/cbc:ID/text()") == ["DNBANOKKXXX"]


def test_e2_reverse_charge_category_ae(shop: Runner, validator: Validator) -> None:
    """M8 reverse charge: the knife maps to code 51 (AE, 0 %) with VATEX-EU-AE (BR-AE-10);
    the buyer's legal registration id is there (BR-AE-02)."""
    sell(shop, "SO-1", ("KNIV-1", "4", "249.00"), customer=REVERSE_CHARGE)
    number = shop.ok("post_invoice", {"order": "SO-1"})["journal"]
    case = checked(shop, number, validator)
    category = "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/"
    assert case.text(category + "cbc:ID/text()") == ["AE"]
    assert case.text(category + "cbc:TaxExemptionReasonCode/text()") == ["VATEX-EU-AE"]
    assert case.amounts("cac:TaxTotal/cbc:TaxAmount/text()") == [D("0.00")]


def test_e1_customer_without_peppol_endpoint_uses_the_buyer_reference(
    shop: Runner, validator: Validator
) -> None:
    """A business without Peppol endpoint: its EHF address is its organisation number (0192,
    PEPPOL-EN16931-R010) and the order's buyer reference is the BuyerReference (R003)."""
    sell(
        shop, "SO-1", ("OST-1", "2", "189.00"), customer=NO_ENDPOINT, buyer_reference="Innkjøp 4411"
    )
    number = shop.ok("post_invoice", {"order": "SO-1"})["journal"]
    case = checked(shop, number, validator)
    assert case.text("cbc:BuyerReference/text()") == ["Innkjøp 4411"]
    assert case.text("cac:AccountingCustomerParty/cac:Party/cbc:EndpointID/text()") == ["912345610"]


# --- who gets none (E1) and the negative controls -------------------------------------------------


def test_e1_a_consumer_without_any_electronic_address_gets_none(shop: Runner) -> None:
    """NO-1002 (a person: no endpoint, no organisation number) cannot be addressed: the
    error says so (Peppol wants the buyer's electronic address, R010)."""
    sell(shop, "SO-1", ("OST-1", "1", "189.00"), customer="NO-1002")
    number = shop.ok("post_invoice", {"order": "SO-1"})["journal"]
    with pytest.raises(NoEInvoice) as error:
        einvoice_case(shop, number)
    assert str(error.value) == (
        f"{number}: customer NO-1002 has no Peppol endpoint nor an organisation number to "
        "address an e-invoice to (PEPPOL-EN16931-R010)"
    )


def test_e1_a_point_of_sale_receipt_gets_none(shop: Runner) -> None:
    """T6: a POS sale is paid at the till (a receipt, gross lines): no e-invoice."""
    number = shop.ok(
        "post_pos_sale",
        {"store": "OSLO", "lines": [{"item": "KNIV-1", "quantity": "1", "unit_price": "499.00"}]},
        actor="pos-1",
    )["journal"]
    with pytest.raises(NoEInvoice) as error:
        einvoice_case(shop, number)
    assert str(error.value) == f"{number}: a point-of-sale sale is paid at the till (T6)"


def test_e1_only_invoices_and_credit_notes(shop: Runner) -> None:
    sell(shop, "SO-1", ("KNIV-1", "1", "249.00"))
    number = shop.ok("post_packing_slip", {"order": "SO-1"})["journal"]
    with pytest.raises(NoEInvoice) as error:
        einvoice_case(shop, number)
    assert str(error.value) == f"{number}: only invoices and credit notes (E1)"


def test_e1_a_company_without_peppol_endpoint_gets_none(run: Runner) -> None:
    """The USMF example has no company (no endpoint, no VAT): its invoices get no e-invoice."""
    run.ok("upsert_catalog", usmf_catalog())
    run.ok(
        "upsert_order",
        {"order": "SO-1", "customer": "US-004",
         "lines": [{"line": 1, "item": "Support", "quantity": "1", "unit_price": "500.00"}]},
    )  # fmt: skip
    run.ok("confirm_order", {"order": "SO-1"})
    number = run.ok("post_invoice", {"order": "SO-1"})["journal"]
    with pytest.raises(NoEInvoice) as error:
        einvoice_case(run, number)
    assert str(error.value) == f"{number}: the seller has no Peppol endpoint (E1)"


def test_e2_negative_control_wrong_supplier_check_digit_gives_no_r_001(
    shop: Runner, validator: Validator
) -> None:
    """NO-R-001 fails when the seller's organisation number has a wrong check digit (the
    catalog refuses one, so the posted model is changed after the fact)."""
    sell(shop, "SO-1", ("KNIV-1", "1", "249.00"))
    case = checked(shop, shop.ok("post_invoice", {"order": "SO-1"})["journal"], validator)
    wrong = "923609017"
    seller = dataclasses.replace(
        case.model.seller, vat_id=f"NO{wrong}MVA", legal_id=wrong, endpoint_id=wrong
    )
    found = validator(invoice_xml(dataclasses.replace(case.model, seller=seller)))
    assert "NO-R-001" in {f.rule for f in found if f.fatal}, [str(f) for f in found]


def test_e2_negative_control_changed_payable_amount_gives_br_co_16(
    shop: Runner, validator: Validator
) -> None:
    sell(shop, "SO-1", ("KNIV-1", "1", "249.00"))
    case = checked(shop, shop.ok("post_invoice", {"order": "SO-1"})["journal"], validator)
    tree = case.tree
    payable = tree.find("cac:LegalMonetaryTotal/cbc:PayableAmount", NS)
    payable.text = str(D(payable.text) + 1)
    found = validator(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))
    assert {f.rule for f in found if f.fatal} == {"BR-CO-16"}, [str(f) for f in found]


def test_e1_a_seller_not_vat_registered_says_category_o(run: Runner, validator: Validator) -> None:
    """M6: a company that is not VAT registered posts no VAT (its PDF prints none); its
    e-invoice says "not subject to VAT" (O, VATEX-EU-O, no rate, BR-O-*) on every line and
    has no seller VAT id, only its organisation number and Foretaksregisteret."""
    data = einvoice_catalog()
    data["company"]["vat_registered"] = False
    run.ok("upsert_catalog", data)
    sell(run, "SO-1", ("KNIV-1", "1", "249.00"), ("GAVE-1", "1", "438.00"))
    number = run.ok("post_invoice", {"order": "SO-1"})["journal"]
    case = checked(run, number, validator)
    assert set(case.text("//cac:ClassifiedTaxCategory/cbc:ID/text()")) == {"O"}
    assert case.text("//cac:ClassifiedTaxCategory/cbc:Percent") == []
    assert case.text("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:ID/text()") == ["O"]
    assert case.text(
        "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID/text()"
    ) == ["Foretaksregisteret"]
    assert case.view.get("vat") is None  # the PDF prints no VAT breakdown


# --- any order: a property ---------------------------------------------------------------------

_orders = itertools.count(1)
PLAIN = st.sampled_from([("KNIV-1", "249.00"), ("OST-1", "189.00"), ("BOK-1", "349.00"),
                         ("KURS-1", "4500.00")])  # fmt: skip
ANY = st.sampled_from([("KNIV-1", "249.00"), ("OST-1", "189.00"), ("GAVE-1", "438.00"),
                       ("PCPAKKE", "2299.99"), ("HOVEL-1", "1290.00")])  # fmt: skip
LINE = st.tuples(
    st.integers(min_value=1, max_value=4),
    st.sampled_from(["0", "12.5", "3.33", "100"]),
    st.sampled_from(["0", "10.00", "0.01"]),
)
CUSTOMERS = [("NO-1001", {}), (NO_ENDPOINT, {"buyer_reference": "Ref 1"}),
             (REVERSE_CHARGE, {}), ("SE-2001", {"exchange_rate": "0.9876"}),
             ("NO-1001", {"currency": "USD", "exchange_rate": "10.5"})]  # fmt: skip


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    first=st.tuples(PLAIN, LINE),
    others=st.lists(st.tuples(ANY, LINE), max_size=3),
    customer=st.sampled_from(range(len(CUSTOMERS))),
    credit_all=st.booleans(),
)
def test_e2_e3_property_any_order_its_invoice_and_credit_note(
    shop: Runner,
    validator: Validator,
    first: tuple[tuple[str, str], tuple[int, str, str]],
    others: list[tuple[tuple[str, str], tuple[int, str, str]]],
    customer: int,
    credit_all: bool,
) -> None:
    """E2/E3 for random orders: items at every rate and bundles, quantities, discounts percent
    (up to 100 %) and per unit, every kind of buyer and currency; the invoice and a whole or
    partial credit note of it pass both rule sets and say the journal's figures."""
    order = f"SO-P{next(_orders)}"
    code, header = CUSTOMERS[customer]
    lines = []
    for n, ((item, price), (qty, percent, per_unit)) in enumerate([first, *others], start=1):
        lines.append({"line": n, "item": item, "quantity": str(qty), "unit_price": price,
                      "discount_percent": percent, "discount_amount": per_unit})  # fmt: skip
    shop.ok("upsert_order", {"order": order, "customer": code, "lines": lines, **header})
    shop.ok("confirm_order", {"order": order})
    if any(ln["item"] == "HOVEL-1" for ln in lines):
        # S6: a packing slip registers the serials (blanks allowed); the invoice then
        # invoices what it shipped: the plain lines (line 1 among them), not the bundles
        shipped = [
            {"line": ln["line"], "quantity": ln["quantity"]}
            | ({"not_readable": int(ln["quantity"])} if ln["item"] == "HOVEL-1" else {})
            for ln in lines
            if ln["item"] not in ("GAVE-1", "PCPAKKE")
        ]
        shop.ok("post_packing_slip", {"order": order, "lines": shipped})
    invoice = shop.ok("post_invoice", {"order": order})["journal"]
    checked(shop, invoice, validator)
    credit_lines = {} if credit_all else {"lines": [{"line": 1, "quantity": "1"}]}
    credit = shop.ok("post_credit_note", {"invoice": invoice, **credit_lines})["journal"]
    checked(shop, credit, validator)
