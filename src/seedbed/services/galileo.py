"""Galileo's view of seedbed: the rules behind the Galileo-compatible surface that are not
HTTP.

- A Galileo dataset is a seedbed dataset; a row is an item whose ``data`` is the row's
  ``values_dict``; ``current_version_index`` is the latest version's sequence. Rows are
  listed oldest first (item ids are time-ordered) and ``index`` is a row's position.
- A content's ETag names the dataset's latest version; an edit sent with an ``If-Match``
  that names an older one is refused (:class:`StaleContent`, HTTP 412, as Galileo does).
- ``extend`` is a generation job writing a new dataset. Galileo's ``examples`` are user
  inputs, so each string becomes the seed ``{"input": text}``; an object is taken as a
  seed as it is (seedbed's extension: seeds in any shape). Rows of a ``source_dataset``
  (one version, some rows) are seeds too. The ``prompt`` (the role of the assistant
  under test) and the ``instructions`` both become the engine's instructions.
- ``prompt_settings.model_alias`` names a model Galileo's way ("GPT-4o mini"):
  :data:`MODEL_ALIASES` maps those, a seedbed name ``provider/model`` is used as it is,
  and anything else gets the default model, as Galileo does for an alias it does not
  offer; the progress message names the model actually used.
"""

import datetime as dt
import hashlib
import json
import re
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.engine import Connection

from seedbed.domain import ids
from seedbed.domain.datasets import Dataset
from seedbed.domain.errors import Conflict, InvalidInput, NotFound, Unauthorized, Unprocessable
from seedbed.domain.imports import read_rows
from seedbed.domain.items import Item, ItemDraft
from seedbed.domain.jobs import CANCELLED, COMPLETED, FAILED, QUEUED, GenerationJob
from seedbed.domain.keys import hash_secret
from seedbed.generation.spec import GenerationSpec
from seedbed.providers.base import UnknownModel
from seedbed.providers.registry import ProviderRegistry
from seedbed.services import datasets, items, jobs, keys
from seedbed.services.context import Caller
from seedbed.services.datasets import DatasetView
from seedbed.services.expansions import MAX_SEEDS
from seedbed.services.item_changes import VersionChanges, apply_changes
from seedbed.settings import Settings
from seedbed.storage.repositories.items import ItemRepository
from seedbed.storage.repositories.keys import KeyRepository

EXTEND_JOB_KIND = "galileo_extend"
# Galileo's names for models (as its console shows them), normalised by _alias_key.
MODEL_ALIASES = {
    "gpt-4o-mini": "openai/gpt-4o-mini",
    "gpt-4o": "openai/gpt-4o",
    "gpt-4.1": "openai/gpt-4.1",
    "gpt-4.1-mini": "openai/gpt-4.1-mini",
    "gpt-4.1-nano": "openai/gpt-4.1-nano",
    "gpt-4-turbo": "openai/gpt-4-turbo",
    "gpt-3.5-turbo": "openai/gpt-3.5-turbo",
    "gpt-5": "openai/gpt-5",
    "gpt-5-mini": "openai/gpt-5-mini",
    "gpt-5-nano": "openai/gpt-5-nano",
    "gpt-5.1": "openai/gpt-5.1",
    "claude-3.5-sonnet": "anthropic/claude-3-5-sonnet-latest",
    "claude-3.5-haiku": "anthropic/claude-3-5-haiku-latest",
    "claude-3.7-sonnet": "anthropic/claude-3-7-sonnet-latest",
    "claude-sonnet-4": "anthropic/claude-sonnet-4-0",
    "claude-opus-4": "anthropic/claude-opus-4-0",
}
# The Galileo client raises when a finished job's message contains "unexpected error":
# it is the only way it learns that an extension failed.
FAILURE_MESSAGE = "An unexpected error occurred"
OLDEST_FIRST = json.dumps([{"field": "id", "direction": "ASC"}])
# Markers seedbed adds to generated items; they are provenance, not examples to imitate.
_GENERATION_MARKERS = ("_generated", "_generation_model")

T = TypeVar("T")


class StaleContent(Conflict):
    """The client edited a version of the content that is no longer the latest."""

    status_code = 412


# -- users ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GalileoUser:
    id: str  # a UUID version 4, which the client insists on
    email: str
    name: str


