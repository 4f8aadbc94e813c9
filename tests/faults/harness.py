"""Fault injection: real workers, private servers to stop and start, and the audit every fault
test ends with (outcomes, lost, doubled, gaps, trial balance, documents).

Workers are `celery worker` subprocesses (tests.integration's Worker, here with a choice of app
module). The shared Redis is used on database 12 under a key prefix unique to the test; servers
that a test stops and starts are private ones (their own port and directory), never the shared.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline import queries
from docpost.pipeline.db import make_engine
from docpost.pipeline.runner.execute import execute
from docpost.schema import Document, Journal, LedgerEntry, NumberSeries, RequestRecord, SalesOrder
from docpost.schema.requests import FINAL_STATUSES
from tests.conftest import REDIS_URL, usmf_catalog
from tests.integration.conftest import Broker, Worker

LONG = os.environ.get("DOCPOST_LONG_FAULTS", "").lower() in ("1", "true", "yes")
QUEUES = ("posting", "bulk", "documents")


def redis_db(url: str, db: int) -> str:
    """The same Redis server, another database number."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


# Database 12 of the shared Redis, each test under its own key prefix.
FAULTS_REDIS_URL = os.environ.get("DOCPOST_TEST_FAULTS_REDIS_URL") or redis_db(REDIS_URL, 12)


def seeded_random(what: str) -> tuple[random.Random, int]:
    """A random source for `what`, seeded from DOCPOST_FAULTS_SEED when set (to replay a run)."""
    seed = int(os.environ.get("DOCPOST_FAULTS_SEED") or random.randrange(1, 10**9))
    return random.Random(f"{seed}:{what}"), seed


# --- workers -----------------------------------------------------------------------------------


class FaultWorker(Worker):
    """tests.integration's Worker (whose `app` picks the Celery app module, `-A`), with the
    liveness checks the fault tests need."""

    @property
    def hostname(self) -> str:
        return f"{self.name}@{socket.gethostname()}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def ping(self, timeout: float = 5.0) -> bool:
        """The worker answers a remote-control ping (through the broker)."""
        from docpost.tasks.app import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            replies = app.control.ping(destination=[self.hostname], timeout=1.0)
            if any(self.hostname in reply for reply in replies):
                return True
        return False


# --- the installation under test ---------------------------------------------------------------


