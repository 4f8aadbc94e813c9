"""DOCPOST_LOCALE with a supported value: `docpost init` runs and creates its database. The
negative control of tests/unit/test_config_locale.py, whose commands refuse an unsupported
locale before a database file exists; it writes a SQLite file, so it lives here."""

from __future__ import annotations

from pathlib import Path

import pytest

from docpost.pipeline.entrypoints.cli import main as cli


def test_init_runs_with_a_supported_locale(
    locale_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Negative control of test_every_command_refuses_an_unsupported_locale_with_exit_2: the
    same command with nb_NO works and makes the file that test finds absent."""
    locale_env.setenv("DOCPOST_LOCALE", "nb_NO")
    assert cli.main(["init"]) == 0
    assert Path("docpost.db").exists()
