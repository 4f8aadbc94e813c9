"""Master data checked at load for what invoicing will need (DOMAIN.md M7, M8, T1), through
real upsert_catalog requests on SQLite and PostgreSQL.

T1 decides each invoice line's tax code at posting, from the item's tax code mapped by the
customer's tax treatment (M8: export to the one code of category G, reverse charge to the one
of category AE). A catalog that leaves an item or customer T1 could not use is refused as a
whole, naming it, and writes nothing; before, the catalog loaded and each invoice was refused.

- Once tax codes are loaded, every item but a bundle parent has a tax code (a bundle's VAT
  comes from its components, T4): `catalog.item_without_tax_code`.
- A catalog without tax codes (the USMF example) still loads with uncoded items and export
  customers: no VAT is charged (CONTRACT.md).
- A catalog loading the first tax codes into a database whose items have none is refused,
  naming those items; the same catalog giving them their codes loads.
- A customer taxed export or reverse_charge needs exactly one code of category G, respectively
  AE: `catalog.treatment_without_tax_code`.
- Tax codes: a code given twice in one catalog (`tax_code.duplicate_code`); an empty account,
  a date that is no ISO date and a rate that is no number are malformed (`request.invalid`). The
  rest of M8's tax code checks, and M7's organisation numbers and VAT ids (python-stdnum), are
  tested through requests in tests/services/test_company_and_tax_codes.py.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from docpost.schema import Actor, Company, Customer, Item, TaxCode, TaxRate
from tests.conftest import Runner, norway_catalog, usmf_catalog

Catalog = dict[str, Any]


def rows(run: Runner) -> dict[str, int]:
    """What a refused catalog must not have written."""
    with run.sessions() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Company, TaxCode, TaxRate, Item, Customer, Actor)
        }


def refused(run: Runner, catalog: Catalog, code: str) -> str:
    """The catalog refused with `code` citing M8 (or the contract), nothing written; its
    message."""
    before = rows(run)
    error = run.rejected("upsert_catalog", catalog)
    assert error["code"] == code, error
    assert rows(run) == before
    message: str = error["message"]
    return message


def norway_without(*codes: str) -> Catalog:
    catalog = copy.deepcopy(norway_catalog())
    catalog["tax_codes"] = [c for c in catalog["tax_codes"] if c["code"] not in codes]
    return catalog


def item(code: str, **more: Any) -> dict[str, Any]:
    return {"item": code, "name": f"Item {code}", "unit": "ea", "base_sales_price": "10", **more}


@pytest.fixture
def actors_only(run: Runner) -> Runner:
    """An empty database but for the example's actors: a refused first catalog is then
    refused for what it holds, not for M5's first load."""
    run.ok("upsert_catalog", {"actors": norway_catalog()["actors"]})
    return run


# --- M8, T1: items ------------------------------------------------------------------------------


def test_m8_t1_an_item_without_tax_code_in_a_catalog_with_tax_codes_is_refused(
    actors_only: Runner,
) -> None:
    """The whole catalog is refused, naming the item; its company, tax codes, other items and
    customers are not written either."""
    catalog = copy.deepcopy(norway_catalog())
    catalog["items"].append(item("X-1"))
    before = rows(actors_only)
    error = actors_only.rejected("upsert_catalog", catalog)
    assert (error["code"], error["rule"], error["message"]) == (
        "catalog.item_without_tax_code",
        "M8",
        "item X-1 has no tax code; with tax codes loaded, every item but a bundle needs one, "
        "from which its invoice lines take their VAT (T1): give it a tax_code in this catalog "
        "(M8)",
    )
    assert error["details"] == {"items": ["X-1"], "count": 1}
    assert rows(actors_only) == before


def test_m8_t1_a_later_catalog_adding_an_uncoded_item_is_refused(norway: Runner) -> None:
    message = refused(
        norway, {"items": [item("X-1"), item("X-2", tax_code="3")]}, "catalog.item_without_tax_code"
    )
    assert message.startswith("item X-1 has no tax code; ")
    norway.ok("upsert_catalog", {"items": [item("X-1", tax_code="5"), item("X-2", tax_code="3")]})


