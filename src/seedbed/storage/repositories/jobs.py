"""SQL for generation jobs, their chunks and their accepted samples."""

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from seedbed.domain.jobs import (
    CHUNK_QUEUED,
    CHUNK_RUNNING,
    CHUNK_UNSETTLED,
    UNFINISHED,
    GenerationJob,
    JobChunk,
    check_chunk_transition,
    check_job_transition,
)
from seedbed.storage.dialect import insert_ignoring_conflicts
from seedbed.storage.tables import generation_job_chunks, generation_job_items, generation_jobs

# A job as the domain knows it: everything but its quality report, which is read on its own.
_JOB_COLUMNS = [column for column in generation_jobs.c if column.name != "report"]


class JobRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    # -- jobs --------------------------------------------------------------------------

    def insert(self, job: GenerationJob, targets: list[int]) -> None:
        row = {column.name: getattr(job, column.name) for column in _JOB_COLUMNS}
        self.connection.execute(generation_jobs.insert().values(**row))
        self.connection.execute(
            generation_job_chunks.insert(),
            [
                {
                    "job_id": job.id,
                    "chunk_index": index,
                    "target": target,
                    "status": CHUNK_QUEUED,
                    "attempts": 0,
                    "stats": {},
                }
                for index, target in enumerate(targets)
            ],
        )

    def get(
        self, job_id: str, workspace: str | None = None, lock: bool = False
    ) -> GenerationJob | None:
        query = sa.select(*_JOB_COLUMNS).where(generation_jobs.c.id == job_id)
        if workspace is not None:
            query = query.where(generation_jobs.c.workspace == workspace)
        if lock and self.connection.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        if row is None:
            return None
        job = GenerationJob(**row._mapping)
        job.chunks = self.chunks(job_id)
        return job

    def by_target(self, workspace: str, dataset_id: str) -> GenerationJob | None:
        job_id = self.connection.execute(
            sa.select(generation_jobs.c.id)
            .where(
                generation_jobs.c.workspace == workspace,
                generation_jobs.c.target_dataset_id == dataset_id,
            )
            .order_by(generation_jobs.c.created_at.desc())
            .limit(1)
        ).scalar_one_or_none()
        return self.get(job_id) if job_id else None

    def page(self, workspace: str, page: int, size: int) -> tuple[list[GenerationJob], int]:
        where = generation_jobs.c.workspace == workspace
        total = self.connection.execute(
            sa.select(sa.func.count()).select_from(generation_jobs).where(where)
        ).scalar_one()
        rows = self.connection.execute(
            sa.select(*_JOB_COLUMNS)
            .where(where)
            .order_by(generation_jobs.c.created_at.desc(), generation_jobs.c.id.desc())
            .limit(size)
            .offset((page - 1) * size)
        ).all()
        jobs = [GenerationJob(**row._mapping) for row in rows]
        for job in jobs:
            job.chunks = self.chunks(job.id)
        return jobs, total

    def counters(self, job_id: str, lock: bool = False) -> sa.Row | None:
        """``accepted``, ``requested`` and ``cancel_requested`` of a job, without its
        chunks. ``lock`` keeps its row locked until the transaction ends (on SQLite, the
        write transaction already is the lock): what storing samples needs."""
        jobs = generation_jobs.c
        query = sa.select(jobs.accepted, jobs.requested, jobs.cancel_requested).where(
            jobs.id == job_id
        )
        if lock and self.connection.dialect.name == "postgresql":
            query = query.with_for_update()
        return self.connection.execute(query).first()

    def update(self, job_id: str, **values: Any) -> None:
        """Counters, times and details; a status changes only through :meth:`move`."""
        if "status" in values:
            raise ValueError("change a job's status with move(), which checks the transition")
        self.connection.execute(
            generation_jobs.update().where(generation_jobs.c.id == job_id).values(**values)
        )

    def move(self, job: GenerationJob, status: str, **values: Any) -> None:
        """Move ``job`` (as read, under a lock) to ``status``, if the state machine allows."""
        check_job_transition(job.status, status)
        self.connection.execute(
            generation_jobs.update()
            .where(generation_jobs.c.id == job.id)
            .values(status=status, **values)
        )
        job.status = status

    def unfinished_job_ids(self) -> list[str]:
        return list(
            self.connection.execute(
                sa.select(generation_jobs.c.id)
                .where(generation_jobs.c.status.in_(UNFINISHED))
                .order_by(generation_jobs.c.created_at)
            ).scalars()
        )

    def count_by_status(self) -> dict[str, int]:
        """How many jobs of every workspace are in each status (for ``/metrics``)."""
        rows = self.connection.execute(
            sa.select(generation_jobs.c.status, sa.func.count()).group_by(generation_jobs.c.status)
        ).all()
        return {status: count for status, count in rows}

    # -- chunks ------------------------------------------------------------------------

    def chunks(self, job_id: str) -> list[JobChunk]:
        rows = self.connection.execute(
            sa.select(generation_job_chunks)
            .where(generation_job_chunks.c.job_id == job_id)
            .order_by(generation_job_chunks.c.chunk_index)
        ).all()
        return [JobChunk(**row._mapping) for row in rows]

    def update_chunk(self, job_id: str, chunk_index: int, **values: Any) -> None:
        """Counters and heartbeats; a status changes only through :meth:`move_chunk`."""
        if "status" in values:
            raise ValueError("change a chunk's status with move_chunk()")
        self.connection.execute(
            generation_job_chunks.update()
            .where(
                generation_job_chunks.c.job_id == job_id,
                generation_job_chunks.c.chunk_index == chunk_index,
            )
            .values(**values)
        )

    def move_chunk(self, chunk: JobChunk, status: str, **values: Any) -> None:
        check_chunk_transition(chunk.status, status)
        self.connection.execute(
            generation_job_chunks.update()
            .where(
                generation_job_chunks.c.job_id == chunk.job_id,
                generation_job_chunks.c.chunk_index == chunk.chunk_index,
            )
            .values(status=status, **values)
        )
        chunk.status = status

    def claim_chunk(self, job_id: str, chunk_index: int, owner: str, now: dt.datetime) -> bool:
        """Take a chunk that is not done; False when it is finished or another live
        owner has it. (A chunk left ``running`` by a dead process is taken over: the
        caller decides which owners are dead.)"""
        claimed = self.connection.execute(
            generation_job_chunks.update()
            .where(
                generation_job_chunks.c.job_id == job_id,
                generation_job_chunks.c.chunk_index == chunk_index,
                generation_job_chunks.c.status.in_(CHUNK_UNSETTLED),
            )
            .values(
                status=CHUNK_RUNNING,
                owner=owner,
                attempts=generation_job_chunks.c.attempts + 1,
                heartbeat_at=now,
            )
        )
        return claimed.rowcount == 1

    def queued_chunks(self, limit: int) -> list[tuple[str, int]]:
        """Chunks waiting to run, oldest job first."""
        rows = self.connection.execute(
            sa.select(generation_job_chunks.c.job_id, generation_job_chunks.c.chunk_index)
            .join(generation_jobs, generation_jobs.c.id == generation_job_chunks.c.job_id)
            .where(
                generation_job_chunks.c.status == CHUNK_QUEUED,
                generation_jobs.c.status.in_(UNFINISHED),
            )
            .order_by(generation_jobs.c.created_at, generation_job_chunks.c.chunk_index)
            .limit(limit)
        ).all()
        return [(row.job_id, row.chunk_index) for row in rows]

    def requeue_running_chunks(self, except_owner: str) -> int:
        """Chunks left running by a process that is gone go back in the queue."""
        result = self.connection.execute(
            generation_job_chunks.update()
            .where(
                generation_job_chunks.c.status == CHUNK_RUNNING,
                generation_job_chunks.c.owner != except_owner,
            )
            .values(status=CHUNK_QUEUED)
        )
        return result.rowcount

    # -- accepted samples ----------------------------------------------------------------

    def insert_new_items(
        self, job_id: str, chunk_index: int, samples: list[dict[str, Any]], now: dt.datetime
    ) -> dict[str, int]:
        """Store ``samples`` in one statement, but those whose ``text_digest`` the job
        holds already: the job's unique index on the digest refuses them. The sequence
        of each stored sample, by digest."""
        if not samples:
            return {}
        items = generation_job_items.c
        statement = insert_ignoring_conflicts(
            self.connection.dialect.name, generation_job_items
        ).returning(items.text_digest, items.sequence)
        # Many parameter sets with RETURNING: SQLAlchemy sends them as one multi-row INSERT.
        rows = self.connection.execute(
            statement,
            [
                {"job_id": job_id, "chunk_index": chunk_index, "created_at": now, **sample}
                for sample in samples
            ],
        )
        return {row.text_digest: row.sequence for row in rows}

    def delete_items(self, job_id: str, sequences: list[int]) -> None:
        items = generation_job_items.c
        self.connection.execute(
            generation_job_items.delete().where(
                items.job_id == job_id, items.sequence.in_(sequences)
            )
        )

    def items(
        self, job_id: str, after_sequence: int = 0, limit: int | None = None
    ) -> list[dict[str, Any]]:
        query = (
            sa.select(generation_job_items)
            .where(
                generation_job_items.c.job_id == job_id,
                generation_job_items.c.sequence > after_sequence,
            )
            .order_by(generation_job_items.c.sequence)
        )
        if limit is not None:
            query = query.limit(limit)
        return [dict(row._mapping) for row in self.connection.execute(query).all()]

    def data_since(self, job_id: str, after_sequence: int) -> list[sa.Row]:
        """``(sequence, chunk_index, data, data_type)`` of the items stored after
        ``after_sequence``, in order."""
        items = generation_job_items.c
        return self.connection.execute(
            sa.select(items.sequence, items.chunk_index, items.data, items.data_type)
            .where(items.job_id == job_id, items.sequence > after_sequence)
            .order_by(items.sequence)
        ).all()

    def report(self, job_id: str) -> dict[str, Any] | None:
        return self.connection.execute(
            sa.select(generation_jobs.c.report).where(generation_jobs.c.id == job_id)
        ).scalar_one_or_none()

    def count_items(self, job_id: str) -> int:
        return self.connection.execute(
            sa.select(sa.func.count())
            .select_from(generation_job_items)
            .where(generation_job_items.c.job_id == job_id)
        ).scalar_one()

    # -- a person's review of the samples ------------------------------------------------

    def review_page(self, job_id: str, offset: int, limit: int) -> list[dict[str, Any]]:
        return [
            dict(row._mapping)
            for row in self.connection.execute(
                sa.select(generation_job_items)
                .where(generation_job_items.c.job_id == job_id)
                .order_by(generation_job_items.c.sequence)
                .offset(offset)
                .limit(limit)
            ).all()
        ]

    def review_counts(self, job_id: str) -> dict[str | None, int]:
        """How many samples have each review status (None: not reviewed yet)."""
        items = generation_job_items.c
        rows = self.connection.execute(
            sa.select(items.review_status, sa.func.count())
            .where(items.job_id == job_id)
            .group_by(items.review_status)
        ).all()
        return {status: count for status, count in rows}

    def set_review(
        self,
        job_id: str,
        sequence: int,
        status: str,
        reason: str | None,
        reviewed_data: dict[str, Any] | None,
    ) -> bool:
        """False when the job has no sample ``sequence``."""
        items = generation_job_items.c
        result = self.connection.execute(
            generation_job_items.update()
            .where(items.job_id == job_id, items.sequence == sequence)
            .values(review_status=status, review_reason=reason, reviewed_data=reviewed_data)
        )
        return result.rowcount == 1

    def kept_items(self, job_id: str, rejected: str) -> list[sa.Row]:
        """``(sequence, data, reviewed_data, provenance)`` of the samples whose review
        status is not ``rejected``, in order."""
        items = generation_job_items.c
        return self.connection.execute(
            sa.select(items.sequence, items.data, items.reviewed_data, items.provenance)
            .where(
                items.job_id == job_id,
                sa.or_(items.review_status.is_(None), items.review_status != rejected),
            )
            .order_by(items.sequence)
        ).all()

    def mark_unreviewed(self, job_id: str, status: str) -> None:
        items = generation_job_items.c
        self.connection.execute(
            generation_job_items.update()
            .where(items.job_id == job_id, items.review_status.is_(None))
            .values(review_status=status)
        )

    def generated_data(self, job_id: str, sequences: list[int]) -> dict[int, Any]:
        """The samples ``sequences`` as generated (before any edit)."""
        items = generation_job_items.c
        rows = self.connection.execute(
            sa.select(items.sequence, items.data).where(
                items.job_id == job_id, items.sequence.in_(sequences)
            )
        ).all()
        return {row.sequence: row.data for row in rows}
