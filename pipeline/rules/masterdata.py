"""Master data rules (DOMAIN.md M1-M5, M8) as pure functions: plain values in, plans or
rejections out; the catalog service loads what they need and writes what they plan. The
parties (M6 company, M7 customers) are in pipeline.rules.parties; what T1 will need of the
items' and customers' tax (M7, M8) is checked here too, at load."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from docpost.pipeline.duties import MAINTAIN_MASTER_DATA, MANAGE_ACTORS
from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.tax import EXPORT_CATEGORY, REVERSE_CHARGE_CATEGORY

INVENTORY_SERIAL_OPTIONS = (
    "serial_primary_stocking",
    "serial_physical_inventory",
    "serial_financial_inventory",
)


def normalise_tracking_group(options: dict[str, bool]) -> tuple[dict[str, bool], list[str]]:
    """M2: serials active in the sales process imply serial number control and clear every
    other serial selection except blank issue allowed. Returns the options and what changed."""
    if not options.get("serial_active_in_sales_process"):
        return dict(options), []
    normalised = dict(options)
    changes = []
    if not normalised.get("serial_number_control"):
        normalised["serial_number_control"] = True
        changes.append("serial_number_control set")
    for option in INVENTORY_SERIAL_OPTIONS:
        if normalised.get(option):
            normalised[option] = False
            changes.append(f"{option} cleared")
    return normalised, changes


def check_catch_weight_tracking(
    item: str, catch_weight: bool, group: str | None, group_active_in_sales: bool
) -> None:
    """M3/S12: a catch-weight item may not have serials active in the sales process."""
    if catch_weight and group_active_in_sales:
        raise Rejection(
            "catalog.catch_weight_serials",
            f"item {item} is a catch-weight item and cannot use tracking group {group}, whose "
            "serials are active in the sales process",
            rule="M3",
            item=item,
            tracking_group=group,
        )


def check_bom_component(bundle: str, component: str, component_is_bundle: bool) -> None:
    """M4 (beyond): a component may not itself be a bundle."""
    if component_is_bundle:
        raise Rejection(
            "catalog.nested_bundle",
            f"bundle {bundle}: component {component} is itself a bundle; bundles do not nest",
            rule="M4",
        )
    if component == bundle:
        raise Rejection(
            "catalog.nested_bundle",
            f"bundle {bundle} cannot be a component of itself",
            rule="M4",
        )


def check_item_references(
    item: str,
    tracking_group: str | None,
    group_exists: bool,
    revenue_schedule: str | None,
    schedule_exists: bool,
) -> None:
    """M1: the tracking group and revenue schedule an item names must exist (loaded earlier in
    the same catalog or before)."""
    if tracking_group is not None and not group_exists:
        raise Rejection(
            "catalog.unknown_tracking_group",
            f"item {item}: tracking group {tracking_group!r} does not exist",
        )
    if revenue_schedule and not schedule_exists:
        raise Rejection(
            "catalog.unknown_revenue_schedule",
            f"item {item}: revenue schedule {revenue_schedule!r} does not exist",
        )


@dataclass(frozen=True)
class BomComponent:
    """A component as the catalog gives it, with what the database knows of its item."""

    item: str
    quantity: Decimal
    is_bundle: bool | None  # None: no such item


@dataclass(frozen=True)
class BomLinePlan:
    position: int
    component: str
    quantity: Decimal


def plan_bom(
    bundle: str, bundle_flag: bool | None, components: Sequence[BomComponent]
) -> tuple[BomLinePlan, ...]:
    """M4: the bill of materials of `bundle` (None: no such item), numbered from 1 in the
    order given. The parent must be flagged a bundle; every component must exist, not be a
    bundle, not be the parent, and appear once (its quantity is the total per bundle)."""
    if not bundle_flag:
        raise Rejection(
            "catalog.not_a_bundle",
            f"bill of materials for {bundle!r}: the item does not exist or is not flagged as a "
            "bundle",
            rule="M4",
        )
    seen: set[str] = set()
    for component in components:
        _check_component(bundle, component, listed_before=component.item in seen)
        seen.add(component.item)
    return tuple(
        BomLinePlan(position, c.item, c.quantity) for position, c in enumerate(components, 1)
    )


def _check_component(bundle: str, component: BomComponent, listed_before: bool) -> None:
    if component.is_bundle is None:
        raise Rejection(
            "catalog.unknown_item",
            f"bundle {bundle}: component item {component.item!r} does not exist",
            rule="M4",
        )
    check_bom_component(bundle, component.item, component.is_bundle)
    if listed_before:
        raise Rejection(
            "catalog.duplicate_component",
            f"bundle {bundle}: component {component.item} is listed twice; give it once with "
            "the total quantity",
            rule="M4",
        )


def check_first_load(actor_duties: Iterable[Collection[str]]) -> None:
    """M5: the first catalog loaded into an empty database is taken without an actor, so it
    must create one who can manage actors from then on."""
    if not any(MANAGE_ACTORS in duties for duties in actor_duties):
        raise Rejection(
            "actor.first_load_without_manager",
            "the first catalog loaded into an empty database must create an actor holding "
            f"the duty {MANAGE_ACTORS} (it is the only load taken without an actor); add "
            f'one to "actors", e.g. {{"actor": "erp", "duties": ["{MANAGE_ACTORS}", '
            f'"{MAINTAIN_MASTER_DATA}", ...]}}',
            rule="M5",
            duty=MANAGE_ACTORS,
        )


@dataclass(frozen=True)
class DutyChange:
    actor: str
    before: frozenset[str]
    after: frozenset[str]


def duty_changes(
    existing: Mapping[str, Collection[str]], actors: Sequence[tuple[str, Collection[str]]]
) -> tuple[DutyChange, ...]:
    """M5: what each entry of a catalog's actors does to that actor's duties, in order. An
    actor listed twice starts its second entry from its first one, not from the database, so
    granting a duty and taking it back in one catalog is checked as both (each is then checked
    with pipeline.duties.check_duty_change). `existing` holds the stored duties of every
    named actor that exists."""
    current = {name: frozenset(duties) for name, duties in existing.items()}
    changes = []
    for name, duties in actors:
        after = frozenset(duties)
        changes.append(DutyChange(name, current.get(name, frozenset()), after))
        current[name] = after
    return tuple(changes)


# --- tax codes (M8) ---------------------------------------------------------------------------

# EN 16931 VAT categories (UNCL5305), as a refusal explains them.
TAX_CATEGORIES: Mapping[str, str] = {
    "S": "standard rate",
    "Z": "zero rated",
    "E": "exempt",
    "AE": "reverse charge",
    "K": "intra-community supply",
    "G": "export outside the EU",
    "O": "outside the scope of VAT",
}
# Every category but S has no VAT (EN 16931 BR-Z-5, BR-E-5, BR-AE-5, BR-IC-5, BR-G-5, BR-O-5):
# its rate is 0; S has a positive rate (BR-S-5).
TAXED_CATEGORY = "S"
MAX_RATE = Decimal(100)
RATE_PLACES = 2


@dataclass(frozen=True)
class TaxRatePlan:
    valid_from: dt.date
    rate: Decimal


def plan_tax_code(
    code: str, category: str, rates: Sequence[tuple[Decimal, dt.date]], account: str | None
) -> tuple[TaxRatePlan, ...]:
    """M8: a tax code's rates by the date each takes effect, oldest first. The category is
    one of EN 16931's; a rate is a percentage 0..100 with at most 2 decimals, positive for S
    and 0 for every other category; no two rates take effect on one date; an S code names the
    ledger account its output VAT is posted to."""
    if category not in TAX_CATEGORIES:
        known = ", ".join(f"{c} ({what})" for c, what in TAX_CATEGORIES.items())
        raise _tax_refusal("unknown_category", code, f"category {category!r} is none of {known}")
    seen: set[dt.date] = set()
    for rate, valid_from in rates:
        _check_rate(code, category, rate)
        if valid_from in seen:
            raise _tax_refusal(
                "duplicate_valid_from",
                code,
                f"two rates are valid from {valid_from.isoformat()}; give one rate per date",
            )
        seen.add(valid_from)
    if category == TAXED_CATEGORY and account is None:
        raise _tax_refusal(
            "missing_account",
            code,
            "category S has VAT to post: give the ledger account of its output VAT (e.g. 2700)",
        )
    return tuple(sorted((TaxRatePlan(d, r) for r, d in rates), key=lambda p: p.valid_from))


def _check_rate(code: str, category: str, rate: Decimal) -> None:
    if not (0 <= rate <= MAX_RATE) or rate != rate.quantize(Decimal(1).scaleb(-RATE_PLACES)):
        raise _tax_refusal(
            "invalid_rate",
            code,
            f"rate {rate} is not a percentage from 0 to 100 with at most {RATE_PLACES} decimals",
        )
    taxed = category == TAXED_CATEGORY
    if taxed != (rate > 0):
        right = "a rate above 0" if taxed else "the rate 0"
        raise _tax_refusal(
            "rate_not_in_category",
            code,
            f"rate {rate} does not fit category {category} ({TAX_CATEGORIES[category]}), "
            f"which has {right}",
        )


def _tax_refusal(what: str, code: str, message: str) -> Rejection:
    return Rejection(
        f"tax_code.{what}", f"tax code {code}: {message} (M8)", rule="M8", tax_code=code
    )


def check_item_tax_code(item: str, tax_code: str | None, exists: bool) -> None:
    """M8: an item's tax code is one loaded before or earlier in the same catalog."""
    if tax_code is not None and not exists:
        raise Rejection(
            "catalog.unknown_tax_code",
            f"item {item}: tax code {tax_code!r} does not exist; load it under tax_codes (M8)",
            rule="M8",
            item=item,
            tax_code=tax_code,
        )


