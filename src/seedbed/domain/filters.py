"""Filters and sorts, checked against the fields a resource allows.

The operators are Opik's (every surface maps its own onto them). Each API surface reads
its wire format into these values at its edge (Opik's JSON arrays in
``api/opik/queries.py``); services take only these; turning them into SQL is storage's job.
"""

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

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


def make_filter(
    fields: Mapping[str, FieldKind],
    field: str,
    operator: Operator | str | None,
    value: str | float | bool | None = None,
    key: str | None = None,
) -> Filter:
    """A filter on one of ``fields``, checked: ``make_filter(ITEM_FIELDS, "data.question",
    "contains", "refund")``. A keyed field (``data``) names its key after a dot or in
    ``key``; ``is_empty`` and ``is_not_empty`` take no value."""
    if not isinstance(field, str) or not field:
        raise InvalidInput("each filter needs a 'field'")
    name, kind, key_path = _split_field(field, fields)
    if kind in _KEYED and not key_path:
        if not isinstance(key, str) or not key:
            raise InvalidInput(f"a filter on '{name}' needs a 'key'")
        key_path = tuple(key.split("."))
    try:
        checked = Operator(operator)
    except ValueError:
        raise InvalidInput(
            f"unknown filter operator {operator!r}; expected one of: "
            + ", ".join(op.value for op in Operator)
        ) from None
    if checked not in _OPERATORS_BY_KIND[kind]:
        raise InvalidInput(f"operator '{checked.value}' does not apply to field '{name}'")
    if checked not in _VALUELESS and value is None:
        raise InvalidInput(f"filter on '{name}' with '{checked.value}' needs a 'value'")
    if value is not None and not isinstance(value, (str, int, float, bool)):
        raise InvalidInput(f"filter value for '{name}' must be a string")
    text = "" if value is None else (json.dumps(value) if isinstance(value, bool) else str(value))
    found = Filter(field=name, kind=kind, operator=checked, value=text, key_path=key_path)
    if kind is FieldKind.DATE_TIME and checked not in _VALUELESS:
        _ = found.moment  # validates now, so a bad date is refused before any query runs
    numeric = kind in (FieldKind.NUMBER, FieldKind.NAMED_NUMBER)
    if numeric and checked not in _VALUELESS and found.number is None:
        raise InvalidInput(f"filter on '{name}' needs a number, got {text!r}")
    return found


def make_sort(fields: Mapping[str, FieldKind], field: str, descending: bool = False) -> Sort:
    """A sort on one of ``fields``: ``make_sort(ITEM_FIELDS, "data.score", descending=True)``."""
    name, kind, key_path = _split_field(field, fields)
    if kind in _KEYED and not key_path:
        raise InvalidInput(f"sorting on '{name}' needs a key, e.g. '{name}.name'")
    return Sort(field=name, kind=kind, descending=descending, key_path=key_path)
