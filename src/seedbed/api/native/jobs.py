"""Generation jobs: start one, watch it (JSON or server-sent events), cancel it, read
its samples."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AfterValidator, Field, StringConstraints, model_validator

from seedbed.api.dependencies import (
    CallerDep,
    DatabaseDep,
    DispatchAfterCommit,
    JobEventsDep,
    ProvidersDep,
    Reading,
    SettingsDep,
    Writing,
)
from seedbed.api.opik.presenters import timestamp
from seedbed.api.opik.schemas import Body, JsonObject
from seedbed.domain.jobs import CHUNK_DONE, GenerationJob
from seedbed.domain.limits import (
    LARGEST_64_BIT,
    LARGEST_MAX_TOKENS,
    LARGEST_PAGE,
    MAX_INSTRUCTIONS_CHARS,
    MAX_PROMPT_CHARS,
    within_example_size,
)
from seedbed.generation.factory import spec_from_settings
from seedbed.generation.spec import Budget
from seedbed.services import jobs
from seedbed.services.context import Caller, utcnow
from seedbed.services.expansions import MAX_SEEDS
from seedbed.services.job_events import JobEvents, StreamSlot

router = APIRouter(tags=["Generation jobs"])


Seed = Annotated[JsonObject, AfterValidator(within_example_size)]


class JobBudget(Body):
    max_tokens: int | None = Field(default=None, gt=0, le=LARGEST_64_BIT)
    max_cost: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    max_calls: int | None = Field(default=None, gt=0, le=LARGEST_64_BIT)


class JobRequest(Body):
    count: int = Field(ge=1, le=100_000)
    dataset_id: str | None = None
    dataset_name: str | None = None
    item_ids: list[str] | None = None
    seeds: list[Seed] | None = Field(default=None, max_length=MAX_SEEDS)
    model: str | None = None
    instructions: str | None = Field(default=None, max_length=MAX_INSTRUCTIONS_CHARS)
    preserve_fields: list[str] = []
    custom_prompt: str | None = Field(default=None, max_length=MAX_PROMPT_CHARS)
    data_types: list[str] = []
    temperature: float = Field(default=0.9, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1, le=LARGEST_MAX_TOKENS)
    save: bool = False
    target_dataset_name: (
        Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)] | None
    ) = None
    budget: JobBudget = JobBudget()
    seed: int | None = Field(
        default=None,
        ge=0,
        le=2**31 - 1,
        description="Makes the run reproducible: the same seed replays the same calls",
    )
    allow_new_values: list[str] = Field(
        default=[], description="Fields that may take values (or numbers) the seeds do not have"
    )
    vary: dict[str, list[str]] = Field(
        default={}, description='Diversity axes, e.g. {"persona": ["novice", "expert"]}'
    )
    evolutions: list[str] = Field(default=[], description="Evol-Instruct strategies to apply")
    plan_topics: bool = Field(
        default=True,
        description="First ask for distinct situations (per label) for the samples to be about",
    )
    critic_model: str | None = Field(
        default=None, description="A model that scores each candidate (the optional critic)"
    )
    critic_threshold: float = Field(default=0.6, ge=0, le=1)

    @model_validator(mode="after")
    def _one_source(self) -> "JobRequest":
        given = [
            name
            for name in ("dataset_id", "dataset_name", "seeds")
            if getattr(self, name) is not None
        ]
        if len(given) != 1:
            raise ValueError("give exactly one source: dataset_id, dataset_name or seeds")
        return self


@router.post("/jobs", status_code=201)
def start_job(
    body: JobRequest,
    settings: SettingsDep,
    providers: ProvidersDep,
    connection: Writing,
    caller: CallerDep,
    jobs_after_commit: DispatchAfterCommit,
) -> dict:
    spec = spec_from_settings(
        settings,
        body.count,
        model=body.model or "",
        temperature=body.temperature,
        max_tokens=body.max_tokens,
        instructions=body.instructions,
        preserve_fields=tuple(body.preserve_fields),
        custom_prompt=body.custom_prompt,
        data_types=tuple(body.data_types),
        budget=Budget(**body.budget.model_dump()),
        random_seed=body.seed,
        allow_new_values=tuple(body.allow_new_values),
        vary={axis: tuple(values) for axis, values in body.vary.items()},
        evolutions=tuple(body.evolutions),
        plan_topics=body.plan_topics,
        critic_model=body.critic_model,
        critic_threshold=body.critic_threshold,
    )
    dataset_id = body.dataset_id or _dataset_id_by_name(connection, caller, body.dataset_name)
    job = jobs.create_job(
        connection,
        caller,
        providers,
        spec,
        source_dataset_id=dataset_id,
        source_item_ids=body.item_ids,
        seeds=body.seeds,
        save_to_source=body.save,
        target_dataset_name=body.target_dataset_name,
    )
    jobs_after_commit.dispatch(job.id)
    return job_view(job)


@router.get("/jobs")
def list_jobs(
    connection: Reading,
    caller: CallerDep,
    page: int = Query(1, ge=1, le=LARGEST_PAGE),
    size: int = Query(20, ge=1, le=1000),
) -> dict:
    found, total = jobs.list_jobs(connection, caller, page, size)
    return {
        "content": [job_view(job) for job in found],
        "page": page,
        "size": len(found),
        "total": total,
    }


@router.get("/jobs/{job_id}")
def get_job(job_id: str, connection: Reading, caller: CallerDep) -> dict:
    return job_view(jobs.get_job(connection, caller, job_id))


@router.post("/jobs/{job_id}/cancel")
def cancel_job(job_id: str, connection: Writing, caller: CallerDep) -> dict:
    return job_view(jobs.cancel_job(connection, caller, job_id))


@router.get("/jobs/{job_id}/report")
def job_report(job_id: str, connection: Reading, caller: CallerDep) -> dict:
    """The job's quality report: rejections by reason, diversity against the seeds,
    nearest-seed similarity, closed-set and axis coverage, critic scores, cost and time per
    sample, and the worst samples by each measure."""
    return jobs.job_quality_report(connection, caller, job_id)


@router.get("/jobs/{job_id}/items")
def job_items(
    job_id: str,
    connection: Reading,
    caller: CallerDep,
    after: int = Query(
        0, ge=0, le=LARGEST_64_BIT, description="Only samples stored after this sequence number"
    ),
    limit: int = Query(1000, ge=1, le=10_000),
) -> dict:
    found = jobs.job_items(connection, caller, job_id, after, limit)
    return {
        "content": [
            {
                "sequence": item["sequence"],
                "data": item["data"],
                "data_type": item["data_type"],
                "provenance": item["provenance"],
                "quality": item.get("quality") or {},
            }
            for item in found
        ]
    }


@router.get("/jobs/{job_id}/events")
async def job_events(
    job_id: str,
    request: Request,
    caller: CallerDep,
    database: DatabaseDep,
    events: JobEventsDep,
) -> StreamingResponse:
    """Server-sent events: a ``progress`` event whenever the job's counters change, then
    one ``finished`` event, and the stream ends. Open streams are bounded, in total and
    per caller: past the bound, a 429."""
    first = await asyncio.to_thread(_read_job, database, caller, job_id)
    slot = events.open_stream(caller)  # 404 or 429 before streaming
    return StreamingResponse(
        _events(request, events, caller, first, slot),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(
    request: Request, events: JobEvents, caller: Caller, first: GenerationJob, slot: StreamSlot
) -> AsyncIterator[str]:
    last = None
    try:
        async for job in events.follow(caller, first):
            view = job_view(job)
            if view != last:
                yield _event("finished" if job.finished else "progress", view)
                last = view
            if await request.is_disconnected():
                return
    finally:
        slot.release()


def _event(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


def _read_job(database: Any, caller: Caller, job_id: str) -> GenerationJob:
    with database.reading() as connection:
        return jobs.get_job(connection, caller, job_id)


def _dataset_id_by_name(connection: Any, caller: Caller, name: str | None) -> str | None:
    if name is None:
        return None
    from seedbed.services.datasets import require_dataset_by_name

    return require_dataset_by_name(connection, caller, name).id


def job_view(job: GenerationJob) -> dict:
    totals = job.totals()
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "model": job.spec.get("model"),
        "requested": job.requested,
        "accepted": job.accepted,
        "progress": round(job.accepted / job.requested, 4) if job.requested else 1.0,
        "rejected": totals["rejected"],
        "calls": totals["calls"],
        "cached_calls": totals["cached_calls"],
        "prompt_tokens": totals["prompt_tokens"],
        "completion_tokens": totals["completion_tokens"],
        "cost": round(totals["cost"], 6),
        "stage": totals["stage"],
        "tokens_in_flight": totals["tokens_in_flight"],
        "eta_seconds": _rounded(job.eta_seconds(utcnow())),
        "chunks_total": len(job.chunks),
        "chunks_done": sum(1 for chunk in job.chunks if chunk.status == CHUNK_DONE),
        "source": {key: value for key, value in job.source.items() if key != "seeds"},
        "target_dataset_id": job.target_dataset_id,
        "target_dataset_name": job.target_dataset_name,
        "written_version": job.written_version,
        "cancel_requested": job.cancel_requested,
        "detail": job.detail,
        "created_at": timestamp(job.created_at),
        "started_at": timestamp(job.started_at),
        "finished_at": timestamp(job.finished_at),
    }


def _rounded(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None
