"""Running generation jobs inside the server process: the embedded mode (SQLite, one
process), and PostgreSQL deployments that run no separate workers.

Chunks wait in the database; this executor takes them, a few at a time, and is woken
when a job is created. When the process starts it first takes back the chunks a
previous process left running (it died, or was killed): one process owns an embedded
database, so a running chunk with another owner is an orphan.
"""

import asyncio
import contextlib
import logging
import os
import socket
import uuid

from seedbed.providers.registry import ProviderRegistry
from seedbed.services.job_runner import run_chunk
from seedbed.storage.database import Database
from seedbed.storage.repositories.jobs import JobRepository

LOGGER = logging.getLogger("seedbed.jobs")


def process_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class InProcessJobExecutor:
    def __init__(
        self,
        database: Database,
        registry: ProviderRegistry,
        *,
        parallel_chunks: int = 4,
        poll_seconds: float = 1.0,
    ) -> None:
        self.database = database
        self.registry = registry
        self.parallel_chunks = parallel_chunks
        self.poll_seconds = poll_seconds
        self.owner = process_owner()
        self._running: dict[tuple[str, int], asyncio.Task] = {}
        self._wake: asyncio.Event | None = None
        self._loop_task: asyncio.Task | None = None
        self._stopping = False

    async def start(self) -> None:
        self._stopping = False
        self._wake = asyncio.Event()
        adopted = await asyncio.to_thread(self._requeue_orphans)
        if adopted:
            LOGGER.info("resuming %d interrupted generation chunk(s)", adopted)
        self._loop_task = asyncio.create_task(self._take_chunks())

    async def stop(self) -> None:
        """Ends the loop on a flag as well as by cancellation: on Python 3.11 a cancel that
        lands just as a finishing chunk wakes the loop can be swallowed by the wait."""
        self._stopping = True
        self.wake()
        tasks = [task for task in [self._loop_task, *self._running.values()] if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def dispatch(self, job_id: str) -> None:
        """A new job is in the database: look for its chunks now, not at the next poll."""
        self.wake()

    def wake(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def _requeue_orphans(self) -> int:
        with self.database.writing() as connection:
            return JobRepository(connection).requeue_running_chunks(except_owner=self.owner)

    def _queued(self) -> list[tuple[str, int]]:
        with self.database.reading() as connection:
            return JobRepository(connection).queued_chunks(limit=self.parallel_chunks * 2)

    async def _take_chunks(self) -> None:
        while not self._stopping:
            try:
                for key in await asyncio.to_thread(self._queued):
                    if self._stopping or len(self._running) >= self.parallel_chunks:
                        break
                    if key not in self._running:
                        self._start(key)
            except Exception:  # the database was unreachable for a moment: try again
                LOGGER.exception("could not read the job queue")
            # asyncio.timeout, unlike wait_for on 3.11, lets a cancellation through even
            # when the event was set at the same moment.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_seconds):
                    await self._wake.wait()
            self._wake.clear()

    def _start(self, key: tuple[str, int]) -> None:
        task = asyncio.create_task(
            run_chunk(self.database, self.registry, key[0], key[1], self.owner)
        )
        self._running[key] = task

        def finished(_task: asyncio.Task) -> None:
            self._running.pop(key, None)
            self.wake()

        task.add_done_callback(finished)
