"""Instances of a JSON schema, for stub LLM replies to structured-output requests.

Covers what structured-output schemas use: object properties and ``required``, arrays
with ``minItems``/``maxItems`` and ``prefixItems``, the scalar types with their bounds
and common formats, ``enum``/``const``, ``anyOf``/``oneOf``/``allOf``, type lists and
local ``$ref``s (as pydantic writes them under ``$defs``).
"""

import copy
import uuid
from collections.abc import Mapping
from random import Random
from typing import Any, Protocol

# Schemas may be recursive; past this depth only what the schema requires is produced.
MAX_SCHEMA_DEPTH = 6


class TextSource(Protocol):
    """Where strings come from, so that schema-made samples are as distinct as any other."""

    def fresh_text(self, rng: Random) -> str: ...

    def word(self, rng: Random) -> str: ...

    def serial(self) -> int: ...


class SchemaWalker:
    """Builds instances of one JSON schema (local ``$ref``s resolved against its root)."""

    def __init__(self, text: TextSource, root: Mapping[str, Any], rng: Random) -> None:
        self._text, self._root, self._rng = text, root, rng

    def batch_slot(self) -> tuple[str | None, Mapping[str, Any] | None]:
        """Where samples go: the root array, the root object's first array property, or nowhere."""
        root = self._resolve(self._root)
        if "array" in _types_of(root):
            return None, root
        for key, property_schema in root.get("properties", {}).items():
            resolved = self._resolve(property_schema)
            if "array" in _types_of(resolved):
                return key, resolved
        return None, None

    def object_with(
        self, schema: Mapping[str, Any], key: str, samples: list[Any]
    ) -> dict[str, Any]:
        properties = self._resolve(schema).get("properties", {})
        return {
            name: samples if name == key else self.instance(sub, 1)
            for name, sub in properties.items()
        }

    def instance(self, schema: Mapping[str, Any], depth: int = 0) -> Any:
        schema = self._resolve(schema)
        rng = self._rng
        if "const" in schema:
            return copy.deepcopy(schema["const"])
        if schema.get("enum"):
            return copy.deepcopy(rng.choice(schema["enum"]))
        branches = schema.get("anyOf") or schema.get("oneOf")
        if branches:
            return self.instance(self._branch(branches, depth), depth + 1)
        if "allOf" in schema:
            return self.instance(self._merged(schema["allOf"]), depth + 1)
        types = _types_of(schema)
        make = self._makers.get(rng.choice(types) if types else "string", self._string)
        return make(schema, depth)

    @property
    def _makers(self) -> dict[str, Any]:
        return {
            "object": self._object,
            "array": self._array,
            "string": self._string,
            "integer": self._integer,
            "number": self._number,
            "boolean": self._boolean,
            "null": self._null,
        }

    def _object(self, schema: Mapping[str, Any], depth: int) -> dict[str, Any]:
        properties = schema.get("properties", {})
        required = set(schema.get("required", ()))
        wanted = (
            properties
            if depth < MAX_SCHEMA_DEPTH
            else {k: v for k, v in properties.items() if k in required}
        )
        instance = {name: self.instance(sub, depth + 1) for name, sub in wanted.items()}
        extra = schema.get("additionalProperties")
        if not properties and isinstance(extra, Mapping) and depth < MAX_SCHEMA_DEPTH:
            instance[self._text.word(self._rng)] = self.instance(extra, depth + 1)
        return instance

    def _array(self, schema: Mapping[str, Any], depth: int) -> list[Any]:
        prefix = [self.instance(sub, depth + 1) for sub in schema.get("prefixItems", [])]
        low = schema.get("minItems", 0 if depth >= MAX_SCHEMA_DEPTH else 1)
        high = schema.get("maxItems", max(low, 3) if depth < MAX_SCHEMA_DEPTH else low)
        count = max(0, self._rng.randint(low, max(low, high)) - len(prefix))
        return prefix + [self.instance(schema.get("items", {}), depth + 1) for _ in range(count)]

    def _string(self, schema: Mapping[str, Any], depth: int) -> str:
        text = self._formatted(schema.get("format")) or self._text.fresh_text(self._rng)
        while len(text) < schema.get("minLength", 0):
            text += " " + self._text.word(self._rng)
        return text[: schema["maxLength"]] if "maxLength" in schema else text

    def _integer(self, schema: Mapping[str, Any], depth: int) -> int:
        low, high = _bounds(schema, step=1)
        return self._rng.randint(int(low), int(high))

    def _number(self, schema: Mapping[str, Any], depth: int) -> float:
        low, high = _bounds(schema, step=0.001)
        return round(self._rng.uniform(low, high), 3)

    def _boolean(self, schema: Mapping[str, Any], depth: int) -> bool:
        return self._rng.random() < 0.5

    def _null(self, schema: Mapping[str, Any], depth: int) -> None:
        return None

    def _formatted(self, format_name: str | None) -> str | None:
        rng = self._rng
        if format_name == "date":
            return f"20{rng.randint(10, 29)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        if format_name == "date-time":
            return (
                f"{self._formatted('date')}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z"
            )
        if format_name == "email":
            return f"{self._text.word(rng)}.{self._text.serial()}@example.com"
        if format_name in ("uri", "url"):
            return f"https://example.com/{self._text.word(rng)}/{self._text.serial()}"
        if format_name == "uuid":
            return str(uuid.UUID(int=rng.getrandbits(128), version=4))
        return None

    def _branch(self, branches: list[Mapping[str, Any]], depth: int) -> Mapping[str, Any]:
        if depth >= MAX_SCHEMA_DEPTH:
            # Deep in a recursive schema, stop at a null branch when there is one.
            for branch in branches:
                if _types_of(self._resolve(branch)) == ["null"]:
                    return branch
        return self._rng.choice(branches)

    def _merged(self, parts: list[Mapping[str, Any]]) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for part in map(self._resolve, parts):
            properties = {**merged.get("properties", {}), **part.get("properties", {})}
            merged.update(part)
            if properties:
                merged["properties"] = properties
        return merged

    def _resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        for _ in range(20):  # bounded: a chain of refs may loop
            if not isinstance(schema, Mapping) or "$ref" not in schema:
                break
            siblings = {key: value for key, value in schema.items() if key != "$ref"}
            schema = {**self._pointed_at(schema["$ref"]), **siblings}
        return schema if isinstance(schema, Mapping) else {}

    def _pointed_at(self, ref: str) -> Mapping[str, Any]:
        target: Any = self._root
        for part in filter(None, ref.removeprefix("#").split("/")):
            name = part.replace("~1", "/").replace("~0", "~")
            target = target.get(name, {}) if isinstance(target, Mapping) else {}
        return target if isinstance(target, Mapping) else {}


def _types_of(schema: Mapping[str, Any]) -> list[str]:
    declared = schema.get("type")
    if isinstance(declared, list):
        return declared
    if declared:
        return [declared]
    if "properties" in schema:
        return ["object"]
    if "items" in schema or "prefixItems" in schema:
        return ["array"]
    return []


def _bounds(schema: Mapping[str, Any], step: float) -> tuple[float, float]:
    """The inclusive range a number may take; ``step`` moves off an exclusive bound."""
    if "minimum" in schema:
        low = schema["minimum"]
    elif "exclusiveMinimum" in schema:
        low = schema["exclusiveMinimum"] + step
    else:
        low = 0
    if "maximum" in schema:
        high = schema["maximum"]
    elif "exclusiveMaximum" in schema:
        high = schema["exclusiveMaximum"] - step
    else:
        high = low + 1_000
    return low, max(low, high)


def count_for_array(array: Mapping[str, Any], asked: int | None) -> int:
    """The batch size: the prompt's count kept within minItems..maxItems, else those bounds."""
    low, high = array.get("minItems"), array.get("maxItems")
    if asked is not None:
        return max(low or 0, min(asked, high if high is not None else asked))
    return low or high or 1
