"""The layers (README "How it is built", issue 14): import-linter's contracts in pyproject.toml
hold for the code as it is, and break when a rule imports the database or a service imports an
entry point, so the check cannot pass by reading nothing."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("pipeline", "tasks", "reports", "schema")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` on a copy of the four folders laid out as the wheel installs them
    (tree/docpost/<folder>). `python -S` skips the .pth files, so the editable install's finder
    cannot hand it the checkout instead of the copy; site-packages is added by hand for
    import-linter itself."""
    code = (
        "import sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]; "
        "from importlinter.cli import lint_imports; "
        "sys.exit(lint_imports(config_filename=sys.argv[3], no_cache=True))"
    )
    purelib = sysconfig.get_paths()["purelib"]
    return subprocess.run(
        [sys.executable, "-S", "-c", code, str(tree), purelib, str(ROOT / "pyproject.toml")],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def installed_layout(tmp_path: Path) -> Path:
    for folder in FOLDERS:
        shutil.copytree(
            ROOT / folder,
            tmp_path / "docpost" / folder,
            ignore=shutil.ignore_patterns("__pycache__", "*.ttf", "*.woff*", "static", "templates"),
        )
    return tmp_path


def test_the_layer_contracts_hold(installed_layout: Path) -> None:
    result = lint_imports(installed_layout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "violation", "contract"),
    [
        (
            "pipeline/rules/money.py",
            "import sqlalchemy  # noqa",
            "rules and reports import no database",
        ),
        (
            "pipeline/services/posting.py",
            "import docpost.pipeline.entrypoints.cli.main  # noqa",
            "entry points -> tasks -> request runner",
        ),
        (
            "pipeline/entrypoints/http/errors.py",
            "import docpost.pipeline.rules.money  # noqa",
            "entry points and tasks hold no rule",
        ),
    ],
    ids=["rule imports the database", "service imports an entry point", "entry point holds a rule"],
)
def test_a_deliberate_violation_breaks_its_contract(
    installed_layout: Path, module: str, violation: str, contract: str
) -> None:
    """Negative control: the same check fails, naming the contract, once a module breaks it."""
    target = installed_layout / "docpost" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{violation}\n", encoding="utf-8")
    result = lint_imports(installed_layout)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 broken" in result.stdout
    broken = result.stdout.split("Broken contracts", 1)[1]
    assert contract in broken.replace("\n", " ")
