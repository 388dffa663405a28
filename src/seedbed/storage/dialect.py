"""Where SQLite and PostgreSQL differ: JSON access, list membership, upserts, bulk inserts.

Everything else in storage is one SQLAlchemy code path for both engines.
"""

import datetime as dt
import functools
import json
import operator
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement


def _sqlite_path(key_path: tuple[str, ...]) -> str:
    escaped = (key.replace('"', '""') for key in key_path)
    return "$" + "".join(f'."{key}"' for key in escaped)


def json_text(dialect: str, column, key_path: tuple[str, ...]) -> ColumnElement:
    """The value at ``key_path`` as text: strings unquoted, other scalars as JSON text,
    objects and arrays as JSON; NULL when the key is absent or null."""
    if dialect == "postgresql":
        return column.op("#>>")(sa.literal(list(key_path), postgresql.ARRAY(sa.Text)))
    path = _sqlite_path(key_path)
    kind = sa.func.json_type(column, path)
    return sa.case(
        (kind == "true", sa.literal("true")),
        (kind == "false", sa.literal("false")),
        (kind == "null", sa.null()),
        else_=sa.cast(sa.func.json_extract(column, path), sa.Text),
    )


def json_number(dialect: str, column, key_path: tuple[str, ...]) -> ColumnElement:
    """The value at ``key_path`` as a number, NULL unless it is a JSON number."""
    if dialect == "postgresql":
        node = column.op("#>")(sa.literal(list(key_path), postgresql.ARRAY(sa.Text)))
        text = column.op("#>>")(sa.literal(list(key_path), postgresql.ARRAY(sa.Text)))
        return sa.case(
            (sa.func.jsonb_typeof(node) == "number", sa.cast(text, sa.Float)), else_=sa.null()
        )
    path = _sqlite_path(key_path)
    return sa.case(
        (
            sa.func.json_type(column, path).in_(("integer", "real")),
            sa.func.json_extract(column, path),
        ),
        else_=sa.null(),
    )


def json_as_text(dialect: str, column) -> ColumnElement:
    """A whole JSON column as text (Opik's ``full_data``); the same cast on both engines."""
    return sa.cast(column, sa.Text)


def object_keys(dialect: str, column) -> tuple[sa.TableValuedAlias, ColumnElement, ColumnElement]:
    """The keys of a JSON object as rows: the table, its key column and each key's place
    in the object (the text's order on SQLite; on PostgreSQL, jsonb's own order)."""
    if dialect == "postgresql":
        keys = (
            sa.func.jsonb_object_keys(column)
            .table_valued("key", with_ordinality="place")
            .render_derived()
        )
        return keys, keys.c.key, keys.c.place
    keys = sa.func.json_each(column).table_valued("key", "id")
    return keys, keys.c.key, keys.c.id


def list_contains(dialect: str, column, value: str) -> ColumnElement:
    """Whether a JSON array of strings holds ``value``."""
    if dialect == "postgresql":
        # A comparison, so the result is a boolean that can be negated (not_contains).
        return column.op("?", is_comparison=True)(sa.literal(value, sa.Text))
    each = sa.func.json_each(column).table_valued("value")
    return sa.exists(sa.select(sa.literal(1)).select_from(each).where(each.c.value == value))


def list_length(dialect: str, column) -> ColumnElement:
    if dialect == "postgresql":
        return sa.func.jsonb_array_length(column)
    return sa.func.json_array_length(column)


def one_of(dialect: str, column, values: list) -> ColumnElement:
    """``column IN values``. On PostgreSQL one array parameter (``= ANY``): a thousand
    ids bound and planned as a thousand parameters took about three times as long."""
    if dialect == "postgresql":
        return column == sa.any_(sa.literal(values, postgresql.ARRAY(column.type)))
    return column.in_(values)


def in_batches(dialect: str, values: list) -> Iterator[list]:
    """``values`` in lists short enough for ``one_of``: SQLite counts each value as a
    parameter (at most 999 on older builds); PostgreSQL takes any list as one."""
    size = len(values) if dialect == "postgresql" else 500
    for start in range(0, len(values), max(size, 1)):
        yield values[start : start + size]


