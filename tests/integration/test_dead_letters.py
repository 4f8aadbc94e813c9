"""Messages a worker cannot decode are kept as dead letters, not dropped (CONTRACT.md "Nothing
accepted is lost"), through a real worker on Redis and PostgreSQL.

Before tasks.dead_letters, Celery's consumer logged each of these ("Can't decode message
body") and acked it: the message was gone, and nothing but a log line said it had come.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from kombu import Connection
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.db import session_factory
from docpost.pipeline.dead_letters import (
    HEAD_BYTES,
    count_dead_letters,
    list_dead_letters,
    safe_text,
    store_dead_letter,
)
from docpost.pipeline.entrypoints.cli.main import main
from docpost.tasks.app import app
from docpost.tasks.client import submit
from docpost.tasks.routing import EXECUTE_REQUEST, RENDER_DOCUMENT
from tests.conftest import usmf_catalog
from tests.integration.conftest import Broker
from tests.integration.test_queue_pipeline import WAIT, wait_for_idle_queues

DIGITS = "7" * 5000
# Each body is a whole Celery message body ([args, kwargs, embed]) as an upstream system or a
# broken client could put it on the queue, labelled application/json.
BAD_BODIES: dict[str, bytes] = {
    # Python refuses to turn more than 4,300 digits into an int (ValueError).
    "5000-digit number": (
        '[[{"request_id": "dl-big", "kind": "upsert_order", "actor": "erp", '
        f'"payload": {{"n": {DIGITS}}}}}], {{}}, {{}}]'
    ).encode(),
    # Deeper than the JSON parser's recursion limit (RecursionError).
    "50k-deep nesting": b"[[" + b"[" * 50_000 + b"]" * 50_000 + b"], {}, {}]",
    "not UTF-8": b'[["\xff\xfe\xfa request \xc3"], {}, {}]',
    "not JSON": b"this is not JSON \x00 at all",
}
EXPECTED_REASON = {
    "5000-digit number": "integer string conversion",
    "50k-deep nesting": "RecursionError",
    "not UTF-8": "UnicodeDecodeError",
    "not JSON": "JSONDecodeError",
}

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def task_headers(task: str = EXECUTE_REQUEST) -> dict[str, Any]:
    """Celery's task message protocol 2 headers."""
    task_id = str(uuid.uuid4())
    return {
        "lang": "py", "task": task, "id": task_id, "root_id": task_id, "parent_id": None,
        "group": None, "retries": 0, "eta": None, "expires": None, "timelimit": [None, None],
        "argsrepr": "(...)", "kwargsrepr": "{}", "origin": "test", "ignore_result": True,
    }  # fmt: skip


def publish_raw(
    env: dict[str, str], bodies: list[bytes], queue: str = "posting", task: str = EXECUTE_REQUEST
) -> None:
    """Put bodies on a queue as they are, bypassing every serializer."""
    with Connection(
        env["DOCPOST_BROKER_URL"], transport_options=app.conf.broker_transport_options
    ) as connection:
        producer = connection.Producer()
        for body in bodies:
            producer.publish(
                body,
                content_type="application/json",
                content_encoding="utf-8",
                headers=task_headers(task),
                exchange="",
                routing_key=queue,
                retry=True,
            )


def catalog_request(request_id: str) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "kind": "upsert_catalog",
        "actor": "erp",
        "payload": usmf_catalog(),
    }


def settled_dead_letters(
    broker: Broker, sessions: sessionmaker[Session], expected: int, idle_within: float = WAIT
) -> list[dict[str, Any]]:
    """The dead letters once the queues are idle and `expected` of them are stored (or WAIT
    has passed). The good request that follows the bad messages is an `upsert_catalog`, which
    runs from the `bulk` queue: its outcome does not mean the worker has read past the bad
    messages on `posting`, and Redis shows no message in the moment between its pop and its
    unacked entry, so idle queues alone can come too early."""
    wait_for_idle_queues(broker, timeout=idle_within)
    deadline = time.monotonic() + WAIT
    while True:
        with sessions() as session:
            letters = list_dead_letters(session)
        if len(letters) >= expected or time.monotonic() > deadline:
            return letters
        time.sleep(0.1)


