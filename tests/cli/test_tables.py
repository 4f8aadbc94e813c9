"""Issue 18: the CLI's text tables are laid out by rich (render_text.table). What people and
scripts rely on stays: a header over a dashed rule, columns two spaces apart, amounts
right-aligned, totals under a rule, every value whole (never wrapped, cropped or coloured,
whatever the terminal, $COLUMNS or $FORCE_COLOR say), and customer text printed as it is:
"[bold]", "[/]" or ":smile:" are neither rich markup nor emoji codes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from rich.cells import cell_len

from docpost.pipeline.entrypoints.cli.render_text import table
from tests.cli.conftest import DOCPOST, docpost, subprocess_env
from tests.conftest import Runner

CUSTOMER_TEXT = "[bold]Acme[/] [red]Ltd :smile: [link=x]y[/link] \\[z]"


def test_the_layout_header_rule_rows_and_totals() -> None:
    shown = table(
        ["account", "name", "balance"],
        [["1200", "Accounts receivable", "6153.60"], ["2700", "VAT", "-1187.25"]],
        right={2},
        footer=["total", None, "4966.35"],
    )
    assert shown.splitlines() == [
        "account  name                  balance",
        "-------- -------------------- --------",
        "1200     Accounts receivable   6153.60",
        "2700     VAT                  -1187.25",
        "-------- -------------------- --------",
        "total                          4966.35",
    ]


def test_right_aligned_columns_end_together_left_ones_start_together() -> None:
    """The columns numbered in `right` end on one column on every line, header and footer
    included, so the decimal points line up; the others start on one column."""
    lines = table(
        ["item", "qty", "amount", "text"],
        [["A", "1.5", "5.00", "short"], ["LONGER-ITEM", "12.25", "1234.50", "a longer text"]],
        right={1, 2},
        footer=["total", "", "1239.50", ""],
    ).splitlines()
    header, _, first, second, _, total = lines

    def end(line: str, value: str) -> int:
        return line.index(value) + len(value)

    assert end(header, "qty") == end(first, "1.5") == end(second, "12.25")
    assert end(header, "amount") == end(first, "5.00") == end(second, "1234.50")
    assert end(second, "1234.50") == end(total, "1239.50")
    assert header.index("text") == first.index("short") == second.index("a longer text")
    assert header.index("item") == first.index("A") == total.index("total") == 0


def test_customer_text_is_printed_literally() -> None:
    """Markup, its closing tag and emoji codes in a cell come out as they went in; rich with
    markup on would have made "[bold]Acme[/]" bold "Acme", or refused the stray "[/]"."""
    lines = table(["customer", "note"], [[CUSTOMER_TEXT, "[/]"], [":smile:", "[bold]"]])
    assert lines.splitlines()[2:] == [
        f"{CUSTOMER_TEXT}  [/]",
        f"{':smile:':{len(CUSTOMER_TEXT)}}  [bold]",
    ]


def test_never_wrapped_cropped_or_coloured_whatever_the_terminal_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A narrow $COLUMNS and a forced colour terminal change nothing: the text goes to
    print(), and a pipe or a file gets the same lines as a person."""
    rows = [["x" * 300, "1.00"], ["y", "22.00"]]
    plain = table(["long", "amount"], rows, right={1})
    for name, value in (("COLUMNS", "20"), ("FORCE_COLOR", "1"), ("TERM", "xterm-256color")):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("NO_COLOR", raising=False)
    shown = table(["long", "amount"], rows, right={1})
    assert shown == plain
    assert "\x1b" not in shown
    assert shown.splitlines()[2] == "x" * 300 + "    1.00"


def test_wide_characters_take_their_terminal_cells() -> None:
    """rich measures a CJK name by the two cells each character takes on a terminal, so the
    next column starts on one column on screen (len() would have counted one each)."""
    lines = table(["name", "qty"], [["東京商事", "1"], ["Acme", "22"]], right={1}).splitlines()
    assert {cell_len(line) for line in lines[2:]} == {cell_len("東京商事") + len("  qty")}
    assert [line.split() for line in lines[2:]] == [["東京商事", "1"], ["Acme", "22"]]


def test_no_rows_is_the_header_and_its_rule() -> None:
    assert table(["id", "status"], []).splitlines() == ["id  status", "--- ------"]


def test_customer_text_in_dead_letters_through_a_pipe(
    cli: Runner, capsys: pytest.CaptureFixture[str], db_url: str, tmp_path: Path
) -> None:
    """End to end: a message body with markup and an emoji code, as a sender wrote it, is
    listed by `docpost dead-letters` literally, in this process and in a real process
    writing to a pipe under a narrow, colour-forcing terminal environment."""
    from docpost.pipeline.dead_letters import store_dead_letter

    raw = CUSTOMER_TEXT.encode()  # shorter than the 60 characters the list shows
    store_dead_letter(cli.sessions, queue="posting", reason="not JSON", raw=raw)
    code, out, err = docpost(capsys, "dead-letters")
    assert (code, err) == (0, "")
    (row,) = out.splitlines()[2:]
    assert row.endswith(f"not JSON  {CUSTOMER_TEXT}")

    env = subprocess_env(
        DOCPOST_DATABASE_URL=db_url, COLUMNS="30", FORCE_COLOR="1", TERM="xterm-256color"
    )
    piped = subprocess.run(
        [*DOCPOST, "dead-letters"], env=env, cwd=tmp_path, capture_output=True, timeout=120
    )
    assert (piped.returncode, piped.stderr) == (0, b"")
    assert piped.stdout.decode() == out


def test_demo_right_aligns_its_amounts_as_the_ledger_does() -> None:
    """`docpost demo`'s trial balance and VAT summary right-align balance, rate, base and VAT
    as `docpost ledger` does (they were left-aligned before rich); the total stays a row of
    its own, the tables' values unchanged."""
    import io

    from docpost.pipeline.entrypoints.cli.demo import NORWAY, PartResult, print_part

    ledger = {
        "currency": "NOK",
        "trial_balance": {
            "accounts": [
                {"account": "1200", "name": "Accounts receivable", "balance": "23081.82"},
                {"account": "1900", "name": "Cash", "balance": "757.00"},
            ],
            "total": "0.00",
        },
        "vat_summary": [
            {"tax_code": "3", "category": "S", "rate": "25.00", "taxable_amount": "7561.20",
             "vat_amount": "1890.30"},
            {"tax_code": "5", "category": "Z", "rate": "0.00", "taxable_amount": "1570.50",
             "vat_amount": "0.00"},
        ],
    }  # fmt: skip
    part = PartResult(
        NORWAY, "sqlite:///:memory:", "documents", [], {}, ledger, documents_note="no documents"
    )
    out = io.StringIO()
    print_part(part, out)
    lines = out.getvalue().splitlines()
    start = lines.index("Trial balance")
    assert lines[start + 1 : start + 6] == [
        "account  name                  balance",
        "-------- -------------------- --------",
        "1200     Accounts receivable  23081.82",
        "1900     Cash                   757.00",
        "total                             0.00",
    ]
    start = lines.index("VAT summary per tax code (NOK)")
    assert lines[start + 1 : start + 6] == [
        "tax code  category  rate %     base      VAT",
        "--------- --------- ------- -------- -------",
        "3         S          25.00  7561.20  1890.30",
        "5         Z           0.00  1570.50     0.00",
        "total                       9131.70  1890.30",
    ]
