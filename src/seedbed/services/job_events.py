"""A job's changes, fanned out to everyone watching it.

Each watched job is read by one poller, whatever the number of streams that follow it:
a thousand open event streams cost one query per job per interval, not one per stream.
The streams are bounded in total and per caller; past a bound a new stream is refused
with a 429, and the ones already open carry on.
"""

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from seedbed.domain.errors import SeedbedError
from seedbed.domain.jobs import GenerationJob
from seedbed.services import jobs
from seedbed.services.context import Caller
from seedbed.storage.database import Database

LOGGER = logging.getLogger("seedbed.jobs")
POLL_SECONDS = 0.5
MAX_STREAMS = 256
MAX_STREAMS_PER_CALLER = 32


class TooManyStreams(SeedbedError):
    status_code = 429


@dataclass
class _Channel:
    """The latest state of one job, and who follows it."""

    job: GenerationJob
    version: int = 0
    listeners: int = 0
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    poller: asyncio.Task | None = None


class StreamSlot:
    """One open stream's place in the bounds; given back once, however the stream ends
    (even a stream whose response never started)."""

    def __init__(self, broadcaster: "JobEvents", owner: tuple[str, str]) -> None:
        self._release = weakref.finalize(self, broadcaster._give_back, owner)

    def release(self) -> None:
        self._release()


class JobEvents:
    def __init__(
        self,
        database: Database,
        *,
        poll_seconds: float = POLL_SECONDS,
        max_streams: int = MAX_STREAMS,
        max_streams_per_caller: int = MAX_STREAMS_PER_CALLER,
    ) -> None:
        self.database = database
        self.poll_seconds = poll_seconds
        self.max_streams = max_streams
        self.max_streams_per_caller = max_streams_per_caller
        self._open: dict[tuple[str, str], int] = {}
        self._channels: dict[tuple[str, str], _Channel] = {}

    @property
    def open_streams(self) -> int:
        return sum(self._open.values())

    def open_stream(self, caller: Caller) -> StreamSlot:
        """A place for one more stream, or :class:`TooManyStreams`."""
        owner = (caller.workspace, caller.user)
        if self.open_streams >= self.max_streams:
            raise TooManyStreams(
                f"Too many open event streams ({self.max_streams}): poll GET /seedbed/v1/jobs/{{id}}"
                " instead, or try again later"
            )
        if self._open.get(owner, 0) >= self.max_streams_per_caller:
            raise TooManyStreams(
                f"Too many open event streams for this caller ({self.max_streams_per_caller}):"
                " close some, or poll GET /seedbed/v1/jobs/{id} instead"
            )
        self._open[owner] = self._open.get(owner, 0) + 1
        return StreamSlot(self, owner)

    def _give_back(self, owner: tuple[str, str]) -> None:
        left = self._open.get(owner, 0) - 1
        if left > 0:
            self._open[owner] = left
        else:
            self._open.pop(owner, None)

    async def follow(self, caller: Caller, first: GenerationJob) -> AsyncIterator[GenerationJob]:
        """``first``, then the job each time its poller reads it, until it has finished."""
        yield first
        if first.finished:
            return
        key = (caller.workspace, first.id)
        channel = self._channels.get(key)
        if channel is None:
            channel = self._channels[key] = _Channel(first)
        channel.listeners += 1
        if channel.poller is None or channel.poller.done():
            channel.poller = asyncio.create_task(self._poll(key, channel))
        try:
            seen = channel.version
            while True:
                async with channel.changed:
                    while channel.version == seen:
                        await channel.changed.wait()
                seen = channel.version
                yield channel.job
                if channel.job.finished:
                    return
        finally:
            channel.listeners -= 1
            if channel.listeners == 0 and self._channels.get(key) is channel:
                del self._channels[key]
                if channel.poller is not None:
                    channel.poller.cancel()

    async def _poll(self, key: tuple[str, str], channel: _Channel) -> None:
        caller = Caller(workspace=key[0])
        while channel.listeners > 0 and not channel.job.finished:
            await asyncio.sleep(self.poll_seconds)
            try:
                job = await asyncio.to_thread(self._read, caller, key[1])
            except Exception:  # the database was unreachable for a moment: try again
                LOGGER.exception("could not read job %s for its event streams", key[1])
                continue
            async with channel.changed:
                channel.job = job
                channel.version += 1
                channel.changed.notify_all()

    def _read(self, caller: Caller, job_id: str) -> GenerationJob:
        with self.database.reading() as connection:
            return jobs.get_job(connection, caller, job_id)

    async def aclose(self) -> None:
        """Stop every poller (the server is stopping)."""
        pollers = [channel.poller for channel in self._channels.values() if channel.poller]
        for poller in pollers:
            poller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*pollers, return_exceptions=True)
        self._channels.clear()
