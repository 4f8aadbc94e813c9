"""Example view models for tests, the benchmark and previews.

``sample_view``: the USMF example data (no VAT, as the pipeline printed it before issue 15).
``norwegian_sample_view``: a fictitious Norwegian company selling in NOK, with VAT at mixed
rates, a gift-basket bundle split per rate (T4), the VAT breakdown, KID and bank account (P3).

Preview every kind as PDF in a folder::

    python -m docpost.reports.samples OUT_DIR [--locale nb_NO] [--sample norwegian]

The README's sample invoice is not one of these views but a real posting: the Norwegian
invoice `docpost demo` posts, its first page made a small PNG (needs pdftoppm, from
poppler-utils)::

    cd "$(mktemp -d)" && docpost demo >/dev/null &&
        python -m docpost.reports.samples --png norway/documents/INV-000001.pdf \
        /path/to/checkout/reports/sample-invoice.png
"""

from __future__ import annotations

import argparse
import datetime
import shutil
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path

from docpost.reports.formatting import rate_label
from docpost.reports.labels import normalize_locale, unit_label
from docpost.reports.viewmodel import DocumentView, Kind, LineView, VatGroupView

COMPANY = {
    "name": "Contoso Entertainment System USA",
    "address": "1 Microsoft Way\nRedmond, WA 98052\nUnited States",
    "vat": "US-91-1144442",
}

CUSTOMER = {
    "customer": "US-004",
    "name": "Cave Wholesales",
    "address": "Attn. Accounts Payable\n123 Coffee Street, Suite 300\nRedmond, WA 98052",
}

_NUMBERS: dict[str, str] = {
    "confirmation": "CONF-000001",
    "packing_slip": "PS-000001",
    "invoice": "INV-000001",
    "credit_note": "CN-000001",
}


def _priced_lines() -> list[LineView]:
    # D1: the bundle parent with its components' serials under it (D5); blank = None.
    return [
        {
            "line": "1",
            "item": "LaptopBundle",
            "name": "Laptop bundle",
            "unit": "ea",
            "quantity": Decimal("3"),
            "unit_price": Decimal("2300.00"),
            "discount_percent": None,
            "discount_amount": None,
            "amount": Decimal("6900.00"),
            "serials": ["SP-0001", None, "SP-0003"],
            "is_bundle": True,
        },
        {
            "line": "2",
            "item": "M0001",
            "name": "Mobile phone",
            "unit": "ea",
            "quantity": Decimal("2"),
            "unit_price": Decimal("300.00"),
            "discount_percent": Decimal("10"),
            "discount_amount": None,
            "amount": Decimal("540.00"),
            "serials": ["IMEI-3569-0001", "IMEI-3569-0002"],
            "is_bundle": False,
        },
        {
            "line": "3",
            "item": "S0021",
            "name": "Docking station",
            "unit": "ea",
            "quantity": Decimal("1"),
            "unit_price": Decimal("150.00"),
            "discount_percent": None,
            "discount_amount": Decimal("15.00"),
            "amount": Decimal("135.00"),
            "serials": [],
            "is_bundle": False,
        },
    ]


def _unpriced_line(
    no: str, item: str, name: str, qty: str, serials: list[str | None], unit: str = "ea"
) -> LineView:
    return {
        "line": no,
        "item": item,
        "name": name,
        "unit": unit,
        "quantity": Decimal(qty),
        "unit_price": None,
        "discount_percent": None,
        "discount_amount": None,
        "amount": None,
        "serials": serials,
        "is_bundle": False,
    }


def _component_lines() -> list[LineView]:
    # D2: the packing slip shows the bundle's components, never the parent.
    line = _unpriced_line
    return [
        line("1.1", "1000", "Surface Pro 128 GB", "3", ["SP-0001", None, "SP-0003"]),
        line("1.2", "Support", "Support, 12 months", "3", []),
        line("1.3", "S0021", "Docking station", "3", []),
        line("2", "M0001", "Mobile phone", "2", ["IMEI-3569-0001", "IMEI-3569-0002"]),
        line("3", "S0021", "Docking station", "1", []),
    ]