@dataclass
class Stack:
    """One test's docpost: a database, a broker (under a key prefix), worker subprocesses."""

    env: dict[str, str]
    broker: Broker
    logs: Path
    engine: Engine
    workers: list[FaultWorker] = field(default_factory=list)
    _starts: Counter[str] = field(default_factory=Counter)
    # DOCPOST_REPUBLISH_AFTER of this installation: set, `beat()` runs the recovery sweep too.
    republish_after: float | None = None
    visibility_timeout: float = 10.0
    # What the recovery sweeps published again, summed: {"requests": n, "documents": m}.
    recovered: Counter[str] = field(default_factory=Counter)

    @property
    def sessions(self) -> sessionmaker[Session]:
        return sessionmaker(self.engine, expire_on_commit=False)

    def worker(
        self, name: str, concurrency: int = 2, app: str = "docpost.tasks.app", wait: bool = True
    ) -> FaultWorker:
        """Start a worker; a name started again (a restart) logs to a new file."""
        self._starts[name] += 1
        log = self.logs / f"{name}-{self._starts[name]}.log"
        worker = FaultWorker(name, self.env, log, concurrency, app)
        self.workers.append(worker)
        if wait:
            worker.wait_ready()
        return worker

    def workers_ready(self, *names: str, concurrency: int = 2) -> list[FaultWorker]:
        """Start several workers at once, then wait for all of them."""
        started = [self.worker(name, concurrency, wait=False) for name in names]
        for worker in started:
            worker.wait_ready()
        return started

    def worker_log(self) -> str:
        return "\n".join(w.text() for w in self.workers)

    def beat(self) -> None:
        """What beat does now and then: the outbox sweep (sent to a worker), and, when this
        stack has a republish delay, the recovery sweep (tasks.recovery.recover, run here so
        that the test can count what it published again). A broker or database that is down
        just skips this round, as beat's own sweeps would fail and come again."""
        with contextlib.suppress(Exception):
            send_sweep()
        if self.republish_after is None:
            return
        from docpost.schema.types import utcnow
        from docpost.tasks.recovery import Cutoffs, recover

        cutoffs = Cutoffs.at(utcnow(), self.republish_after, self.visibility_timeout)
        with contextlib.suppress(Exception):
            self.recovered.update(recover(self.sessions, cutoffs))

    def explain_pending(self, limit: int = 5) -> str:
        """Why documents are still pending, as far as the database, the broker and the worker
        logs tell: each one's row, its outbox rows, what waits in the broker, the log tail."""
        lines: list[str] = []
        with contextlib.suppress(Exception):
            lines += pending_document_rows(self.sessions, limit)
        with contextlib.suppress(Exception):
            lines.append(
                f"broker: waiting={self.broker.waiting(*QUEUES)} unacked={self.broker.unacked()}"
            )
        log = self.worker_log()
        for document_id in re.findall(r"^document (\d+) ", "\n".join(lines), re.MULTILINE):
            mentions = re.findall(rf"^.*document {document_id}\b.*$", log, re.MULTILINE)
            lines += [f"  log: {line[:300]}" for line in mentions[-3:]]
        lines.append(
            f"worker log: held={len(re.findall(HELD_LINE, log))} "
            f"put_back={sum(int(n) for n in re.findall(PUT_BACK_LINE, log))} "
            f"recovered_here={dict(self.recovered)}"
        )
        lines.append("worker log tail:\n" + log[-3000:])
        return "\n".join(lines)

    def load(self, *requests: dict[str, Any]) -> None:
        """Set-up that is not under test, executed in this process."""
        for request in requests:
            outcome = execute(request, self.sessions)
            assert outcome["status"] == "succeeded", outcome

    def load_catalog(self) -> None:
        self.load(
            {
                "request_id": "faults-catalog",
                "kind": "upsert_catalog",
                "actor": "erp",
                "payload": usmf_catalog(),
            }
        )

    def close(self) -> None:
        # The test has looked at everything it wanted: no warm shutdown needed (a killed
        # worker's unfinished messages would only come back to this test's own keys).
        for worker in self.workers:
            worker.kill()
            worker.stop()
        self.engine.dispose()
        with contextlib.suppress(redis.exceptions.RedisError):
            self.broker.flush()
        self.broker.client.close()


def new_engine(url: str) -> Engine:
    return make_engine(url, pool_size=5, max_overflow=5)


# --- private servers ---------------------------------------------------------------------------


def free_port(first: int, span: int = 400) -> int:
    """A port at or above `first` that nothing listens on now (starting at a random offset,
    so that test runs side by side rarely pick the same one)."""
    start = first + random.randrange(span // 2)
    for port in itertools.chain(range(start, first + span), range(first, start)):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {first}..{first + span}")


@dataclass
class TlsFiles:
    """A throwaway self-signed certificate (it is its own CA) for 127.0.0.1."""

    cert: Path
    key: Path

    @classmethod
    def create(cls, directory: Path) -> TlsFiles:
        directory.mkdir(parents=True, exist_ok=True)
        files = cls(directory / "redis.crt", directory / "redis.key")
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                "-keyout", str(files.key), "-out", str(files.cert), "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-addext", "basicConstraints=critical,CA:TRUE",
            ],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        return files


