"""Galileo's ``extend``: a generation job writing a new dataset.

Galileo's ``examples`` are user inputs, so each string becomes the seed
``{"input": text}``; an object is taken as a seed as it is (seedbed's extension: seeds
in any shape). Rows of a ``source_dataset`` (one version, some rows) are seeds too. The
``prompt`` (the role of the assistant under test) and the ``instructions`` both become
the engine's instructions. ``prompt_settings.model_alias`` names a model Galileo's way
("GPT-4o mini"): :data:`MODEL_ALIASES` maps those, a seedbed name ``provider/model`` is
used as it is, and anything else gets the default model, as Galileo does for an alias it
does not offer; the progress message names the model actually used.
"""

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from seedbed.domain import ids
from seedbed.domain.errors import NotFound, Unprocessable
from seedbed.domain.jobs import CANCELLED, COMPLETED, FAILED, QUEUED, GenerationJob
from seedbed.generation.factory import spec_from_settings
from seedbed.generation.schema import without_markers
from seedbed.providers.base import UnknownModel
from seedbed.providers.registry import ProviderRegistry
from seedbed.services import datasets, items, jobs
from seedbed.services.context import Caller
from seedbed.services.expansions import MAX_SEEDS
from seedbed.settings import Settings

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
            # Opik's markers are provenance, not fields to imitate.
            found[item.id] = without_markers(item.data)
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
    spec = spec_from_settings(
        settings,
        request.count,
        model=model_for_alias(registry, request.model_alias),
        top_p=request.top_p,
        max_tokens=request.max_tokens,
        instructions=generation_instructions(request.prompt, request.instructions),
        data_types=request.data_types,
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
