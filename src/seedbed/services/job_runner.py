"""Running one chunk of a generation job, wherever it runs (the server process or a
worker), and closing the job when its last chunk settles.

Every accepted sample is stored at once, in its own small transaction that also checks
it against the samples other chunks stored meanwhile, so a crash loses nothing and two
workers never store the same sample. A chunk that runs again plans the same calls as
before: the response cache answers the ones already paid for, and the samples it
already stored count toward its target.
"""

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from seedbed.domain.jobs import (
    CANCELLED,
    CHUNK_DONE,
    COMPLETED,
    FAILED,
    RUNNING,
    GenerationJob,
    chunk_seed,
)
from seedbed.generation.dedup import sample_text, text_digest
from seedbed.generation.engine import GenerationRun
from seedbed.generation.result import GeneratedSample, GenerationStats
from seedbed.generation.spec import SeedItem, spec_from_record
from seedbed.providers.registry import ProviderRegistry
from seedbed.services import expansions
from seedbed.services.context import Caller, utcnow
from seedbed.services.response_cache import DatabaseResponseCache
from seedbed.storage.database import Database
from seedbed.storage.repositories.jobs import JobRepository

LOGGER = logging.getLogger("seedbed.jobs")
_PROGRESS_INTERVAL_SECONDS = 0.5


@dataclass(slots=True)
class _ChunkState:
    job: GenerationJob
    chunk_index: int
    owner: str
    last_sequence: int = 0
    cancelled: bool = False
    job_full: bool = False  # other chunks already delivered the job's whole count
    last_write: float = 0.0
    run: GenerationRun | None = field(default=None)
    # The chunk's counters from earlier attempts: this attempt's are added to them.
    earlier: dict[str, Any] = field(default_factory=dict)


async def run_chunk(
    database: Database, registry: ProviderRegistry, job_id: str, chunk_index: int, owner: str
) -> None:
    job = await asyncio.to_thread(_claim, database, job_id, chunk_index, owner)
    if job is None:
        return
    state = _ChunkState(job, chunk_index, owner, earlier=job.chunks[chunk_index].stats)
    try:
        status, detail, stats = await _generate(database, registry, state)
    except Exception as error:  # a configuration error or a bug: the job says so
        LOGGER.exception("chunk %s/%s failed", job_id, chunk_index)
        status, detail, stats = FAILED, f"unexpected error: {error}", None
    await asyncio.to_thread(_settle, database, state, status, detail, stats)


def _claim(database: Database, job_id: str, chunk_index: int, owner: str) -> GenerationJob | None:
    with database.writing() as connection:
        repository = JobRepository(connection)
        job = repository.get(job_id, lock=True)
        if job is None or job.finished:
            return None
        if job.cancel_requested:
            repository.update_chunk(job_id, chunk_index, status=CANCELLED)
            _close_if_settled(connection, repository.get(job_id))
            return None
        now = utcnow()
        if not repository.claim_chunk(job_id, chunk_index, owner, now):
            return None
        if job.status != RUNNING:
            repository.update(
                job_id, status=RUNNING, started_at=job.started_at or now, updated_at=now
            )
        return repository.get(job_id)


async def _generate(database: Database, registry: ProviderRegistry, state: _ChunkState):
    job, chunk = state.job, state.job.chunks[state.chunk_index]
    seeds, known, stored = await asyncio.to_thread(_context, database, job)
    own = [
        (item["data"], item["data_type"])
        for item in stored
        if item["chunk_index"] == state.chunk_index
    ]
    others = [item["data"] for item in stored if item["chunk_index"] != state.chunk_index]
    state.last_sequence = max((item["sequence"] for item in stored), default=0)
    spec = spec_from_record(
        job.spec,
        count=chunk.target,
        random_seed=chunk_seed(job.spec["random_seed"], state.chunk_index),
    )
    resolved = registry.resolve(spec.model)
    state.run = GenerationRun(
        seeds,
        spec,
        resolved.provider,
        model=resolved.model,
        existing=[*known, *others],
        cache=DatabaseResponseCache(database, resolved.provider.name, resolved.model),
        concurrency=resolved.concurrency if spec.concurrency is None else None,
        on_progress=lambda stats: _report_progress(database, state, stats),
        should_stop=lambda: state.cancelled or state.job_full,
        accept=lambda sample: asyncio.to_thread(_store_sample, database, state, sample),
        already_accepted=own,
    )
    result = await state.run.run()
    if state.cancelled:
        return CANCELLED, "cancelled", result.stats
    if result.complete or state.job_full:
        return CHUNK_DONE, None, result.stats
    return FAILED, result.detail, result.stats


