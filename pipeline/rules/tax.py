"""Tax rules (DOMAIN.md M8, T1-T7) as pure functions: plain values in, plans out.

The inputs are small frozen dataclasses a service fills from the database (tax codes with their
dated rates, an item's tax code, the customer's tax treatment); nothing here reads one.

Rounding is half up to the currency's minor unit (`minor_unit`). Decimal's ROUND_HALF_UP rounds
a tie away from zero, so it is symmetric: the VAT of -x is exactly -(the VAT of x). That is
what lets a credit note, or a negated plan, reverse an invoice's VAT to the cent (T5).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

from babel.numbers import get_currency_precision

from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.bundles import allocate
from docpost.pipeline.rules.money import CENT, HUNDRED, ZERO

TAX_TREATMENTS = ("domestic", "export", "reverse_charge")
# EN 16931 VAT categories (UNCL5305) a tax code may carry (M8).
CATEGORIES = ("S", "Z", "E", "G", "O", "AE", "K")
EXPORT_CATEGORY = "G"  # "free export item, VAT not charged": the export code's category
REVERSE_CHARGE_CATEGORY = "AE"  # "VAT reverse charge"
# What a treatment maps (M8). Export turns every supply that would carry VAT at home, at a rate
# or zero-rated, into export; reverse charge moves the VAT of a taxable (standard-rated) supply
# to the buyer. Exempt (E) and out-of-scope (O) supplies stay what they are either way: there
# is no VAT to move.
EXPORTED_CATEGORIES = frozenset({"S", "Z"})
REVERSE_CHARGED_CATEGORIES = frozenset({"S"})


def minor_unit(currency: str) -> Decimal:
    """The currency's minor unit as a quantum: NOK 0.01, JPY 1, KWD 0.001 (ISO 4217, by babel);
    an unknown code gets 2 decimals."""
    return Decimal(1).scaleb(-get_currency_precision(currency))


def round_to(value: Decimal, quantum: Decimal = CENT) -> Decimal:
    return value.quantize(quantum, rounding=ROUND_HALF_UP)


def percent_text(rate: Decimal) -> str:
    """25.00 -> "25", 11.11 -> "11.11": a rate as messages and ledger texts write it."""
    return f"{rate.normalize():f}"


# --- M8, T1: which tax code, category and rate a line carries ---------------------------------


@dataclass(frozen=True)
class TaxRate:
    rate: Decimal  # percent: 25 means 25 %
    valid_from: dt.date


@dataclass(frozen=True)
class TaxCode:
    """A tax code (M8) as the catalog holds it."""

    code: str
    category: str
    rates: tuple[TaxRate, ...]
    account: str | None = None  # ledger account of its output VAT; None where none is ever due
    name: str = ""


def rate_on(tax_code: TaxCode, date: dt.date) -> Decimal:
    """M8: the rate valid on `date`: the one with the latest valid_from not after it (a new
    rate takes effect on its valid_from date)."""
    in_force = [r for r in tax_code.rates if r.valid_from <= date]
    if not in_force:
        first = min((r.valid_from for r in tax_code.rates), default=None)
        since = f"; its first rate is valid from {first.isoformat()}" if first else ""
        raise Rejection(
            "tax.no_rate_on_date",
            f"tax code {tax_code.code} has no rate valid on {date.isoformat()}{since}",
            rule="M8",
            tax_code=tax_code.code,
            date=date.isoformat(),
        )
    latest = max(r.valid_from for r in in_force)
    rates = {r.rate for r in in_force if r.valid_from == latest}
    if len(rates) > 1:
        shown = " and ".join(sorted(percent_text(r) for r in rates))
        raise Rejection(
            "tax.ambiguous_rate",
            f"tax code {tax_code.code} has two rates valid from {latest.isoformat()} "
            f"({shown} %); keep one",
            rule="M8",
            tax_code=tax_code.code,
            date=latest.isoformat(),
        )
    return rates.pop()


@dataclass(frozen=True)
class LineTax:
    """What T1 freezes on a journal line, and the account its VAT is posted to (L1)."""

    tax_code: str
    category: str
    rate: Decimal
    account: str | None = None


@dataclass(frozen=True)
class TaxTable:
    """The catalog's tax codes. The export and reverse-charge codes the treatments map to
    (M8) are named, or else found as the one code of category G, respectively AE."""

    codes: tuple[TaxCode, ...]
    export_code: str | None = None
    reverse_charge_code: str | None = None

    @cached_property
    def by_code(self) -> Mapping[str, TaxCode]:
        return {code.code: code for code in self.codes}

    def treatment_code(self, treatment: str) -> TaxCode:
        """The code `export` or `reverse_charge` maps a line to."""
        named = self.export_code if treatment == "export" else self.reverse_charge_code
        category = EXPORT_CATEGORY if treatment == "export" else REVERSE_CHARGE_CATEGORY
        if named is not None:
            return self.code(named, f"the {treatment} tax code")
        found = [c for c in self.codes if c.category == category]
        if len(found) != 1:
            shown = ", ".join(c.code for c in found) or "none"
            raise Rejection(
                f"tax.no_{treatment}_code",
                f"tax treatment {treatment} needs exactly one tax code of category {category} "
                f"(found: {shown})",
                rule="M8",
                treatment=treatment,
            )
        return found[0]

    def code(self, code: str, whose: str) -> TaxCode:
        found = self.by_code.get(code)
        if found is None:
            raise Rejection(
                "tax.unknown_code",
                f"{whose}: tax code {code!r} does not exist",
                rule="M8",
                tax_code=code,
            )
        return found


def determine_tax(
    table: TaxTable, item: str, item_tax_code: str | None, treatment: str, date: dt.date
) -> LineTax:
    """T1/M8: the tax code, category and rate a line of `item` carries on a document dated
    `date` for a customer of tax `treatment`: the item's code, mapped by the treatment (export
    to the export code, reverse charge to the code of category AE), at its rate on `date`."""
    if treatment not in TAX_TREATMENTS:
        raise Rejection(
            "tax.unknown_treatment",
            f"item {item}: tax treatment {treatment!r} is not one of {', '.join(TAX_TREATMENTS)}",
            rule="M8",
        )
    if item_tax_code is None:
        raise Rejection(
            "tax.item_without_code",
            f"item {item} has no tax code; every item needs one (M8)",
            rule="M8",
            item=item,
        )
    code = table.code(item_tax_code, f"item {item}")
    if (treatment == "export" and code.category in EXPORTED_CATEGORIES) or (
        treatment == "reverse_charge" and code.category in REVERSE_CHARGED_CATEGORIES
    ):
        code = table.treatment_code(treatment)
    return LineTax(code.code, code.category, rate_on(code, date), code.account)


# --- T3: VAT per document, per category and rate ----------------------------------------------


def vat_of(taxable: Decimal, rate: Decimal, quantum: Decimal = CENT) -> Decimal:
    """T3: taxable x rate / 100, rounded half up to the minor unit."""
    return round_to(taxable * rate / HUNDRED, quantum)


@dataclass(frozen=True)
class TaxedLine:
    """A document line's net amount (T2) and its tax (T1)."""

    amount: Decimal
    tax: LineTax


