"""Opik filters and sorting, as SQL over a table's columns — never in Python.

A resource maps each field to a column, or, for a ``NAMED_NUMBER`` field (feedback scores
and the like), to a function from the name in the filter to a numeric SQL expression
that is NULL where that name has no value.
"""

from collections.abc import Callable, Mapping

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from seedbed.domain.filters import FieldKind, Filter, Operator, Sort
from seedbed.storage import dialect as sql_dialect

Columns = Mapping[str, ColumnElement | Callable[[str], ColumnElement]]


def _like_pattern(value: str, prefix: bool, suffix: bool) -> str:
    escaped = value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return ("%" if prefix else "") + escaped + ("%" if suffix else "")


def _text_condition(text: ColumnElement, operator: Operator, value: str) -> ColumnElement:
    lowered = sa.func.lower(text)
    if operator is Operator.CONTAINS:
        return lowered.like(_like_pattern(value, True, True), escape="\\")
    if operator is Operator.NOT_CONTAINS:
        return sa.or_(text.is_(None), ~lowered.like(_like_pattern(value, True, True), escape="\\"))
    if operator is Operator.STARTS_WITH:
        return lowered.like(_like_pattern(value, False, True), escape="\\")
    if operator is Operator.ENDS_WITH:
        return lowered.like(_like_pattern(value, True, False), escape="\\")
    if operator is Operator.EQUAL:
        return text == value
    if operator is Operator.NOT_EQUAL:
        return sa.or_(text.is_(None), text != value)
    if operator is Operator.IS_EMPTY:
        return sa.or_(text.is_(None), text == "")
    if operator is Operator.IS_NOT_EMPTY:
        return sa.and_(text.is_not(None), text != "")
    return _ordered(text, operator, value)


def _ordered(expression: ColumnElement, operator: Operator, value) -> ColumnElement:
    return {
        Operator.GREATER: expression > value,
        Operator.GREATER_OR_EQUAL: expression >= value,
        Operator.LESS: expression < value,
        Operator.LESS_OR_EQUAL: expression <= value,
        Operator.EQUAL: expression == value,
        Operator.NOT_EQUAL: expression != value,
    }[operator]


def _json_condition(dialect: str, column, flt: Filter) -> ColumnElement:
    ordered = flt.operator in (
        Operator.GREATER,
        Operator.GREATER_OR_EQUAL,
        Operator.LESS,
        Operator.LESS_OR_EQUAL,
    )
    number = flt.number
    if ordered and number is not None:
        return _ordered(
            sql_dialect.json_number(dialect, column, flt.key_path), flt.operator, number
        )
    text = sql_dialect.json_text(dialect, column, flt.key_path)
    if flt.operator in (Operator.EQUAL, Operator.NOT_EQUAL) and number is not None:
        # "5" matches 5 and 5.0 alike: compare numbers as numbers when both sides are.
        as_number = sql_dialect.json_number(dialect, column, flt.key_path)
        matches = sa.or_(as_number == number, sa.and_(as_number.is_(None), text == flt.value))
        if flt.operator is Operator.EQUAL:
            return matches
        return sa.or_(text.is_(None), ~matches)
    return _text_condition(text, flt.operator, flt.value)


def _list_condition(dialect: str, column, flt: Filter) -> ColumnElement:
    if flt.operator is Operator.CONTAINS:
        return sql_dialect.list_contains(dialect, column, flt.value)
    if flt.operator is Operator.NOT_CONTAINS:
        return ~sql_dialect.list_contains(dialect, column, flt.value)
    length = sql_dialect.list_length(dialect, column)
    if flt.operator is Operator.IS_EMPTY:
        return sa.or_(column.is_(None), length == 0)
    return length > 0


def _named_number_condition(value: ColumnElement, flt: Filter) -> ColumnElement:
    if flt.operator is Operator.IS_EMPTY:
        return value.is_(None)
    if flt.operator is Operator.IS_NOT_EMPTY:
        return value.is_not(None)
    return _ordered(value, flt.operator, flt.number)


def condition(dialect: str, columns: Columns, flt: Filter) -> ColumnElement:
    column = columns[flt.field]
    if flt.kind is FieldKind.NAMED_NUMBER:
        return _named_number_condition(column(flt.key), flt)
    if flt.kind is FieldKind.JSON:
        return _json_condition(dialect, column, flt)
    if flt.kind is FieldKind.LIST:
        return _list_condition(dialect, column, flt)
    if flt.kind is FieldKind.DATE_TIME:
        if flt.operator is Operator.IS_EMPTY:
            return column.is_(None)
        if flt.operator is Operator.IS_NOT_EMPTY:
            return column.is_not(None)
        return _ordered(column, flt.operator, flt.moment)
    if flt.kind is FieldKind.NUMBER:
        return _ordered(column, flt.operator, flt.number)
    return _text_condition(sa.cast(column, sa.Text), flt.operator, flt.value)


def conditions(dialect: str, columns: Columns, filters: list[Filter]) -> list[ColumnElement]:
    return [condition(dialect, columns, flt) for flt in filters]


def order_by(
    dialect: str, columns: Columns, sort: Sort | None, tiebreak: ColumnElement
) -> list[ColumnElement]:
    """ORDER BY for one sort, with a unique tiebreak so pages never overlap."""
    if sort is None:
        return [tiebreak.desc()]
    column = columns[sort.field]
    if sort.kind is FieldKind.JSON:
        # Numbers order as numbers, everything else as text; numbers first.
        number = sql_dialect.json_number(dialect, column, sort.key_path)
        text = sql_dialect.json_text(dialect, column, sort.key_path)
        keys = [number, text]
    elif sort.kind is FieldKind.NAMED_NUMBER:
        keys = [column(sort.key)]
    else:
        keys = [column]
    direction = (
        (lambda key: key.desc().nulls_last())
        if sort.descending
        else (lambda key: key.asc().nulls_last())
    )
    return [direction(key) for key in keys] + [tiebreak.desc()]
