"""Opik's query parameters, read into the domain's query values at the edge.

``filters`` is a JSON array, ``[{"field": "data", "key": "question", "operator":
"contains", "value": "refund"}]`` (request bodies may send the array itself); ``sorting``
is ``[{"field": "data.question", "direction": "DESC"}]``, of which only the first entry
counts, as in Opik; ``experiment_ids`` and ``types`` are JSON arrays of strings. What is
not well formed is an :class:`InvalidInput`, answered ``{"code": 400, "message": ...}``.
"""

import json
from collections.abc import Mapping
from typing import Any

from seedbed.domain.errors import InvalidInput
from seedbed.domain.filters import FieldKind, Filter, Sort, make_filter, make_sort


def json_list(raw: str | None, what: str) -> list[Any] | None:
    """A parameter holding a JSON array; ``None`` when absent or blank."""
    if raw is None or not raw.strip():
        return None
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"{what} must be a JSON array: {error.msg}") from None
    if not isinstance(parsed, list):
        raise InvalidInput(f"{what} must be a JSON array")
    return parsed


def string_list(raw: str | None, what: str) -> tuple[str, ...] | None:
    """``experiment_ids`` / ``types``: a JSON array of strings, or ``None`` when absent."""
    parsed = json_list(raw, what)
    if parsed is None:
        return None
    if not all(isinstance(value, str) for value in parsed):
        raise InvalidInput(f"{what} must be a JSON array of strings")
    return tuple(parsed)


def parse_filters(
    raw: str | list[Mapping[str, Any]] | None, fields: Mapping[str, FieldKind]
) -> tuple[Filter, ...]:
    """Opik's ``filters`` for a resource whose fields are ``fields``."""
    entries = raw if isinstance(raw, list) else json_list(raw, "filters") or []
    return tuple(_filter(entry, fields) for entry in entries)


def _filter(entry: Any, fields: Mapping[str, FieldKind]) -> Filter:
    if not isinstance(entry, Mapping):
        raise InvalidInput("each filter must be an object with field, operator and value")
    return make_filter(
        fields, entry.get("field"), entry.get("operator"), entry.get("value"), entry.get("key")
    )


def parse_sorting(raw: str | None, fields: Mapping[str, FieldKind]) -> Sort | None:
    """Opik's ``sorting``: the first entry, ascending unless it says ``DESC``."""
    entries = json_list(raw, "sorting")
    if not entries:
        return None
    entry = entries[0]
    if not isinstance(entry, dict) or not isinstance(entry.get("field"), str):
        raise InvalidInput("sorting entries must be objects with a 'field'")
    direction = str(entry.get("direction") or "ASC").upper()
    if direction not in ("ASC", "DESC"):
        raise InvalidInput(f"sorting direction must be ASC or DESC, got {direction!r}")
    return make_sort(fields, entry["field"], descending=direction == "DESC")
