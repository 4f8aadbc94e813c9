"""The e-invoice writer on a hand-built model and the rules runner, without a database
(DOMAIN.md E1, E2): the shared valid examples pass our runner (it is the harness the matrix
trusts), a hand-built Norwegian invoice and credit note pass both rule sets, how a line's
discounts are stated (PEPPOL-EN16931-R040, R046, R120), the errors' messages, and Saxon made
per process: never at import time, a new one after a fork.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import multiprocessing
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from docpost.reports.einvoice import (
    EInvoice,
    Line,
    NotAnEInvoice,
    Party,
    VatGroup,
    invoice_xml,
    validation,
)
from docpost.reports.einvoice.ubl import line_pricing
from docpost.reports.einvoice.validation import RulesNotFound, findings, rule_files, summary
from tests.einvoice.conftest import NS, Validator, load_rules

D = Decimal

SELLER = Party(
    name="Fjellost og Stål AS",
    address_lines=("Karl Johans gate 12",),
    postcode="0154",
    city="OSLO",
    country="NO",
    endpoint_scheme="0192",
    endpoint_id="923609016",
    vat_id="NO923609016MVA",
    legal_id="923609016",
    legal_id_scheme="0192",
    legal_form="Foretaksregisteret",
)
BUYER = Party(
    name="Bergen Matsenter AS",
    address_lines=("Strandkaien 2", "Bygg B", "3. etasje", "Rom 301"),
    postcode="5013",
    city="BERGEN",
    country="NO",
    endpoint_scheme="0192",
    endpoint_id="912345602",
    legal_id="912345602",
    legal_id_scheme="0192",
)


def hand_built(kind: str = "invoice") -> EInvoice:
    """A Norwegian invoice: a knife at 25 % with 12.5 % off, cheese with 10.00 off per unit
    (15 %), a bundle's share whose amount is not price x quantity, and a book at 0 % (Z)."""
    lines = (
        Line("1", "KNIV-1", "Ostekniv", D(3), "EA", D("653.63"), "S", D(25), D("249.00"),
             discount_percent=D("12.5"), serials=("K-1", "K-2"), blank_serials=1,
             note="Serienumre: 1 × Ikke lesbart"),
        Line("2", "OST-1", "Fjellost", D(2), "EA", D("358.00"), "S", D(15), D("189.00"),
             discount_amount=D("10.00")),
        Line("3", "GAVE-1", "Gavekurv (15 %)", D(7), "EA", D("750.00"), "S", D(15), D("107.14")),
        Line("4", "BOK-1", "Boka om norsk ost", D(1), "EA", D("349.00"), "Z", D(0), D("349.00")),
    )  # fmt: skip
    vat = (
        VatGroup("S", D(25), D("653.63"), D("163.41")),
        VatGroup("S", D(15), D("1108.00"), D("166.20")),
        VatGroup("Z", D(0), D("349.00"), D("0.00")),
    )
    net = sum((ln.amount for ln in lines), D(0))
    total = net + D("329.61")
    return EInvoice(
        kind=kind,  # type: ignore[arg-type]
        number="INV-000001" if kind == "invoice" else "CN-000001",
        issue_date=dt.date(2026, 3, 2),
        currency="NOK",
        seller=SELLER,
        buyer=BUYER,
        lines=lines,
        vat=vat,
        net_total=net,
        vat_total=D("329.61"),
        total=total,
        payable=total,
        due_date=dt.date(2026, 4, 1),
        delivery_date=dt.date(2026, 3, 1),
        order_reference="SO-1",
        kid="0000018",
        bank_account="12345678903",
        iban="NO7112345678903",
        bic="DNBANOKKXXX",
        payment_terms="30 dager netto",
        credited_invoice="INV-000001" if kind == "credit_note" else None,
        credited_invoice_date=dt.date(2026, 3, 1) if kind == "credit_note" else None,
        notes=("Takk for handelen.",),
    )


def fatal(validator: Validator, xml: bytes) -> list[str]:
    return [str(f) for f in validator(xml) if f.fatal]