def sample_view(kind: Kind = "invoice", *, line_count: int | None = None) -> DocumentView:
    """A complete view model of ``kind``; ``line_count`` repeats lines for long documents."""
    lines = _component_lines() if kind == "packing_slip" else _priced_lines()
    if kind == "credit_note":
        # D3: a credit note lists the component lines it credits (B10), here one returned phone.
        lines = [
            {
                **_priced_lines()[1],
                "line": "2",
                "quantity": Decimal("1"),
                "amount": Decimal("270.00"),
                "serials": ["IMEI-3569-0002"],
            }
        ]
    if line_count is not None:
        lines = [
            {**lines[i % len(lines)], "line": str(i + 1)}  # type: ignore[misc]
            for i in range(line_count)
        ]
    references: list = {
        "confirmation": [],
        "packing_slip": [],
        "invoice": [{"label": "packing_slip", "value": "PS-000001"}],
        "credit_note": [{"label": "invoice", "value": "INV-000001"}],
    }[kind]
    notes = {
        "confirmation": ["Thank you for your order."],
        "packing_slip": [],
        "invoice": ["Payment terms: net 30 days. Please quote the invoice number with payment."],
        "credit_note": ["Credit note for INV-000001"],
    }[kind]
    totals = None
    if kind != "packing_slip":
        net = sum((line["amount"] or Decimal(0) for line in lines), Decimal(0))
        totals = {"net": net, "total": net}
    return {
        "kind": kind,
        "number": _NUMBERS[kind],
        "revision": 1,
        "date": datetime.date(2024, 3, 5),
        "currency": "USD",
        "company": dict(COMPANY),  # type: ignore[typeddict-item]
        "customer": dict(CUSTOMER),  # type: ignore[typeddict-item]
        "order": "SO-1001",
        "references": references,
        "lines": lines,
        "totals": totals,  # type: ignore[typeddict-item]
        "notes": notes,
    }


# --- a Norwegian company selling in NOK (issue 15) -------------------------------------------
# Fictitious; the identifiers pass python-stdnum's checks (no.orgnr, no.kontonr, iban, luhn).

NORWEGIAN_COMPANY = {
    "name": "Fjordkurv AS",
    "address": ["Strandkaien 12", "5013 Bergen", "Norge"],
    "org_number": "NO 923 609 016 MVA",
    "foretaksregisteret": True,
    "bank_account": "1234.56.78903",
    "iban": "NO93 8601 1117 947",
    "bic": "DNBANOKK",
}

NORWEGIAN_CUSTOMER = {
    "customer": "NO-1001",
    "name": "Bryggen Delikatesse AS",
    "address": ["Att. Regnskap", "Bryggen 7", "5003 Bergen"],
    "org_number": "987 654 325",
    "reference": "Kari Nordmann",
}

_NORWEGIAN_NOTES: dict[str, dict[str, list[str]]] = {
    "en_US": {
        "confirmation": ["Thank you for your order."],
        "invoice": ["Please use the KID when paying."],
        "credit_note": ["One cutting board returned."],
        "packing_slip": [],
    },
    "nb_NO": {
        "confirmation": ["Takk for bestillingen."],
        "invoice": ["Vennligst bruk KID ved betaling."],
        "credit_note": ["Ett skjærebrett returnert."],
        "packing_slip": [],
    },
}


def _nok_line(
    no: str, item: str, name: str, qty: str, price: str, amount: str, rate: str, locale: str
) -> LineView:
    return {
        "line": no,
        "item": item,
        "name": name,
        "unit": unit_label("ea", locale),  # P4: "stk" in nb_NO
        "quantity": Decimal(qty),
        "unit_price": Decimal(price),
        "discount_percent": None,
        "discount_amount": None,
        "amount": Decimal(amount),
        "serials": [],
        "is_bundle": False,
        "tax_rate": Decimal(rate),
    }


