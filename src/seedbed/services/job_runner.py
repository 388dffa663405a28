"""Running one chunk of a generation job, wherever it runs (the server process or a
worker), and closing the job when its last chunk settles.

The engine judges every sample; the chunk's :class:`JobSink` is how the job hears of the
run: each reply's accepted samples are stored in one transaction (exact repeats of what
another chunk stored meanwhile are refused by the job's unique digests), samples other
chunks stored are handed to the judge before each reply is judged, and progress is
written at most twice a second. Every database call runs in a worker thread, never on the
event loop. A chunk that runs again plans the same calls as before: the response cache
answers the ones already paid for, and the samples it already stored count toward its
target.
"""

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from seedbed.domain.jobs import (
    CANCELLED,
    CHUNK_CANCELLED,
    CHUNK_DONE,
    CHUNK_FAILED,
    CHUNK_UNSETTLED,
    COMPLETED,
    FAILED,
    RUNNING,
    GenerationJob,
    chunk_seed,
)
from seedbed.generation.dedup import sample_text, text_digest
from seedbed.generation.result import CANCELLED as RUN_CANCELLED
from seedbed.generation.result import DUPLICATE, SURPLUS, GeneratedSample, GenerationStats
from seedbed.generation.spec import SeedItem, spec_from_record
from seedbed.providers.registry import ProviderRegistry
from seedbed.services import expansions
from seedbed.services.context import Caller, utcnow
from seedbed.services.job_report import job_report
from seedbed.storage.database import Database
from seedbed.storage.repositories.jobs import JobRepository

LOGGER = logging.getLogger("seedbed.jobs")
_PROGRESS_INTERVAL_SECONDS = 0.5


class JobSink:
    """A chunk's side of the run: store, hear of others' samples, report progress."""

    def __init__(
        self,
        database: Database,
        job: GenerationJob,
        chunk_index: int,
        *,
        last_sequence: int,
        earlier: Mapping[str, Any],
        ignored_fields: Sequence[str],
    ) -> None:
        self.database = database
        self.job = job
        self.chunk_index = chunk_index
        self.last_sequence = last_sequence
        self.earlier = dict(earlier)  # the chunk's counters from earlier attempts
        self.ignored_fields = tuple(ignored_fields)
        self.cancelled = False
        self.job_full = False  # other chunks already delivered the job's whole count
        self._last_write = 0.0
        self._writing: asyncio.Future | None = None

    def stopped(self) -> bool:
        return self.cancelled or self.job_full

    async def news(self) -> Sequence[Mapping[str, Any]]:
        return await asyncio.to_thread(self._news)

    async def store(self, samples: Sequence[GeneratedSample]) -> list[str | None]:
        return await asyncio.to_thread(self._store, samples)

    async def progress(self, stats: GenerationStats) -> None:
        """Written in the background: the run goes on to its next calls meanwhile. One
        write at a time; a report that comes while one is being written is skipped."""
        now = time.monotonic()
        if now - self._last_write < _PROGRESS_INTERVAL_SECONDS or self._writing is not None:
            return
        self._last_write = now
        record = combined(self.earlier, stats)
        self._writing = asyncio.ensure_future(asyncio.to_thread(self._write_progress, record))
        self._writing.add_done_callback(self._written)

    async def flush(self) -> None:
        """Wait for the progress being written, so that it cannot land after the chunk's
        final counters."""
        if self._writing is not None:
            await asyncio.gather(self._writing, return_exceptions=True)

    def _written(self, writing: asyncio.Future) -> None:
        self._writing = None
        if not writing.cancelled() and writing.exception() is not None:
            LOGGER.warning(
                "could not write the progress of %s/%s: %s",
                self.job.id,
                self.chunk_index,
                writing.exception(),
            )

    # -- in a worker thread ----------------------------------------------------------------

    def _news(self) -> list[Mapping[str, Any]]:
        with self.database.reading() as connection:
            found = JobRepository(connection).data_since(self.job.id, self.last_sequence)
        if found:
            self.last_sequence = max(self.last_sequence, max(item.sequence for item in found))
        return [item.data for item in found if item.chunk_index != self.chunk_index]

    def _store(self, samples: Sequence[GeneratedSample]) -> list[str | None]:
        """One transaction, three statements: lock the job's counters, insert the reply's
        samples (the unique index refuses exact repeats), count the ones kept. The lock
        comes first so that the samples of a job commit in the order of their sequence
        numbers, which is how other chunks read them as news."""
        now = utcnow()
        rows = [self._row(sample) for sample in samples]
        with self.database.writing() as connection:
            repository = JobRepository(connection)
            counters = repository.counters(self.job.id, lock=True)
            if counters is None or counters.cancel_requested:
                self.cancelled = True
                return [RUN_CANCELLED] * len(samples)
            stored = repository.insert_new_items(self.job.id, self.chunk_index, rows, now)
            refusals, kept, surplus = self._refusals(rows, stored, counters)
            if surplus:  # the job's count was reached meanwhile: rare, at its very end
                repository.delete_items(self.job.id, surplus)
            if kept:
                repository.update(
                    self.job.id, accepted=counters.accepted + len(kept), updated_at=now
                )
                self.last_sequence = max(self.last_sequence, *kept)
        return refusals

    def _row(self, sample: GeneratedSample) -> dict[str, Any]:
        return {
            "data": sample.data,
            "data_type": sample.provenance.data_type,
            "provenance": sample.provenance.as_dict(),
            "quality": dict(sample.quality),
            "text_digest": text_digest(sample_text(sample.data, self.ignored_fields)),
        }

    def _refusals(
        self, rows: list[dict[str, Any]], stored: Mapping[str, int], counters
    ) -> tuple[list[str | None], list[int], list[int]]:
        """Each sample's refusal (None: kept), in order; the sequences kept, and those
        stored beyond the job's count, to take back."""
        room = counters.requested - counters.accepted
        refusals: list[str | None] = []
        kept: list[int] = []
        surplus: list[int] = []
        seen: set[str] = set()
        for row in rows:
            digest = row["text_digest"]
            if digest not in stored or digest in seen:
                refusals.append(DUPLICATE)
            elif len(kept) >= room:
                self.job_full = True
                surplus.append(stored[digest])
                refusals.append(SURPLUS)
            else:
                kept.append(stored[digest])
                refusals.append(None)
            seen.add(digest)
        return refusals, kept, surplus

    def _write_progress(self, record: dict[str, Any]) -> None:
        with self.database.writing() as connection:
            repository = JobRepository(connection)
            repository.update_chunk(
                self.job.id, self.chunk_index, stats=record, heartbeat_at=utcnow()
            )
            counters = repository.counters(self.job.id)
        self.cancelled = self.cancelled or counters is None or counters.cancel_requested


