"""``seedbed worker``: a process that takes chunks from PostgreSQL and runs them.

Chunks come back when a worker dies, in two ways:

- **Stalled jobs.** Every worker beats in procrastinate's ``procrastinate_workers``
  table each ``HEARTBEAT_SECONDS``. Every ``SWEEP_SECONDS``, each worker asks
  procrastinate for the running jobs of workers silent for ``STALLED_AFTER_SECONDS``
  (``job_manager.get_stalled_jobs``) and puts them back in the queue (``retry_job``).
  An idle worker finds them at its next poll (``POLL_SECONDS``); ``run_chunk`` claims
  the chunk, still ``running`` under the dead owner, and continues from the samples it
  had stored. A SIGKILLed worker's chunks run again 10 to 12 seconds after it died.
- **Chunks nobody queued.** A chunk ``queued`` or ``running`` in seedbed's table with
  no procrastinate job waiting or running for it (the server died between committing
  a job and queueing it, or a job gave up retrying) is queued again, at start and every
  ``REQUEUE_SECONDS``.

Only a worker whose event loop is blocked for ten seconds misses its beats while alive;
its chunk then runs twice at once, which wastes calls: samples stay unique and within
the requested count, each being stored under the job's row lock.
"""

import asyncio
import logging
import math
import os
import socket
import time

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from procrastinate import App
from procrastinate.exceptions import ConnectorException, UniqueViolation
from procrastinate.jobs import Job, Status

from seedbed.domain.jobs import QUEUED, RUNNING
from seedbed.providers.registry import ProviderRegistry, import_provider_sdks
from seedbed.settings import Settings
from seedbed.storage import migrate
from seedbed.storage.database import Database
from seedbed.storage.repositories.jobs import JobRepository
from seedbed.workers.queue import QUEUE, TASK_NAME, ChunkQueue, chunk_lock

LOGGER = logging.getLogger("seedbed.workers")

HEARTBEAT_SECONDS = 1.0
# Ten missed beats: a worker is not taken for dead because its event loop was busy for
# a few seconds on a loaded machine (its chunks would then run twice).
STALLED_AFTER_SECONDS = 10.0
SWEEP_SECONDS = 1.0
POLL_SECONDS = 1.0
REQUEUE_SECONDS = 30.0
# Workers silent this long are removed from procrastinate's table when a worker starts
# (procrastinate's own pruning). Far longer than STALLED_AFTER_SECONDS: a live worker
# that was pruned could not take jobs any more.
PRUNE_AFTER_SECONDS = 60.0
# A stopping worker's heartbeat stops at once, while its running chunks get this long to
# end; then they go back to the queue, and another worker resumes them. It must stay
# under STALLED_AFTER_SECONDS - HEARTBEAT_SECONDS, or the chunks would be taken as
# stalled and run twice.
SHUTDOWN_GRACE_SECONDS = 5.0
MIGRATION_POLL_SECONDS = 2.0


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_worker(settings: Settings, concurrency: int = 4) -> None:
    """Run chunks until SIGTERM or SIGINT; then give running chunks a moment to end,
    and put the others back in the queue, where other workers resume them."""
    queue = ChunkQueue(
        settings.database_url, max_connections=concurrency + 4
    )  # PostgreSQL or an error
    asyncio.run(_work(settings, queue, concurrency))


async def _work(settings: Settings, queue: ChunkQueue, concurrency: int) -> None:
    database = Database(settings.database_url)
    try:
        # The SDKs before any chunk runs: imported in the event loop, they would stop
        # this worker's heartbeat long enough for its chunks to look stalled.
        await asyncio.gather(
            _until_migrated(database), asyncio.to_thread(import_provider_sdks, settings)
        )
        await queue.open()
        registry = ProviderRegistry(settings)
        try:
            await _run(queue, database, registry, concurrency)
        finally:
            await registry.aclose()
            await queue.close()
    finally:
        database.dispose()


async def _until_migrated(database: Database) -> None:
    """Wait for ``seedbed serve`` to bring seedbed's tables to this release's schema.
    Workers never migrate: several processes starting together would race to."""
    waiting = False
    while not await asyncio.to_thread(_is_migrated, database):
        if not waiting:
            LOGGER.warning("waiting for seedbed serve to create or upgrade seedbed's tables")
            waiting = True
        await asyncio.sleep(MIGRATION_POLL_SECONDS)