def galileo_user(workspace: str, name: str) -> GalileoUser:
    """Galileo names users by UUID and e-mail; seedbed by name within a workspace. The id
    is derived from both, so the same user always has the same id."""
    digest = hashlib.sha256(f"{workspace}\x00{name}".encode()).digest()
    local_part = re.sub(r"[^A-Za-z0-9._+-]+", "-", name).strip("-.") or "user"
    return GalileoUser(
        str(uuid.UUID(bytes=digest[:16], version=4)), f"{local_part}@seedbed.local", name
    )


@dataclass(frozen=True)
class TokenSubject:
    """Whom a login token speaks for; ``key_id`` is None in local mode (no keys)."""

    workspace: str
    user: str
    key_id: str | None = None


def subject_for_api_key(connection: Connection, secret: str) -> TokenSubject:
    caller = keys.authenticate(connection, secret, None)
    key = KeyRepository(connection).by_secret_hash(hash_secret(secret))
    return TokenSubject(caller.workspace, caller.user, key.id)


def caller_for_subject(connection: Connection, subject: TokenSubject) -> Caller:
    """The caller a token speaks for, as long as its key is still valid: revoking a key
    ends the tokens it was exchanged for."""
    key = next((key for key in keys.list_keys(connection) if key.id == subject.key_id), None)
    if key is None or key.revoked_at is not None or subject.workspace not in key.workspaces:
        raise Unauthorized("The API key this token was issued for is no longer valid: log in again")
    return Caller(workspace=subject.workspace, user=key.name)


# -- datasets and their content ------------------------------------------------------------


def _window(
    fetch: Callable[[int], tuple[list[T], int]], offset: int, limit: int
) -> tuple[list[T], int]:
    """Galileo pages by offset (``starting_token``) and ``limit``; the services page by
    page number. The rows wanted lie on at most two pages of ``limit`` rows."""
    first_page, skip = divmod(offset, limit)
    found, total = fetch(first_page + 1)
    window = found[skip:]
    if skip and len(found) == limit:
        following, _ = fetch(first_page + 2)
        window += following[:skip]
    return window, total


def dataset_columns(connection: Connection, dataset_id: str) -> list[str]:
    return [column.name for column in ItemRepository(connection).columns(dataset_id)]


@dataclass(frozen=True)
class DatasetFilters:
    """Galileo's dataset query, as Opik-style filters the dataset service takes."""

    filters: list[dict[str, str]] = field(default_factory=list)
    sorting: list[dict[str, str]] = field(default_factory=list)
    matches_nothing: bool = False  # e.g. "draft = true": seedbed has no drafts


def find_datasets(
    connection: Connection,
    caller: Caller,
    offset: int,
    limit: int,
    query: DatasetFilters = DatasetFilters(),
) -> tuple[list[DatasetView], int]:
    if query.matches_nothing:
        return [], 0

    def fetch(page: int) -> tuple[list[DatasetView], int]:
        found = datasets.find_datasets(
            connection,
            caller,
            page,
            limit,
            filters=json.dumps(query.filters),
            sorting=json.dumps(query.sorting),
        )
        return found.content, found.total

    return _window(fetch, offset, limit)


def parse_rows(content: bytes, file_format: str) -> list[dict[str, Any]]:
    """A Galileo upload: every key of a row is data (no reserved keys, unlike Opik's
    import), and a row without values (the client sends ``{}`` for "no rows") is none."""
    if file_format == "feather":
        raise Unprocessable("feather files are not supported: upload csv, json or jsonl")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("the dataset file is not UTF-8 text") from None
    if file_format == "csv":
        rows = [row["data"] for row in read_rows(text, "csv")] if text.strip() else []
    elif file_format == "jsonl":
        rows = [
            _json_row(line, f"line {number}")
            for number, line in enumerate(text.splitlines(), 1)
            if line.strip()
        ]
    else:
        parsed = _json_value(text, "the file")
        if not isinstance(parsed, list):
            raise InvalidInput("a json dataset file must hold an array of objects")
        rows = [_object(row, f"element {number}") for number, row in enumerate(parsed)]
    return [row for row in rows if row]


def _json_value(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"{where}: not valid JSON ({error.msg})") from None


def _json_row(line: str, where: str) -> dict[str, Any]:
    return _object(_json_value(line, where), where)


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput(f"{where}: each row must be a JSON object")
    return value


