"""The company (M6), customers in parts (M7) and tax codes (M8) loaded through upsert_catalog,
on SQLite and PostgreSQL: the shipped Norwegian example, the USMF example unchanged, every
refusal's message through a real load (and nothing written), the duty it needs (M5), and
migration 0008 on a database at 0007 that holds data.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError

from docpost.pipeline.contract import UpsertCatalog
from docpost.pipeline.duties import catalog_needs
from docpost.schema import Base, Company, Customer, Item, TaxCode, TaxRate
from docpost.schema.migrate import alembic_config
from tests.conftest import Runner, norway_catalog, usmf_catalog
from tests.services.test_migration_0004 import At, at_revision, migrate

__all__ = ["at_revision"]  # the fixture, used by the migration tests below


def master_data_rows(run: Runner) -> dict[str, int]:
    """What a refused catalog must not have written."""
    with run.sessions() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Company, TaxCode, TaxRate, Item, Customer)
        }


# --- the shipped Norwegian example --------------------------------------------------------------


def test_m6_m7_m8_the_norwegian_example_loads(run: Runner) -> None:
    result = run.ok("upsert_catalog", norway_catalog())
    assert (result["company"], result["tax_codes"], result["items"], result["customers"]) == (
        1,
        7,
        5,
        3,
    )
    with run.sessions() as session:
        company = session.scalars(select(Company)).one()
        assert (company.name, company.organisation_number, company.currency) == (
            "Fjellost og Stål AS",
            "923609016",
            "NOK",
        )
        assert (company.address_lines, company.postcode, company.city, company.country) == (
            "Karl Johans gate 12",
            "0154",
            "OSLO",
            "NO",
        )
        assert (company.bank_account, company.iban, company.bic) == (
            "12345678903",
            "NO7112345678903",
            "DNBANOKKXXX",
        )
        assert (company.vat_registered, company.foretaksregisteret) == (True, True)
        assert (company.time_zone, company.payment_terms_days, company.kid_scheme) == (
            "Europe/Oslo",
            14,
            "MOD10",
        )
        assert company.peppol_endpoint == "0192:923609016"


def test_m8_the_norwegian_standard_tax_codes_and_rates(norway: Runner) -> None:
    """SAF-T codes 3 (25 %), 31 (15 %), 33 (12 %) standard rated with their output VAT
    accounts; 5 zero rated, 51 reverse charge, 52 export, 6 outside the scope (M8)."""
    with norway.sessions() as session:
        codes = {
            c.code: (c.category, [(r.valid_from.isoformat(), r.rate) for r in c.rates], c.account)
            for c in session.scalars(select(TaxCode))
        }
    assert codes == {
        "3": ("S", [("2005-01-01", Decimal("25.00"))], "2700"),
        "31": ("S", [("2012-01-01", Decimal("15.00"))], "2701"),
        "33": ("S", [("2018-01-01", Decimal("12.00"))], "2702"),
        "5": ("Z", [("2005-01-01", Decimal("0.00"))], None),
        "51": ("AE", [("2005-01-01", Decimal("0.00"))], None),
        "52": ("G", [("2005-01-01", Decimal("0.00"))], None),
        "6": ("O", [("2005-01-01", Decimal("0.00"))], None),
    }


def test_m8_t4_items_carry_tax_codes_and_the_gift_basket_mixes_two_rates(norway: Runner) -> None:
    """T4's example: a gift basket of a cheese (15 %) and a knife (25 %)."""
    with norway.sessions() as session:
        items = {i.item: i for i in session.scalars(select(Item))}
        basket = items["GAVE-1"]
        rates = {
            line.component_item: session.get(TaxCode, items[line.component_item].tax_code)
            for line in basket.bom
        }
    assert basket.bundle and basket.tax_code is None
    assert {item: (c.code, c.rates[-1].rate) for item, c in rates.items() if c} == {
        "OST-1": ("31", Decimal("15.00")),
        "KNIV-1": ("3", Decimal("25.00")),
    }


