"""How values read on a page: dates, JSON, cell previews."""

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

_PREVIEW_CHARACTERS = 120


def when(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def preview(value: Any) -> str:
    """A table cell: text as it is, anything else as compact JSON, cut to a line."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) > _PREVIEW_CHARACTERS:
        return text[: _PREVIEW_CHARACTERS - 1] + "…"
    return text


def with_param(query: Mapping[str, str], name: str, value: str | int) -> str:
    """The page's query string with one parameter changed (a new filter starts at page 1)."""
    changed = {**query, name: value}
    if name != "page":
        changed.pop("page", None)
    return urlencode(changed)


def with_page(query: Mapping[str, str], page: int) -> str:
    return with_param(query, "page", page)


FILTERS = {
    "when": when,
    "pretty_json": pretty_json,
    "preview": preview,
    "with_param": with_param,
    "with_page": with_page,
}
