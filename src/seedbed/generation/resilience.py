"""Staying fast under a provider's limits: backoff and a circuit breaker (the adaptive
concurrency each provider shares lives with the providers: providers/concurrency.py)."""

import asyncio
import random
import time


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
