"""The shape of a dataset, inferred from its seed items as a JSON Schema.

Every key that appears in any seed becomes a property; keys present in every seed are
required. Types are merged across seeds (an integer in one seed and a float in another
is a ``number``). Generated samples are checked against this schema, and providers with
a structured-output mode are constrained by it.
"""

import copy
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

JsonSchema = dict[str, Any]

# Opik's markers of a generated sample, in its data: Opik's expansions endpoint returns
# them, and items saved before migration 0006 (or saved back by an Opik client) carry
# them. They are not part of the user's shape; seedbed keeps its own provenance in tags.
GENERATED_MARKER = "_generated"
GENERATION_MODEL_MARKER = "_generation_model"
GENERATION_MARKERS = frozenset({GENERATED_MARKER, GENERATION_MODEL_MARKER})


def infer_item_schema(
    seeds: Sequence[Mapping[str, Any]], preserve_fields: Iterable[str] = ()
) -> JsonSchema:
    schema = _object_schema([without_markers(seed) for seed in seeds])
    for field_name in preserve_fields:
        _preserve(
            schema, [seed.get(field_name) for seed in seeds if field_name in seed], field_name
        )
    return schema


def batch_schema(
    item_schema: JsonSchema,
    count: int,
    slots: Sequence[Mapping[str, Any]] = (),
    topics: Sequence[str | None] = (),
    topic_key: str = "about",
) -> JsonSchema:
    """The schema of one reply: ``{"samples": [count items]}``. ``slots``: per sample,
    closed-set fields fixed to one value (``{"category": "billing"}``); ``topics``: per
    sample, what it is about, written first under ``topic_key`` (then taken out of the
    sample). Either holds each sample of the reply to its own (a tuple: ``prefixItems``):
    a model that has just written "billing" and "a refund to a closed card" writes a text
    about that, in that order."""
    array: JsonSchema = {"type": "array", "minItems": count, "maxItems": count}
    if not slots and not any(topics):
        array["items"] = item_schema
    else:
        items = []
        for position in range(count):
            slot = slots[position] if position < len(slots) else {}
            item = with_closed_sets(item_schema, {path: [value] for path, value in slot.items()})
            topic = topics[position] if position < len(topics) else None
            items.append(_with_topic(item, topic_key, topic) if topic else item)
        array["prefixItems"] = items
    return {
        "type": "object",
        "properties": {"samples": array},
        "required": ["samples"],
        "additionalProperties": False,
    }


def _with_topic(schema: JsonSchema, key: str, topic: str) -> JsonSchema:
    properties = {key: {"const": topic}, **(schema.get("properties") or {})}
    return {**schema, "properties": properties, "required": [key, *schema.get("required", [])]}


def labels_first(schema: JsonSchema, closed_paths: Iterable[str]) -> JsonSchema:
    """A copy of ``schema`` whose top-level properties holding a closed-set field (a
    category, a label, metadata) come first. A provider constrained by the schema writes
    keys in its order: a model that writes the label before the text writes text that
    fits the label, where one that writes the text first attaches a label to whatever it
    wrote."""
    tops = {path.split(".", 1)[0].removesuffix("[]") for path in closed_paths}
    properties = schema.get("properties") or {}
    ordered = {key: properties[key] for key in properties if key in tops}
    ordered.update((key, value) for key, value in properties.items() if key not in tops)
    return {**copy.deepcopy(schema), "properties": copy.deepcopy(ordered)}


def in_key_order(item: Mapping[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    """``item`` with ``keys`` first, in that order, then any others."""
    ordered = {key: item[key] for key in keys if key in item}
    ordered.update((key, value) for key, value in item.items() if key not in ordered)
    return ordered


def without_markers(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key not in GENERATION_MARKERS}


def _value_schema(values: list[Any]) -> JsonSchema:
    types = {_type_of(value) for value in values}
    if {"integer", "number"} <= types:
        types.discard("integer")
    type_name = sorted(types)[0] if len(types) == 1 else sorted(types)
    schema: JsonSchema = {}
    if "object" in types:
        schema.update(_object_schema([v for v in values if isinstance(v, Mapping)]))
    schema["type"] = type_name
    if "array" in types:
        elements = [element for v in values if isinstance(v, list) for element in v]
        schema["items"] = _value_schema(elements) if elements else {}
    return schema


def _object_schema(objects: list[Mapping[str, Any]]) -> JsonSchema:
    keys: dict[str, list[Any]] = {}
    for obj in objects:
        for key, value in obj.items():
            keys.setdefault(key, []).append(value)
    required = [key for key, values in keys.items() if len(values) == len(objects)]
    return {
        "type": "object",
        "properties": {key: _value_schema(values) for key, values in keys.items()},
        "required": required,
        "additionalProperties": False,
    }


def _preserve(schema: JsonSchema, values: list[Any], field_name: str) -> None:
    """A preserved field is required, and when its seed values repeat (a category, a
    label, a language) the generated values must come from the same set."""
    if field_name not in schema["properties"]:
        return
    if field_name not in schema["required"]:
        schema["required"].append(field_name)
    scalars = all(value is None or isinstance(value, str | int | float | bool) for value in values)
    distinct = {_hashable(value) for value in values}
    if scalars and len(distinct) < len(values):
        schema["properties"][field_name]["enum"] = sorted(
            {value: None for value in values}, key=lambda v: (str(type(v)), str(v))
        )


def _hashable(value: Any) -> Any:
    return (type(value).__name__, value)


def _type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def with_closed_sets(schema: JsonSchema, closed_sets: Mapping[str, Sequence[Any]]) -> JsonSchema:
    """A copy of ``schema`` whose fields at the given paths (``category``,
    ``metadata.intent``, ``turns[].role``) must take one of the given values, so a provider
    with structured output cannot write any other."""
    constrained = copy.deepcopy(schema)
    for path, values in closed_sets.items():
        node = _schema_at(constrained, path)
        if node is not None:
            node["enum"] = list(values)
    return constrained


def _schema_at(schema: JsonSchema, path: str) -> JsonSchema | None:
    node: Any = schema
    for part in path.split("."):
        is_array = part.endswith("[]")
        key = part[:-2] if is_array else part
        node = (node.get("properties") or {}).get(key) if isinstance(node, dict) else None
        if is_array and isinstance(node, dict):
            node = node.get("items")
        if not isinstance(node, dict):
            return None
    return node
