"""Expanding a stored dataset: its items are the seeds, and also the samples a new one
must not repeat. Items tagged ``held-out`` are never shown to the model, and no sample may
come close to one (a test set must not leak into its own expansion)."""

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from seedbed.domain import ids
from seedbed.domain.errors import InvalidInput, Unprocessable, UpstreamFailure
from seedbed.domain.items import ItemDraft
from seedbed.domain.provenance_tags import provenance_tags
from seedbed.domain.versions import DatasetVersion
from seedbed.generation.engine import KeepingSink, ProgressCallback
from seedbed.generation.factory import GenerationFactory
from seedbed.generation.meter import generation_meter
from seedbed.generation.result import PROVIDER_UNAVAILABLE, GeneratedSample, GenerationResult
from seedbed.generation.spec import GenerationSpec, SeedItem
from seedbed.providers.registry import ProviderRegistry
from seedbed.services.context import Caller
from seedbed.services.datasets import require_dataset
from seedbed.services.items import export_items, upsert_items
from seedbed.services.response_cache import DatabaseResponseCache
from seedbed.storage.database import Database

# Seeds are the newest items; older ones still count for de-duplication.
MAX_SEEDS = 200
MAX_KNOWN_ITEMS = 50_000


HELD_OUT_TAG = "held-out"


@dataclass(frozen=True, slots=True)
class ExpansionSource:
    seeds: list[SeedItem]
    known: list[dict[str, Any]]
    held_out: list[dict[str, Any]]


def generation_factory(database: Database, registry: ProviderRegistry) -> GenerationFactory:
    """The factory of the server's and the CLI's runs: replies cached in the database."""
    return GenerationFactory(
        registry,
        cache_for=lambda provider, model: DatabaseResponseCache(database, provider, model),
    )


def read_source(connection: Connection, caller: Caller, dataset_id: str) -> ExpansionSource:
    dataset = require_dataset(connection, caller, dataset_id)
    seeds: list[SeedItem] = []
    known: list[dict[str, Any]] = []
    held_out: list[dict[str, Any]] = []
    for item in export_items(connection, caller, dataset):
        if len(known) >= MAX_KNOWN_ITEMS:
            break
        if not isinstance(item.data, dict):
            continue
        if HELD_OUT_TAG in (item.tags or ()):
            held_out.append(item.data)
            continue
        known.append(item.data)
        if len(seeds) < MAX_SEEDS:
            seeds.append(SeedItem(item.data, item.id))
    if not seeds:
        raise InvalidInput("Dataset has no items to use as examples for generation")
    return ExpansionSource(seeds, known, held_out)


async def expand_dataset(
    database: Database,
    registry: ProviderRegistry,
    caller: Caller,
    dataset_id: str,
    spec: GenerationSpec,
    on_progress: ProgressCallback | None = None,
) -> GenerationResult:
    """Generate ``spec.count`` samples from a dataset's items. Nothing is saved."""
    source = await asyncio.to_thread(_read_source, database, caller, dataset_id)
    return await generate(
        database, registry, source.seeds, spec, source.known, on_progress, source.held_out
    )


async def generate(
    database: Database,
    registry: ProviderRegistry,
    seeds: Iterable[SeedItem | dict[str, Any]],
    spec: GenerationSpec,
    known: Iterable[dict[str, Any]] = (),
    on_progress: ProgressCallback | None = None,
    held_out: Iterable[dict[str, Any]] = (),
) -> GenerationResult:
    """Generate in this process (the expansions endpoints, the CLI); nothing is saved."""
    run = generation_factory(database, registry).run(
        seeds, spec, existing=known, held_out=held_out, sink=KeepingSink(on_progress)
    )
    result = await run.run()
    generation_meter.record(run.provider.name, result.stats)
    result.report = run.report()
    if not result.samples:
        raise _nothing_generated(result)
    return result


def save_samples(
    connection: Connection, caller: Caller, dataset_id: str, samples: list[GeneratedSample]
) -> DatasetVersion | None:
    """Add generated samples to a dataset as one new version: their data exactly as
    generated, where they came from in their tags."""
    drafts = [_generated_draft(sample.data, sample.provenance.model) for sample in samples]
    return upsert_items(connection, caller, drafts, dataset_id=dataset_id)


def save_stored_samples(
    connection: Connection, caller: Caller, dataset_id: str, stored: list[dict[str, Any]]
) -> DatasetVersion | None:
    """A job's stored samples into a dataset as one new version, tagged with the job."""
    drafts = [
        _generated_draft(item["data"], item["provenance"].get("model"), item.get("job_id"))
        for item in stored
    ]
    return upsert_items(connection, caller, drafts, dataset_id=dataset_id)


def _generated_draft(
    data: dict[str, Any], model: str | None, job_id: str | None = None
) -> ItemDraft:
    return ItemDraft(
        id=ids.new_id(), data=dict(data), source="sdk", tags=provenance_tags(model, job_id)
    )


def _read_source(database: Database, caller: Caller, dataset_id: str) -> ExpansionSource:
    with database.reading() as connection:
        return read_source(connection, caller, dataset_id)


def _nothing_generated(result: GenerationResult) -> Exception:
    if result.stop_reason == PROVIDER_UNAVAILABLE:
        return UpstreamFailure(result.detail)
    return Unprocessable(result.detail)
