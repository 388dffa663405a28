"""The prompt library: a prompt is a name with immutable versions, each a template
(text, or a chat's messages as JSON) with its metadata. Experiments link the versions
they ran, so a team can tell which prompt produced which scores.

A version has two names: its ``commit`` (8 characters, the end of its id, as Opik makes
it) and its number within the prompt (``v1``, ``v2``, … in the order they were made).
A *mask* is a hidden version the Opik client may create: it has a commit but no number,
and it is never the prompt's latest version nor part of its history.
"""

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from seedbed.domain.errors import InvalidInput
from seedbed.domain.filters import FieldKind

TEXT, CHAT = "text", "chat"
TEMPLATE_STRUCTURES = (TEXT, CHAT)
TEMPLATE_TYPES = ("mustache", "jinja2", "python")
DEFAULT_TEMPLATE_TYPE = "mustache"
PROMPT_VERSION, MASK = "prompt_version", "mask"
VERSION_TYPES = (PROMPT_VERSION, MASK)

COMMIT_LENGTH = 8
_COMMIT = re.compile(r"^[a-zA-Z0-9]{8}$")
_VERSION_NUMBER = re.compile(r"^v(\d{1,9})$")
MAX_DESCRIPTION = 255

# What prompts can be filtered on (the client's ``search_prompts`` filter string) ...
PROMPT_FIELDS: dict[str, FieldKind] = {
    "id": FieldKind.STRING,
    "name": FieldKind.STRING,
    "description": FieldKind.STRING,
    "template_structure": FieldKind.STRING,
    "tags": FieldKind.LIST,
    "created_at": FieldKind.DATE_TIME,
    "last_updated_at": FieldKind.DATE_TIME,
    "created_by": FieldKind.STRING,
    "last_updated_by": FieldKind.STRING,
}
PROMPT_SORTABLE = (
    "id",
    "name",
    "description",
    "created_at",
    "last_updated_at",
    "created_by",
    "last_updated_by",
)
PROMPT_SORT_FIELDS = {name: FieldKind.STRING for name in PROMPT_SORTABLE}

# ... and versions (``get_prompt_history``'s filter string).
VERSION_FIELDS: dict[str, FieldKind] = {
    "id": FieldKind.STRING,
    "commit": FieldKind.STRING,
    "template": FieldKind.STRING,
    "change_description": FieldKind.STRING,
    "type": FieldKind.STRING,
    "metadata": FieldKind.JSON,
    "tags": FieldKind.LIST,
    "created_at": FieldKind.DATE_TIME,
    "created_by": FieldKind.STRING,
}
VERSION_SORTABLE = ("id", "commit", "template", "change_description", "type", "created_at")
VERSION_SORT_FIELDS = {name: FieldKind.STRING for name in VERSION_SORTABLE}


@dataclass
class PromptVersion:
    id: str
    workspace: str
    prompt_id: str
    commit: str
    sequence: int | None  # None for a mask
    template: str
    metadata: Any
    type: str
    version_type: str
    change_description: str | None
    tags: list[str]
    created_at: dt.datetime
    created_by: str
    template_structure: str = TEXT  # the prompt's, read along

    @property
    def version_number(self) -> str | None:
        return f"v{self.sequence}" if self.sequence is not None else None

    @property
    def variables(self) -> list[str]:
        return template_variables(self.template, self.type)


@dataclass
class Prompt:
    id: str
    workspace: str
    project_id: str | None
    name: str
    description: str | None
    template_structure: str
    tags: list[str]
    created_at: dt.datetime
    created_by: str
    last_updated_at: dt.datetime
    last_updated_by: str
    version_count: int = 0  # read along: visible versions, masks left out


@dataclass
class PromptView:
    """A prompt with its newest visible version (``None`` before the first)."""

    prompt: Prompt
    latest_version: PromptVersion | None = None


@dataclass(frozen=True)
class PromptVersionLink:
    """An experiment's link to the prompt version it ran. The version may have been
    deleted since: then only its id (and the prompt's, when known) remain."""

    version_id: str
    prompt_id: str | None = None
    commit: str | None = None
    prompt_name: str | None = None
    version_number: str | None = None


@dataclass
class NewVersion:
    """What a client asks for when it adds a version."""

    template: str
    metadata: Any = None
    type: str | None = None
    version_type: str | None = None
    change_description: str | None = None
    tags: list[str] = field(default_factory=list)
    id: str | None = None
    commit: str | None = None


def commit_of(version_id: str) -> str:
    """The commit Opik gives a version it names itself: the last 8 characters of its id."""
    return version_id.replace("-", "")[-COMMIT_LENGTH:]


def check_commit(commit: str) -> str:
    if not _COMMIT.match(commit):
        raise InvalidInput(f"commit must be 8 letters or digits, got {commit!r}")
    return commit


def parse_version_number(text: str) -> int:
    """``"v3"`` -> 3."""
    found = _VERSION_NUMBER.match(text.strip())
    if found is None or int(found.group(1)) < 1:
        raise InvalidInput(f"version_number must look like 'v3', got {text!r}")
    return int(found.group(1))


def check_name(name: str | None) -> str:
    if name is None or not name.strip():
        raise InvalidInput("prompt name must not be blank")
    return name.strip()


def check_description(description: str | None) -> str | None:
    if description is None:
        return None
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(f"description must be at most {MAX_DESCRIPTION} characters")
    return description


def check_template(template: str | None) -> str:
    if template is None or not template.strip():
        raise InvalidInput("template must not be blank")
    return template


def unique_tags(tags: list[str] | None) -> list[str]:
    return list(dict.fromkeys(tags or []))


# {{name}}, {{{name}}}, {{& name}}, {{#section}} and {{^inverted}} name variables;
# closing tags, comments and partials ({{/x}}, {{!x}}, {{>x}}) do not.
_MUSTACHE = re.compile(r"\{\{\{?\s*([#^&]?)\s*([^{}!/>\s][^{}]*?)\s*\}?\}\}")
_JINJA = re.compile(r"\{\{-?\s*([A-Za-z_][A-Za-z0-9_]*)")
_PYTHON = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)[^{}]*\}(?!\})")


def template_variables(template: str, template_type: str) -> list[str]:
    """The names a template expects, once each, in the order they first appear."""
    if template_type == "jinja2":
        names = _JINJA.findall(template)
    elif template_type == "python":
        names = _PYTHON.findall(template)
    else:
        names = [name for _sigil, name in _MUSTACHE.findall(template)]
    return list(dict.fromkeys(names))
