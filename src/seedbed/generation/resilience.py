"""Staying fast under a provider's limits: adaptive concurrency, backoff, a breaker."""

import asyncio
import random
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


class CircuitBreaker:
    """Opens after ``threshold`` consecutive failed calls; while open, callers wait for the
    cool-down, then one probe goes through. Each re-opening doubles the cool-down; after
    ``max_openings`` the provider is declared unavailable."""

    def __init__(self, threshold: int = 8, cooldown_seconds: float = 2.0, max_openings: int = 4):
        self.threshold = threshold
        self.cooldown_seconds = cooldown_seconds
        self.max_openings = max_openings
        self.openings = 0
        self._consecutive_failures = 0
        self._open_until = 0.0

    @property
    def exhausted(self) -> bool:
        return self.openings >= self.max_openings

    def record_success(self) -> None:
        self._consecutive_failures = 0
        self.openings = 0

    def record_failure(self) -> None:
        self._consecutive_failures += 1
        if self._consecutive_failures >= self.threshold:
            self.openings += 1
            self._consecutive_failures = 0
            cooldown = self.cooldown_seconds * 2 ** (self.openings - 1)
            self._open_until = time.monotonic() + cooldown

    async def wait_until_closed(self) -> None:
        delay = self._open_until - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


def backoff_seconds(
    attempt: int, retry_after: float | None, base: float = 0.5, cap: float = 30.0
) -> float:
    """How long to wait before retry ``attempt`` (1-based): the server's Retry-After when
    it gave one (plus a little jitter so waiting callers do not return in lockstep),
    else exponential backoff with full jitter."""
    if retry_after is not None:
        return min(cap, retry_after) * random.uniform(1.0, 1.2)
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))