def test_undecodable_messages_are_kept_as_dead_letters_and_the_worker_goes_on(
    queue_env: dict[str, str], broker: Broker, start_worker: Any
) -> None:
    sessions = session_factory(queue_env["DOCPOST_DATABASE_URL"])
    worker = start_worker("dead", concurrency=1)
    pid = worker.process.pid

    publish_raw(queue_env, list(BAD_BODIES.values()))
    outcome = submit(catalog_request("dl-after"), sessions).wait(WAIT)
    letters = settled_dead_letters(broker, sessions, 4)
    log = worker.text()
    assert outcome["status"] == "succeeded", outcome
    assert worker.process.poll() is None and worker.process.pid == pid, log[-3000:]
    assert len(letters) == 4, (letters, log[-3000:])
    by_size = {letter["size"]: letter for letter in letters}
    for name, body in BAD_BODIES.items():
        letter = by_size[len(body)]
        assert letter["queue"] == "posting"
        assert letter["task"] == EXECUTE_REQUEST
        assert letter["content_type"] == "application/json"
        assert letter["reason"].startswith("the body could not be decoded: "), letter
        assert EXPECTED_REASON[name] in letter["reason"], (name, letter["reason"])
        assert len(letter["raw_head"].encode()) <= 4 * HEAD_BYTES
        assert "\x00" not in letter["raw_head"]
    assert by_size[len(BAD_BODIES["not UTF-8"])]["raw_head"].startswith('[["\\xff\\xfe\\xfa')
    assert by_size[len(BAD_BODIES["not JSON"])]["raw_head"] == "this is not JSON \\x00 at all"
    assert by_size[len(BAD_BODIES["5000-digit number"])]["raw_head"].endswith("7" * 100)
    assert log.count("dead letter ") == 4


def test_queue_items_that_are_not_message_envelopes_are_kept_and_the_worker_lives(
    queue_env: dict[str, str], broker: Broker, start_worker: Any
) -> None:
    """Text pushed onto a queue's Redis list by something that is not a Celery client. Before,
    kombu's parse of the first such item stopped the worker ("Unrecoverable error:
    JSONDecodeError") and the item, already popped, was gone."""
    sessions = session_factory(queue_env["DOCPOST_DATABASE_URL"])
    worker = start_worker("envelopes", concurrency=1)
    pid = worker.process.pid
    items = [b"not an envelope \xff\x00", b"[1, 2]", b'{"body": "no properties"}']
    for item in items:
        broker.client.lpush(broker.prefix + "posting", item)

    outcome = submit(catalog_request("dl-after-envelopes"), sessions).wait(WAIT)
    letters = {letter["size"]: letter for letter in settled_dead_letters(broker, sessions, 3)}
    assert outcome["status"] == "succeeded", outcome
    assert worker.process.poll() is None and worker.process.pid == pid
    assert "Unrecoverable error" not in worker.text()
    assert sorted(letters) == sorted(len(item) for item in items)
    garbage, array, no_properties = (letters[len(item)] for item in items)
    assert garbage["reason"].startswith("not a message envelope (not JSON: JSONDecodeError")
    assert garbage["raw_head"] == "not an envelope \\xff\\x00"
    assert array["reason"] == "not a message envelope (no properties with a delivery tag)"
    assert array["raw_head"] == "[1, 2]" and array["queue"] == "posting"
    assert no_properties["raw_head"] == '{"body": "no properties"}'