async def run_chunk(
    database: Database, registry: ProviderRegistry, job_id: str, chunk_index: int, owner: str
) -> None:
    job = await asyncio.to_thread(_claim, database, job_id, chunk_index, owner)
    if job is None:
        return
    earlier = job.chunks[chunk_index].stats
    try:
        status, detail, stats = await _generate(database, registry, job, chunk_index, earlier)
    except Exception as error:  # a configuration error or a bug: the job says so
        LOGGER.exception("chunk %s/%s failed", job_id, chunk_index)
        status, detail, stats = CHUNK_FAILED, f"unexpected error: {error}", None
    record = combined(earlier, stats) if stats is not None else None
    await asyncio.to_thread(_settle, database, job, chunk_index, status, detail, record)


def _claim(database: Database, job_id: str, chunk_index: int, owner: str) -> GenerationJob | None:
    with database.writing() as connection:
        repository = JobRepository(connection)
        job = repository.get(job_id, lock=True)
        if job is None or job.finished:
            return None
        if job.cancel_requested:
            chunk = job.chunks[chunk_index]
            if chunk.status in CHUNK_UNSETTLED:
                repository.move_chunk(chunk, CHUNK_CANCELLED)
            _close_if_settled(connection, job)
            return None
        now = utcnow()
        if not repository.claim_chunk(job_id, chunk_index, owner, now):
            return None
        if job.status != RUNNING:
            repository.move(job, RUNNING, started_at=job.started_at or now, updated_at=now)
        return repository.get(job_id)


async def _generate(
    database: Database,
    registry: ProviderRegistry,
    job: GenerationJob,
    chunk_index: int,
    earlier: Mapping[str, Any],
) -> tuple[str, str | None, GenerationStats]:
    chunk = job.chunks[chunk_index]
    seeds, known, held_out, stored = await asyncio.to_thread(_context, database, job)
    own = [(item.data, item.data_type) for item in stored if item.chunk_index == chunk_index]
    others = [item.data for item in stored if item.chunk_index != chunk_index]
    spec = spec_from_record(
        job.spec, count=chunk.target, random_seed=chunk_seed(job.spec["random_seed"], chunk_index)
    )
    sink = JobSink(
        database,
        job,
        chunk_index,
        last_sequence=max((item.sequence for item in stored), default=0),
        earlier=earlier,
        ignored_fields=spec.preserve_fields,
    )
    factory = expansions.generation_factory(database, registry)
    # The run's judge remembers every sample the job stored before this chunk started:
    # seconds for a large job, so it is built in a thread and the worker's heartbeat goes
    # on. Pinning the spec first makes the providers here, on the loop, as everywhere.
    spec = factory.pinned(spec)
    run = await asyncio.to_thread(
        factory.run,
        seeds,
        spec,
        existing=[*known, *others],
        held_out=held_out,
        sink=sink,
        already_accepted=own,
    )
    try:
        result = await run.run()
    finally:
        await sink.flush()
    if sink.cancelled:
        return CHUNK_CANCELLED, "cancelled", result.stats
    if result.complete or sink.job_full:
        return CHUNK_DONE, None, result.stats
    return CHUNK_FAILED, result.detail, result.stats