def test_m7_the_norwegian_customers_in_parts(norway: Runner) -> None:
    with norway.sessions() as session:
        customers = {c.customer: c for c in session.scalars(select(Customer))}
    bergen, private, sweden = customers["NO-1001"], customers["NO-1002"], customers["SE-2001"]
    assert (bergen.address, bergen.postcode, bergen.city, bergen.country) == (
        "Strandkaien 2",
        "5013",
        "BERGEN",
        "NO",
    )
    assert (bergen.organisation_number, bergen.peppol_endpoint, bergen.payment_terms_days) == (
        "912345602",
        "0192:912345602",
        30,
    )
    assert (private.address, private.organisation_number, private.language) == (
        "Storgata 5\nLeilighet H0201",
        None,
        "nb_NO",
    )
    assert (sweden.tax_treatment, sweden.vat_id, sweden.language, sweden.currency) == (
        "export",
        "SE556123456701",
        "en_US",
        "SEK",
    )


def test_m6_m8_reloading_replaces_the_company_and_a_tax_codes_rates(norway: Runner) -> None:
    """A rate change on a date: the code loaded again with both rates (M8); the company loaded
    again replaces the one row (M6)."""
    catalog = norway_catalog()
    company = {**catalog["company"], "name": "Fjellost og Stål Holding AS", "kid_scheme": "MOD11"}
    low = {
        **catalog["tax_codes"][2],
        "rates": [
            {"rate": "12", "valid_from": "2018-01-01"},
            {"rate": "6", "valid_from": "2020-04-01"},
        ],
    }
    norway.ok("upsert_catalog", {"company": company, "tax_codes": [low]})
    with norway.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Company)) == 1
        stored = session.scalars(select(Company)).one()
        assert (stored.name, stored.kid_scheme) == ("Fjellost og Stål Holding AS", "MOD11")
        code = session.get(TaxCode, "33")
        assert code is not None
        assert [(r.valid_from, r.rate) for r in code.rates] == [
            (dt.date(2018, 1, 1), Decimal("12.00")),
            (dt.date(2020, 4, 1), Decimal("6.00")),
        ]


def test_m8_an_item_may_name_a_tax_code_loaded_before(norway: Runner) -> None:
    item = {"item": "SALT-1", "name": "Flaksalt", "unit": "ea", "base_sales_price": "59.00"}
    norway.ok("upsert_catalog", {"items": [{**item, "tax_code": "31"}]})
    error = norway.rejected("upsert_catalog", {"items": [{**item, "tax_code": "34"}]})
    assert (error["code"], error["rule"]) == ("catalog.unknown_tax_code", "M8")
    assert error["message"] == (
        "item SALT-1: tax code '34' does not exist; load it under tax_codes (M8)"
    )


# --- existing catalogs load unchanged -----------------------------------------------------------


def test_a_catalog_without_company_or_tax_codes_loads_as_before(usmf: Runner) -> None:
    with usmf.sessions() as session:
        assert session.scalars(select(Company)).first() is None
        assert session.scalars(select(TaxCode)).first() is None
        assert all(i.tax_code is None for i in session.scalars(select(Item)))
        customer = session.get(Customer, "US-004")
        assert customer is not None
        assert customer.address == "123 Coffee Street, Suite 300, Redmond, WA 98052"
        assert (customer.tax_treatment, customer.country, customer.language) == (
            "domestic",
            None,
            None,
        )


def test_a_string_address_keeps_its_line_breaks(run: Runner) -> None:
    catalog = usmf_catalog()
    catalog["customers"][0]["address"] = "1 Main St\r\nSeattle\rWA 98101"
    run.ok("upsert_catalog", catalog)
    with run.sessions() as session:
        customer = session.get(Customer, "US-004")
        assert customer is not None and customer.address == "1 Main St\nSeattle\nWA 98101"