def test_refused_content_and_unknown_tasks_are_dead_letters_too(
    queue_env: dict[str, str], broker: Broker, start_worker: Any
) -> None:
    """Control: the other ways Celery drops a message (a refused serializer, a task name no
    worker knows) keep it as well, while a good message after them runs."""
    sessions = session_factory(queue_env["DOCPOST_DATABASE_URL"])
    start_worker("refused", concurrency=1)
    with Connection(
        queue_env["DOCPOST_BROKER_URL"], transport_options=app.conf.broker_transport_options
    ) as connection:
        producer = connection.Producer()
        options: dict[str, Any] = {"exchange": "", "routing_key": "posting", "retry": True}
        producer.publish(
            b"\x80\x04K\x01.", content_type="application/x-python-serialize",
            content_encoding="binary", headers=task_headers(), **options,
        )  # fmt: skip
        producer.publish(
            b'[["x"], {}, {}]', content_type="application/json", content_encoding="utf-8",
            headers=task_headers("docpost.no_such_task"), **options,
        )  # fmt: skip
    outcome = submit(catalog_request("dl-after-refused"), sessions).wait(WAIT)
    reasons = sorted(letter["reason"] for letter in settled_dead_letters(broker, sessions, 2))
    assert outcome["status"] == "succeeded", outcome
    assert len(reasons) == 2, reasons
    assert reasons[0].startswith("not a valid task message: ContentDisallowed: Refusing")
    assert reasons[1] == "unknown task 'docpost.no_such_task'"


def test_a_render_message_without_a_document_id_is_a_dead_letter_not_retried_for_ever(
    queue_env: dict[str, str], broker: Broker, start_worker: Any
) -> None:
    """On PostgreSQL the lookup of `"abc"` as a document id failed on every delivery before
    any attempt was counted, and the task retried it without end (the queue never went
    idle). Now such a message is kept as a dead letter at once."""
    sessions = session_factory(queue_env["DOCPOST_DATABASE_URL"])
    worker = start_worker("render-dl", concurrency=1)
    for document_id in ("abc", [1], None):
        app.send_task(RENDER_DOCUMENT, args=[document_id])
    letters = settled_dead_letters(broker, sessions, 3, idle_within=30.0)
    assert sorted(letter["reason"] for letter in letters) == [
        "render_document needs a document id (a positive integer), got 'abc'",
        "render_document needs a document id (a positive integer), got None",
        "render_document needs a document id (a positive integer), got [1]",
    ]
    assert {letter["queue"] for letter in letters} == {"documents"}
    assert "Retry in" not in worker.text()


def test_docpost_dead_letters_lists_and_counts_them(
    queue_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    sessions = session_factory(queue_env["DOCPOST_DATABASE_URL"])
    assert main(["dead-letters"]) == 0
    assert capsys.readouterr().out.strip() == "no dead letters"
    for n in range(3):
        store_dead_letter(
            sessions,
            queue="posting",
            reason=f"the body could not be decoded: ValueError: case {n}",
            raw=b"\x1b[2J\xff" + bytes([n]) * 10,
            task=EXECUTE_REQUEST,
            content_type="application/json",
        )

    assert main(["dead-letters", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["count"] == 3
    assert [letter["id"] for letter in listed["dead_letters"]] == [3, 2, 1]
    assert (
        listed["dead_letters"][0]["raw_head"]
        == "\x1b[2J\\xff\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02"
    )

    assert main(["dead-letters", "--limit", "1"]) == 0
    text = capsys.readouterr().out
    assert "case 2" in text and "case 1" not in text
    assert "\x1b" not in text and "\\x1b[2J\\xff" in text  # escapes shown, never sent


def test_safe_text_keeps_any_bytes_as_storable_text(sessions: sessionmaker[Session]) -> None:
    """On SQLite and PostgreSQL (which refuses NUL and invalid UTF-8 in text)."""
    raw = b"\x00\xff" + "é".encode() * 3000 + b"\xed\xa0\x80"
    letter_id = store_dead_letter(
        sessions, queue="\x00posting", reason="r\x00", raw=raw, task="t\udcff"
    )
    with sessions() as session:
        (letter,) = list_dead_letters(session)
        assert count_dead_letters(session) == 1
    assert letter["id"] == letter_id
    assert letter["size"] == len(raw)
    assert letter["raw_head"].startswith("\\x00\\xffééé")
    assert len(letter["raw_head"]) < HEAD_BYTES
    assert letter["queue"] == "\\x00posting" and letter["reason"] == "r\\x00"
    assert letter["task"] == "t\\xed\\xb3\\xbf"
    assert safe_text("é" * 3000, 5) == "éé\\xc3"  # a character cut in half is escaped
    assert safe_text(None) == ""
