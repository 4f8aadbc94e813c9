"""Text that prints (DOMAIN.md S4, and every name, address and code on a document), as pure
functions.

A control or format character prints as nothing, or reorders what follows it (a bidi
override prints "\\u202eLAIRES" as "SERIAL"), so two texts that print alike could be stored
as different texts, and a document could show something other than what was stored. Such
characters are refused, naming the code point; none is ever removed silently.

Refused: the Unicode general categories Cc (controls: NUL, TAB, CR, LF, DEL, C1), Cf (format:
zero-width space and joiners, soft hyphen, bidi embeddings, overrides and isolates, BOM), Zl and
Zp (U+2028, U+2029), Co (private use: no font prints them the same way) and Cn (unassigned in
the Unicode version of this Python, so no font prints them either). Spaces (Zs) are allowed.
A multi-line text (an address) may hold line feeds; CR LF and CR are read as LF first.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

REFUSED_CATEGORIES = {
    "Cc": "a control character",
    "Cf": "a format character",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
    "Co": "a private-use character",
    "Cn": f"a code point unassigned in Unicode {unicodedata.unidata_version}",
    "Cs": "a surrogate",
}

# Control characters have no Unicode name, only aliases: the ones a request is likely to hold.
_CONTROL_NAMES = {
    0x00: "NULL",
    0x07: "BELL",
    0x08: "BACKSPACE",
    0x09: "CHARACTER TABULATION",
    0x0A: "LINE FEED",
    0x0B: "LINE TABULATION",
    0x0C: "FORM FEED",
    0x0D: "CARRIAGE RETURN",
    0x1B: "ESCAPE",
    0x7F: "DELETE",
    0x85: "NEXT LINE",
}


@dataclass(frozen=True)
class Unprintable:
    """The first character of a text that may not be printed, and where it is."""

    index: int
    char: str
    category: str

    @property
    def code_point(self) -> str:
        """How messages name the character, e.g. "U+200B ZERO WIDTH SPACE"."""
        return describe_code_point(self.char)

    @property
    def kind(self) -> str:
        return REFUSED_CATEGORIES[self.category]

    def describe(self) -> str:
        """E.g. "holds U+202E RIGHT-TO-LEFT OVERRIDE (a format character) at position 1"."""
        return f"holds {self.code_point} ({self.kind}) at position {self.index + 1}"


def describe_code_point(char: str) -> str:
    code = ord(char)
    name = unicodedata.name(char, "") or _CONTROL_NAMES.get(code, "")
    if not name:
        category = unicodedata.category(char)
        name = {
            "Cc": "<control>",
            "Co": "<private use>",
            "Cn": "<unassigned>",
            "Cs": "<surrogate>",
        }.get(category, "<unnamed>")
    return f"U+{code:04X} {name}"


def find_unprintable(text: str, *, multiline: bool = False) -> Unprintable | None:
    """The first refused character of `text`, or None. `multiline`: line feeds are allowed
    (they are the text's line breaks)."""
    # str.isprintable is False exactly for the categories C* and Z* but the ASCII space: the
    # usual text passes at C speed, only the rest is looked at character by character.
    if text.isprintable():
        return None
    for index, char in enumerate(text):
        if char == "\n" and multiline:
            continue
        category = unicodedata.category(char)
        if category in REFUSED_CATEGORIES:
            return Unprintable(index, char, category)
    return None


def line_breaks_as_lf(text: str) -> str:
    """A multi-line text's CR LF and lone CR as LF: the same line breaks, one way of writing."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def printable_text(text: str, *, multiline: bool = False) -> str:
    """`text` as given (line breaks as LF when multi-line); raises ValueError naming the first
    refused character. For the contract's fields: pydantic adds the field's path."""
    if multiline:
        text = line_breaks_as_lf(text)
    bad = find_unprintable(text, multiline=multiline)
    if bad is not None:
        allowed = "line breaks and spaces" if multiline else "spaces"
        raise ValueError(
            f"{bad.describe()}; text that prints may not hold control or format characters "
            f"(only {allowed} are allowed), as they print as nothing or reorder what follows: "
            "remove it"
        )
    return text


def normalize_serial(raw: str) -> str:
    """S4: a serial as compared and stored: NFKC-normalised (full-width "\\uff33\\uff30" is
    "SP", a ligature its letters), leading and trailing white space trimmed. Not checked for
    control or format characters: see `find_unprintable`."""
    return unicodedata.normalize("NFKC", raw).strip()
