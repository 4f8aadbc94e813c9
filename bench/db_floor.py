"""The database floor: committed transactions doing the inserts and updates of one packing
slip posting, as raw SQL over psycopg2 with no ORM, no rules and no queue.

A posting can never be faster than this on the same server; the ratio of posting throughput to
it says how much the pipeline costs on top of the database.
"""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

import psycopg2

from bench.common import Database
from bench.cpu import cpu_seconds
from bench.prepare import prepare_orders

TRANSACTION = [
    (
        "INSERT INTO requests (request_id, kind, actor, body_sha256, body, status, attempts, "
        "created_at) VALUES (%(rid)s, 'post_packing_slip', 'warehouse-1', 'x', '{}', 'running', 1, "
        "now())",
        False,
    ),
    ("SELECT id FROM sales_orders WHERE order_no = %(order)s FOR UPDATE", True),
    ("SELECT id FROM sales_lines WHERE order_id = %(order_id)s ORDER BY line_no", True),
    (
        "SELECT id FROM serial_registrations WHERE item_code = '1000' AND serial IN "
        "(%(s1)s, %(s2)s) AND active",
        True,
    ),
    (
        "UPDATE number_series SET next_value = next_value + 1 WHERE code = 'FLOOR' "
        "RETURNING next_value",
        True,
    ),
    (
        "INSERT INTO journals (number, kind, order_id, customer_code, currency, posting_date, "
        "posted_at, request_id, actor) VALUES (%(rid)s, 'packing_slip', %(order_id)s, 'US-004', "
        "'USD', current_date, now(), %(rid)s, 'warehouse-1') RETURNING id",
        True,
    ),
    (
        "INSERT INTO journal_lines (journal_id, position, sales_line_id, line_no, item_code, "
        "item_name, unit, quantity, is_bundle_parent) VALUES "
        "(%(journal_id)s, 1, %(l1)s, 1, '1000', 'Surface Pro', 'ea', 2, false), "
        "(%(journal_id)s, 2, %(l2)s, 2, 'S0021', 'Dock', 'ea', 2, false), "
        "(%(journal_id)s, 3, %(l3)s, 3, 'S0021', 'Dock', 'ea', 1, false) RETURNING id",
        True,
    ),
    (
        "INSERT INTO serial_registrations (sales_line_id, item_code, serial, active, "
        "packing_slip_line_id, created_at) VALUES (%(l1)s, '1000', %(s1)s, true, %(jl1)s, now()), "
        "(%(l1)s, '1000', %(s2)s, true, %(jl1)s, now()) RETURNING id",
        True,
    ),
    (
        "INSERT INTO journal_line_serials (journal_line_id, registration_id) VALUES "
        "(%(jl1)s, %(r1)s), (%(jl1)s, %(r2)s)",
        False,
    ),
    ("UPDATE sales_lines SET delivered_qty = quantity WHERE order_id = %(order_id)s", False),
    (
        "INSERT INTO documents (journal_id, kind, revision, filename, status, attempts, "
        "created_at) VALUES (%(journal_id)s, 'packing_slip', 1, 'x.pdf', 'pending', 0, now()) "
        "RETURNING id",
        True,
    ),
    (
        "INSERT INTO outbox (task, payload, created_at) VALUES ('render_document', '{}', now())",
        False,
    ),
    (
        "UPDATE requests SET status = 'succeeded', finished_at = now() WHERE request_id = %(rid)s",
        False,
    ),
]


def post_by_raw_sql(conn: Any, number: str) -> None:
    """One posting's writes for order `number`, committed: the floor's transaction."""
    values: dict[str, Any] = {
        "rid": f"floor-{number}",
        "order": number,
        "s1": f"{number}-A",
        "s2": f"{number}-B",
    }
    with conn, conn.cursor() as cur:
        for statement, returns in TRANSACTION:
            cur.execute(statement, values)
            if not returns:
                continue
            rows = cur.fetchall()
            if statement.startswith("SELECT id FROM sales_orders"):
                values["order_id"] = rows[0][0]
            elif statement.startswith("SELECT id FROM sales_lines"):
                values.update(l1=rows[0][0], l2=rows[1][0], l3=rows[2][0])
            elif statement.startswith("INSERT INTO journals"):
                values["journal_id"] = rows[0][0]
            elif statement.startswith("INSERT INTO journal_lines"):
                values["jl1"] = rows[0][0]
            elif statement.startswith("INSERT INTO serial_registrations"):
                values.update(r1=rows[0][0], r2=rows[1][0])


def psycopg2_dsn(db: Database) -> str:
    return db.engine.url.set(drivername="postgresql", query={}).render_as_string(
        hide_password=False
    )


def prepare(db: Database, orders: list[str]) -> None:
    """Orders to post (not timed), and the number series the floor's journals take."""
    prepare_orders(db.url, orders)
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO number_series (code, next_value) VALUES ('FLOOR', 1) "
            "ON CONFLICT (code) DO NOTHING"
        )


def _run_transactions(
    dsn: str, schema: str, orders: list[str], ready: Any, start: Any, spent: Any
) -> None:
    conn = psycopg2.connect(dsn, options=f"-csearch_path={schema}")
    with conn.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        backend = cur.fetchone()[0]
    conn.commit()
    ready.release()
    start.wait()  # the clock starts when every process is connected
    client_started, backend_started = time.process_time(), cpu_seconds(backend)
    for number in orders:
        post_by_raw_sql(conn, number)
    finished = time.time()  # before the process exits, which the figure must not include
    # CPU of this process and of its backend (same machine), read before the backend exits
    spent.put(
        (time.process_time() - client_started, cpu_seconds(backend) - backend_started, finished)
    )
    conn.close()


def measure(db: Database, transactions: int, processes: int = 2) -> dict[str, Any]:
    orders = [f"FLOOR-{n}" for n in range(transactions)]
    prepare(db, orders)
    dsn = psycopg2_dsn(db)
    chunks = [orders[i::processes] for i in range(processes)]
    context = multiprocessing.get_context("spawn")
    ready, start, spent = context.Semaphore(0), context.Event(), context.Queue()
    workers = [
        context.Process(target=_run_transactions, args=(dsn, db.schema, chunk, ready, start, spent))
        for chunk in chunks
    ]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.acquire()
    started = time.time()
    start.set()
    cpu = [spent.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join()
    if any(w.exitcode for w in workers):
        raise RuntimeError("a database floor process failed")
    last = max(finished for _, _, finished in cpu)
    return {
        "db_floor_tps": round(transactions / (last - started), 1),
        "db_floor_client_cpu_ms": round(1000 * sum(c for c, _, _ in cpu) / transactions, 2),
        "db_floor_db_cpu_ms": round(1000 * sum(d for _, d, _ in cpu) / transactions, 2),
    }