def check_tax_codes_unique(codes: Sequence[str]) -> None:
    """M8: a catalog gives each tax code once; a second entry would silently replace the
    first one's category, rates and account."""
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise _tax_refusal(
                "duplicate_code", code, "is given twice in this catalog; give each code once"
            )
        seen.add(code)


# --- M7, M8 at load: what invoicing will need of the master data (T1) --------------------------
#
# T1 decides each invoice line's tax code at posting, from the item's tax code mapped by the
# customer's tax treatment. Master data that cannot give a line its tax code is refused when it
# is loaded, naming the item or customer, instead of each of their invoices later. Both checks
# look at the database as the catalog leaves it (they run after everything in it is written),
# so a catalog may give in any order what it needs, and a catalog that gives neither tax codes
# nor what names them changes nothing they check. Where no tax code exists at all, no VAT is
# charged (CONTRACT.md: "a catalog without a company or tax codes still loads: its documents
# carry no VAT") and nothing is required.

SHOWN = 10  # items or customers a refusal names; the rest it counts
# The category of the one code each treatment maps a line to (M8; pipeline.rules.tax).
TREATMENT_CATEGORIES: Mapping[str, str] = {
    "export": EXPORT_CATEGORY,
    "reverse_charge": REVERSE_CHARGE_CATEGORY,
}


