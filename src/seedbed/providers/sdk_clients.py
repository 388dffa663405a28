"""The vendor SDKs' async clients, one per event loop.

An async client's connections belong to the event loop that opened them. A provider
outlives loops: ``seedbed.expand`` runs each call in a loop of its own, and tests start
apps one after another. A client reused from a finished loop fails on its stale
connections, and one dropped unclosed has its connections closed at garbage collection,
on a loop that no longer runs ("Event loop is closed"). So a provider keeps its client
here: a new one for each loop, and :meth:`aclose` to close it while its loop still runs.
"""

import asyncio
from collections.abc import Callable
from typing import Any


class PerLoopClient:
    def __init__(self) -> None:
        self._client: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def get(self, build: Callable[[], Any]) -> Any:
        """The running loop's client, built by ``build`` the first time it is needed."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client, self._loop = build(), loop
        return self._client

    async def aclose(self) -> None:
        """Close the client of the running loop, if there is one."""
        client, loop = self._client, self._loop
        if client is None or loop is not asyncio.get_running_loop():
            return
        self._client = self._loop = None
        await client.close()
