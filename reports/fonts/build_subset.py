"""Regenerate the bundled subset fonts from the system's DejaVu Sans.

Run from the repository root (needs fonts-dejavu-core installed):

    python reports/fonts/build_subset.py [--source-dir /usr/share/fonts/truetype/dejavu]

Why a subset: WeasyPrint subsets every embedded font while writing each PDF, and for the full
DejaVu Sans (~700 KB, ~6,000 glyphs) that dominates the render time of a one-page document.
A font already cut down to the characters our documents print makes that step cheap.

Why renamed: the PDF then names "DocpostSans" as its font, so tests can prove that no text fell
back to a system font. The DejaVu licence (LICENSE beside this file) allows modified copies under
any name that does not contain "Bitstream" or "Vera".
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE_DIR = Path("/usr/share/fonts/truetype/dejavu")

FAMILY = "Docpost Sans"

# (source file, output file, style name, PostScript name)
FACES = [
    ("DejaVuSans.ttf", "DocpostSans.ttf", "Regular", "DocpostSans"),
    ("DejaVuSans-Bold.ttf", "DocpostSans-Bold.ttf", "Bold", "DocpostSans-Bold"),
]

# Basic Latin + Latin-1 Supplement + Latin Extended-A: every Western/Nordic name and address.
LATIN = range(0x0020, 0x0180)

# Punctuation that we or babel print. U+00A0 (already in LATIN) and U+202F are the group
# separators of nb_NO numbers in current and older CLDR data; U+2212 is the minus sign some
# locales format negative numbers with. Without them Pango would fall back to a system font.
EXTRA = [
    0x2009,  # thin space
    0x2010,  # hyphen
    0x2011,  # non-breaking hyphen
    0x2013,  # – en dash
    0x2014,  # — em dash
    0x2018,  # ‘
    0x2019,  # ’
    0x201A,  # ‚
    0x201C,  # “
    0x201D,  # ”
    0x201E,  # „
    0x2022,  # • bullet
    0x2026,  # … ellipsis
    0x202F,  # narrow no-break space
    0x2039,  # ‹
    0x203A,  # ›
    0x20AC,  # € euro sign
    0x2212,  # − minus sign
]

UNICODES = [*LATIN, *EXTRA]


def build_face(source: Path, target: Path, style: str, ps_name: str) -> int:
    # recalcTimestamp=False keeps head.modified from the source, so a rebuild is byte-identical
    # and does not show up as a changed binary in git.
    font = TTFont(source, recalcTimestamp=False)
    options = subset.Options()
    # Hinting only helps on-screen rasterisation at small pixel sizes; PDFs do not use it and it
    # is about half of DejaVu's bytes.
    options.hinting = False
    # WeasyPrint re-subsets the font with fontTools for every PDF, and decompiling the OpenType
    # layout tables (GPOS kerning above all) was most of that time. Latin text in this range
    # needs no GSUB (precomposed letters, DejaVu has no default ligatures) and gets its kerning
    # from the legacy 'kern' table, which HarfBuzz applies too and fontTools subsets cheaply.
    options.drop_tables += ["GPOS", "GSUB", "GDEF"]
    options.legacy_kern = True
    options.glyph_names = False
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.drop_tables += ["FFTM", "MATH"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=UNICODES)
    subsetter.subset(font)
    _rename(font, style, ps_name)
    font.save(target)
    return target.stat().st_size


def _rename(font: TTFont, style: str, ps_name: str) -> None:
    names = font["name"]
    full = f"{FAMILY} {style}" if style != "Regular" else FAMILY
    for record in list(names.names):
        if record.nameID in (1, 16):
            names.setName(FAMILY, record.nameID, record.platformID, record.platEncID, record.langID)
        elif record.nameID in (2, 17):
            names.setName(style, record.nameID, record.platformID, record.platEncID, record.langID)
        elif record.nameID in (3, 4):
            names.setName(full, record.nameID, record.platformID, record.platEncID, record.langID)
        elif record.nameID == 6:
            names.setName(
                ps_name, record.nameID, record.platformID, record.platEncID, record.langID
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source-dir", type=Path, default=DEFAULT_SOURCE_DIR)
    parser.add_argument("--out-dir", type=Path, default=HERE)
    args = parser.parse_args()
    for source_name, target_name, style, ps_name in FACES:
        size = build_face(args.source_dir / source_name, args.out_dir / target_name, style, ps_name)
        print(f"{target_name}: {size:,} bytes")


if __name__ == "__main__":
    main()
