"""What the seeds say about the data beyond its JSON types: which fields take their values
from a closed set (a category, a label, a role), which numbers stay in a range, and which
fields hold long free text (where a reused answer template would hide).

Fields are named by paths: ``category``, ``metadata.intent``, ``turns[].role``. Values of
an array of objects are pooled, so every turn's ``role`` counts toward one set.

A string field is a *closed set* when its values are short labels (at most
``_LABEL_MAX_WORDS`` words) that repeat: fewer distinct values than seeds that have the
field, at most ``_MAX_CLOSED_VALUES`` of them. Eight support questions over five
categories make ``category`` closed; eight customer names do not. A user may open a field
again (``allow_new_values``).
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

_LABEL_MAX_WORDS = 4
_LABEL_MAX_CHARS = 48
_MAX_CLOSED_VALUES = 30
# A field whose seed values average this many words holds free text worth comparing on
# its own: two samples sharing one answer with different questions repeat a template.
LONG_TEXT_WORDS = 8
# A range needs this many different numbers: one seed's number says nothing of a range.
_MIN_RANGE_VALUES = 3


@dataclass(frozen=True, slots=True)
class NumberRange:
    low: float
    high: float

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int | float) and self.low <= value <= self.high


@dataclass(frozen=True, slots=True)
class SeedShape:
    closed_sets: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    ranges: Mapping[str, NumberRange] = field(default_factory=dict)
    long_text_fields: tuple[str, ...] = ()

    def out_of_set(self, sample: Mapping[str, Any]) -> tuple[str, Any] | None:
        """The first field whose value is outside its closed set, with that value."""
        for path, allowed in self.closed_sets.items():
            for value in values_at(sample, path):
                if value not in allowed:
                    return path, value
        return None

    def free_text(self, sample: Mapping[str, Any]) -> str:
        """The sample's text without its closed-set labels: what diversity is measured on
        (two dialogues share "user" and "assistant" without repeating each other)."""
        return " ".join(
            value
            for path, value in leaves(sample)
            if isinstance(value, str) and path not in self.closed_sets
        )

    def out_of_range(self, sample: Mapping[str, Any]) -> tuple[str, Any] | None:
        for path, bounds in self.ranges.items():
            for value in values_at(sample, path):
                if isinstance(value, int | float) and not isinstance(value, bool):
                    if value not in bounds:
                        return path, value
        return None


def infer_shape(
    seeds: Sequence[Mapping[str, Any]],
    *,
    open_fields: Iterable[str] = (),
    ignored_fields: Iterable[str] = (),
) -> SeedShape:
    """``open_fields``: paths (or top-level names) that may take new values and numbers
    outside the seeds' range. ``ignored_fields`` are not measured at all."""
    opened = set(open_fields)
    ignored = set(ignored_fields)
    by_path: dict[str, list[Any]] = defaultdict(list)
    for seed in seeds:
        for path, value in leaves(seed):
            by_path[path].append(value)
    closed: dict[str, tuple[Any, ...]] = {}
    ranges: dict[str, NumberRange] = {}
    long_text: list[str] = []
    for path, values in by_path.items():
        if _top(path) in ignored or path in ignored:
            continue
        is_open = path in opened or _top(path) in opened
        strings = [value for value in values if isinstance(value, str)]
        numbers = [
            value
            for value in values
            if isinstance(value, int | float) and not isinstance(value, bool)
        ]
        if strings and len(strings) == len(values):
            if not is_open and _is_closed(strings):
                closed[path] = tuple(sorted(set(strings)))
            elif sum(len(text.split()) for text in strings) / len(strings) >= LONG_TEXT_WORDS:
                long_text.append(path)
        elif len(set(numbers)) >= _MIN_RANGE_VALUES and len(numbers) == len(values):
            if not is_open:
                ranges[path] = NumberRange(min(numbers), max(numbers))
    return SeedShape(closed, ranges, tuple(long_text))


def values_at(item: Any, path: str) -> Iterator[Any]:
    """The values found at ``path`` in ``item`` (none when the path is missing)."""
    current: list[Any] = [item]
    for part in path.split("."):
        is_array = part.endswith("[]")
        key = part[:-2] if is_array else part
        following: list[Any] = []
        for value in current:
            if isinstance(value, Mapping) and key in value:
                found = value[key]
                if is_array:
                    if isinstance(found, list):
                        following.extend(found)
                else:
                    following.append(found)
        current = following
    yield from current


def leaves(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every scalar in ``value`` with its path (``turns[].role``)."""
    if isinstance(value, Mapping):
        for key, inner in value.items():
            yield from leaves(inner, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for element in value:
            if isinstance(element, Mapping | list):
                yield from leaves(element, f"{prefix}[]")
            else:
                yield f"{prefix}[]", element
    elif prefix:
        yield prefix, value


def _is_closed(values: list[str]) -> bool:
    distinct = set(values)
    labels = all(
        len(value) <= _LABEL_MAX_CHARS and 0 < len(value.split()) <= _LABEL_MAX_WORDS
        for value in distinct
    )
    # Repetition is what tells a label from a name: some value occurs twice.
    return labels and len(distinct) < len(values) and len(distinct) <= _MAX_CLOSED_VALUES


def _top(path: str) -> str:
    return path.split(".", 1)[0].removesuffix("[]")
