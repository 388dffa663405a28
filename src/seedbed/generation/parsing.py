"""Getting samples out of what a model actually wrote.

Models wrap JSON in code fences or prose, stop mid-array when they run out of tokens,
and leave trailing commas. The parser takes, in order: the whole reply as JSON; the
first JSON value found inside it; the complete elements of a truncated array; and a
repaired reading of the text. A reply it cannot read is reported with the reason, never
silently turned into nothing.
"""

import json
import re
from dataclasses import dataclass
from typing import Any

import json_repair

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)(?:```|$)", re.DOTALL)
_DECODER = json.JSONDecoder()


@dataclass(frozen=True, slots=True)
class ParsedReply:
    samples: list[Any]
    error: str | None = None  # why nothing (or not everything) could be read
    salvaged: bool = False  # True when the JSON had to be cut or repaired


def parse_samples(text: str) -> ParsedReply:
    stripped = _unfenced(text).strip()
    if not stripped:
        return ParsedReply([], "the reply was empty")
    value, complete = _first_json_value(stripped)
    if value is not None and complete:
        return ParsedReply(_samples_of(value))
    salvaged = _complete_elements(stripped)
    if salvaged:
        return ParsedReply(salvaged, "the reply was cut off; kept the complete samples", True)
    repaired = _repaired(stripped)
    if repaired:
        return ParsedReply(repaired, None, True)
    return ParsedReply([], f"no JSON found in the reply: {_excerpt(text)}")


def json_value(text: str) -> Any:
    """The first complete JSON object or array of a reply (fenced or not), or None."""
    value, complete = _first_json_value(_unfenced(text).strip())
    return value if complete else None


def _unfenced(text: str) -> str:
    match = _FENCE.search(text)
    return match.group(1) if match else text


def _first_json_value(text: str) -> tuple[Any, bool]:
    """The first JSON object or array in ``text`` and whether it parsed completely."""
    for start, char in enumerate(text):
        if char not in "{[":
            continue
        try:
            value, _ = _DECODER.raw_decode(text, start)
        except json.JSONDecodeError:
            return None, False
        return value, True
    return None, False


def _samples_of(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        for key in ("samples", "examples", "items", "data", "results"):
            if isinstance(value.get(key), list) and len(value) == 1:
                return value[key]
        if "samples" in value and isinstance(value["samples"], list):
            return value["samples"]
        return [value]
    return [value]


def _complete_elements(text: str) -> list[Any]:
    """The elements of the first JSON array that parse on their own, up to where the
    text breaks off."""
    start = text.find("[")
    if start < 0:
        return []
    position, elements = start + 1, []
    while position < len(text):
        position = _skip(text, position, " \t\r\n,")
        if position >= len(text) or text[position] == "]":
            break
        try:
            element, position = _DECODER.raw_decode(text, position)
        except json.JSONDecodeError:
            break
        elements.append(element)
    return elements


def _repaired(text: str) -> list[Any]:
    try:
        value = json_repair.loads(text)
    except Exception:  # the repairer raises assorted errors on hopeless input
        return []
    if value in ("", None, [], {}):
        return []
    return _samples_of(value)


def _skip(text: str, position: int, characters: str) -> int:
    while position < len(text) and text[position] in characters:
        position += 1
    return position


def _excerpt(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[:limit] + "…")