def test_m8_t1_an_item_given_again_without_its_tax_code_is_refused(norway: Runner) -> None:
    """Every part of a catalog replaces what it names: OST-1 given without tax_code would lose
    its 15 %, and every later invoice of it be refused."""
    [cheese] = [i for i in norway_catalog()["items"] if i["item"] == "OST-1"]
    uncoded = {k: v for k, v in cheese.items() if k != "tax_code"}
    message = refused(norway, {"items": [uncoded]}, "catalog.item_without_tax_code")
    assert message.startswith("item OST-1 has no tax code; ")
    with norway.sessions() as session:
        assert session.get(Item, "OST-1").tax_code == "31"  # type: ignore[union-attr]


def test_t4_m8_a_bundle_needs_no_tax_code_but_an_item_that_is_no_bundle_does(
    norway: Runner,
) -> None:
    """T4: a bundle's VAT comes from its components' tax codes. The example's gift basket
    GAVE-1 has none and loads (the norway fixture); so does a new bundle. Negative control: the
    same item not flagged a bundle is refused."""
    with norway.sessions() as session:
        assert session.get(Item, "GAVE-1").tax_code is None  # type: ignore[union-attr]
    message = refused(norway, {"items": [item("PAKKE-2")]}, "catalog.item_without_tax_code")
    assert message.startswith("item PAKKE-2 has no tax code; ")
    norway.ok("upsert_catalog", {"items": [item("PAKKE-2", bundle=True)]})


def test_m8_a_catalog_without_tax_codes_loads_uncoded_items_and_export_customers(
    usmf: Runner,
) -> None:
    """CONTRACT.md: "A catalog without a company or tax codes still loads: its documents carry
    no VAT". The USMF example's items have no tax code (the usmf fixture loaded them); a later
    catalog of more such items and an export customer loads too."""
    customer = {"customer": "SE-1", "name": "Export AB", "tax_treatment": "export"}
    usmf.ok("upsert_catalog", {"items": [item("X-1")], "customers": [customer]})
    with usmf.sessions() as session:
        assert session.scalar(select(func.count()).select_from(TaxCode)) == 0
        assert session.scalars(select(Item.tax_code).distinct()).all() == [None]


def test_m8_t1_the_first_tax_codes_into_a_database_of_uncoded_items_are_refused_naming_them(
    usmf: Runner,
) -> None:
    """A catalog loading tax codes into a database whose items have none is refused naming
    those items (not the bundle LaptopBundle, T4): from then on VAT is charged and each of
    their invoices would be refused. The same catalog giving them their tax codes loads: the
    check sees the database as the whole catalog leaves it."""
    tax_codes = {"tax_codes": norway_catalog()["tax_codes"]}
    message = refused(usmf, tax_codes, "catalog.item_without_tax_code")
    assert message.startswith("items 1000, CW-0001, M0001, S0021 and Support have no tax code; ")
    assert message.endswith("give them a tax_code in this catalog (M8)")
    coded = [{**i, "tax_code": "3"} for i in usmf_catalog()["items"] if not i.get("bundle")]
    usmf.ok("upsert_catalog", {**tax_codes, "items": coded})
    with usmf.sessions() as session:
        untaxed = select(Item.item).where(Item.tax_code.is_(None))
        assert session.scalars(untaxed).all() == ["LaptopBundle"]


def test_m8_a_catalog_naming_no_item_nor_tax_code_reads_no_item(norway: Runner) -> None:
    """Only a catalog that gives items or tax codes can leave an item without a code, so only
    such a catalog is checked: an item left uncoded some other way (here written directly, as
    a database loaded before this check may hold) does not block loading an actor. Invoicing
    still refuses that item (tax.item_without_code, tests/services/test_tax_postings.py)."""
    with norway.sessions() as session, session.begin():
        session.add(
            Item(item="OLD-1", name="Old", unit="ea", base_sales_price=Decimal(1), bundle=False)
        )
    norway.ok("upsert_catalog", {"actors": [{"actor": "clerk", "duties": []}]})
    message = refused(
        norway, {"items": [item("X-2", tax_code="3")]}, "catalog.item_without_tax_code"
    )
    assert message.startswith("item OLD-1 has no tax code; ")


# --- M7, M8, T1: export and reverse-charge customers ------------------------------------------


def test_m7_m8_an_export_customer_without_an_export_tax_code_is_refused(
    actors_only: Runner,
) -> None:
    """The example without SAF-T code 52 (category G): its Swedish customer SE-2001, taxed
    export, could not be invoiced."""
    before = rows(actors_only)
    error = actors_only.rejected("upsert_catalog", norway_without("52"))
    assert (error["code"], error["rule"], error["message"]) == (
        "catalog.treatment_without_tax_code",
        "M8",
        "customer SE-2001 has tax_treatment export, which maps its invoice lines to the one tax "
        "code of category G (export outside the EU) (M7, T1); there is none: load exactly one "
        "(M8)",
    )
    assert rows(actors_only) == before


