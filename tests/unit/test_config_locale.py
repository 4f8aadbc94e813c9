"""DOCPOST_LOCALE (CONTRACT.md: "an unsupported value is refused at start-up"): an unsupported
locale is refused by every entry point before it does anything, with a message naming the
variable and the supported locales. It used to be found only while rendering, after the
posting had committed, which left the document `pending` for ever (issue 13).

The negative control that `init` with a supported locale does create the database is in
tests/services/test_config_locale.py (tests/unit holds no database); here the guard of
tests/unit/conftest.py fails any command that opens one before refusing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from docpost.pipeline.config import ConfigurationError, Settings, get_settings
from docpost.pipeline.entrypoints.cli import main as cli
from docpost.pipeline.entrypoints.cli import serve as cli_http

ROOT = Path(__file__).resolve().parents[2]
REFUSED = (
    "configuration refused: DOCPOST_LOCALE: unsupported locale 'de_DE': "
    "supported locales are en_US, nb_NO"
)


def test_settings_refuse_an_unsupported_locale_naming_the_variable(
    locale_env: pytest.MonkeyPatch,
) -> None:
    locale_env.setenv("DOCPOST_LOCALE", "de_DE")
    with pytest.raises(ConfigurationError) as refused:
        get_settings()
    assert str(refused.value) == REFUSED.removeprefix("configuration refused: ")


@pytest.mark.parametrize(("given", "used"), [("nb_NO", "nb_NO"), ("nb-no", "nb_NO"), ("", "en_US")])
def test_settings_take_the_supported_locales(given: str, used: str) -> None:
    """Negative control: what the documents support is accepted (empty means the default)."""
    assert Settings(locale=given).locale == used


@pytest.mark.parametrize(
    "command",
    [
        ["init"],
        ["run", "requests.jsonl"],
        ["submit", "requests.jsonl", "--wait"],
        ["worker", "--concurrency", "1"],
        ["beat"],
        ["serve"],
        ["show", "order", "SO-1"],
    ],
)
def test_every_command_refuses_an_unsupported_locale_with_exit_2(
    locale_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    locale_env.setenv("DOCPOST_LOCALE", "de_DE")
    assert cli.main(command) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == f"docpost: {REFUSED}"
    assert not Path("docpost.db").exists(), "nothing may be done before the refusal"


def test_the_refusal_in_json(
    locale_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    locale_env.setenv("DOCPOST_LOCALE", "de_DE")
    assert cli.main(["init", "--json"]) == 2
    assert capsys.readouterr().out.strip() == (
        '{"error": {"code": "config.invalid", "message": "' + REFUSED + '"}}'
    )


def test_the_http_commands_alone_refuse_it(
    locale_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m docpost.pipeline.entrypoints.cli.serve serve` (what the HTTP tests start) and create_app, for
    any other ASGI server."""
    locale_env.setenv("DOCPOST_LOCALE", "de_DE")
    assert cli_http.main(["serve"]) == 2
    assert capsys.readouterr().err.strip() == f"docpost: {REFUSED}"

    from docpost.pipeline.entrypoints.http import create_app

    with pytest.raises(ConfigurationError, match="DOCPOST_LOCALE: unsupported locale 'de_DE'"):
        create_app()


def test_a_worker_started_by_celery_itself_refuses_it(tmp_path: Path) -> None:
    """`celery -A docpost.tasks.app worker` without docpost's CLI: loading the app fails, naming the
    variable (checked without a broker: the app is loaded before any connection)."""
    env = {**os.environ, "DOCPOST_LOCALE": "de_DE", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", "import docpost.tasks.app"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "ConfigurationError: " + REFUSED.removeprefix("configuration refused: ") in done.stderr