# --- the harness -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("example", "warnings"),
    [
        ("Norwegian-example-1.xml", ["UBL-CR-679"]),
        ("base-example.xml", []),
        ("base-creditnote-correction.xml", []),
    ],
)
def test_e2_the_shared_valid_examples_pass_our_runner(
    rules: Path, validator: Validator, example: str, warnings: list[str]
) -> None:
    """The official valid examples pass with 0 fatal (the Norwegian one with CEN's one
    warning, as ../shared/einvoice/README.md says): the runner reads SVRL right."""
    found = validator((rules / "examples" / example).read_bytes())
    assert [f.rule for f in found if f.fatal] == []
    assert [f.rule for f in found if not f.fatal] == warnings


def test_e2_hand_built_invoice_and_credit_note_pass_both_rule_sets(validator: Validator) -> None:
    for kind in ("invoice", "credit_note"):
        xml = invoice_xml(hand_built(kind))
        assert fatal(validator, xml) == [], xml.decode()
        accepted = [f.rule for f in validator(xml) if not f.fatal]
        print(f"{kind}: accepted warnings {accepted}")
        assert accepted == ["UBL-CR-622"]  # serials on the item (S14)


def test_e1_document_shape(validator: Validator) -> None:
    """Invoice vs CreditNote: root, type code, quantities, a credit note's BillingReference
    and no payment means (the seller pays nothing in); one note (PEPPOL-EN16931-R002); a 4th
    address line joined into AddressLine (BT-162)."""
    invoice = etree.fromstring(invoice_xml(hand_built()))
    credit = etree.fromstring(invoice_xml(hand_built("credit_note")))
    assert (etree.QName(invoice).localname, etree.QName(credit).localname) == (
        "Invoice",
        "CreditNote",
    )
    assert invoice.xpath("cbc:InvoiceTypeCode/text()", namespaces=NS) == ["380"]
    assert credit.xpath("cbc:CreditNoteTypeCode/text()", namespaces=NS) == ["381"]
    assert credit.xpath("cac:CreditNoteLine/cbc:CreditedQuantity/text()", namespaces=NS)[0] == "3"
    assert credit.xpath(
        "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID/text()", namespaces=NS
    ) == ["INV-000001"]
    assert credit.xpath("cac:PaymentMeans", namespaces=NS) == []
    assert credit.xpath("cbc:DueDate", namespaces=NS) == []
    assert invoice.xpath("cbc:Note/text()", namespaces=NS) == ["Takk for handelen."]
    assert invoice.xpath(
        "cac:AccountingCustomerParty//cac:AddressLine/cbc:Line/text()", namespaces=NS
    ) == ["3. etasje, Rom 301"]


# --- lines: how discounts are stated -----------------------------------------------------------


def _line(**kw: object) -> Line:
    base = Line("1", "X", "X", D(3), "EA", D("747.00"), "S", D(25), D("249.00"))
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def test_r120_a_plain_line_is_price_times_quantity() -> None:
    pricing = line_pricing(_line())
    assert (pricing.net_price, pricing.price_discount, pricing.allowance) == (D("249.00"), 0, 0)


def test_r040_a_discount_percent_is_a_line_allowance_with_its_percentage_and_base() -> None:
    pricing = line_pricing(_line(amount=D("653.63"), discount_percent=D("12.5")))
    assert (pricing.allowance, pricing.percent, pricing.base) == (D("0.37") + 93, D("12.5"), 747)


def test_r046_a_discount_per_unit_is_the_price_allowance() -> None:
    pricing = line_pricing(_line(amount=D("717.00"), discount_amount=D("10.00")))
    assert (pricing.gross_price, pricing.price_discount, pricing.net_price) == (249, 10, 239)
    assert pricing.allowance == 0


def test_r040_a_percentage_that_does_not_give_the_allowance_is_left_out() -> None:
    """B8: a partial bundle's amount is a share, not the discount formula's: the allowance is
    stated without a percentage that would not give it (R040 would fail)."""
    pricing = line_pricing(_line(amount=D("600.00"), discount_percent=D("12.5")))
    assert (pricing.allowance, pricing.percent) == (D("147.00"), None)


def test_r120_an_amount_that_is_no_formula_is_stated_per_unit() -> None:
    """T4: a bundle's share at one rate (750.00 for 7 bundles) is not a price x quantity: the
    net price is the amount per unit, to 6 decimals (R120 allows 0.02)."""
    pricing = line_pricing(_line(quantity=D(7), amount=D("750.00"), unit_price=D("107.14")))
    assert (pricing.net_price, pricing.allowance) == (D("107.142857"), 0)
    assert abs(pricing.net_price * 7 - D("750.00")) <= D("0.02")