@dataclass(frozen=True)
class CodePart:
    """The part of a VAT group carried by one tax code: what the ledger posts to the code's
    account (L1) and a VAT return reports under it."""

    tax_code: str
    account: str | None
    taxable: Decimal
    vat: Decimal


@dataclass(frozen=True)
class VatGroup:
    """One line of the VAT breakdown (EN 16931 BG-23): a category and rate."""

    category: str
    rate: Decimal
    taxable: Decimal
    vat: Decimal
    parts: tuple[CodePart, ...]  # one per tax code; nearly always exactly one

    @property
    def tax_codes(self) -> tuple[str, ...]:
        return tuple(part.tax_code for part in self.parts)


@dataclass(frozen=True)
class VatPlan:
    groups: tuple[VatGroup, ...]
    net_total: Decimal
    vat_total: Decimal
    total: Decimal


def vat_plan(lines: Iterable[TaxedLine], quantum: Decimal = CENT) -> VatPlan:
    """T3: per (category, rate): taxable = the sum of the net line amounts, VAT = taxable x
    rate / 100 rounded; document VAT = the sum of the groups; total = net total + VAT.

    Two tax codes of one category and rate on one document make one group (EN 16931 has one
    breakdown per category and rate); its VAT is split between them by taxable amount (B4's
    allocation), so the parts sum to the group exactly.
    """
    taxable_by_code = _taxable_by_code(lines)
    groups = []
    for (category, rate), codes in _by_group(taxable_by_code).items():
        taxable = sum((amount for _, _, amount in codes), ZERO)
        vat = vat_of(taxable, rate, quantum)
        vats = _split(vat, [amount for _, _, amount in codes], quantum)
        parts = tuple(
            CodePart(code, account, amount, part_vat)
            for (code, account, amount), part_vat in zip(codes, vats, strict=True)
        )
        groups.append(VatGroup(category, rate, taxable, vat, parts))
    return _plan(groups)