def check_items_taxed(tax_codes_loaded: bool, untaxed: Sequence[str], count: int) -> None:
    """M8, T1: once tax codes are loaded, every item but a bundle parent has a tax code. A
    bundle's VAT comes from its components' codes (T4), so it needs none. `untaxed`: the first
    items without one (at most SHOWN, by code), of `count` in all.

    A catalog that loads the first tax codes into a database whose items have none is refused
    the same way, naming those items: it must give them their tax codes too (the same catalog
    may: the check sees the items it re-gives), since from then on VAT is charged and every
    invoice of such an item would be refused."""
    if not tax_codes_loaded or count == 0:
        return
    it = "it" if count == 1 else "them"
    raise Rejection(
        "catalog.item_without_tax_code",
        f"{_named('item', untaxed, count)} no tax code; with tax codes loaded, every item but "
        f"a bundle needs one, from which its invoice lines take their VAT (T1): give {it} a "
        "tax_code in this catalog (M8)",
        rule="M8",
        items=list(untaxed),
        count=count,
    )


def check_treatment_tax_codes(
    tax_codes_loaded: bool,
    treated: Mapping[str, tuple[Sequence[str], int]],
    codes_by_category: Mapping[str, Sequence[str]],
) -> None:
    """M7, M8, T1: a customer taxed `export` or `reverse_charge` has its lines mapped to the
    one tax code of category G, respectively AE (pipeline.rules.tax.TaxTable.treatment_code),
    so once tax codes are loaded there must be exactly one such code for each treatment a
    customer has. `treated`: treatment -> (the first customers having it, at most SHOWN, and
    how many in all); `codes_by_category`: category -> the tax codes of that category."""
    if not tax_codes_loaded:
        return
    for treatment, category in TREATMENT_CATEGORIES.items():
        customers, count = treated.get(treatment, ((), 0))
        found = sorted(codes_by_category.get(category, ()))
        if count and len(found) != 1:
            _refuse_treatment(treatment, category, customers, count, found)


def _refuse_treatment(
    treatment: str, category: str, customers: Sequence[str], count: int, found: Sequence[str]
) -> None:
    its = "its" if count == 1 else "their"
    there = f"there are {len(found)}: {', '.join(found)}" if found else "there is none"
    raise Rejection(
        "catalog.treatment_without_tax_code",
        f"{_named('customer', customers, count)} tax_treatment {treatment}, which maps {its} "
        f"invoice lines to the one tax code of category {category} "
        f"({TAX_CATEGORIES[category]}) (M7, T1); {there}: load exactly one (M8)",
        rule="M8",
        treatment=treatment,
        category=category,
        customers=list(customers),
        count=count,
        tax_codes=list(found),
    )


def _named(kind: str, shown: Sequence[str], count: int) -> str:
    """ "item X-1 has", "items A, B and C have", "items A, ..., J and 5 more have"."""
    if count == 1:
        return f"{kind} {shown[0]} has"
    names = list(shown)
    last = f"{count - len(names)} more" if count > len(names) else names.pop()
    return f"{kind}s {', '.join(names)} and {last} have"
