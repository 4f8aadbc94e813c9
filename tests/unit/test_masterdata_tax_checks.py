"""What invoicing will need of the master data's tax, checked at load (DOMAIN.md M7, M8, T1):
pure rules, no database. tests/services/test_catalog_tax_checks.py shows them through real
catalog loads on SQLite and PostgreSQL.

T1 decides each invoice line's tax code from the item's tax code, mapped by the customer's tax
treatment (export to the one code of category G, reverse charge to the one of category AE).
These rules refuse, at load and naming the item or customer, the master data T1 could not use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules import tax
from docpost.pipeline.rules.masterdata import (
    SHOWN,
    TAX_CATEGORIES,
    TREATMENT_CATEGORIES,
    check_items_taxed,
    check_tax_codes_unique,
    check_treatment_tax_codes,
    plan_tax_code,
)


@contextmanager
def rejected(code: str) -> Iterator[list[Rejection]]:
    """Expects a Rejection citing M8 with this code; yields a list that then holds it."""
    caught: list[Rejection] = []
    with pytest.raises(Rejection) as info:
        yield caught
    caught.append(info.value)
    assert (info.value.code, info.value.rule) == (code, "M8"), info.value


# --- M8, T1: every item but a bundle has a tax code once tax codes are loaded --------------------


def test_m8_t1_an_item_without_tax_code_is_refused_naming_it() -> None:
    with rejected("catalog.item_without_tax_code") as caught:
        check_items_taxed(True, ["X-1"], 1)
    assert caught[0].message == (
        "item X-1 has no tax code; with tax codes loaded, every item but a bundle needs one, "
        "from which its invoice lines take their VAT (T1): give it a tax_code in this catalog "
        "(M8)"
    )
    assert caught[0].details == {"items": ["X-1"], "count": 1}


def test_m8_t1_several_items_without_tax_code_are_all_named() -> None:
    with rejected("catalog.item_without_tax_code") as caught:
        check_items_taxed(True, ["1000", "M0001", "S0021"], 3)
    assert caught[0].message.startswith("items 1000, M0001 and S0021 have no tax code; ")
    assert caught[0].message.endswith("give them a tax_code in this catalog (M8)")


def test_m8_t1_beyond_the_items_shown_the_rest_are_counted() -> None:
    shown = [f"I-{n:02}" for n in range(SHOWN)]
    with rejected("catalog.item_without_tax_code") as caught:
        check_items_taxed(True, shown, SHOWN + 5)
    assert caught[0].message.startswith(f"items {', '.join(shown)} and 5 more have no tax code; ")
    assert caught[0].details == {"items": shown, "count": SHOWN + 5}


def test_m8_a_catalog_without_tax_codes_needs_none_on_its_items() -> None:
    """CONTRACT.md: "A catalog without a company or tax codes still loads: its documents carry
    no VAT". Negative control of the refusal above: the same items pass with no tax code
    loaded."""
    check_items_taxed(False, ["X-1"], 1)
    check_items_taxed(True, [], 0)


# --- M7, M8, T1: an export or reverse-charge customer finds its one tax code --------------------


def test_m8_the_treatments_map_to_the_categories_invoicing_picks() -> None:
    """The load-time rule and pipeline.rules.tax (T1 at invoicing) name the same categories:
    export to G, reverse charge to AE (DOMAIN.md M8), for the same treatments."""
    assert TREATMENT_CATEGORIES == {
        "export": tax.EXPORT_CATEGORY,
        "reverse_charge": tax.REVERSE_CHARGE_CATEGORY,
    }
    assert (tax.EXPORT_CATEGORY, tax.REVERSE_CHARGE_CATEGORY) == ("G", "AE")
    assert set(TREATMENT_CATEGORIES) == set(tax.TAX_TREATMENTS) - {"domestic"}


def test_m7_m8_an_export_customer_without_an_export_tax_code_is_refused() -> None:
    with rejected("catalog.treatment_without_tax_code") as caught:
        check_treatment_tax_codes(True, {"export": (["SE-2001"], 1)}, {"S": ["3"], "AE": ["51"]})
    assert caught[0].message == (
        "customer SE-2001 has tax_treatment export, which maps its invoice lines to the one tax "
        "code of category G (export outside the EU) (M7, T1); there is none: load exactly one "
        "(M8)"
    )
    assert caught[0].details == {
        "treatment": "export",
        "category": "G",
        "customers": ["SE-2001"],
        "count": 1,
        "tax_codes": [],
    }


def test_m7_m8_reverse_charge_customers_without_an_ae_tax_code_are_refused() -> None:
    with rejected("catalog.treatment_without_tax_code") as caught:
        check_treatment_tax_codes(
            True, {"reverse_charge": (["DE-1", "DK-1"], 2)}, {"S": ["3"], "G": ["52"]}
        )
    assert caught[0].message == (
        "customers DE-1 and DK-1 have tax_treatment reverse_charge, which maps their invoice "
        "lines to the one tax code of category AE (reverse charge) (M7, T1); there is none: load "
        "exactly one (M8)"
    )


def test_m7_m8_two_tax_codes_of_the_treatments_category_are_refused_too() -> None:
    """Invoicing could not choose between them (TaxTable.treatment_code): named at load."""
    with rejected("catalog.treatment_without_tax_code") as caught:
        check_treatment_tax_codes(True, {"export": (["SE-2001"], 1)}, {"G": ["53", "52"]})
    assert caught[0].message.endswith("(M7, T1); there are 2: 52, 53: load exactly one (M8)")
    assert caught[0].details["tax_codes"] == ["52", "53"]


def test_m7_m8_what_needs_no_treatment_code_passes() -> None:
    """Negative controls: one code of the category passes; no customer of the treatment needs
    none; a catalog without tax codes charges no VAT and needs none."""
    check_treatment_tax_codes(
        True, {"export": (["SE-2001"], 1), "reverse_charge": (["DE-1"], 1)}, {"G": ["52"], "AE": ["51"]}
    )  # fmt: skip
    check_treatment_tax_codes(True, {"export": ([], 0)}, {"S": ["3"]})
    check_treatment_tax_codes(True, {}, {"S": ["3"]})
    check_treatment_tax_codes(False, {"export": (["SE-2001"], 1)}, {})


CATEGORY_LISTS = st.lists(st.sampled_from(sorted(TAX_CATEGORIES)), max_size=6)


@given(CATEGORY_LISTS, st.sampled_from(sorted(TREATMENT_CATEGORIES)))
def test_m8_t1_a_catalog_passes_at_load_exactly_when_invoicing_finds_the_code(
    categories: list[str], treatment: str
) -> None:
    """Hypothesis: for any tax codes (one per category drawn), a customer of `treatment`
    passes the load-time check exactly when pipeline.rules.tax (T1) finds its treatment's code
    at invoicing, so the load refuses no catalog invoicing could use, and lets through none it
    could not."""
    codes = [f"C{n}" for n in range(len(categories))]
    by_category: dict[str, list[str]] = {}
    for code, category in zip(codes, categories, strict=True):
        by_category.setdefault(category, []).append(code)
    table = tax.TaxTable(
        tuple(
            tax.TaxCode(code, category, (tax.TaxRate(Decimal(0), dt.date(2020, 1, 1)),))
            for code, category in zip(codes, categories, strict=True)
        )
    )
    try:
        table.treatment_code(treatment)
        invoicing_finds_it = True
    except Rejection:
        invoicing_finds_it = False
    try:
        check_treatment_tax_codes(True, {treatment: (["K-1"], 1)}, by_category)
        load_passes = True
    except Rejection:
        load_passes = False
    assert load_passes == invoicing_finds_it


# --- M8: tax codes themselves ------------------------------------------------------------------


def test_m8_a_tax_code_given_twice_in_one_catalog_is_refused() -> None:
    """A second entry would silently replace the first one's category, rates and account."""
    check_tax_codes_unique(["3", "31", "33"])
    check_tax_codes_unique([])
    with rejected("tax_code.duplicate_code") as caught:
        check_tax_codes_unique(["3", "31", "3"])
    assert caught[0].message == (
        "tax code 3: is given twice in this catalog; give each code once (M8)"
    )
    assert caught[0].details == {"tax_code": "3"}


def test_m8_the_categories_are_domains_seven_and_invoicings() -> None:
    """DOMAIN.md M8 names seven EN 16931 (UNCL5305) categories: S, Z, E, G, O, AE, K. The load
    and invoicing (pipeline.rules.tax.CATEGORIES) accept the same ones."""
    assert set(TAX_CATEGORIES) == {"S", "Z", "E", "G", "O", "AE", "K"} == set(tax.CATEGORIES)


@pytest.mark.parametrize("category", ["L", "M"])
def test_m8_l_and_m_are_not_among_domains_categories(category: str) -> None:
    """UNCL5305 also has L (Canary Islands IGIC) and M (Ceuta and Melilla IPSI): taxes of
    their own with rates above 0, outside DOMAIN.md M8's list, which invoicing (T1) and the
    e-invoice do not handle. They are refused by name, like any unknown category."""
    with rejected("tax_code.unknown_category") as caught:
        plan_tax_code("IGIC", category, [(Decimal(7), dt.date(2024, 1, 1))], "2700")
    assert caught[0].message.startswith(f"tax code IGIC: category {category!r} is none of S ")
