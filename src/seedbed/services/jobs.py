"""Generation jobs: start, inspect, list, cancel. Running them is ``job_runner``'s part."""

from typing import Any

from sqlalchemy.engine import Connection

from seedbed.domain import ids
from seedbed.domain.errors import InvalidInput, NotFound
from seedbed.domain.jobs import CANCELLED, CHUNK_RUNNING, QUEUED, GenerationJob, chunk_targets
from seedbed.generation.factory import GenerationFactory
from seedbed.generation.spec import GenerationSpec, seed_items, spec_to_record
from seedbed.providers.registry import ProviderRegistry
from seedbed.services.context import Caller, utcnow
from seedbed.services.datasets import create_dataset, require_dataset
from seedbed.services.job_report import job_report
from seedbed.storage.repositories.jobs import JobRepository


def create_job(
    connection: Connection,
    caller: Caller,
    registry: ProviderRegistry,
    spec: GenerationSpec,
    *,
    source_dataset_id: str | None = None,
    source_item_ids: list[str] | None = None,
    seeds: list[dict[str, Any]] | None = None,
    save_to_source: bool = False,
    target_dataset_name: str | None = None,
    kind: str = "expand",
) -> GenerationJob:
    """A queued job; the caller dispatches it once this unit of work has committed.

    Seeds come from a stored dataset (optionally only some of its items) or are given
    inline. The samples go to the source dataset (``save_to_source``), to a new dataset
    created now (``target_dataset_name``), or nowhere (read them from the job)."""
    spec = GenerationFactory(registry).pinned(spec)
    source = _source(connection, caller, source_dataset_id, source_item_ids, seeds)
    target_id = source_dataset_id if save_to_source else None
    if save_to_source and source_dataset_id is None:
        raise InvalidInput("save_to_source needs a source dataset")
    if target_dataset_name:
        target_id = create_dataset(connection, caller, target_dataset_name).id
    now = utcnow()
    job = GenerationJob(
        id=ids.new_id(),
        workspace=caller.workspace,
        kind=kind,
        status=QUEUED,
        spec=spec_to_record(spec),
        source=source,
        requested=spec.count,
        accepted=0,
        cancel_requested=False,
        created_at=now,
        created_by=caller.user,
        updated_at=now,
        target_dataset_id=target_id,
        target_dataset_name=target_dataset_name,
    )
    JobRepository(connection).insert(job, chunk_targets(spec.count))
    return get_job(connection, caller, job.id)


def get_job(connection: Connection, caller: Caller, job_id: str) -> GenerationJob:
    found = JobRepository(connection).get(ids.canonical_id(job_id, "job id"), caller.workspace)
    if found is None:
        raise NotFound("Generation job not found")
    return found


def find_job_by_target(connection: Connection, caller: Caller, dataset_id: str) -> GenerationJob:
    found = JobRepository(connection).by_target(caller.workspace, dataset_id)
    if found is None:
        raise NotFound("No generation job writes this dataset")
    return found


def list_jobs(
    connection: Connection, caller: Caller, page: int = 1, size: int = 20
) -> tuple[list[GenerationJob], int]:
    if page < 1 or not 1 <= size <= 1000:
        raise InvalidInput("page must be at least 1 and size between 1 and 1000")
    return JobRepository(connection).page(caller.workspace, page, size)


def cancel_job(connection: Connection, caller: Caller, job_id: str) -> GenerationJob:
    """Ask the job to stop; running chunks stop at their next sample, queued ones never
    start. Samples already accepted stay with the job."""
    job = get_job(connection, caller, job_id)
    if not job.finished:
        repository = JobRepository(connection)
        repository.update(job.id, cancel_requested=True, updated_at=utcnow())
        if not any(chunk.status == CHUNK_RUNNING for chunk in job.chunks):
            locked = repository.get(job.id, lock=True)
            if locked is not None and not locked.finished:
                repository.move(locked, CANCELLED, finished_at=utcnow(), detail="cancelled")
    return get_job(connection, caller, job_id)


def job_quality_report(connection: Connection, caller: Caller, job_id: str) -> dict[str, Any]:
    """The job's quality report: as stored when it ended, or measured now while it runs."""
    job = get_job(connection, caller, job_id)
    stored = JobRepository(connection).report(job.id)
    return stored if stored is not None else job_report(connection, job)


def job_items(
    connection: Connection, caller: Caller, job_id: str, after: int = 0, limit: int = 1000
) -> list[dict]:
    job = get_job(connection, caller, job_id)
    return JobRepository(connection).items(job.id, after, limit)


def _source(
    connection: Connection,
    caller: Caller,
    dataset_id: str | None,
    item_ids: list[str] | None,
    seeds: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    if dataset_id is not None:
        dataset = require_dataset(connection, caller, dataset_id)
        return {"dataset_id": dataset.id, "item_ids": item_ids}
    if seeds is None:
        raise InvalidInput("a job needs seeds: a source dataset or a list of seed objects")
    checked = seed_items(seeds)
    return {"seeds": [{"id": item.id, "data": dict(item.data)} for item in checked]}
