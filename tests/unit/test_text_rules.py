"""Text that prints (DOMAIN.md S4 for serials, the same for every printed text): the pure
check of pipeline.rules.text, no database."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docpost.pipeline.rules.text import (
    REFUSED_CATEGORIES,
    describe_code_point,
    find_unprintable,
    normalize_serial,
    printable_text,
)


@pytest.mark.parametrize(
    ("text", "index", "code_point", "kind"),
    [
        ("SP-0002\u200b", 7, "U+200B ZERO WIDTH SPACE", "a format character"),
        ("\u202eLAIRES", 0, "U+202E RIGHT-TO-LEFT OVERRIDE", "a format character"),
        ("A\u2066B\u2069", 1, "U+2066 LEFT-TO-RIGHT ISOLATE", "a format character"),
        ("soft\u00adhyphen", 4, "U+00AD SOFT HYPHEN", "a format character"),
        ("\ufeffBOM", 0, "U+FEFF ZERO WIDTH NO-BREAK SPACE", "a format character"),
        ("tab\there", 3, "U+0009 CHARACTER TABULATION", "a control character"),
        ("bell\x07", 4, "U+0007 BELL", "a control character"),
        ("c1\x9b", 2, "U+009B <control>", "a control character"),
        ("line\u2028sep", 4, "U+2028 LINE SEPARATOR", "a line separator"),
        ("para\u2029", 4, "U+2029 PARAGRAPH SEPARATOR", "a paragraph separator"),
        ("private\ue000", 7, "U+E000 <private use>", "a private-use character"),
        ("unassigned\U000e0080", 10, "U+E0080 <unassigned>", "a code point unassigned in"),
    ],
)
def test_s4_control_and_format_characters_are_found_and_named(
    text: str, index: int, code_point: str, kind: str
) -> None:
    bad = find_unprintable(text)
    assert bad is not None
    assert (bad.index, bad.code_point) == (index, code_point)
    assert bad.kind.startswith(kind)
    assert bad.describe() == f"holds {code_point} ({bad.kind}) at position {index + 1}"


@pytest.mark.parametrize(
    "text",
    [
        "SP-0002",
        "Cave Wholesales",
        "Ærlig Åse Øvrebø",  # Norwegian letters print as themselves
        "Café crème",
        "No\u00a0break space",  # spaces (Zs) are allowed
        "Straße 5, 1010 Wien",
        "e\u0301",  # a combining accent is a mark (Mn), not a format character
        "",
    ],
)
def test_printable_text_passes(text: str) -> None:
    """Negative control: ordinary names (with letters beyond ASCII) are not refused."""
    assert find_unprintable(text) is None
    assert printable_text(text) == text


def test_a_multi_line_text_keeps_its_line_breaks_as_lf() -> None:
    assert printable_text("1 Main St\r\nSeattle\rWA", multiline=True) == "1 Main St\nSeattle\nWA"
    assert find_unprintable("a\nb", multiline=True) is None
    # Only line feeds: a tab or a bidi override in an address is still refused.
    with pytest.raises(ValueError, match=r"holds U\+0009 CHARACTER TABULATION"):
        printable_text("1 Main St\n\tSeattle", multiline=True)
    # A one-line text refuses the line feed.
    with pytest.raises(ValueError, match=r"holds U\+000A LINE FEED \(a control character\)"):
        printable_text("Cave\nWholesales")


def test_the_message_says_what_is_allowed_and_what_to_do() -> None:
    with pytest.raises(ValueError) as error:
        printable_text("Cave \u202eselaselohW")
    assert str(error.value) == (
        "holds U+202E RIGHT-TO-LEFT OVERRIDE (a format character) at position 6; text that "
        "prints may not hold control or format characters (only spaces are allowed), as they "
        "print as nothing or reorder what follows: remove it"
    )


def test_s4_serials_are_nfkc_normalised_and_trimmed() -> None:
    assert normalize_serial("  \uff33\uff30\uff0d\uff10\uff10\uff10\uff12 ") == "SP-0002"
    assert normalize_serial("\ufb01ne-1") == "fine-1"  # the ligature is its letters
    assert normalize_serial("\u3000SP-1\u00a0") == "SP-1"  # ideographic and no-break spaces
    # NFKC keeps format characters: those are refused by find_unprintable, not removed.
    assert normalize_serial("SP-0002\u200b") == "SP-0002\u200b"


def test_describe_code_point() -> None:
    assert describe_code_point("\u200b") == "U+200B ZERO WIDTH SPACE"
    assert describe_code_point("\x00") == "U+0000 NULL"
    assert describe_code_point("\U0010fffd") == "U+10FFFD <private use>"


@given(st.text(max_size=30))
def test_find_unprintable_is_the_first_character_of_a_refused_category(text: str) -> None:
    expected = next(
        (i for i, c in enumerate(text) if unicodedata.category(c) in REFUSED_CATEGORIES), None
    )
    bad = find_unprintable(text)
    assert (bad.index if bad else None) == expected
    # Line feeds are allowed only in multi-line text.
    multi = find_unprintable(text, multiline=True)
    expected_multi = next(
        (
            i
            for i, c in enumerate(text)
            if c != "\n" and unicodedata.category(c) in REFUSED_CATEGORIES
        ),
        None,
    )
    assert (multi.index if multi else None) == expected_multi


@given(st.text(max_size=30))
def test_s4_a_normalised_serial_is_stable(raw: str) -> None:
    """Normalising twice changes nothing: a stored serial compares equal to itself sent again,
    and one that passed the check never holds what two equal-looking serials could differ by."""
    serial = normalize_serial(raw)
    assert normalize_serial(serial) == serial
    assert serial == serial.strip()