def test_m7_m8_a_reverse_charge_customer_without_an_ae_tax_code_is_refused(
    norway: Runner,
) -> None:
    """A later catalog's customer taxed reverse_charge where no code of category AE is left:
    the same catalog re-gives SAF-T code 51 as zero-rated (Z)."""
    [code_51] = [c for c in norway_catalog()["tax_codes"] if c["code"] == "51"]
    customer = {
        "customer": "DE-1",
        "name": "Kunde GmbH",
        "currency": "EUR",
        "vat_id": "DE136695976",
        "tax_treatment": "reverse_charge",
    }
    catalog = {"tax_codes": [{**code_51, "category": "Z"}], "customers": [customer]}
    message = refused(norway, catalog, "catalog.treatment_without_tax_code")
    assert message == (
        "customer DE-1 has tax_treatment reverse_charge, which maps its invoice lines to the one "
        "tax code of category AE (reverse charge) (M7, T1); there is none: load exactly one (M8)"
    )
    norway.ok("upsert_catalog", {"customers": [customer]})  # negative control: 51 is AE


def test_m7_m8_a_tax_code_change_leaving_export_customers_without_their_code_is_refused(
    norway: Runner,
) -> None:
    """The catalog gives tax codes only: the stored customers are checked against them."""
    [code_52] = [c for c in norway_catalog()["tax_codes"] if c["code"] == "52"]
    message = refused(
        norway, {"tax_codes": [{**code_52, "category": "Z"}]}, "catalog.treatment_without_tax_code"
    )
    assert message.startswith("customer SE-2001 has tax_treatment export, ")


def test_m7_m8_two_export_tax_codes_are_refused(norway: Runner) -> None:
    """Invoicing could not choose between two codes of category G: refused at load."""
    [code_52] = [c for c in norway_catalog()["tax_codes"] if c["code"] == "52"]
    message = refused(
        norway, {"tax_codes": [{**code_52, "code": "53"}]}, "catalog.treatment_without_tax_code"
    )
    assert message.endswith("(M7, T1); there are 2: 52, 53: load exactly one (M8)")


# --- M8: tax codes -------------------------------------------------------------------------------


def test_m8_a_tax_code_given_twice_in_one_catalog_is_refused(actors_only: Runner) -> None:
    catalog = copy.deepcopy(norway_catalog())
    catalog["tax_codes"].append({**catalog["tax_codes"][0], "name": "Again"})
    error = actors_only.rejected("upsert_catalog", catalog)
    assert (error["code"], error["rule"], error["message"]) == (
        "tax_code.duplicate_code",
        "M8",
        "tax code 3: is given twice in this catalog; give each code once (M8)",
    )


INVALID = "invalid upsert_catalog request: payload.tax_codes[0]"
NOT_A_DATE = ".rates[0].valid_from: Input should be a valid date or datetime, "


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        pytest.param("account", "", ".account: String should have at least 1 character", id="empty account"),
        pytest.param("account", "   ", ".account: String should have at least 1 character", id="blank account"),
        pytest.param("valid_from", "2024-02-30", NOT_A_DATE + "day value is outside expected range", id="no such date"),
        pytest.param("valid_from", "01.01.2024", NOT_A_DATE + "invalid character in year", id="not ISO"),
        pytest.param(
            "rate",
            "25 %",
            '.rates[0].rate: must be a decimal number such as "5" or "2300.00", got \'25 %\': only '
            "the digits 0-9 with an optional sign and decimal point (no spaces, exponents or digit "
            "separators)",
            id="rate not a number",
        ),
    ],
)  # fmt: skip
def test_m8_a_malformed_tax_code_is_refused_before_anything_is_read(
    actors_only: Runner, field: str, value: str, message: str
) -> None:
    """M8's fields the contract parses (an account of at least one character, an ISO date, a
    decimal rate): a malformed one refuses the request as invalid, naming the field."""
    catalog = copy.deepcopy(norway_catalog())
    code = catalog["tax_codes"][0]
    if field == "account":
        code["account"] = value
    else:
        code["rates"][0][field] = value
    assert refused(actors_only, catalog, "request.invalid") == INVALID + message