def test_m7_a_customers_organisation_number_is_checked_by_the_stored_companys_country(
    norway: Runner,
) -> None:
    """The customer's address leaves the country out: the company stored before decides."""
    customer = {"customer": "NO-9", "name": "x", "currency": "NOK", "address": {"lines": ["y"]}}
    error = norway.rejected(
        "upsert_catalog", {"customers": [{**customer, "organisation_number": "912345603"}]}
    )
    assert error["code"] == "customer.invalid_organisation_number"
    norway.ok("upsert_catalog", {"customers": [{**customer, "organisation_number": "912345602"}]})


# --- every refusal, through a real load ------------------------------------------------------

Change = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Change:
    """A change to the Norwegian catalog: `path` like "company.address.country" or
    "customers.0.vat_id"."""

    def change(catalog: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = catalog
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value

    return change


REFUSALS: list[tuple[str, Change, str, str, str]] = [
    (
        "organisation number",
        _set("company.organisation_number", "923609017"),
        "company.invalid_organisation_number",
        "M6",
        "company: organisation_number '923609017' is not a valid organisation number for NO: "
        "the number's checksum or check digit is invalid (M6)",
    ),
    (
        "missing country",
        _set("company.address.country", None),
        "company.missing_country",
        "M6",
        "company: address.country None is missing: give the ISO country code (M6)",
    ),
    (
        "country",
        _set("company.address.country", "NOR"),
        "company.invalid_country",
        "M6",
        "company: address.country 'NOR' is not an ISO 3166 two-letter country code "
        "(e.g. NO, SE, US) (M6)",
    ),
    (
        "MVA without number",
        lambda c: c["company"].update(organisation_number=None, peppol_endpoint=None),
        "company.missing_organisation_number",
        "M6",
        "company: vat_registered True needs the organisation number it prints after: give "
        "organisation_number (M6)",
    ),
    (
        "bank account",
        _set("company.bank_account", "12345678904"),
        "company.invalid_bank_account",
        "M6",
        "company: bank_account '12345678904' is not a Norwegian bank account number "
        "(11 digits, MOD11): the number's checksum or check digit is invalid (M6)",
    ),
    (
        "IBAN",
        _set("company.iban", "NO7212345678903"),
        "company.invalid_iban",
        "M6",
        "company: iban 'NO7212345678903' is not a valid IBAN: the number's checksum or check "
        "digit is invalid (M6)",
    ),
    (
        "BIC",
        _set("company.bic", "DNBA"),
        "company.invalid_bic",
        "M6",
        "company: bic 'DNBA' is not a valid BIC: the number has an invalid length (M6)",
    ),
    (
        "Peppol format",
        _set("company.peppol_endpoint", "923609016"),
        "company.invalid_peppol_endpoint",
        "M6",
        "company: peppol_endpoint '923609016' is not written \"scheme:identifier\", a 4-digit "
        'scheme and the identifier (e.g. "0192:923609016") (M6)',
    ),
    (
        "Peppol of another company",
        _set("company.peppol_endpoint", "0192:912345602"),
        "company.peppol_endpoint_mismatch",
        "M6",
        "company: peppol_endpoint '0192:912345602' names organisation number 912345602, not "
        "the party's own 923609016 (M6)",
    ),
    (
        "currency",
        _set("company.currency", "KRONER"),
        "company.invalid_currency",
        "M6",
        "company: currency 'KRONER' is not an ISO 4217 currency code of 3 capital letters "
        "(e.g. NOK, EUR, USD) (M6)",
    ),
    (
        "time zone",
        _set("company.time_zone", "Europe/Bergen"),
        "company.invalid_time_zone",
        "M6",
        "company: time_zone 'Europe/Bergen' is not an IANA time zone (e.g. UTC, Europe/Oslo, "
        "America/New_York) (M6)",
    ),
    (
        "KID scheme",
        _set("company.kid_scheme", "MOD97"),
        "company.unknown_kid_scheme",
        "M6",
        "company: kid_scheme 'MOD97' is none of MOD10, MOD11 (M6)",
    ),
    (
        "customer organisation number",
        _set("customers.0.organisation_number", "912345603"),
        "customer.invalid_organisation_number",
        "M7",
        "customer NO-1001: organisation_number '912345603' is not a valid organisation number "
        "for NO: the number's checksum or check digit is invalid (M7)",
    ),
    (
        "customer VAT id",
        _set("customers.2.vat_id", "SE556123456702"),
        "customer.invalid_vat_id",
        "M7",
        "customer SE-2001: vat_id 'SE556123456702' is not a valid VAT id: the number has an "
        "invalid format (M7)",
    ),
    (
        "customer Peppol",
        _set("customers.0.peppol_endpoint", "0192:923609016"),
        "customer.peppol_endpoint_mismatch",
        "M7",
        "customer NO-1001: peppol_endpoint '0192:923609016' names organisation number "
        "923609016, not the party's own 912345602 (M7)",
    ),
    (
        "customer country",
        _set("customers.1.address.country", "Norge"),
        "customer.invalid_country",
        "M7",
        "customer NO-1002: address.country 'Norge' is not an ISO 3166 two-letter country code "
        "(e.g. NO, SE, US) (M7)",
    ),
    (
        "tax treatment",
        _set("customers.2.tax_treatment", "exempt"),
        "customer.unknown_tax_treatment",
        "M7",
        "customer SE-2001: tax_treatment 'exempt' is none of domestic, export, reverse_charge (M7)",
    ),
    (
        "reverse charge without an id",
        _set("customers.1.tax_treatment", "reverse_charge"),
        "customer.reverse_charge_without_id",
        "M7",
        "customer NO-1002: tax_treatment 'reverse_charge' needs the buyer's organisation_number "
        "or vat_id, which its invoices must name (M7)",
    ),
    (
        "language",
        _set("customers.1.language", "nn_NO"),
        "customer.unknown_language",
        "M7",
        "customer NO-1002: language 'nn_NO' is none of nb_NO, en_US (M7)",
    ),
    (
        "category",
        _set("tax_codes.0.category", "H"),
        "tax_code.unknown_category",
        "M8",
        "tax code 3: category 'H' is none of S (standard rate), Z (zero rated), E (exempt), "
        "AE (reverse charge), K (intra-community supply), G (export outside the EU), O (outside "
        "the scope of VAT) (M8)",
    ),
    (
        "rate range",
        _set("tax_codes.0.rates.0.rate", "125"),
        "tax_code.invalid_rate",
        "M8",
        "tax code 3: rate 125 is not a percentage from 0 to 100 with at most 2 decimals (M8)",
    ),
    (
        "rate of the category",
        _set("tax_codes.3.rates.0.rate", "25"),
        "tax_code.rate_not_in_category",
        "M8",
        "tax code 5: rate 25 does not fit category Z (zero rated), which has the rate 0 (M8)",
    ),
    (
        "two rates on one date",
        lambda c: c["tax_codes"][1]["rates"].append({"rate": "14", "valid_from": "2012-01-01"}),
        "tax_code.duplicate_valid_from",
        "M8",
        "tax code 31: two rates are valid from 2012-01-01; give one rate per date (M8)",
    ),
    (
        "S without account",
        _set("tax_codes.0.account", None),
        "tax_code.missing_account",
        "M8",
        "tax code 3: category S has VAT to post: give the ledger account of its output VAT "
        "(e.g. 2700) (M8)",
    ),
    (
        "item's tax code",
        _set("items.0.tax_code", "15"),
        "catalog.unknown_tax_code",
        "M8",
        "item OST-1: tax code '15' does not exist; load it under tax_codes (M8)",
    ),
]


@pytest.mark.parametrize(
    ("change", "code", "rule", "message"),
    [pytest.param(*refusal[1:], id=refusal[0]) for refusal in REFUSALS],
)
def test_m6_m7_m8_each_refusal_names_field_and_value_and_writes_nothing(
    run: Runner, change: Change, code: str, rule: str, message: str
) -> None:
    run.ok("upsert_catalog", {"actors": norway_catalog()["actors"]})
    before = master_data_rows(run)
    catalog = copy.deepcopy(norway_catalog())
    change(catalog)
    error = run.rejected("upsert_catalog", catalog)
    assert (error["code"], error["rule"], error["message"]) == (code, rule, message)
    assert master_data_rows(run) == before


def test_every_refusal_code_is_tested_once() -> None:
    codes = [refusal[2] for refusal in REFUSALS]
    assert len(codes) == len(set(codes))


# --- M5: the company and tax codes are master data ------------------------------------------


def test_m5_the_company_and_tax_codes_need_maintain_master_data(norway: Runner) -> None:
    catalog = norway_catalog()
    norway.ok("upsert_catalog", {"actors": [{"actor": "clerk", "duties": []}]})
    for part in ({"company": catalog["company"]}, {"tax_codes": catalog["tax_codes"][:1]}):
        assert [n.duty for n in catalog_needs(UpsertCatalog.model_validate(part))] == [
            "maintain_master_data"
        ]
        error = norway.rejected("upsert_catalog", part, actor="clerk")
        assert error["message"] == (
            "actor 'clerk' may not load master data; that needs the duty maintain_master_data"
        )


# --- migration 0008 ---------------------------------------------------------------------------


def test_0008_upgrades_a_database_at_0007_with_data_and_downgrades(at_revision: At) -> None:
    engine = at_revision("0007")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO items (item, name, unit, base_sales_price, catch_weight, bundle) "
                "VALUES ('1000', 'Surface', 'ea', '1900.000000', false, false)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO customers (customer, name, currency, address) "
                "VALUES ('US-004', 'Cave Wholesales', 'USD', '1 Main St')"
            )
        )
    migrate(engine, "0008")
    with engine.connect() as conn:
        customer = conn.execute(
            text("SELECT address, tax_treatment, country, language FROM customers")
        ).one()
        assert tuple(customer) == ("1 Main St", "domestic", None, None)
        assert conn.execute(text("SELECT item, tax_code FROM items")).one() == ("1000", None)
        assert conn.execute(text("SELECT count(*) FROM company")).scalar() == 0
    migrate(engine, "head")  # the models are the latest revision's, 0008's and those after it
    _compare_to_models(engine)
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT customer, address FROM customers")).one() == (
            "US-004",
            "1 Main St",
        )


def test_0008_keeps_a_rate_exact_and_allows_one_company_row(at_revision: At) -> None:
    """Rates are text on SQLite, NUMERIC on PostgreSQL: 12.50 comes back as written, never
    through a float; the company table holds one row only (id 1)."""
    engine = at_revision("0008")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO tax_codes (code, name, category) VALUES ('x', 'x', 'S')"))
        conn.execute(text("INSERT INTO tax_rates VALUES ('x', '2024-01-01', :r)"), {"r": "12.50"})
    with engine.connect() as conn:
        rate = conn.execute(text("SELECT rate FROM tax_rates")).scalar()
        assert Decimal(str(rate)) == Decimal("12.50") and not isinstance(rate, float)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO company (id, name, address_lines, vat_registered, foretaksregisteret,"
                " currency, time_zone, payment_terms_days, kid_scheme) VALUES "
                "(2, 'x', '', false, false, 'NOK', 'UTC', 14, 'MOD10')"
            )
        )


def _compare_to_models(engine: Engine) -> None:
    """The tables the migrations made are the models' (schema.company, schema.tax and the new
    columns): autogenerate finds nothing to add, drop or change."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
