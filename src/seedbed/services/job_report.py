"""The quality report of a generation job: what all its chunks accepted, measured against
its seeds (generation/report.py), with the job's account of calls, tokens, cost, time and
rejections summed over its chunks."""

from typing import Any

from sqlalchemy.engine import Connection

from seedbed.domain.jobs import GenerationJob
from seedbed.generation.axes import plan_axes
from seedbed.generation.report import QualityReport, quality_report
from seedbed.generation.schema import without_markers
from seedbed.generation.shape import infer_shape
from seedbed.generation.spec import spec_from_record
from seedbed.services import expansions
from seedbed.services.context import Caller
from seedbed.storage.repositories.jobs import JobRepository


def job_report(connection: Connection, job: GenerationJob) -> QualityReport:
    spec = spec_from_record(job.spec)
    seeds = [without_markers(seed) for seed in _seed_data(connection, job)]
    stored = JobRepository(connection).items(job.id)
    shape = infer_shape(
        seeds, open_fields=spec.allow_new_values, ignored_fields=spec.preserve_fields
    )
    totals = job.totals()
    account: dict[str, Any] = {**totals, "requested": job.requested}
    if job.started_at is not None:
        ended = job.finished_at or job.updated_at
        account["elapsed_seconds"] = max(0.0, (ended - job.started_at).total_seconds())
    planned: dict[Any, int] = {}
    for chunk in job.chunks:
        for cell, count in chunk.stats.get("planned", []):
            key = tuple(tuple(pair) for pair in cell)
            planned[key] = planned.get(key, 0) + count
    return quality_report(
        seeds,
        [item["data"] for item in stored],
        qualities=[item.get("quality") or {} for item in stored],
        stats=account,
        shape=shape,
        axes=plan_axes(shape, vary=spec.vary, evolutions=spec.evolutions),
        axis_values=[item["provenance"].get("axis") or {} for item in stored],
        topics=[item["provenance"].get("topic") for item in stored],
        data_types=[item["data_type"] for item in stored],
        planned=planned or None,
        ignored_fields=spec.preserve_fields,
    )


def _seed_data(connection: Connection, job: GenerationJob) -> list[dict[str, Any]]:
    source = job.source
    if "seeds" in source:
        return [seed["data"] for seed in source["seeds"]]
    found = expansions.read_source(connection, Caller(job.workspace), source["dataset_id"])
    wanted = set(source.get("item_ids") or ())
    seeds = [seed for seed in found.seeds if not wanted or seed.id in wanted] or found.seeds
    return [dict(seed.data) for seed in seeds]
