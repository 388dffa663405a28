"""Where SQLite and PostgreSQL differ: JSON access, list membership, upserts.

Everything else in storage is one SQLAlchemy code path for both engines.
"""

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
        (sa.func.json_type(column, path).in_(("integer", "real")), sa.func.json_extract(column, path)),
        else_=sa.null(),
    )


def json_as_text(dialect: str, column) -> ColumnElement:
    """A whole JSON column as text (Opik's ``full_data``)."""
    if dialect == "postgresql":
        return sa.cast(column, sa.Text)
    return sa.cast(column, sa.Text)


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
    """INSERT that skips rows whose primary key already exists."""
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
