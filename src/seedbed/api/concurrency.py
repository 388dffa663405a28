"""At most so many requests working at once; the others wait their turn, without a
thread or a database connection.

A request takes its unit of work's connection and then, to check its API key, a second
one. With more requests at work than connections allow, each could hold one and wait
for another that nobody gives back: the server stood still until the pool's timeout.
A request is counted from its arrival (after its body was read) to the start of its
response: by then its units of work have ended, so a long response (a stream of
events, a download) does not keep others waiting.
"""

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ConcurrentRequestLimit:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._semaphores: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}

    def _semaphore(self) -> asyncio.Semaphore:
        # One per event loop: tests run one app in several loops, one after the other.
        loop = asyncio.get_running_loop()
        if loop not in self._semaphores:
            self._semaphores = {loop: asyncio.Semaphore(self.limit)}
        return self._semaphores[loop]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        semaphore = self._semaphore()
        await semaphore.acquire()
        working = True

        def done() -> None:
            nonlocal working
            if working:
                working = False
                semaphore.release()

        async def send_then_let_the_next_in(message: Message) -> None:
            if message["type"] == "http.response.start":
                done()
            await send(message)

        try:
            await self.app(scope, receive, send_then_let_the_next_in)
        finally:
            done()