def _is_migrated(database: Database) -> bool:
    with database.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
        expected = set(
            ScriptDirectory.from_config(migrate.alembic_config(database, connection)).get_heads()
        )
    return current == expected


async def _run(
    queue: ChunkQueue, database: Database, registry: ProviderRegistry, concurrency: int
) -> None:
    name = worker_name()
    LOGGER.info(
        "worker %s: generation chunks from %s, %d at a time", name, database.engine.url, concurrency
    )
    sweeper = asyncio.create_task(_sweep(queue, database))
    try:
        await queue.app.run_worker_async(
            queues=[QUEUE],
            name=name,
            concurrency=concurrency,
            additional_context={"database": database, "registry": registry, "owner": name},
            delete_jobs="successful",
            update_heartbeat_interval=HEARTBEAT_SECONDS,
            # A chunk put back in the queue (an update, not an insert) is not announced
            # by procrastinate's NOTIFY: idle workers find it by polling.
            fetch_job_polling_interval=POLL_SECONDS,
            stalled_worker_timeout=PRUNE_AFTER_SECONDS,
            shutdown_graceful_timeout=SHUTDOWN_GRACE_SECONDS,
        )
    finally:
        sweeper.cancel()
        await asyncio.gather(sweeper, return_exceptions=True)


async def _sweep(queue: ChunkQueue, database: Database) -> None:
    last_requeue = -math.inf
    while True:
        try:
            await retry_stalled_chunks(queue.app)
            if time.monotonic() - last_requeue >= REQUEUE_SECONDS:
                await requeue_unqueued_chunks(queue, database)
                last_requeue = time.monotonic()
        except Exception:  # the database was unreachable for a moment: try again
            LOGGER.exception("could not look for abandoned chunks")
        await asyncio.sleep(SWEEP_SECONDS)


async def retry_stalled_chunks(app: App, stalled_after: float = STALLED_AFTER_SECONDS) -> int:
    """Put back in the queue the chunks running on workers that stopped beating."""
    stalled = await app.job_manager.get_stalled_jobs(
        queue=QUEUE, task_name=TASK_NAME, seconds_since_heartbeat=stalled_after
    )
    retried = 0
    for job in stalled:
        try:
            await app.job_manager.retry_job(job)
        except UniqueViolation:
            await _close_stalled_run(app, job)
        except ConnectorException:
            LOGGER.debug("%s was put back by another worker first", job.call_string)
        else:
            LOGGER.warning("the worker running %s went silent: queued it again", job.call_string)
            retried += 1
    return retried


async def _close_stalled_run(app: App, job: Job) -> None:
    # The chunk waits in the queue already: end the stalled run, which holds the
    # chunk's lock, so that the waiting one can start.
    LOGGER.warning("%s is queued again already; closing the stalled run", job.call_string)
    await app.job_manager.finish_job(job, status=Status.FAILED, delete_job=False)


async def requeue_unqueued_chunks(queue: ChunkQueue, database: Database) -> int:
    """Queue the unfinished chunks that no procrastinate job waits for or runs."""
    present = set()
    for status in (Status.TODO, Status.DOING):
        for job in await queue.app.job_manager.list_jobs_async(
            queue=QUEUE, task=TASK_NAME, status=status.value
        ):
            present.add(job.lock)
    # Read after the queue: a chunk settling meanwhile is queued once more for nothing
    # (its run finds it settled), never left out.
    chunks = await asyncio.to_thread(_unfinished_chunks, database)
    missing = [
        (job_id, index) for job_id, index in chunks if chunk_lock(job_id, index) not in present
    ]
    if not missing:
        return 0
    queued = sum([await queue.defer(job_id, index) for job_id, index in missing])
    if queued:
        LOGGER.warning("queued %d chunk(s) that were not in the queue", queued)
    return queued


def _unfinished_chunks(database: Database) -> list[tuple[str, int]]:
    with database.reading() as connection:
        repository = JobRepository(connection)
        return [
            (job_id, chunk.chunk_index)
            for job_id in repository.unfinished_job_ids()
            for chunk in repository.chunks(job_id)
            if chunk.status in (QUEUED, RUNNING)
        ]
