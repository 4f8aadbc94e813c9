"""The accept number of requests (`requests.sequence`): one global, increasing number per
request, which orders the requests of one order (pipeline.runner.ordering).

A PostgreSQL sequence, taken in the INSERT itself; on SQLite, which has none, the next number
after the highest, read by the INSERT while it holds the database's one write lock, so two
inserts never read the same one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement

SEQUENCE_NAME = "request_sequence"


class next_request_sequence(FunctionElement[int]):
    """The next accept number, as a column default computed in the INSERT."""

    type = BigInteger()
    inherit_cache = True
    name = "next_request_sequence"


@compiles(next_request_sequence)
def _next_sequence(element: Any, compiler: SQLCompiler, **kw: Any) -> str:
    return "(SELECT coalesce(max(sequence), 0) + 1 FROM requests)"


@compiles(next_request_sequence, "postgresql")
def _next_sequence_postgresql(element: Any, compiler: SQLCompiler, **kw: Any) -> str:
    return f"nextval('{SEQUENCE_NAME}')"
