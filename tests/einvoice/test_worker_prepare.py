"""tasks.app: a worker's pool processes compile the e-invoice rules as they start (E2,
DOCPOST_EINVOICE_RULES), without a broker: when, when not, and what a failure does. The real
worker's pool process is checked in test_einvoice_worker.py.
"""

from __future__ import annotations

import builtins
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
from celery.signals import celeryd_init

import docpost.reports.einvoice.validation as validation
import docpost.tasks.app as app_module
from docpost.pipeline.config import get_settings


@pytest.fixture
def worker_env(locale_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A worker's settings, DOCPOST_EINVOICE_RULES unset; consuming every queue."""
    locale_env.delenv("DOCPOST_EINVOICE_RULES", raising=False)
    locale_env.setattr(app_module, "_renders_documents", True)
    get_settings.cache_clear()
    return locale_env


def with_rules(env: pytest.MonkeyPatch, rules: Path) -> None:
    env.setenv("DOCPOST_EINVOICE_RULES", str(rules))
    get_settings.cache_clear()


def test_e2_rules_compiled_at_pool_start_when_set(
    worker_env: pytest.MonkeyPatch, rules: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with_rules(worker_env, rules)
    with caplog.at_level(logging.INFO, logger="docpost.tasks.app"):
        elapsed = app_module.prepare_einvoice_rules()
    assert isinstance(elapsed, int) and elapsed >= 0
    assert f"e-invoice rules compiled in {elapsed} ms" in caplog.messages


def test_e2_no_rules_nothing_compiled(
    worker_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Negative control: without DOCPOST_EINVOICE_RULES a pool process starts as before."""
    calls: list[object] = []
    worker_env.setattr(validation, "prepare", calls.append)
    with caplog.at_level(logging.INFO, logger="docpost.tasks.app"):
        assert app_module.prepare_einvoice_rules() is None
    assert calls == [] and not caplog.messages


def test_e2_a_worker_not_consuming_documents_compiles_nothing(
    worker_env: pytest.MonkeyPatch, rules: Path
) -> None:
    """A worker started with -Q posting,bulk never renders an e-invoice: celeryd_init notes its
    queues (in the main process, inherited by the pool) and its processes skip the rules."""
    with_rules(worker_env, rules)
    calls: list[object] = []
    worker_env.setattr(validation, "prepare", calls.append)
    conf = SimpleNamespace(worker_proc_alive_timeout=4.0, worker_max_tasks_per_child=None)
    app_module._recycle_render_processes(conf=conf, options={"queues": "posting,bulk"})
    assert app_module.prepare_einvoice_rules() is None and calls == []
    assert conf.worker_proc_alive_timeout == 4.0  # unchanged: nothing compiles at start

    app_module._recycle_render_processes(conf=conf, options={"queues": ["documents"]})
    assert app_module.prepare_einvoice_rules() is not None and calls == [str(rules)]
    # A pool process compiling at start gets time to do so before Celery gives up on it.
    assert conf.worker_proc_alive_timeout == app_module.EINVOICE_PROC_ALIVE_TIMEOUT


def test_e2_a_failure_to_compile_leaves_the_rules_to_the_first_einvoice(
    worker_env: pytest.MonkeyPatch, rules: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A pool process whose compilation fails still starts (one that raised would be replaced
    for ever); the error is logged and the first e-invoice compiles them, as without this."""
    with_rules(worker_env, rules)

    def broken(folder: object) -> None:
        raise RuntimeError("Saxon could not start")

    worker_env.setattr(validation, "prepare", broken)
    with caplog.at_level(logging.INFO, logger="docpost.tasks.app"):
        assert app_module.prepare_einvoice_rules() is None
    assert caplog.messages == [
        "e-invoice rules not compiled at start (Saxon could not start): the first e-invoice will"
    ]


def test_a_render_worker_imports_the_renderer_before_its_pool_forks(
    worker_env: pytest.MonkeyPatch,
) -> None:
    """A render task's time limit could cut WeasyPrint's import off halfway, and a half-imported
    fontTools fails every later render of the process: a render worker's main process imports
    it at celeryd_init, before any pool process exists; posting workers (-Q posting,bulk)
    import nothing."""
    receivers = [ref() for _, ref in celeryd_init.receivers]
    assert app_module._import_renderer in receivers

    imported: list[str] = []
    real_import = builtins.__import__

    def spying_import(name: str, *args: object, **kwargs: object) -> object:
        if name == "docpost.reports":
            imported.append(name)
        return real_import(name, *args, **kwargs)

    worker_env.setattr(builtins, "__import__", spying_import)
    app_module._import_renderer(options={"queues": "posting,bulk"})
    assert imported == []
    app_module._import_renderer(options={"queues": ["documents"]})
    assert imported == ["docpost.reports"]
    app_module._import_renderer(options={})  # no -Q: every queue, documents too
    assert imported == ["docpost.reports", "docpost.reports"]
