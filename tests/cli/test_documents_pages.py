"""`docpost documents --limit N --after ID` (issue 18 item 1): a page at a time, as GET
/documents, oldest first; a small database's default output is as before (every document, no
extra line); with more, the command for the next page is printed (`next_after` in --json)."""

from __future__ import annotations

import json
import shlex

import pytest

from docpost.pipeline.documents import list_documents
from tests.cli.conftest import docpost
from tests.conftest import Runner


def all_ids(cli: Runner) -> list[int]:
    with cli.sessions() as session:
        return [d["id"] for d in list_documents(session)]


def test_the_default_output_of_a_small_database_is_every_document(
    cli: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = all_ids(cli)
    code, out, err = docpost(capsys, "documents")
    assert (code, err) == (0, "")
    assert "more documents" not in out
    rows = [line.split()[0] for line in out.splitlines()[2:]]  # after the header and rule
    assert rows == [str(i) for i in ids]
    code, out, _ = docpost(capsys, "documents", "--json")
    listed = json.loads(out)
    assert [d["id"] for d in listed["documents"]] == ids
    assert listed["next_after"] is None


def test_pages_chain_to_the_end_through_the_printed_command(
    cli: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = all_ids(cli)
    assert len(ids) >= 4, ids
    seen: list[int] = []
    argv = ["documents", "--limit", "2"]
    for _ in range(len(ids)):
        code, out, err = docpost(capsys, *argv)
        assert (code, err) == (0, "")
        lines = out.splitlines()
        more = [line for line in lines if line.startswith("more documents: ")]
        table = [line for line in lines[2:] if line not in more]
        seen += [int(line.split()[0]) for line in table]
        if not more:
            break
        (line,) = more
        command = shlex.split(line.removeprefix("more documents: "))
        assert command[:4] == ["docpost", "documents", "--limit", "2"]
        assert command[4:] == ["--after", str(seen[-1])]
        argv = command[1:]
    assert seen == ids


def test_json_pages_name_the_next_after(cli: Runner, capsys: pytest.CaptureFixture[str]) -> None:
    ids = all_ids(cli)
    _, out, _ = docpost(capsys, "documents", "--limit", "3", "--json")
    first = json.loads(out)
    assert [d["id"] for d in first["documents"]] == ids[:3]
    assert first["next_after"] == ids[2]
    _, out, _ = docpost(capsys, "documents", "--after", str(ids[2]), "--limit", "1000", "--json")
    rest = json.loads(out)
    assert [d["id"] for d in rest["documents"]] == ids[3:]
    assert rest["next_after"] is None


def test_the_journal_is_kept_in_the_next_command(
    cli: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    """CONF-000001 has its confirmation and its picking list (D2): two documents."""
    code, out, _ = docpost(capsys, "documents", "--journal", "CONF-000001", "--limit", "1")
    assert code == 0
    (more,) = [line for line in out.splitlines() if line.startswith("more documents: ")]
    first = int(out.splitlines()[2].split()[0])
    assert more == (
        f"more documents: docpost documents --journal CONF-000001 --limit 1 --after {first}"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--limit", "0"], "argument --limit: 0 is not between 1 and 1000"),
        (["--limit", "1001"], "argument --limit: 1001 is not between 1 and 1000"),
        (["--limit", "many"], "argument --limit: 'many' is not a whole number"),
        (["--after", "-1"], "argument --after: -1 is not between 0 and 2147483647"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)
def test_out_of_bounds_is_a_usage_error(
    cli: Runner, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        docpost(capsys, "documents", *argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