def _norwegian_lines(locale: str) -> list[LineView]:
    # T4: two gift baskets, each a cheese (15 %, food) and a knife (25 %); B4 shares the bundle
    # price of 1,000.00 by base price (300 : 500), so the bundle prints as one line per rate
    # whose amounts sum to the bundle's 2,000.00.
    basket_food = _nok_line(
        "1",
        "GAVEKURV",
        rate_label("Gavekurv", Decimal(15), locale),
        "2",
        "375.00",
        "750.00",
        "15",
        locale,
    )
    basket_knife = _nok_line(
        "1",
        "GAVEKURV",
        rate_label("Gavekurv", Decimal(25), locale),
        "2",
        "625.00",
        "1250.00",
        "25",
        locale,
    )
    coffee = _nok_line(
        "2", "KAFFE-500", "Kaffe, hele bønner 500 g", "4", "89.50", "322.20", "15", locale
    )
    coffee["discount_percent"] = Decimal("10")
    return [
        {**basket_food, "is_bundle": True},
        {**basket_knife, "is_bundle": True},
        coffee,
        _nok_line("3", "BRETT-EIK", "Skjærebrett i eik", "3", "249.00", "747.00", "25", locale),
        _nok_line("4", "FRAKT", "Frakt", "1", "150.00", "150.00", "25", locale),
    ]


def _vat_group(rate: str, taxable: str, vat: str) -> VatGroupView:
    return {
        "category": "S",
        "rate": Decimal(rate),
        "taxable_amount": Decimal(taxable),
        "vat_amount": Decimal(vat),
    }


def norwegian_sample_view(kind: Kind = "invoice", locale: str = "nb_NO") -> DocumentView:
    """A document of the Norwegian sample company in NOK, its words and units in ``locale``.

    The figures are what T3 gives for these lines (the tests check them against the rule):
    15 %: 750.00 + 322.20 = 1,072.20, VAT 160.83; 25 %: 1,250.00 + 747.00 + 150.00 = 2,147.00,
    VAT 536.75; net 3,219.20 + VAT 697.58 = 3,916.78.
    """
    locale = normalize_locale(locale)
    lines = _norwegian_lines(locale)
    vat = [_vat_group("15", "1072.20", "160.83"), _vat_group("25", "2147.00", "536.75")]
    totals = {
        "net": Decimal("3219.20"),
        "vat": Decimal("697.58"),
        "total": Decimal("3916.78"),
        "due": Decimal("3916.78"),
    }
    view: DocumentView = {
        "kind": kind,
        "number": _NUMBERS[kind],
        "revision": 1,
        "date": datetime.date(2025, 1, 15),
        "currency": "NOK",
        "company": dict(NORWEGIAN_COMPANY),  # type: ignore[typeddict-item]
        "customer": dict(NORWEGIAN_CUSTOMER),  # type: ignore[typeddict-item]
        "order": "SO-2001",
        "references": [],
        "lines": lines,
        "totals": totals,  # type: ignore[typeddict-item]
        "notes": _NORWEGIAN_NOTES[locale][kind],
        "vat": vat,
    }
    if kind == "invoice":
        view["references"] = [{"label": "packing_slip", "value": "PS-000001"}]
        view.update(
            delivery_date=datetime.date(2025, 1, 14),
            due_date=datetime.date(2025, 2, 14),
            payment_terms_days=30,
            kid="0000018",  # "000001" of INV-000001 + its MOD10 (Luhn) check digit (P2)
        )
    elif kind == "credit_note":
        # One returned cutting board: 249.00 at 25 %, VAT 62.25 (T5).
        board = {**lines[3], "line": "3", "quantity": Decimal("1"), "amount": Decimal("249.00")}
        view.update(
            date=datetime.date(2025, 1, 20),
            lines=[board],  # type: ignore[typeddict-item]
            vat=[_vat_group("25", "249.00", "62.25")],
            totals={  # type: ignore[typeddict-item]
                "net": Decimal("249.00"),
                "vat": Decimal("62.25"),
                "total": Decimal("311.25"),
                "due": Decimal("311.25"),
            },
            references=[{"label": "invoice", "value": "INV-000001"}],
            credited_invoice={"number": "INV-000001", "date": datetime.date(2025, 1, 15)},
        )
    elif kind == "confirmation":
        view["totals"] = {**totals, "due": None}  # type: ignore[typeddict-item]
    else:  # packing slip: components, no prices (D2)
        view.update(lines=_norwegian_components(locale), totals=None, vat=None)
    return view