def analyze(dialect: str, table: sa.Table, columns: tuple[str, ...]) -> str:
    """Statistics for the planner on some of a table's columns. PostgreSQL samples the
    columns named (65,000 items: about 60 ms against 170 ms with the JSON data); SQLite
    analyzes whole tables, and quickly (12 ms)."""
    if dialect == "postgresql":
        return f"ANALYZE {table.name} ({', '.join(columns)})"
    return f"ANALYZE {table.name}"


def insert_ignoring_conflicts(dialect: str, table: sa.Table):
    """INSERT that skips rows whose primary key or another unique key already exists."""
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def insert_adding(dialect: str, table: sa.Table, counter: str):
    """INSERT that, for a row whose primary key exists, adds to its ``counter`` instead."""
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(table)
    keys = [column.name for column in table.primary_key.columns]
    return insert.on_conflict_do_update(
        index_elements=keys, set_={counter: table.c[counter] + insert.excluded[counter]}
    )


def insert_or_update(
    dialect: str, table: sa.Table, changes: Callable, when: Callable | None = None
):
    """INSERT that, for a row whose primary key exists, applies ``changes(new)`` instead,
    and only where ``when(new)`` holds; ``new`` is the row the INSERT carried."""
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(table)
    keys = [column.name for column in table.primary_key.columns]
    return insert.on_conflict_do_update(
        index_elements=keys,
        set_=changes(insert.excluded),
        where=when(insert.excluded) if when is not None else None,
    )


def json_object_entries(dialect: str, column):
    """The top-level entries of a JSON object column as a table to join (``ON true``),
    with columns ``key``, ``number`` (the value when it is a JSON number, else NULL) and
    ``kind`` (``string``, ``number``, ``boolean``, ``null``, ``object`` or ``array``).
    A value that is not an object (a string, a list, NULL) has no entries."""
    if dialect == "postgresql":
        only_objects = sa.case(
            (sa.func.jsonb_typeof(column) == "object", column),
            else_=sa.literal_column("'{}'::jsonb"),
        )
        entries = sa.func.jsonb_each(only_objects).table_valued("key", "value").render_derived()
        kind = sa.func.jsonb_typeof(entries.c.value)
        number = sa.case((kind == "number", sa.cast(sa.cast(entries.c.value, sa.Text), sa.Float)))
        return entries, entries.c.key, number, kind
    only_objects = sa.case((sa.func.json_type(column) == "object", column), else_=sa.literal("{}"))
    entries = sa.func.json_each(only_objects).table_valued("key", "value", "type")
    kind = sa.case(
        (entries.c.type.in_(("integer", "real")), sa.literal("number")),
        (entries.c.type == "text", sa.literal("string")),
        (entries.c.type.in_(("true", "false")), sa.literal("boolean")),
        else_=entries.c.type,
    )
    number = sa.case((entries.c.type.in_(("integer", "real")), entries.c.value))
    return entries, entries.c.key, number, kind


def json_text_contains(dialect: str, column, term: str) -> ColumnElement:
    """Whether the text of a JSON column holds ``term``, ignoring (ASCII) case.

    Both engines escape quotes and backslashes inside JSON strings, and SQLite also keeps
    non-ASCII characters as ``\\u`` escapes; the term matches as typed or as JSON
    escapes it."""
    lowered = sa.func.lower(json_as_text(dialect, column))
    variants = dict.fromkeys((term.lower(), json.dumps(term.lower())[1:-1]))

    def pattern(text: str) -> str:
        return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"

    return sa.or_(*(lowered.like(pattern(variant), escape="\\") for variant in variants))


