"""Stopping the in-process job executor always ends, even when the stop lands at the
moment a finishing chunk wakes the executor's loop (on Python 3.11 such a cancel could
be swallowed, and a server's shutdown, or a test's teardown, waited forever)."""

import asyncio

from seedbed.providers.registry import ProviderRegistry
from seedbed.services.job_executor import InProcessJobExecutor

STOPS = 60


async def _start_and_stop_right_after_a_wake(database, settings, yields: int) -> None:
    executor = InProcessJobExecutor(database, ProviderRegistry(settings), poll_seconds=30)
    await executor.start()
    # Let the loop read the (empty) queue and settle into its wait.
    for _ in range(50):
        await asyncio.sleep(0.001)
    executor.wake()  # what a chunk does as it finishes
    for _ in range(yields):
        await asyncio.sleep(0)
    async with asyncio.timeout(10):
        await executor.stop()


def test_stop_ends_even_right_after_a_chunk_finishes(database, settings):
    async def many_stops() -> None:
        for attempt in range(STOPS):
            await _start_and_stop_right_after_a_wake(database, settings, yields=attempt % 4)

    asyncio.run(many_stops())
