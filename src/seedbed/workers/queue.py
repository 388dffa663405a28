"""The procrastinate side of workers: the app, its schema, and one task per chunk.

A chunk of a generation job is one procrastinate job of the task
``seedbed.run_generation_chunk(job_id, chunk_index)``, deferred with the chunk's name
as both its ``lock`` and its ``queueing_lock``:

- the queueing lock keeps at most one of them waiting, so deferring a chunk twice (the
  API, then a worker looking for chunks nobody queued) is harmless;
- the lock keeps at most one of them running, so a chunk deferred again while it runs
  waits for that run to end, and then finds nothing left to do.
"""

import asyncio
import logging
from typing import Any

import psycopg
from procrastinate import App, BaseRetryStrategy, JobContext, PsycopgConnector, RetryDecision
from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy.engine import make_url

from seedbed.domain.errors import SeedbedError
from seedbed.services.job_runner import run_chunk

LOGGER = logging.getLogger("seedbed.workers")

QUEUE = "seedbed_generation"
TASK_NAME = "seedbed.run_generation_chunk"
# Held while procrastinate's schema is checked and applied, so that a server and
# workers starting together on a new database apply it once. One lock per schema.
_SCHEMA_LOCK_KEY = "hashtext('seedbed.procrastinate-schema:' || coalesce(current_schema(), ''))"


def libpq_conninfo(database_url: str) -> str:
    """seedbed's SQLAlchemy URL as a libpq connection string. Its query parameters
    (``options=-csearch_path=…``, ``sslmode``…) are libpq's own and pass through, so
    procrastinate's tables live in the same schema as seedbed's."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise SeedbedError(
            f"seedbed workers need PostgreSQL, and the database is {url.get_backend_name()} "
            f"({url.render_as_string(hide_password=True)}). Use a postgresql:// database URL, "
            "or run jobs in the server process (SEEDBED_JOB_RUNNER=in-process)."
        )
    params: dict[str, Any] = url.translate_connect_args(username="user", database="dbname")
    for key, value in url.query.items():
        params[key] = value if isinstance(value, str) else ",".join(value)
    return psycopg.conninfo.make_conninfo(**{key: str(value) for key, value in params.items()})


def chunk_lock(job_id: str, chunk_index: int) -> str:
    return f"seedbed-chunk:{job_id}:{chunk_index}"


class _RunInterruptedChunksAgain(BaseRetryStrategy):
    """``run_chunk`` settles every failure of the generation itself in the job. What
    escapes it is an interruption (the worker shutting down: run again now, elsewhere)
    or the database failing around the run (again a little later, a few times; after
    that the workers' sweep queues the chunk again)."""

    def get_retry_decision(self, *, exception: BaseException, job: Any) -> RetryDecision | None:
        if isinstance(exception, asyncio.CancelledError):
            return RetryDecision(retry_in={"seconds": 0})
        if job.attempts < 5:
            return RetryDecision(retry_in={"seconds": 2**job.attempts})
        return None


async def run_generation_chunk(context: JobContext, job_id: str, chunk_index: int) -> None:
    """The task: one chunk, run with the worker's database, providers and name."""
    worker = context.additional_context
    await run_chunk(worker["database"], worker["registry"], job_id, chunk_index, worker["owner"])


class ChunkQueue:
    """A procrastinate app on seedbed's PostgreSQL database, with the chunk task."""

    def __init__(self, database_url: str, *, max_connections: int = 4) -> None:
        self.conninfo = libpq_conninfo(database_url)
        self.app = App(
            connector=PsycopgConnector(conninfo=self.conninfo, min_size=1, max_size=max_connections)
        )
        self.task = self.app.task(
            name=TASK_NAME, queue=QUEUE, pass_context=True, retry=_RunInterruptedChunksAgain()
        )(run_generation_chunk)

    async def open(self) -> None:
        """Open the connection pool and make sure procrastinate's tables exist.

        seedbed migrates its own tables with Alembic; procrastinate's schema is
        procrastinate's, applied through its schema manager and only when it is missing
        (a newer procrastinate's migrations are applied with ``procrastinate schema``)."""
        await self.app.open_async()
        try:
            async with await psycopg.AsyncConnection.connect(
                self.conninfo, autocommit=True
            ) as connection:
                await connection.execute(f"SELECT pg_advisory_lock({_SCHEMA_LOCK_KEY})")
                try:
                    cursor = await connection.execute(
                        "SELECT to_regclass('procrastinate_jobs') IS NOT NULL"
                    )
                    (installed,) = await cursor.fetchone()
                    if not installed:
                        LOGGER.info("applying procrastinate's schema")
                        await self.app.schema_manager.apply_schema_async()
                finally:
                    await connection.execute(f"SELECT pg_advisory_unlock({_SCHEMA_LOCK_KEY})")
        except BaseException:
            await self.app.close_async()
            raise

    async def close(self) -> None:
        await self.app.close_async()

    async def defer(self, job_id: str, chunk_index: int) -> bool:
        """Queue one chunk; False when it is already waiting."""
        lock = chunk_lock(job_id, chunk_index)
        try:
            await self.task.configure(lock=lock, queueing_lock=lock).defer_async(
                job_id=job_id, chunk_index=chunk_index
            )
        except AlreadyEnqueued:
            return False
        return True