def _norwegian_components(locale: str) -> list[LineView]:
    stk = unit_label("ea", locale)  # P4

    def line(no: str, item: str, name: str, qty: str) -> LineView:
        return _unpriced_line(no, item, name, qty, [], stk)

    return [
        line("1.1", "OST-HVIT", "Hvitost, lagret 12 mnd.", "2"),
        line("1.2", "KNIV-OST", "Ostekniv i stål", "2"),
        line("2", "KAFFE-500", "Kaffe, hele bønner 500 g", "4"),
        line("3", "BRETT-EIK", "Skjærebrett i eik", "3"),
        line("4", "FRAKT", "Frakt", "1"),
    ]


PNG_DPI = 100
# A document is a few inks on white: 64 colours keep its text and rules sharp at a quarter of
# a full-colour PNG's size (the repository keeps the image).
PNG_COLOURS = 64


def first_page_png(pdf: Path, png: Path, dpi: int = PNG_DPI) -> None:
    """The first page of `pdf` as a PNG of `dpi` dots per inch, reduced to PNG_COLOURS colours
    when Pillow (WeasyPrint's own dependency) is there. RuntimeError without pdftoppm."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise RuntimeError(
            "pdftoppm is not installed: it comes with poppler-utils (apt-get install poppler-utils)"
        )
    with tempfile.TemporaryDirectory() as folder:
        stem = Path(folder) / "page"
        subprocess.run(
            [pdftoppm, "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile", pdf, stem],
            check=True,
        )
        _compress(stem.with_suffix(".png"), png)


def _compress(source: Path, target: Path) -> None:
    try:
        from PIL import Image
    except ImportError:  # the full-colour PNG, larger but the same page
        shutil.copyfile(source, target)
        return
    with Image.open(source) as page:
        reduced = page.convert("RGB").quantize(
            colors=PNG_COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
        reduced.save(target, optimize=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Render every document kind as a PDF, or (--png) a PDF's first page as "
        "the README's sample image."
    )
    parser.add_argument("out_dir", type=Path, nargs="?")
    parser.add_argument("--locale", default="en_US")
    parser.add_argument("--lines", type=int, default=None, help="repeat lines to this count")
    parser.add_argument(
        "--sample",
        choices=("usmf", "norwegian"),
        default="usmf",
        help="usmf: the USMF example (no VAT); norwegian: a company in NOK with VAT",
    )
    parser.add_argument(
        "--png",
        nargs=2,
        type=Path,
        metavar=("PDF", "PNG"),
        help=f"write the first page of PDF as PNG at {PNG_DPI} dpi (needs pdftoppm)",
    )
    parser.add_argument("--dpi", type=int, default=PNG_DPI, help="with --png")
    args = parser.parse_args(argv)
    if args.png:
        try:
            first_page_png(*args.png, dpi=args.dpi)
        except RuntimeError as exc:
            parser.exit(1, f"{exc}\n")
        print(args.png[1])
        return
    if args.out_dir is None:
        parser.error("give OUT_DIR, or --png PDF PNG")
    render_samples(args.out_dir, args.locale, args.sample, args.lines)


def render_samples(out_dir: Path, locale: str, sample: str, lines: int | None) -> None:
    from docpost.reports.render import render_pdf  # here, so importing samples stays light

    out_dir.mkdir(parents=True, exist_ok=True)
    kinds: tuple[Kind, ...] = ("confirmation", "packing_slip", "invoice", "credit_note")
    for kind in kinds:
        if sample == "norwegian":
            view = norwegian_sample_view(kind, locale)
            path = out_dir / f"{kind}-norwegian-{locale}.pdf"
        else:
            view = sample_view(kind, line_count=lines)
            path = out_dir / f"{kind}-{locale}.pdf"
        path.write_bytes(render_pdf(view, locale))
        print(path)


if __name__ == "__main__":
    main()