def _iso_text(value: Any) -> str:
    """Times in the JSON array (json.dumps calls this for nothing else)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot travel in a JSON array of rows")


def _from_jsonb(row: ColumnElement, place: int, column: sa.Column) -> ColumnElement:
    index = sa.literal_column(str(place))
    if isinstance(column.type, sa.JSON):
        return row.op("->")(index)
    text = row.op("->>")(index)
    # Text is not cast: an explicit cast to varchar(n) would cut a long value short,
    # where the INSERT's own conversion refuses it as any INSERT does.
    return text if isinstance(column.type, sa.String) else sa.cast(text, column.type)


@functools.cache
def _insert_from_jsonb(table: sa.Table, names: tuple[str, ...]) -> sa.Insert:
    columns = [table.c[name] for name in names]
    elements = sa.func.jsonb_array_elements(
        sa.cast(sa.bindparam("rows", type_=sa.Text), postgresql.JSONB)
    )
    rows = elements.table_valued("value", with_ordinality="place").render_derived(name="row")
    values = [_from_jsonb(rows.c.value, place, column) for place, column in enumerate(columns)]
    # In the order given, so row ids follow it as with an ordinary INSERT.
    return table.insert().from_select(list(names), sa.select(*values).order_by(rows.c.place))


def _row_values(names: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple]:
    if len(names) == 1:
        return lambda row: (row[names[0]],)
    return operator.itemgetter(*names)


@functools.cache
def _sqlite_insert(table: sa.Table, names: tuple[str, ...]):
    """The INSERT's text for the driver, and each value's conversion (by place) as
    SQLAlchemy's own column types do it (JSON dumped, times as SQLite's text)."""
    dialect = sqlite.dialect()  # as every SQLite engine here is: pysqlite, json.dumps
    text = str(table.insert().compile(dialect=dialect, column_keys=list(names)))
    conversions = []
    for place, name in enumerate(names):
        convert = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if convert is not None:
            conversions.append((place, convert))
    return text, conversions


def bulk_insert(connection: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows (dicts with the same keys) the fastest way each engine takes
    them, storing exactly what an ordinary INSERT stores.

    SQLAlchemy's executemany prepares every value of every row in generic Python (a
    parameter dict per row, each value through its type): for a batch of 1,000 items,
    more than the engine's own work. On PostgreSQL one statement reads the rows from one
    JSON array; on SQLite the driver's executemany gets the rows as lists, converted only
    where a column's type converts (its JSON functions would parse such an array once per
    value read)."""
    if not rows:
        return
    # In the table's order: SQLAlchemy renders an INSERT's columns so, whatever the keys'.
    names = tuple(column.name for column in table.columns if column.name in rows[0])
    values = _row_values(names)
    if connection.dialect.name == "postgresql":
        payload = json.dumps([values(row) for row in rows], default=_iso_text)
        connection.execute(_insert_from_jsonb(table, names), {"rows": payload})
        return
    text, conversions = _sqlite_insert(table, names)
    prepared = []
    for row in rows:
        row_values = list(values(row))
        for place, convert in conversions:
            row_values[place] = convert(row_values[place])
        prepared.append(tuple(row_values))
    connection.exec_driver_sql(text, prepared)


def integer_pairs(dialect: str, pairs: list[tuple[int, int]], name: str) -> sa.CTE:
    """A CTE of ``pairs`` as rows (columns ``high``, ``low``), bound as one parameter
    (an array each on PostgreSQL, a JSON array on SQLite): a VALUES list of hundreds of
    rows takes SQLAlchemy longer to build than the engine to run the query."""
    if dialect == "postgresql":
        highs = sa.literal([high for high, _ in pairs], postgresql.ARRAY(sa.BigInteger))
        lows = sa.literal([low for _, low in pairs], postgresql.ARRAY(sa.BigInteger))
        rows = sa.func.unnest(highs, lows).table_valued("high", "low").render_derived()
        return sa.select(rows.c.high, rows.c.low).cte(name)
    rows = sa.func.json_each(sa.literal(json.dumps(pairs))).table_valued("value")
    return sa.select(
        sa.func.json_extract(rows.c.value, "$[0]").label("high"),
        sa.func.json_extract(rows.c.value, "$[1]").label("low"),
    ).cte(name)