def _context(database: Database, job: GenerationJob):
    """Seeds, the dataset's items (not to repeat), held-out items, and what the job stored."""
    with database.reading() as connection:
        stored = JobRepository(connection).data_since(job.id, 0)
        source = job.source
        if "seeds" in source:
            seeds = [SeedItem(seed["data"], seed.get("id")) for seed in source["seeds"]]
            return seeds, [seed.data for seed in seeds], [], stored
        found = expansions.read_source(connection, Caller(job.workspace), source["dataset_id"])
        wanted = set(source.get("item_ids") or ())
        seeds = [seed for seed in found.seeds if not wanted or seed.id in wanted] or found.seeds
        return seeds, found.known, found.held_out, stored


def _settle(
    database: Database,
    job: GenerationJob,
    chunk_index: int,
    status: str,
    detail: str | None,
    record: dict[str, Any] | None,
) -> None:
    with database.writing() as connection:
        repository = JobRepository(connection)
        current = repository.get(job.id, lock=True)
        if current is None:
            return
        chunk = current.chunks[chunk_index]
        values: dict[str, Any] = {"detail": detail, "heartbeat_at": utcnow()}
        if record is not None:
            values["stats"] = record
        if chunk.status in CHUNK_UNSETTLED:
            repository.move_chunk(chunk, status, **values)
        _close_if_settled(connection, repository.get(job.id, lock=True))


def _close_if_settled(connection, job: GenerationJob | None) -> None:
    """When no chunk is left to run: write the samples to the target dataset, store the
    quality report, and close the job as completed, failed or cancelled."""
    if job is None or job.finished or any(chunk.status in CHUNK_UNSETTLED for chunk in job.chunks):
        return
    repository = JobRepository(connection)
    now = utcnow()
    closing: dict[str, Any] = {"finished_at": now, "updated_at": now}
    if job.cancel_requested:
        repository.move(job, CANCELLED, detail="cancelled", **closing)
        return
    closing["report"] = job_report(connection, job)
    failed = [chunk for chunk in job.chunks if chunk.status != CHUNK_DONE]
    if failed and job.accepted < job.requested:
        detail = f"generated {job.accepted} of {job.requested} samples: {failed[0].detail}"
        repository.move(job, FAILED, detail=detail, **closing)
        return
    if job.target_dataset_id and not job.written_version:
        version = expansions.save_stored_samples(
            connection,
            Caller(job.workspace, job.created_by),
            job.target_dataset_id,
            repository.items(job.id),
        )
        closing["written_version"] = version.name if version else None
    repository.move(job, COMPLETED, **closing)


def combined(earlier: Mapping[str, Any], stats: GenerationStats) -> dict[str, Any]:
    """A chunk's counters: this attempt's added to those of its earlier attempts."""
    record = stats.as_dict()
    summed: dict[str, Any] = {
        key: earlier.get(key, 0) + record[key]
        for key in ("calls", "cached_calls", "prompt_tokens", "completion_tokens", "cost")
    }
    rejected = dict(earlier.get("rejected", {}))
    for reason, count in record["rejected"].items():
        rejected[reason] = rejected.get(reason, 0) + count
    summed["rejected"] = rejected
    summed["elapsed_seconds"] = earlier.get("elapsed_seconds", 0) + record["elapsed_seconds"]
    planned: dict[tuple, int] = {}
    for cell, count in [*earlier.get("planned", []), *record["planned"]]:
        key = tuple(tuple(pair) for pair in cell)
        planned[key] = max(planned.get(key, 0), count)
    summed["planned"] = [[[list(pair) for pair in cell], count] for cell, count in planned.items()]
    summed["stage"] = record["stage"]
    summed["tokens_in_flight"] = record["tokens_in_flight"]
    return summed
