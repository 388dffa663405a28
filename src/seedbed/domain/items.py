"""Dataset items: what a client writes, what it reads back, and how two items compare."""

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

from seedbed.domain.errors import InvalidInput
from seedbed.domain.filters import FieldKind

ITEM_SOURCES = ("manual", "trace", "span", "sdk")

# What Opik lets a client filter dataset items on, and how each field compares.
ITEM_FIELDS: dict[str, FieldKind] = {
    "id": FieldKind.STRING,
    "data": FieldKind.JSON,
    "full_data": FieldKind.STRING,
    "source": FieldKind.STRING,
    "trace_id": FieldKind.STRING,
    "span_id": FieldKind.STRING,
    "tags": FieldKind.LIST,
    "description": FieldKind.STRING,
    "created_at": FieldKind.DATE_TIME,
    "last_updated_at": FieldKind.DATE_TIME,
    "created_by": FieldKind.STRING,
    "last_updated_by": FieldKind.STRING,
}
ITEM_SORTABLE = ("id", "created_at", "last_updated_at", "created_by", "last_updated_by", "source")
# Far deeper than real items nest; it keeps every layer (parsing, validation, JSON
# functions of both engines) well inside its own recursion limits.
MAX_NESTING = 100


def storage_problem(value: Any, depth: int = 0) -> str | None:
    """Why a JSON value cannot be stored as sent, or ``None``. Both engines must keep the
    same values: PostgreSQL cannot hold a NUL character, no engine can hold text that is
    not valid Unicode (a lone surrogate such as ``"\\ud800"``), and numbers must be finite
    (Python's parser reads ``NaN``; PostgreSQL refuses it, SQLite would keep a null)."""
    if depth > MAX_NESTING:
        return f"values may nest at most {MAX_NESTING} levels deep"
    if isinstance(value, dict):
        parts = (*value.keys(), *value.values())
    elif isinstance(value, list):
        parts = value
    else:
        return _scalar_problem(value)
    nested_depth = depth + 1
    for part in parts:
        # Text and numbers are checked here rather than one call deeper: items are mostly
        # flat objects of them, and every item of every write passes through this.
        kind = type(part)
        if kind is str and nested_depth <= MAX_NESTING:
            if "\x00" in part or not (part.isascii() or _encodes(part)):
                return _scalar_problem(part)
        elif kind in (int, bool) or part is None:
            if nested_depth > MAX_NESTING:
                return storage_problem(part, nested_depth)
        elif (problem := storage_problem(part, nested_depth)) is not None:
            return problem
    return None


def _scalar_problem(value: Any) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return "numbers must be finite (no NaN or Infinity)"
    if isinstance(value, str):
        if "\x00" in value:
            return "text must not contain NUL (\\u0000) characters"
        if not _encodes(value):
            return "text must be valid Unicode (it holds a lone surrogate)"
    return None


def _encodes(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


# Canonical JSON of an item's content; one encoder, not one per item.
_CANONICAL_JSON = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
)


@dataclass(frozen=True)
class ItemDraft:
    """An item as a client writes it (insert or replace). Frozen: its content hash is
    taken when it is made, before any transaction or lock (a change is a new draft,
    ``dataclasses.replace``)."""

    id: str
    data: dict[str, Any]
    source: str = "sdk"
    trace_id: str | None = None
    span_id: str | None = None
    tags: list[str] | None = None
    description: str | None = None
    evaluators: list[dict[str, Any]] | None = None
    execution_policy: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.data, dict):
            raise InvalidInput(f"item {self.id}: 'data' must be a JSON object")
        for value in (
            self.data,
            self.tags,
            self.description,
            self.evaluators,
            self.execution_policy,
        ):
            if (problem := storage_problem(value)) is not None:
                raise InvalidInput(f"item {self.id}: {problem}")
        if self.source not in ITEM_SOURCES:
            raise InvalidInput(
                f"item {self.id}: source must be one of {', '.join(ITEM_SOURCES)}, got {self.source!r}"
            )
        object.__setattr__(self, "_content_hash", self._hash_content())

    def content_hash(self) -> str:
        """Identity of everything a client can set: equal hashes mean "no change"."""
        return self._content_hash

    def _hash_content(self) -> str:
        canonical = _CANONICAL_JSON.encode(
            [
                self.data,
                self.source,
                self.trace_id,
                self.span_id,
                sorted(self.tags or []),
                self.description,
                self.evaluators,
                self.execution_policy,
            ]
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class Item:
    """An item as stored in one version of a dataset."""

    id: str
    dataset_id: str
    data: dict[str, Any]
    source: str
    trace_id: str | None
    span_id: str | None
    tags: list[str]
    description: str | None
    evaluators: list[dict[str, Any]] | None
    execution_policy: dict[str, Any] | None
    created_at: dt.datetime
    created_by: str
    last_updated_at: dt.datetime
    last_updated_by: str
    content_hash: str = ""

    def as_draft(self) -> ItemDraft:
        return ItemDraft(
            id=self.id,
            data=self.data,
            source=self.source,
            trace_id=self.trace_id,
            span_id=self.span_id,
            tags=self.tags,
            description=self.description,
            evaluators=self.evaluators,
            execution_policy=self.execution_policy,
        )


@dataclass(frozen=True)
class Column:
    """A top-level key of items' ``data`` and the JSON types seen under it."""

    name: str
    types: tuple[str, ...] = field(default_factory=tuple)


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def data_columns(data: dict[str, Any]) -> set[tuple[str, str]]:
    return {(key, json_type(value)) for key, value in data.items()}


def truncate_value(value: Any, limit: int = 10_000) -> Any:
    """Shorten long strings (images as data URLs, base64 blobs) for list views."""
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + "…"
    if isinstance(value, dict):
        return {key: truncate_value(inner, limit) for key, inner in value.items()}
    if isinstance(value, list):
        return [truncate_value(inner, limit) for inner in value]
    return value