_CodeKey = tuple[str, str | None, str, Decimal]  # tax code, account, category, rate


def _taxable_by_code(lines: Iterable[TaxedLine]) -> dict[_CodeKey, Decimal]:
    taxable: dict[_CodeKey, Decimal] = defaultdict(Decimal)
    for line in lines:
        tax = line.tax
        taxable[(tax.tax_code, tax.account, tax.category, tax.rate)] += line.amount
    return taxable


def _by_group(
    by_code: Mapping[_CodeKey, Decimal],
) -> dict[tuple[str, Decimal], list[tuple[str, str | None, Decimal]]]:
    """Codes by (category, rate), in a fixed order (highest rate first, then category, then
    code), so a document's breakdown never depends on the order of its lines."""
    groups: dict[tuple[str, Decimal], list[tuple[str, str | None, Decimal]]] = {}
    for code, account, category, rate in sorted(by_code, key=lambda k: (-k[3], k[2], k[0])):
        groups.setdefault((category, rate), []).append(
            (code, account, by_code[(code, account, category, rate)])
        )
    return groups


def _split(vat: Decimal, taxables: Sequence[Decimal], quantum: Decimal) -> list[Decimal]:
    """A group's VAT over its codes by taxable amount, summing exactly to it. With nothing
    taxable on balance (lines that cancel out) there is no VAT to split: each part gets 0."""
    if len(taxables) == 1:
        return [vat]
    weight = sum(taxables, ZERO)
    if weight == 0:
        return [ZERO for _ in taxables]
    sign = 1 if weight > 0 else -1
    return [sign * share for share in allocate(sign * vat, [sign * t for t in taxables], quantum)]


def _plan(groups: Sequence[VatGroup]) -> VatPlan:
    net_total = sum((g.taxable for g in groups), ZERO)
    vat_total = sum((g.vat for g in groups), ZERO)
    return VatPlan(tuple(groups), net_total, vat_total, net_total + vat_total)


# --- T5: credit notes, and what partial documents add up to ------------------------------------


def reversed_plan(plan: VatPlan) -> VatPlan:
    """The plan with every amount negated: what a credit note takes back, as the ledger and an
    order's balance see it (T5). Equal to vat_plan of the negated lines, since rounding half up
    is symmetric (see the module's docstring)."""
    return VatPlan(
        tuple(
            replace(
                g,
                taxable=-g.taxable,
                vat=-g.vat,
                parts=tuple(replace(p, taxable=-p.taxable, vat=-p.vat) for p in g.parts),
            )
            for g in plan.groups
        ),
        -plan.net_total,
        -plan.vat_total,
        -plan.total,
    )


