"""A person's review of a finished generation job's samples: keep, edit or reject each
one, then add exactly the kept samples (as edited) to the source dataset as one new
version. Rejected samples and their reasons stay with the job.

A sample nobody has reviewed counts as kept: the review page shows every sample checked
at first, and a person unchecks what they do not want.
"""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection

from seedbed.domain import ids
from seedbed.domain.errors import Conflict, InvalidInput, NotFound
from seedbed.domain.items import ItemDraft
from seedbed.domain.jobs import GenerationJob
from seedbed.domain.provenance_tags import provenance_tags
from seedbed.domain.versions import DatasetVersion
from seedbed.services.context import Caller
from seedbed.services.item_changes import VersionChanges, apply_changes
from seedbed.services.jobs import get_job
from seedbed.storage.repositories.jobs import JobRepository

KEPT = "kept"
REJECTED = "rejected"
MAX_PAGE_SIZE = 500


@dataclass(frozen=True, slots=True)
class ReviewedSample:
    sequence: int
    data: dict[str, Any]  # as it will be added: the person's edit, else as generated
    generated: dict[str, Any]
    data_type: str | None
    seed_item_ids: list[str]
    model: str | None
    topic: str | None  # what it was asked to be about
    quality: dict[str, Any]
    status: str | None  # KEPT, REJECTED, or None (not reviewed: kept)
    reason: str | None

    @property
    def edited(self) -> bool:
        return self.data != self.generated

    @property
    def kept(self) -> bool:
        return self.status != REJECTED


@dataclass
class ReviewPage:
    job: GenerationJob
    samples: list[ReviewedSample]
    page: int
    size: int
    total: int
    rejected: int

    @property
    def kept(self) -> int:
        return self.total - self.rejected


@dataclass(frozen=True, slots=True)
class SampleDecision:
    """What a person decided about one sample; ``data`` is the edited sample (None: as
    generated)."""

    sequence: int
    keep: bool
    reason: str | None = None
    data: dict[str, Any] | None = field(default=None)


def review_page(
    connection: Connection, caller: Caller, job_id: str, page: int = 1, size: int = 50
) -> ReviewPage:
    if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
        raise InvalidInput(f"page must be at least 1 and size between 1 and {MAX_PAGE_SIZE}")
    job = get_job(connection, caller, job_id)
    repository = JobRepository(connection)
    counts = repository.review_counts(job.id)
    rows = repository.review_page(job.id, (page - 1) * size, size)
    return ReviewPage(
        job=job,
        samples=[_reviewed(row) for row in rows],
        page=page,
        size=size,
        total=sum(counts.values()),
        rejected=counts.get(REJECTED, 0),
    )


def record_decisions(
    connection: Connection, caller: Caller, job_id: str, decisions: list[SampleDecision]
) -> None:
    """Store each decision; all or nothing (the unit of work rolls back on an error)."""
    job = _reviewable(connection, caller, job_id)
    repository = JobRepository(connection)
    generated = repository.generated_data(job.id, [decision.sequence for decision in decisions])
    for decision in decisions:
        if decision.sequence not in generated:
            raise NotFound(f"the job has no sample {decision.sequence}")
        edited = decision.data
        if edited is not None and (not isinstance(edited, dict) or not edited):
            raise InvalidInput(
                f"sample {decision.sequence}: an edited sample must be a JSON object with fields"
            )
        if edited == generated[decision.sequence]:
            edited = None  # shown and sent back unchanged
        reason = (decision.reason or "").strip() or None
        repository.set_review(
            job.id,
            decision.sequence,
            KEPT if decision.keep else REJECTED,
            None if decision.keep else reason,
            edited,
        )


def add_kept_samples(connection: Connection, caller: Caller, job_id: str) -> DatasetVersion:
    """The kept samples, as edited, as ONE new version of the dataset the job expanded;
    the change description names the job. A job's samples are added once."""
    job = _reviewable(connection, caller, job_id)
    dataset_id = job.source.get("dataset_id")
    if not dataset_id:
        raise InvalidInput("the job's seeds were given inline: there is no dataset to add to")
    repository = JobRepository(connection)
    kept = repository.kept_items(job.id, REJECTED)
    if not kept:
        raise InvalidInput("no sample is kept: check at least one sample to add")
    drafts = [
        ItemDraft(
            id=ids.new_id(),
            data=dict(row.reviewed_data or row.data),
            source="sdk",
            tags=provenance_tags(row.provenance.get("model"), job.id),
        )
        for row in kept
    ]
    description = f"Added {len(drafts)} samples kept from generation job {job.id}"
    version = apply_changes(
        connection,
        caller,
        dataset_id,
        VersionChanges(added=drafts, change_description=description),
        override=True,
    )
    repository.mark_unreviewed(job.id, KEPT)
    repository.update(job.id, written_version=version.name)
    return version


def _reviewable(connection: Connection, caller: Caller, job_id: str) -> GenerationJob:
    job = get_job(connection, caller, job_id)
    if not job.finished:
        raise Conflict("the job is still running: review its samples when it has ended")
    if job.written_version:
        raise Conflict(f"the job's samples were already added, as version {job.written_version}")
    return job


def _reviewed(row: dict[str, Any]) -> ReviewedSample:
    provenance = row.get("provenance") or {}
    return ReviewedSample(
        sequence=row["sequence"],
        data=row.get("reviewed_data") or row["data"],
        generated=row["data"],
        data_type=row.get("data_type"),
        seed_item_ids=list(provenance.get("seed_item_ids") or ()),
        model=provenance.get("model"),
        topic=provenance.get("topic"),
        quality=row.get("quality") or {},
        status=row.get("review_status"),
        reason=row.get("review_reason"),
    )
