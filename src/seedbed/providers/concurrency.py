"""How many calls a provider has in flight: one limit shared by every run on that
provider, cut on rate limits and grown back on successes."""

import asyncio
import time


class AdaptiveConcurrency:
    """At most ``limit`` calls in flight. A rate-limit answer cuts the limit by a fifth
    (once per cooling period, so one burst of 429s is one signal); successes grow it back
    by one call per half-limit successes, up to the configured maximum (AIMD, as TCP,
    gentler: providers also send isolated 429s that are not a sign of overload)."""

    def __init__(self, maximum: int, cooling_seconds: float = 2.0) -> None:
        self.maximum = max(1, maximum)
        self._limit = float(self.maximum)
        self._in_flight = 0
        self._cooling_seconds = cooling_seconds
        self._last_cut = -cooling_seconds
        self._changed = asyncio.Condition()

    @property
    def limit(self) -> int:
        return max(1, int(self._limit))

    @property
    def free_slots(self) -> int:
        return max(0, self.limit - self._in_flight)

    async def acquire(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self._in_flight < self.limit)
            self._in_flight += 1

    async def release(self) -> None:
        async with self._changed:
            self._in_flight -= 1
            self._changed.notify_all()

    def on_rate_limited(self) -> None:
        now = time.monotonic()
        if now - self._last_cut >= self._cooling_seconds:
            self._limit = max(1.0, self._limit * 0.8)
            self._last_cut = now

    async def on_success(self) -> None:
        async with self._changed:
            self._limit = min(float(self.maximum), self._limit + 2 / self._limit)
            self._changed.notify_all()
