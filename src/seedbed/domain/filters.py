"""Opik's filter and sorting expressions, parsed and checked against what a resource allows.

A filter arrives as a JSON array, ``[{"field": "data", "key": "question", "operator":
"contains", "value": "refund"}]``; sorting as ``[{"field": "data.question", "direction":
"DESC"}]``. Parsing turns them into plain values; turning them into SQL is storage's job.
"""

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from seedbed.domain.errors import InvalidInput


class Operator(str, Enum):
    CONTAINS = "contains"
    NOT_CONTAINS = "not_contains"
    STARTS_WITH = "starts_with"
    ENDS_WITH = "ends_with"
    EQUAL = "="
    NOT_EQUAL = "!="
    GREATER = ">"
    GREATER_OR_EQUAL = ">="
    LESS = "<"
    LESS_OR_EQUAL = "<="
    IS_EMPTY = "is_empty"
    IS_NOT_EMPTY = "is_not_empty"


class FieldKind(str, Enum):
    """How a field's values compare."""

    STRING = "string"
    JSON = "json"  # an object column; the filter names a key inside it
    LIST = "list"  # a JSON array of strings, e.g. tags
    DATE_TIME = "date_time"
    NUMBER = "number"
    # A number per name, e.g. a feedback score: the filter names it by key
    # (``{"field": "feedback_scores", "key": "accuracy"}``), sorting as ``feedback_scores.accuracy``.
    NAMED_NUMBER = "named_number"


# Kinds whose filters and sorts name something inside the field.
_KEYED = frozenset({FieldKind.JSON, FieldKind.NAMED_NUMBER})


_VALUELESS = frozenset({Operator.IS_EMPTY, Operator.IS_NOT_EMPTY})
_COMPARISONS = frozenset(
    {
        Operator.EQUAL,
        Operator.NOT_EQUAL,
        Operator.GREATER,
        Operator.GREATER_OR_EQUAL,
        Operator.LESS,
        Operator.LESS_OR_EQUAL,
    }
)
_TEXT_MATCHES = frozenset(
    {Operator.CONTAINS, Operator.NOT_CONTAINS, Operator.STARTS_WITH, Operator.ENDS_WITH}
)

_OPERATORS_BY_KIND: dict[FieldKind, frozenset[Operator]] = {
    FieldKind.STRING: _TEXT_MATCHES | _COMPARISONS | _VALUELESS,
    FieldKind.JSON: frozenset(Operator),
    FieldKind.LIST: frozenset({Operator.CONTAINS, Operator.NOT_CONTAINS}) | _VALUELESS,
    FieldKind.DATE_TIME: _COMPARISONS | _VALUELESS,
    FieldKind.NUMBER: _COMPARISONS,
    FieldKind.NAMED_NUMBER: _COMPARISONS | _VALUELESS,
}


@dataclass(frozen=True)
class Filter:
    field: str
    kind: FieldKind
    operator: Operator
    value: str
    key_path: tuple[str, ...] = ()  # for keyed fields: the path inside the object

    @property
    def key(self) -> str:
        """The name a keyed field was given (``key_path`` joined again)."""
        return ".".join(self.key_path)

    @property
    def number(self) -> float | None:
        """The value as a number, when it reads as one."""
        try:
            return float(self.value)
        except ValueError:
            return None

    @property
    def moment(self) -> dt.datetime:
        return parse_datetime(self.value, self.field)


@dataclass(frozen=True)
class Sort:
    field: str
    kind: FieldKind
    descending: bool
    key_path: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return ".".join(self.key_path)


def parse_datetime(value: str, field: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        # Converting can leave the calendar's range (year 9999 at UTC-5).
        return moment.astimezone(dt.UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):
        raise InvalidInput(
            f"filter on '{field}' needs an ISO-8601 date-time, got {value!r}"
        ) from None


def _load_json_array(raw: str | list | None, what: str) -> list[Any]:
    if raw is None or raw == "":
        return []
    if isinstance(raw, list):
        return raw
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"{what} must be a JSON array: {error.msg}") from None
    if not isinstance(parsed, list):
        raise InvalidInput(f"{what} must be a JSON array")
    return parsed


def _split_field(
    name: str, fields: Mapping[str, FieldKind]
) -> tuple[str, FieldKind, tuple[str, ...]]:
    """``data.question`` -> (``data``, JSON, ("question",)); plain names map to themselves."""
    if name in fields:
        return name, fields[name], ()
    head, _, rest = name.partition(".")
    if rest and fields.get(head) in _KEYED:
        return head, fields[head], tuple(rest.split("."))
    raise InvalidInput(f"unknown field '{name}'; expected one of: {', '.join(sorted(fields))}")


def parse_filters(raw: str | list | None, fields: Mapping[str, FieldKind]) -> list[Filter]:
    """Parse Opik's ``filters`` parameter for a resource whose fields are ``fields``."""
    parsed: list[Filter] = []
    for entry in _load_json_array(raw, "filters"):
        if not isinstance(entry, dict):
            raise InvalidInput("each filter must be an object with field, operator and value")
        name = entry.get("field")
        if not isinstance(name, str) or not name:
            raise InvalidInput("each filter needs a 'field'")
        field, kind, key_path = _split_field(name, fields)
        key = entry.get("key")
        if kind in _KEYED and not key_path:
            if not isinstance(key, str) or not key:
                raise InvalidInput(f"a filter on '{field}' needs a 'key'")
            key_path = tuple(key.split("."))
        try:
            operator = Operator(entry.get("operator"))
        except ValueError:
            raise InvalidInput(
                f"unknown filter operator {entry.get('operator')!r}; expected one of: "
                + ", ".join(op.value for op in Operator)
            ) from None
        if operator not in _OPERATORS_BY_KIND[kind]:
            raise InvalidInput(f"operator '{operator.value}' does not apply to field '{field}'")
        value = entry.get("value")
        if operator not in _VALUELESS and value is None:
            raise InvalidInput(f"filter on '{field}' with '{operator.value}' needs a 'value'")
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise InvalidInput(f"filter value for '{field}' must be a string")
        text = (
            "" if value is None else (json.dumps(value) if isinstance(value, bool) else str(value))
        )
        found = Filter(field=field, kind=kind, operator=operator, value=text, key_path=key_path)
        if kind is FieldKind.DATE_TIME and operator not in _VALUELESS:
            _ = found.moment  # validates now, so a bad date is a 400 before any query runs
        numeric = kind in (FieldKind.NUMBER, FieldKind.NAMED_NUMBER)
        if numeric and operator not in _VALUELESS and found.number is None:
            raise InvalidInput(f"filter on '{field}' needs a number, got {text!r}")
        parsed.append(found)
    return parsed


def parse_sorting(raw: str | list | None, fields: Mapping[str, FieldKind]) -> Sort | None:
    """Parse Opik's ``sorting`` parameter; like Opik, only the first entry counts."""
    entries = _load_json_array(raw, "sorting")
    if not entries:
        return None
    entry = entries[0]
    if not isinstance(entry, dict) or not isinstance(entry.get("field"), str):
        raise InvalidInput("sorting entries must be objects with a 'field'")
    field, kind, key_path = _split_field(entry["field"], fields)
    if kind in _KEYED and not key_path:
        raise InvalidInput(f"sorting on '{field}' needs a key, e.g. '{field}.name'")
    direction = str(entry.get("direction") or "ASC").upper()
    if direction not in ("ASC", "DESC"):
        raise InvalidInput(f"sorting direction must be ASC or DESC, got {direction!r}")
    return Sort(field=field, kind=kind, descending=direction == "DESC", key_path=key_path)
