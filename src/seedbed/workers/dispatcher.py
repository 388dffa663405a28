"""The server's side of workers: it queues a new job's chunks and runs none of them."""

import asyncio
import logging

from seedbed.domain.jobs import QUEUED
from seedbed.storage.database import Database
from seedbed.storage.repositories.jobs import JobRepository
from seedbed.workers.queue import ChunkQueue

LOGGER = logging.getLogger("seedbed.workers")


class WorkerDispatcher:
    """The job dispatcher of ``create_app`` when ``job_runner`` is ``workers``.

    Refuses a database that is not PostgreSQL as soon as it is built, so the server
    does not start."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.queue = ChunkQueue(database.url)

    async def start(self) -> None:
        await self.queue.open()

    async def stop(self) -> None:
        await self.queue.close()

    async def dispatch(self, job_id: str) -> None:
        """One task per queued chunk of the job. Runs after the job was committed; if
        the queue cannot be reached now, the workers' sweep queues the chunks later."""
        try:
            chunks = await asyncio.to_thread(self._queued_chunks, job_id)
            for chunk_index in chunks:
                await self.queue.defer(job_id, chunk_index)
        except Exception:
            LOGGER.exception("could not queue job %s; a worker will queue its chunks", job_id)

    def _queued_chunks(self, job_id: str) -> list[int]:
        with self.database.reading() as connection:
            return [
                chunk.chunk_index
                for chunk in JobRepository(connection).chunks(job_id)
                if chunk.status == QUEUED
            ]