# --- errors ------------------------------------------------------------------------------------


def test_e1_errors_name_what_is_missing() -> None:
    no_country = dataclasses.replace(hand_built(), buyer=dataclasses.replace(BUYER, country=None))
    with pytest.raises(NotAnEInvoice) as error:
        invoice_xml(no_country)
    assert str(error.value) == "Bergen Matsenter AS has no country code (BR-9, BR-11)"
    foreign = dataclasses.replace(hand_built(), currency="USD", tax_currency="NOK")
    with pytest.raises(NotAnEInvoice) as error:
        invoice_xml(foreign)
    assert str(error.value) == "INV-000001: no VAT total in NOK (BR-53, T7)"
    with pytest.raises(NotAnEInvoice) as error:
        invoice_xml(dataclasses.replace(hand_built(), kind="packing_slip"))  # type: ignore[arg-type]
    assert str(error.value) == "INV-000001: no e-invoice for 'packing_slip'"


def test_e2_a_rules_folder_without_the_stylesheets(tmp_path: Path) -> None:
    with pytest.raises(RulesNotFound) as error:
        rule_files(tmp_path)
    assert str(error.value) == (
        f"e-invoice rules not found: {tmp_path / 'CEN-EN16931-UBL.xslt'}, "
        f"{tmp_path / 'PEPPOL-EN16931-UBL.xslt'}"
    )


def test_e2_missing_rules_fail_in_ci_and_skip_outside(tmp_path: Path) -> None:
    """CI=true can never pass by skipping the e-invoice tests (tests/conftest.py's rule)."""
    with pytest.raises(pytest.fail.Exception, match="CI=true: the e-invoice tests must run"):
        load_rules(tmp_path, in_ci=True)
    with pytest.raises(pytest.skip.Exception, match="e-invoice rules not found"):
        load_rules(tmp_path, in_ci=False)


def test_svrl_failed_asserts_become_findings_a_missing_flag_is_fatal() -> None:
    svrl = """<svrl:schematron-output xmlns:svrl="http://purl.oclc.org/dsdl/svrl">
      <svrl:failed-assert id="BR-CO-16" location="/Invoice"><svrl:text>
        Amount due   for payment</svrl:text></svrl:failed-assert>
      <svrl:failed-assert id="UBL-CR-622" flag="warning"><svrl:text>x</svrl:text></svrl:failed-assert>
      <svrl:successful-report id="NOT-A-FINDING"><svrl:text>y</svrl:text></svrl:successful-report>
    </svrl:schematron-output>"""
    found = findings("CEN", svrl)
    assert [(f.rule, f.flag, f.fatal, f.message) for f in found] == [
        ("BR-CO-16", "fatal", True, "Amount due for payment"),
        ("UBL-CR-622", "warning", False, "x"),
    ]
    assert str(found[0]) == "CEN fatal BR-CO-16: Amount due for payment"
    assert summary(found) == "CEN fatal BR-CO-16: Amount due for payment"  # no warning
    assert summary(found[1:]) == ""


# --- Saxon per process -------------------------------------------------------------------------


def test_saxon_is_not_loaded_at_import_time() -> None:
    """Importing the validator (as a worker does before its pool forks) loads no Saxon."""
    code = (
        "import sys, docpost.reports.einvoice.validation, docpost.reports.einvoice; "
        "print('saxonche' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _validate_in_child(rules: str, xml: bytes, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    found = validation.validate(xml, rules)
    queue.put((validation._saxon is not None and validation._saxon.pid, [f.rule for f in found]))


def test_saxon_after_a_fork_is_the_child_s_own(rules: Path, validator: Validator) -> None:
    """A processor made before a fork is never used after it (factur-x #77): the child makes
    its own (its pid), and validates."""
    xml = invoice_xml(hand_built())
    assert fatal(validator, xml) == []  # the parent's processor exists now
    parent = validation._saxon
    assert parent is not None
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_validate_in_child, args=(str(rules), xml, queue))
    child.start()
    pid, rules_failed = queue.get(timeout=120)
    child.join(timeout=60)
    assert child.exitcode == 0
    assert pid == child.pid != parent.pid
    assert rules_failed == ["UBL-CR-622"]
    assert validation._saxon is parent  # the parent's own is untouched