def create_dataset(
    connection: Connection,
    caller: Caller,
    name: str,
    rows: list[dict[str, Any]],
    append_suffix_if_duplicate: bool,
) -> Dataset:
    """A dataset holding ``rows`` (one version); with ``append_suffix_if_duplicate`` a
    taken name becomes "name (1)", "name (2)", … instead of a conflict."""
    candidates = [name] + (
        [f"{name} ({number})" for number in range(1, 1000)] if append_suffix_if_duplicate else []
    )
    for candidate in candidates:
        try:
            created = datasets.create_dataset(connection, caller, candidate)
            break
        except Conflict:
            if candidate == candidates[-1]:
                raise
    drafts = [ItemDraft(id=ids.new_id(), data=row) for row in rows]
    if drafts:
        items.upsert_items(connection, caller, drafts, dataset_id=created.id)
    return datasets.require_dataset(connection, caller, created.id)


def content_etag(dataset: Dataset) -> str:
    """Names the dataset's latest version: it changes with every change of content."""
    return str(uuid.uuid5(uuid.UUID(dataset.id), f"v{dataset.latest_version_sequence}"))


def _etag_matches(if_match: str, current: str) -> bool:
    tags = [tag.strip() for tag in if_match.split(",")]
    return any(tag == "*" or tag.removeprefix("W/").strip('"') == current for tag in tags)


@dataclass(frozen=True)
class ContentPage:
    dataset: Dataset
    rows: list[Item]
    starting_token: int
    limit: int
    total: int
    column_names: list[str]

    @property
    def next_starting_token(self) -> int | None:
        following = self.starting_token + len(self.rows)
        return following if self.rows and following < self.total else None


def read_content(
    connection: Connection, caller: Caller, dataset_id: str, starting_token: int, limit: int
) -> ContentPage:
    dataset = datasets.require_dataset(connection, caller, dataset_id)

    def fetch(page: int) -> tuple[list[Item], int]:
        found = items.list_items(connection, caller, dataset.id, page, limit, sorting=OLDEST_FIRST)
        return found.content, found.total

    rows, total = _window(fetch, starting_token, limit)
    return ContentPage(
        dataset, rows, starting_token, limit, total, dataset_columns(connection, dataset.id)
    )


@dataclass(frozen=True)
class RowEdit:
    """One of Galileo's content edits that seedbed applies: append, update or delete a row."""

    kind: str  # "append_row", "update_row" or "delete_row"
    row_id: str | None = None
    values: dict[str, Any] | None = None


def edit_content(
    connection: Connection,
    caller: Caller,
    dataset_id: str,
    edits: Sequence[RowEdit],
    if_match: str | None,
) -> str:
    """All the edits as one new version; returns the new ETag. With ``If-Match``, only if
    it names the latest version (checked under the dataset's lock)."""
    dataset = datasets.require_dataset(connection, caller, dataset_id, lock=True)
    if if_match is not None and not _etag_matches(if_match, content_etag(dataset)):
        raise StaleContent(
            "The dataset changed since its content was read (ETag mismatch): read it again"
        )
    changes = VersionChanges(change_description="Edited through the Galileo API")
    for edit in edits:
        if edit.kind == "append_row":
            changes.added.append(
                ItemDraft(id=edit.row_id or ids.new_id(), data=dict(edit.values or {}))
            )
        elif edit.kind == "update_row":
            current = _row(connection, caller, dataset, edit.row_id)
            changes.edited.append(
                {"id": current.id, "data": {**current.data, **(edit.values or {})}}
            )
        else:
            changes.deleted.append(_row(connection, caller, dataset, edit.row_id).id)
    apply_changes(connection, caller, dataset.id, changes, override=True)
    return content_etag(datasets.require_dataset(connection, caller, dataset.id))


def _row(connection: Connection, caller: Caller, dataset: Dataset, row_id: str | None) -> Item:
    try:
        found = items.get_item(connection, caller, row_id or "")
    except (NotFound, InvalidInput):
        found = None
    if found is None or found.dataset_id != dataset.id:
        raise NotFound(f"Row not found in this dataset: {row_id}")
    return found


# -- extend: synthetic rows in a new dataset -----------------------------------------------


@dataclass(frozen=True)
class SourceRows:
    dataset_id: str
    version_index: int | None = None
    row_ids: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ExtensionRequest:
    count: int
    model_alias: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    prompt: str | None = None
    instructions: str | None = None
    examples: tuple[str | dict[str, Any], ...] = ()
    source: SourceRows | None = None
    data_types: tuple[str, ...] = ()


def _alias_key(alias: str) -> str:
    return re.sub(r"[\s_-]+", "-", alias.strip().lower())


def model_for_alias(registry: ProviderRegistry, alias: str | None) -> str:
    if alias and alias.strip():
        if (mapped := MODEL_ALIASES.get(_alias_key(alias))) is not None:
            return mapped
        if "/" in alias:
            try:
                provider, model = registry.split(alias)
                return f"{provider}/{model}"
            except UnknownModel:
                pass
    return registry.default_model()