class PrivateRedis:
    """A redis-server of this test's own, in a temporary directory, to stop and start."""

    def __init__(
        self,
        directory: Path,
        *,
        appendonly: bool = False,
        password: str | None = None,
        tls: TlsFiles | None = None,
    ) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError("redis-server is not installed")
        self.binary, self.directory = binary, directory
        self.appendonly, self.password, self.tls = appendonly, password, tls
        directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port(6390)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        if self.tls:
            return (
                f"rediss://{auth}127.0.0.1:{self.port}/0"
                f"?ssl_cert_reqs=required&ssl_ca_certs={self.tls.cert}"
            )
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        command = [
            self.binary, "--bind", "127.0.0.1", "--dir", str(self.directory), "--save", "",
            "--appendonly", "yes" if self.appendonly else "no",
            "--logfile", str(self.directory / "redis.log"), "--daemonize", "no",
        ]  # fmt: skip
        if self.tls:
            command += [
                "--port", "0", "--tls-port", str(self.port),
                "--tls-cert-file", str(self.tls.cert), "--tls-key-file", str(self.tls.key),
                "--tls-ca-cert-file", str(self.tls.cert), "--tls-auth-clients", "no",
            ]  # fmt: skip
        else:
            command += ["--port", str(self.port)]
        if self.password:
            command += ["--requirepass", self.password]
        return command

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=5)

    def start(self, timeout: float = 20.0) -> None:
        with (self.directory / "redis.out").open("ab") as out:
            self.process = subprocess.Popen(
                self.command(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        client = self.client()
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                try:
                    if client.ping():
                        return
                except redis.exceptions.BusyLoadingError:
                    pass  # still loading the append-only file
                except redis.exceptions.ConnectionError:
                    pass
                time.sleep(0.05)
        finally:
            client.close()
        raise AssertionError(f"redis-server on port {self.port} did not start:\n{self.log()}")

    def stop(self) -> None:
        """SIGTERM: Redis shuts down, writing its append-only file first."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def log(self) -> str:
        paths = [self.directory / "redis.out", self.directory / "redis.log"]
        return "".join(p.read_text(errors="replace")[-3000:] for p in paths if p.exists())

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def postgres_bin() -> Path:
    configured = os.environ.get("DOCPOST_TEST_PG_BIN")
    if configured:
        return Path(configured)
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise FileNotFoundError("PostgreSQL's initdb and pg_ctl are not installed")
    return Path(initdb).parent


class PrivatePostgres:
    """A PostgreSQL cluster of this test's own (initdb in a temporary directory), to stop and
    start. initdb refuses to run as root: as root the cluster belongs to `postgres`."""

    def __init__(self) -> None:
        self.bin = postgres_bin()
        self.root = Path(tempfile.mkdtemp(prefix="docpost-faults-pg-"))
        self.data = self.root / "data"
        self.port = free_port(5440)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--no-sync",
        )  # fmt: skip

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        if os.geteuid() == 0:
            command = ("runuser", "-u", "postgres", "--", *command)
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise AssertionError(
                f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}\n{self.log()}"
            )

    def _pg_ctl(self, *args: str) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), *args)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._pg_ctl(
            "-l", str(self.root / "postgres.log"), "-o", options, "-w", "-t", "60", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("-m", mode, "-w", "-t", "60", "stop")

    def log(self) -> str:
        path = self.root / "postgres.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


# --- waiting -----------------------------------------------------------------------------------


def statuses_of(sessions: sessionmaker[Session], ids: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    with sessions() as session:
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            found.update(
                session.execute(
                    select(RequestRecord.request_id, RequestRecord.status).where(
                        RequestRecord.request_id.in_(chunk)
                    )
                ).all()
            )
    return found


def wait_final(
    sessions: sessionmaker[Session],
    ids: Sequence[str],
    timeout: float,
    what: str = "requests",
    *,
    beat: Callable[[], None] | None = None,
    beat_every: float = 3.0,
) -> dict[str, str]:
    """Until every request is final; database errors (a server restarting) are waited out.
    `beat` (Stack.beat) is called every `beat_every` seconds meanwhile, as beat would run."""
    deadline = time.monotonic() + timeout
    next_beat = time.monotonic() + beat_every
    statuses: dict[str, str] = {}
    error: Exception | None = None
    while True:
        if beat is not None and time.monotonic() >= next_beat:
            beat()
            next_beat = time.monotonic() + beat_every
        try:
            statuses, error = statuses_of(sessions, ids), None
        except Exception as exc:
            error = exc
        if error is None and all(statuses.get(i) in FINAL_STATUSES for i in ids):
            return statuses
        if time.monotonic() > deadline:
            open_ids = [i for i in ids if statuses.get(i) not in FINAL_STATUSES]
            shown = {i: statuses.get(i, "absent") for i in open_ids[:5]}
            raise AssertionError(
                f"{len(open_ids)} {what} not final after {timeout} s: {shown}; last error: {error!r}"
            )
        time.sleep(0.2)


# What tasks.dead_letters logs when it holds a delivery the broker lost and puts it back.
HELD_LINE = r"held, to be put back on its queue"
PUT_BACK_LINE = r"put back (\d+) delivery\(ies\) held over a broker outage"


def pending_document_rows(sessions: sessionmaker[Session], limit: int = 5) -> list[str]:
    """The first pending documents: their row, their journal's request, their outbox rows."""
    from docpost.schema import OutboxMessage

    lines: list[str] = []
    with sessions() as session:
        pending = session.execute(
            select(Document, Journal.request_id)
            .join(Journal, Journal.id == Document.journal_id)
            .where(Document.status == "pending")
            .order_by(Document.id)
            .limit(limit)
        ).all()
        renders = session.scalars(
            select(OutboxMessage).where(OutboxMessage.task == "render_document")
        ).all()
        for document, request_id in pending:
            outbox = [
                f"outbox {m.id} created={m.created_at:%H:%M:%S.%f} published={m.published_at}"
                for m in renders
                if (m.payload or {}).get("document_id") == document.id
            ]
            lines.append(
                f"document {document.id} ({document.kind}, request {request_id}): "
                f"attempts={document.attempts} created={document.created_at:%H:%M:%S.%f} "
                f"republished={document.published_at} error={document.error!r}; "
                + ("; ".join(outbox) or "no outbox row")
            )
    return lines


def send_sweep() -> None:
    """What beat sends every DOCPOST_OUTBOX_SWEEP_SECONDS: relay what the outbox still holds."""
    from docpost.tasks.app import app
    from docpost.tasks.routing import RELAY_OUTBOX

    app.send_task(RELAY_OUTBOX)


def document_statuses(sessions: sessionmaker[Session]) -> Counter[str]:
    with sessions() as session:
        return Counter(dict(session.execute(select(Document.status, func.count()).group_by(Document.status)).all()))  # fmt: skip


def wait_rendered(
    sessions: sessionmaker[Session],
    timeout: float,
    sweep_every: float = 3.0,
    *,
    beat: Callable[[], None] | None = None,
    explain: Callable[[], str] | None = None,
) -> Counter[str]:
    """Until no document is pending, calling `beat` (default: only the outbox sweep) every
    `sweep_every` seconds, as beat would. The outbox sweep publishes a render that was never
    published (the broker was down after the commit); a render message lost after it was
    published (the broker lost it) comes back only through the recovery sweep, which
    Stack.beat runs when the stack has a republish delay. A killed worker's message comes back
    by itself after the visibility timeout. `explain` adds its text to the failure."""
    beat = beat or send_sweep
    deadline = time.monotonic() + timeout
    next_sweep = time.monotonic() + sweep_every
    statuses: Counter[str] = Counter()
    while True:
        with contextlib.suppress(Exception):
            statuses = document_statuses(sessions)
            if statuses and not statuses["pending"]:
                return statuses
        if time.monotonic() > deadline:
            message = f"documents still pending after {timeout} s: {dict(statuses)}"
            raise AssertionError(message + (f"\n{explain()}" if explain else ""))
        if time.monotonic() >= next_sweep:
            with contextlib.suppress(Exception):
                beat()
            next_sweep = time.monotonic() + sweep_every
        time.sleep(0.25)


def wait_idle(broker: Broker, timeout: float = 60.0) -> None:
    """Until no message waits or is unacknowledged in the broker: every delivery is done."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(redis.exceptions.RedisError):
            if broker.waiting(*QUEUES) == 0 and broker.unacked() == 0:
                return
        time.sleep(0.2)
    raise AssertionError(
        f"messages still in the broker after {timeout} s: waiting={broker.waiting(*QUEUES)} "
        f"unacked={broker.unacked()}"
    )


# --- the audit ---------------------------------------------------------------------------------

SERIES = ("CONF", "PS", "INV", "CN", "VOU", "POS")


@dataclass
class Audit:
    requests: int
    statuses: Counter[str]
    journals: int
    lost: int
    doubled: int
    gaps: dict[str, int]
    numbers: dict[str, int]
    trial_balance: Decimal
    documents: Counter[str]

    @property
    def gap_count(self) -> int:
        return sum(self.gaps.values())

    def line(self) -> str:
        return (
            f"outcomes={sum(self.statuses[s] for s in FINAL_STATUSES)} "
            f"statuses={dict(self.statuses)} journals={self.journals} lost={self.lost} "
            f"doubled={self.doubled} gaps={self.gap_count} trial_balance={self.trial_balance} "
            f"documents_rendered={self.documents['rendered']}"
        )


def audit(sessions: sessionmaker[Session], journals_per_request: Mapping[str, int]) -> Audit:
    """What a run left behind. `journals_per_request`: how many journals each request posts
    when it succeeds. Lost: a request with no final outcome, or a succeeded one with fewer
    journals; doubled: more journals than it posts. Gaps: per series, the numbers 1..n taken
    (n = the series' counter) that no journal, voucher or POS order carries, plus any beyond."""
    ids = list(journals_per_request)
    statuses = statuses_of(sessions, ids)
    with sessions() as session:
        per_request: Counter[str] = Counter()
        for start in range(0, len(ids), 1000):
            per_request.update(
                dict(
                    session.execute(
                        select(Journal.request_id, func.count())
                        .where(Journal.request_id.in_(ids[start : start + 1000]))
                        .group_by(Journal.request_id)
                    ).all()
                )
            )
        present: dict[str, list[str]] = {
            "journals": list(session.scalars(select(Journal.number))),
            "VOU": list(session.scalars(select(LedgerEntry.voucher).distinct())),
            "POS": list(
                session.scalars(
                    select(SalesOrder.order_no).where(SalesOrder.order_no.like("POS-%"))
                )
            ),
        }
        taken = {code: value - 1 for code, value in session.execute(select(NumberSeries.code, NumberSeries.next_value)).all()}  # fmt: skip
        balance = Decimal(queries.ledger(session)["trial_balance"]["total"])
        journal_count = session.scalar(select(func.count()).select_from(Journal)) or 0
    documents = document_statuses(sessions)
    numbers: dict[str, set[int]] = {code: set() for code in SERIES}
    for number in itertools.chain.from_iterable(present.values()):
        code, _, value = number.rpartition("-")
        if code in numbers and value.isdigit():
            numbers[code].add(int(value))
    gaps = {
        code: len(set(range(1, taken.get(code, 0) + 1)) ^ numbers[code])
        for code in SERIES
        if taken.get(code) or numbers[code]
    }
    lost = doubled = 0
    for request_id, expected in journals_per_request.items():
        status = statuses.get(request_id)
        if status not in FINAL_STATUSES:
            lost += 1
            continue
        actual = per_request[request_id]
        if status == "succeeded":
            lost += max(0, expected - actual)
        doubled += max(0, actual - (expected if status == "succeeded" else 0))
    return Audit(
        requests=len(ids),
        statuses=Counter(statuses.values()),
        journals=journal_count,
        lost=lost,
        doubled=doubled,
        gaps=gaps,
        numbers={code: taken.get(code, 0) for code in SERIES},
        trial_balance=balance,
        documents=documents,
    )


def assert_clean(result: Audit, journals: int | None = None) -> None:
    """Nothing lost, nothing doubled, no holes, a balanced ledger, every document rendered."""
    assert result.lost == 0, result
    assert result.doubled == 0, result
    assert result.gap_count == 0, result
    assert result.trial_balance == 0, result
    assert set(result.documents) == {"rendered"}, result
    if journals is not None:
        assert result.journals == journals, result
        # A PDF per journal, and each confirmation's picking list beside its own (D2).
        assert result.documents["rendered"] == journals + result.numbers.get("CONF", 0), result


# --- request mixes -----------------------------------------------------------------------------


def pos_sale(request_id: str, serial: str) -> dict[str, Any]:
    """A self-contained posting (order, packing slip and invoice at once, S13): the order in
    which such requests run does not matter. Posts two journals, one voucher, two PDFs."""
    return {
        "request_id": request_id,
        "kind": "post_pos_sale",
        "actor": "pos-1",
        "payload": {
            "customer": "US-004",
            "lines": [
                {"item": "M0001", "quantity": "1", "unit_price": "299.00", "serial": serial},
                {"item": "S0021", "quantity": "2", "unit_price": "150.00"},
            ],
        },
    }


def _request(request_id: str, kind: str, payload: dict[str, Any], actor: str = "erp") -> dict[str, Any]:  # fmt: skip
    return {"request_id": request_id, "kind": kind, "actor": actor, "payload": payload}


def order_waves(tag: str, orders: int) -> list[list[dict[str, Any]]]:
    """Per order: the order (a serialized line, a plain line, a bundle whose components include
    a serialized item and a deferred-revenue item), its confirmation, two packing slips (with
    serials) and an invoice, in waves so that each request finds what it needs posted."""
    waves: list[list[dict[str, Any]]] = [[], [], [], []]
    for n in range(orders):
        order, rid = f"SO-{tag}-{n:04d}", f"{tag}-{n:04d}"
        lines = [
            {"line": 1, "item": "1000", "quantity": "2", "unit_price": "1900.00"},
            {"line": 2, "item": "S0021", "quantity": "3", "unit_price": "150.00"},
            {"line": 3, "item": "LaptopBundle", "quantity": "1", "unit_price": "2300.00"},
        ]
        first_slip = [
            {"line": 1, "quantity": "1", "serials": [f"{order}-A"]},
            {"line": 2, "quantity": "2"},
            {"line": 3, "item": "1000", "quantity": "1", "serials": [f"{order}-B"]},
            {"line": 3, "item": "Support", "quantity": "1"},
            {"line": 3, "item": "S0021", "quantity": "1"},
        ]
        second_slip = [
            {"line": 1, "quantity": "1", "serials": [f"{order}-C"]},
            {"line": 2, "quantity": "1"},
        ]
        payload = {"order": order, "customer": "US-004", "lines": lines}
        waves[0].append(_request(f"{rid}-order", "upsert_order", payload))
        waves[1].append(_request(f"{rid}-confirm", "confirm_order", {"order": order}))
        for step, slip in (("ps1", first_slip), ("ps2", second_slip)):
            payload = {"order": order, "lines": slip}
            waves[2].append(_request(f"{rid}-{step}", "post_packing_slip", payload, "warehouse-1"))
        waves[3].append(_request(f"{rid}-invoice", "post_invoice", {"order": order}))
    return waves


def journals_posted(request: Mapping[str, Any]) -> int:
    """How many journals a request of the mixes above posts when it succeeds."""
    return {"upsert_order": 0, "post_pos_sale": 2}.get(str(request["kind"]), 1)


# --- a thread that kills workers ---------------------------------------------------------------


class Killer(threading.Thread):
    """SIGKILLs a random one of the workers whenever progress() passes the next threshold
    (after a random delay of up to `jitter` seconds, and preferably while a request is
    running), and starts it again."""

    def __init__(
        self,
        stack: Stack,
        workers: dict[str, FaultWorker],
        thresholds: Iterable[int],
        progress: Callable[[], int],
        rng: random.Random,
        jitter: float = 0.3,
    ) -> None:
        super().__init__(daemon=True)
        self.stack, self.workers, self.progress = stack, workers, progress
        self.thresholds, self.rng, self.jitter = sorted(thresholds), rng, jitter
        self.kills = 0
        self.running_at_kill: list[int] = []
        self.error: BaseException | None = None
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            for threshold in self.thresholds:
                while self.progress() < threshold:
                    if self.stopped.wait(0.05):
                        return
                time.sleep(self.rng.uniform(0, self.jitter))
                # Preferably while a posting runs (between its counted start and its commit),
                # so that the kill cuts a transaction off rather than an idle worker.
                patience = time.monotonic() + 2.0
                while not self._running() and time.monotonic() < patience:
                    time.sleep(0.005)
                name = self.rng.choice(sorted(self.workers))
                self.running_at_kill.append(self._running())
                self.workers[name].kill()
                self.kills += 1
                self.workers[name] = self.stack.worker(name)
        except BaseException as exc:  # reported by finish()
            self.error = exc

    def _running(self) -> int:
        with self.stack.sessions() as session:
            return (
                session.scalar(
                    select(func.count())
                    .select_from(RequestRecord)
                    .where(RequestRecord.status == "running")
                )
                or 0
            )

    def finish(self, timeout: float = 120.0) -> None:
        self.join(timeout)
        self.stopped.set()
        if self.error is not None:
            raise self.error
        assert not self.is_alive(), "the killer thread did not finish"


def count_final(sessions: sessionmaker[Session], prefix: str) -> int:
    with sessions() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(RequestRecord)
                .where(
                    RequestRecord.request_id.like(f"{prefix}%"),
                    RequestRecord.status.in_(FINAL_STATUSES),
                )
            )
            or 0
        )


class Submitter(threading.Thread):
    """Submits requests one after another (tasks.client.submit), a little apart, as an upstream
    system would; a submit that fails (broker or database unreachable) is retried until it
    goes through: submitting a request again is safe."""

    def __init__(
        self,
        requests: Sequence[dict[str, Any]],
        sessions: sessionmaker[Session],
        pace: float = 0.02,
        give_up_after: float = 120.0,
    ) -> None:
        super().__init__(daemon=True)
        self.requests, self.sessions, self.pace = requests, sessions, pace
        self.give_up_after = give_up_after
        self.submitted = 0
        self.retries = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        from docpost.tasks.client import submit

        try:
            for request in self.requests:
                deadline = time.monotonic() + self.give_up_after
                while True:
                    try:
                        submit(request, self.sessions)
                        break
                    except Exception:
                        if time.monotonic() > deadline:
                            raise
                        self.retries += 1
                        time.sleep(0.25)
                self.submitted += 1
                time.sleep(self.pace)
        except BaseException as exc:  # reported by finish()
            self.error = exc

    def finish(self, timeout: float = 180.0) -> None:
        self.join(timeout)
        if self.error is not None:
            raise self.error
        assert not self.is_alive(), "the submitter did not finish"


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if condition():
                return
        time.sleep(0.02)
    raise AssertionError(f"{what}: not reached after {timeout} s")


def executed_per_worker(stack: Stack, task: str = "docpost.execute_request") -> dict[str, int]:
    """How many `task` messages each worker (by name) ran to the end, from its logs."""
    done: Counter[str] = Counter()
    for worker in stack.workers:
        pattern = rf"Task {re.escape(task)}\[[^\]]+\] succeeded"
        done[worker.name] += len(re.findall(pattern, worker.text()))
    return dict(done)


class Upstream:
    """A Celery client as an upstream system has one: the same broker, JSON, and none of
    docpost's routing code; it names the queue itself."""

    def __init__(self, stack: Stack) -> None:
        from celery import Celery
        from kombu import Exchange, Queue

        from docpost.tasks.app import app

        self.client = Celery("upstream", set_as_current=False)
        self.client.conf.update(
            broker_url=stack.env["DOCPOST_BROKER_URL"],
            broker_transport_options=app.conf.broker_transport_options,
            task_serializer="json",
            accept_content=["json"],
        )
        self.posting = Queue("posting", Exchange(""), routing_key="posting")

    def send(self, body: Any) -> None:
        from docpost.tasks.routing import EXECUTE_REQUEST

        self.client.send_task(EXECUTE_REQUEST, args=[body], queue=self.posting)

    def close(self) -> None:
        self.client.close()
