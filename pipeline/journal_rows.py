"""A posting's writes as SQLAlchemy Core statements: one INSERT (or UPDATE) per table.

The ORM's unit of work was 40 % of a packing slip's CPU (issue 19): it tracks every object,
sorts the tables, and flushes a posting in several rounds. A posting needs none of that: it
reads its order through the ORM (the locked order with its lines), decides everything in
Python, and then writes rows it never changes again (L3, D6). So the objects a posting builds
(Journal, JournalLine, SerialRegistration, Document, OutboxMessage) stay out of the session
as plain containers; this module turns them into rows, inserts each table's rows with one
statement, and puts the ids the database gave back (RETURNING, in the rows' order) on them.

Rows already in the session (an order line, a reused registration) are updated with one
statement and told their new values as committed (`set_committed_value`), so the session's
next flush does not write them again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Executable, Table, bindparam, case, insert, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from docpost.schema.base import Base


def insert_rows(session: Session, objects: Sequence[Base]) -> None:
    """Insert `objects` (new, of one mapped class, not in the session) with one statement and
    set their ids. Their columns are read as the ORM would write them: unset ones get their
    column default."""
    if not objects:
        return
    table: Table = objects[0].__table__  # type: ignore[assignment]
    columns, statement = _insert(table)
    rows = [_row(obj, columns) for obj in objects]
    result = session.connection().execute(statement, rows)
    if table.autoincrement_column is not None:
        for obj, (new_id,) in zip(objects, result, strict=True):
            obj.id = new_id  # type: ignore[attr-defined]


@cache
def _insert(table: Table) -> tuple[list[Any], Executable]:
    """A table's columns a new row gives, and its INSERT: with RETURNING the id the database
    gives (insertmanyvalues: one INSERT ... VALUES (..), (..) RETURNING id for many rows, the
    ids in the rows' order). Built once: building a statement costs as much as running it."""
    key = table.autoincrement_column
    columns = [c for c in table.columns if c is not key]
    if key is None:
        return columns, insert(table)
    return columns, insert(table).returning(key, sort_by_parameter_order=True)


def _row(obj: Base, columns: Sequence[Any]) -> dict[str, Any]:
    row = {}
    for column in columns:
        value = getattr(obj, column.key)
        if value is None and column.default is not None:
            default = column.default
            value = default.arg(None) if default.is_callable else default.arg
            setattr(obj, column.key, value)  # as the ORM would show it after its flush
        row[column.key] = value
    return row


def update_by_id(
    session: Session, objects: Sequence[Base], values: Mapping[str, Sequence[Any]]
) -> None:
    """Set columns of rows the session holds, one statement for all of them:
    UPDATE t SET c = CASE id WHEN .. THEN .. END WHERE id IN (..). `values`: per column,
    the new value of each object, in their order. Values are whole (no arithmetic in SQL:
    SQLite keeps decimals as text, schema.types)."""
    if not objects:
        return
    table: Table = objects[0].__table__  # type: ignore[assignment]
    names = tuple(values)
    parameters = {}
    for n, obj in enumerate(objects):
        parameters[f"id_{n}"] = obj.id  # type: ignore[attr-defined]
        for name in names:
            parameters[f"{name}_{n}"] = values[name][n]
    session.connection().execute(_update(table, names, len(objects)), parameters)
    for name, column_values in values.items():
        for obj, value in zip(objects, column_values, strict=True):
            set_committed_value(obj, name, value)


@cache
def _update(table: Table, names: tuple[str, ...], count: int) -> Executable:
    """update_by_id's statement for `count` rows, built once."""
    ids = [bindparam(f"id_{n}", type_=table.c.id.type) for n in range(count)]
    return (
        update(table)
        .where(table.c.id.in_(ids))
        .values(
            {
                name: case(
                    {
                        id_: bindparam(f"{name}_{n}", type_=table.c[name].type)
                        for n, id_ in enumerate(ids)
                    },
                    value=table.c.id,
                )
                for name in names
            }
        )
    )
