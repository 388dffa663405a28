"""Where SQLite and PostgreSQL differ: JSON access, list membership, upserts.

Everything else in storage is one SQLAlchemy code path for both engines.
"""

import json
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
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