def group_totals(plans: Iterable[VatPlan]) -> dict[tuple[str, Decimal], tuple[Decimal, Decimal]]:
    """(category, rate) -> (taxable, VAT) summed over documents: an order's invoices, and its
    credit notes as reversed_plan, give what is still invoiced per group."""
    totals: dict[tuple[str, Decimal], tuple[Decimal, Decimal]] = {}
    for plan in plans:
        for g in plan.groups:
            taxable, vat = totals.get((g.category, g.rate), (ZERO, ZERO))
            totals[(g.category, g.rate)] = (taxable + g.taxable, vat + g.vat)
    return totals


def rounding_bound(documents: int, quantum: Decimal = CENT) -> Decimal:
    """T3 with T5: how far the VAT of `documents` documents in one group (invoices, credit
    notes negated) can be from the VAT of their taxable amounts added up first, when those
    taxable amounts add up exactly (B8 shares do): at most floor(documents / 2) minor units.

    Why: each rounding is off by at most half a unit, so the difference is under
    (documents + 1) / 2 units; it is a whole number of units; and it can reach (documents + 1)
    / 2 only if every document and the sum were all off by a half in opposite directions,
    which half-up rounding (ties away from zero) rules out. The bound is reached: two invoices
    of 0.02 at 25 % carry 0.01 VAT each, 0.02 together, while 0.04 carries 0.01.
    One document is 0: a credit note crediting a whole invoice reverses its VAT exactly (T5).
    """
    return quantum * (documents // 2)


# --- T4: how a bundle prints -------------------------------------------------------------------


@dataclass(frozen=True)
class BundleComponent:
    """A bundle's component line on a document: its item, net amount (B4/B8) and tax (T1)."""

    item: str
    amount: Decimal
    tax: LineTax


@dataclass(frozen=True)
class BundlePart:
    """One printed line of a bundle: its components of one category and rate."""

    category: str
    rate: Decimal
    amount: Decimal
    items: tuple[str, ...]


@dataclass(frozen=True)
class BundlePresentation:
    bundle_item: str
    parts: tuple[BundlePart, ...]

    @property
    def as_parent(self) -> bool:
        """One category and rate: the bundle prints as its parent line (D1)."""
        return len(self.parts) == 1

    @property
    def amount(self) -> Decimal:
        return sum((part.amount for part in self.parts), ZERO)


def present_bundle(bundle_item: str, components: Sequence[BundleComponent]) -> BundlePresentation:
    """T4: an external document shows a bundle as its parent line when all its components
    share one category and rate, else one line per (bundle, category and rate), highest rate
    first. The parts are sums of the components, so they sum to the bundle's amount exactly
    (B4, and B8 for a partial invoice). The VAT breakdown is not made here: vat_plan takes the
    component lines themselves (T4), so the printed parts never round on their own."""
    if not components:
        raise ValueError(f"bundle {bundle_item} has no component lines on the document")
    by_group: dict[tuple[str, Decimal], list[BundleComponent]] = {}
    for component in components:
        by_group.setdefault((component.tax.category, component.tax.rate), []).append(component)
    parts = tuple(
        BundlePart(
            category,
            rate,
            sum((c.amount for c in members), ZERO),
            tuple(c.item for c in members),
        )
        for (category, rate), members in sorted(by_group.items(), key=lambda g: (-g[0][1], g[0][0]))
    )
    return BundlePresentation(bundle_item, parts)


# --- T6: point of sale, prices including VAT --------------------------------------------------


def split_gross(gross: Decimal, rate: Decimal, quantum: Decimal = CENT) -> tuple[Decimal, Decimal]:
    """T6: (net, VAT) of a price including VAT: VAT = gross x rate / (100 + rate), rounded;
    net = gross - VAT, so the two always add up to the gross (499.00 at 25 %: 399.20 + 99.80)."""
    vat = round_to(gross * rate / (HUNDRED + rate), quantum)
    return gross - vat, vat


@dataclass(frozen=True)
class GrossLine:
    """A point-of-sale line: its amount including VAT, and its tax (T1)."""

    gross: Decimal
    tax: LineTax


@dataclass(frozen=True)
class ReceiptLine:
    gross: Decimal
    net: Decimal
    vat: Decimal
    tax: LineTax


@dataclass(frozen=True)
class ReceiptPlan:
    lines: tuple[ReceiptLine, ...]  # per line: its net (revenue, L1) and VAT
    vat: VatPlan  # per rate: taxable = sum of nets, VAT = sum of the lines' VAT; total = gross


def receipt_plan(lines: Sequence[GrossLine], quantum: Decimal = CENT) -> ReceiptPlan:
    """T6: each line split into net and VAT; the receipt's VAT per rate is the sum of its
    lines' VAT (not recomputed from the net sum: the receipt then adds up line by line and to
    the gross the customer paid)."""
    split = [
        ReceiptLine(line.gross, *split_gross(line.gross, line.tax.rate, quantum), line.tax)
        for line in lines
    ]
    sums: dict[_CodeKey, tuple[Decimal, Decimal]] = {}
    for line in split:
        key = (line.tax.tax_code, line.tax.account, line.tax.category, line.tax.rate)
        net, vat = sums.get(key, (ZERO, ZERO))
        sums[key] = (net + line.net, vat + line.vat)
    groups = []
    for (category, rate), codes in _by_group({k: v[0] for k, v in sums.items()}).items():
        parts = tuple(
            CodePart(code, account, net, sums[(code, account, category, rate)][1])
            for code, account, net in codes
        )
        groups.append(
            VatGroup(
                category,
                rate,
                sum((p.taxable for p in parts), ZERO),
                sum((p.vat for p in parts), ZERO),
                parts,
            )
        )
    return ReceiptPlan(tuple(split), _plan(groups))


# --- T7: foreign currency ----------------------------------------------------------------------


def exchange_rate_for(
    document_currency: str, company_currency: str, exchange_rate: Decimal | None
) -> Decimal | None:
    """T7: the exchange rate (company currency per unit) a document in `document_currency`
    needs: none in the company's own currency, a positive one otherwise."""
    if document_currency == company_currency:
        return None
    if exchange_rate is None:
        raise Rejection(
            "currency.exchange_rate_required",
            f"an order in {document_currency} needs an exchange_rate ({company_currency} per "
            f"{document_currency}): the company's currency is {company_currency}",
            rule="T7",
        )
    if exchange_rate <= 0:
        raise Rejection(
            "currency.exchange_rate_not_positive",
            f"exchange_rate {exchange_rate} ({company_currency} per {document_currency}) must "
            "be more than zero",
            rule="T7",
        )
    return exchange_rate


def to_company_currency(
    amount: Decimal, exchange_rate: Decimal, quantum: Decimal = CENT
) -> Decimal:
    """T7: a document-currency amount in the company currency, rounded to its minor unit."""
    return round_to(amount * exchange_rate, quantum)


def in_company_currency(plan: VatPlan, exchange_rate: Decimal, quantum: Decimal = CENT) -> VatPlan:
    """T7: the VAT breakdown in the company currency (Norway: VAT in NOK). Each code part's
    taxable amount and VAT are converted (the VAT stated in the document's currency, converted:
    what the invoice says, at the order's rate); a group is the sum of its parts and the totals
    the sum of the groups, so the ledger's VAT entries (per part, L1) equal what is printed."""
    groups = []
    for g in plan.groups:
        parts = tuple(
            replace(
                p,
                taxable=to_company_currency(p.taxable, exchange_rate, quantum),
                vat=to_company_currency(p.vat, exchange_rate, quantum),
            )
            for p in g.parts
        )
        groups.append(
            replace(
                g,
                taxable=sum((p.taxable for p in parts), ZERO),
                vat=sum((p.vat for p in parts), ZERO),
                parts=parts,
            )
        )
    return _plan(groups)