def seed_from_example(example: str | dict[str, Any]) -> dict[str, Any]:
    return {"input": example} if isinstance(example, str) else dict(example)


def _source_seeds(
    connection: Connection, caller: Caller, source: SourceRows, room: int
) -> list[dict[str, Any]]:
    dataset = datasets.require_dataset(connection, caller, source.dataset_id)
    version = f"v{source.version_index}" if source.version_index is not None else None
    wanted = (
        {ids.canonical_id(row_id, "row id") for row_id in source.row_ids}
        if source.row_ids
        else None
    )
    found: dict[str, dict[str, Any]] = {}
    for item in items.export_items(connection, caller, dataset, version):
        if wanted is None or item.id in wanted:
            found[item.id] = {
                key: value for key, value in item.data.items() if key not in _GENERATION_MARKERS
            }
        if wanted is None and len(found) >= room:
            break
    if wanted is not None and (missing := sorted(wanted - found.keys())):
        raise NotFound(f"Row not found in the source dataset: {missing[0]}")
    seeds = [seed for seed in found.values() if seed]
    if not seeds:
        raise Unprocessable("The source dataset has no rows to use as examples")
    return seeds[:room]


def extension_seeds(
    connection: Connection, caller: Caller, request: ExtensionRequest
) -> list[dict[str, Any]]:
    seeds = [seed_from_example(example) for example in request.examples]
    if request.source is not None:
        seeds += _source_seeds(connection, caller, request.source, max(1, MAX_SEEDS - len(seeds)))
    if not seeds:
        raise Unprocessable(
            "Give examples or a source_dataset: seedbed generates rows like the examples it is shown"
        )
    return seeds


def generation_instructions(prompt: str | None, instructions: str | None) -> str | None:
    parts = []
    if prompt and prompt.strip():
        parts.append(f"The application under test is described as: {prompt.strip()}")
    if instructions and instructions.strip():
        parts.append(instructions.strip())
    return "\n".join(parts) or None


def synthetic_dataset_name(now: dt.datetime) -> str:
    return f"Synthetic data {now:%Y-%m-%d %H:%M:%S} {secrets.token_hex(3)}"


def start_extension(
    connection: Connection,
    caller: Caller,
    registry: ProviderRegistry,
    settings: Settings,
    request: ExtensionRequest,
    now: dt.datetime,
) -> GenerationJob:
    """A queued job writing a new dataset; the caller dispatches it after the commit."""
    seeds = extension_seeds(connection, caller, request)
    tuning = {"temperature": request.temperature} if request.temperature is not None else {}
    spec = GenerationSpec(
        count=request.count,
        model=model_for_alias(registry, request.model_alias),
        top_p=request.top_p,
        max_tokens=request.max_tokens,
        instructions=generation_instructions(request.prompt, request.instructions),
        data_types=request.data_types,
        max_retries=settings.generation_max_retries,
        breaker_cooldown_seconds=settings.generation_breaker_cooldown_seconds,
        **tuning,
    )
    return jobs.create_job(
        connection,
        caller,
        registry,
        spec,
        seeds=seeds,
        target_dataset_name=synthetic_dataset_name(now),
        kind=EXTEND_JOB_KIND,
    )


@dataclass(frozen=True)
class ExtensionProgress:
    message: str
    steps_completed: int
    steps_total: int


def extension_progress(job: GenerationJob) -> ExtensionProgress:
    """The client polls until ``steps_completed == steps_total``, then reads the rows: the
    two are equal only once the job has finished, and the rows are written by then."""
    total, model = job.requested, job.spec.get("model")
    if job.status == COMPLETED:
        return ExtensionProgress(f"Done: generated {job.accepted} rows with {model}", total, total)
    if job.status == FAILED:
        return ExtensionProgress(f"{FAILURE_MESSAGE}: {job.detail}", total, total)
    if job.status == CANCELLED:
        return ExtensionProgress(
            f"{FAILURE_MESSAGE}: the generation job was cancelled", total, total
        )
    if job.status == QUEUED:
        return ExtensionProgress(f"Queued: {total} rows to generate with {model}", 0, total)
    done = min(job.accepted, total - 1)
    return ExtensionProgress(
        f"Generating rows with {model}: {job.accepted} of {total}", done, total
    )


def extension_job(connection: Connection, caller: Caller, dataset_id: str) -> GenerationJob:
    return jobs.find_job_by_target(connection, caller, ids.canonical_id(dataset_id, "dataset id"))