def _context(
    database: Database, job: GenerationJob
) -> tuple[list[SeedItem], list[dict], list[dict]]:
    with database.reading() as connection:
        stored = JobRepository(connection).items(job.id)
        source = job.source
        if "seeds" in source:
            seeds = [SeedItem(seed["data"], seed.get("id")) for seed in source["seeds"]]
            return seeds, [seed.data for seed in seeds], stored
        found = expansions.read_source(connection, Caller(job.workspace), source["dataset_id"])
        wanted = set(source.get("item_ids") or ())
        seeds = [seed for seed in found.seeds if not wanted or seed.id in wanted] or found.seeds
        return seeds, found.known, stored


def _store_sample(database: Database, state: _ChunkState, sample: GeneratedSample) -> str | None:
    """Stores an accepted sample unless, meanwhile, another chunk stored it or one like
    it, the job has all it asked for, or it was cancelled. Returns the refusal's reason."""
    run = state.run
    with database.writing() as connection:
        repository = JobRepository(connection)
        job_id = state.job.id
        counters = repository.lock_counters(job_id)
        if counters is None or counters.cancel_requested:
            state.cancelled = True
            return "cancelled"
        for item in repository.data_since(job_id, state.last_sequence):
            run.remember(item.data)
            state.last_sequence = item.sequence
        text = sample_text(sample.data, run.spec.preserve_fields)
        verdict = run.filter.verdict(text)
        if verdict is not None:
            return verdict
        if counters.accepted >= counters.requested:
            state.job_full = True
            return "surplus"
        now = utcnow()
        state.last_sequence = repository.insert_item(
            job_id,
            state.chunk_index,
            {
                "data": sample.data,
                "data_type": sample.provenance.data_type,
                "provenance": sample.provenance.as_dict(),
                "text_digest": text_digest(text),
            },
            now,
        )
        repository.update(job_id, accepted=counters.accepted + 1, updated_at=now)
    return None


def _report_progress(database: Database, state: _ChunkState, stats: GenerationStats) -> None:
    now = time.monotonic()
    if now - state.last_write < _PROGRESS_INTERVAL_SECONDS:
        return
    state.last_write = now
    with database.writing() as connection:
        repository = JobRepository(connection)
        repository.update_chunk(
            state.job.id,
            state.chunk_index,
            stats=_combined(state.earlier, stats),
            heartbeat_at=utcnow(),
        )
        job = repository.get(state.job.id)
        state.cancelled = job is None or job.cancel_requested


def _settle(
    database: Database,
    state: _ChunkState,
    status: str,
    detail: str | None,
    stats: GenerationStats | None,
) -> None:
    with database.writing() as connection:
        repository = JobRepository(connection)
        values: dict[str, Any] = {"status": status, "detail": detail, "heartbeat_at": utcnow()}
        if stats is not None:
            values["stats"] = _combined(state.earlier, stats)
        repository.update_chunk(state.job.id, state.chunk_index, **values)
        _close_if_settled(connection, repository.get(state.job.id, lock=True))


def _close_if_settled(connection, job: GenerationJob | None) -> None:
    """When no chunk is left to run: write the samples to the target dataset and close
    the job as completed, failed or cancelled."""
    if (
        job is None
        or job.finished
        or any(chunk.status in ("queued", RUNNING) for chunk in job.chunks)
    ):
        return
    repository = JobRepository(connection)
    now = utcnow()
    if job.cancel_requested:
        repository.update(
            job.id, status=CANCELLED, finished_at=now, updated_at=now, detail="cancelled"
        )
        return
    failed = [chunk for chunk in job.chunks if chunk.status != CHUNK_DONE]
    if failed and job.accepted < job.requested:
        detail = f"generated {job.accepted} of {job.requested} samples: {failed[0].detail}"
        repository.update(job.id, status=FAILED, finished_at=now, updated_at=now, detail=detail)
        return
    values: dict[str, Any] = {"status": COMPLETED, "finished_at": now, "updated_at": now}
    if job.target_dataset_id and not job.written_version:
        version = expansions.save_stored_samples(
            connection,
            Caller(job.workspace, job.created_by),
            job.target_dataset_id,
            repository.items(job.id),
        )
        values["written_version"] = version.name if version else None
    repository.update(job.id, **values)


def _combined(earlier: dict[str, Any], stats: GenerationStats) -> dict[str, Any]:
    record = stats.as_dict()
    combined: dict[str, Any] = {
        key: earlier.get(key, 0) + record[key]
        for key in ("calls", "cached_calls", "prompt_tokens", "completion_tokens", "cost")
    }
    rejected = dict(earlier.get("rejected", {}))
    for reason, count in record["rejected"].items():
        rejected[reason] = rejected.get(reason, 0) + count
    combined["rejected"] = rejected
    return combined
