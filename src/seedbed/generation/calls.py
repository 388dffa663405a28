"""Making one provider call well: the response cache, retries with backoff, the circuit
breaker, adaptive concurrency, a timeout, and the account of tokens and cost.

Each failed attempt is counted under its reason — ``timeout``, ``rate_limited``,
``server_error`` or ``provider_error`` (a refusal that retrying will not fix) — so a run's
account says what went wrong, not only that something did.
"""

import asyncio
import threading
from collections.abc import Callable

from seedbed.generation.budget import Budgets
from seedbed.generation.cache import ResponseCache, request_key
from seedbed.generation.pricing import Price
from seedbed.generation.resilience import CircuitBreaker, backoff_seconds
from seedbed.generation.result import (
    PROVIDER_ERROR,
    RATE_LIMITED,
    SERVER_ERROR,
    TIMEOUT,
    GenerationStats,
)
from seedbed.providers.base import (
    Completion,
    CompletionRequest,
    Provider,
    ProviderError,
    ProviderNotConfigured,
    RateLimited,
    TransientProviderError,
    UnknownModel,
    Usage,
)
from seedbed.providers.concurrency import AdaptiveConcurrency
from seedbed.providers.progress import WRITING, CallProgress, listening

# The stage a run shows while the call that plans its topics (topics.py) is written.
PLANNING_TOPICS = "planning_topics"

# Used when neither the run nor the provider sets a timeout.
DEFAULT_CALL_TIMEOUT_SECONDS = 120.0


class PermanentFailure(Exception):
    """A provider error that retrying will not fix (a 400, say); the call is dropped."""


class Caller:
    def __init__(
        self,
        provider: Provider,
        *,
        stats: GenerationStats,
        budgets: Budgets,
        price: Price | None,
        cache: ResponseCache | None,
        concurrency: AdaptiveConcurrency,
        breaker: CircuitBreaker,
        max_retries: int,
        timeout_seconds: float | None,
    ) -> None:
        self.provider = provider
        self.stats = stats
        self.budgets = budgets
        self.price = price
        self.cache = cache
        self.concurrency = concurrency
        self.breaker = breaker
        self.max_retries = max_retries
        self.timeout_seconds = timeout_seconds
        self.last_error = ""
        self.backing_off = 0  # calls waiting out a backoff: they hold no slot meanwhile
        self.slot_freed = asyncio.Event()  # set when a call starts waiting out a backoff
        self._writing: dict[int, int] = {}  # running call → tokens written so far
        self._writing_lock = threading.Lock()  # listeners run in providers' threads

    def provider_down(self) -> bool:
        """The breaker gave up, or it opened before the provider answered even once (a
        dead endpoint, not a bad patch of a working one)."""
        return self.breaker.exhausted or (self.stats.replies == 0 and self.breaker.openings > 0)

    async def complete(
        self, request: CompletionRequest, *, planning: bool = False
    ) -> tuple[Completion, Usage, bool] | None:
        """The reply, what it cost in tokens, and whether it came from the cache; None when
        every attempt failed or the budget ran out between retries. ``planning``: the
        call plans the run (its topics) rather than asking for samples: it shows its own
        stage while the model writes, and the budgets do not take it for a typical call."""
        writing = PLANNING_TOPICS if planning else WRITING
        key = request_key(self.provider.name, request)
        if self.cache is not None and (cached := await self.cache.get(key)) is not None:
            self.stats.cached_calls += 1
            self.stats.replies += 1
            return cached, Usage(), True
        for retry in range(self.max_retries + 1):
            if retry and self.budgets.exhausted():
                return None
            completion = await self._attempt(request, retry, writing)
            if completion is not None:
                self._account(completion.usage, planning)
                if self.cache is not None:
                    await self.cache.put(key, completion)
                return completion, completion.usage, False
            if self.provider_down():
                return None
        return None

    def cost_of(self, usage: Usage) -> float:
        return self.price.cost(usage) if self.price else 0.0

    async def _attempt(
        self, request: CompletionRequest, retry: int, writing: str
    ) -> Completion | None:
        await self.breaker.wait_until_closed()
        await self.concurrency.acquire()
        retry_after: float | None = None
        call = id(asyncio.current_task())
        try:
            self.stats.calls += 1
            with listening(self._listener(call, writing)):
                completion = await asyncio.wait_for(
                    self.provider.complete(request), timeout=self.timeout_seconds
                )
        except asyncio.CancelledError:
            self.stats.abandoned_calls += 1
            raise
        except (ProviderNotConfigured, UnknownModel):
            raise
        except (TimeoutError, ProviderError) as error:
            self._record_failure(error)
            if isinstance(error, RateLimited):
                self.concurrency.on_rate_limited()
                retry_after = error.retry_after
            elif not isinstance(error, TransientProviderError | TimeoutError):
                raise PermanentFailure(str(error)) from error
        else:
            self.breaker.record_success()
            await self.concurrency.on_success()
            self.stats.replies += 1
            return completion
        finally:
            self._note_tokens(call, None)
            await self.concurrency.release()
        self.backing_off += 1
        self.slot_freed.set()
        try:
            await asyncio.sleep(backoff_seconds(retry + 1, retry_after))
        finally:
            self.backing_off -= 1
        return None

    def _listener(self, call: int, writing: str) -> Callable[[CallProgress], None]:
        """Keeps the running calls' stage and token counts in the stats; it may run in the
        provider's worker thread, so it only assigns."""

        def heard(progress: CallProgress) -> None:
            self.stats.stage = writing if progress.stage == WRITING else progress.stage
            self._note_tokens(call, progress.completion_tokens)

        return heard

    def _note_tokens(self, call: int, tokens: int | None) -> None:
        with self._writing_lock:
            if tokens is None:
                self._writing.pop(call, None)
            else:
                self._writing[call] = tokens
            self.stats.tokens_in_flight = sum(self._writing.values())

    def _record_failure(self, error: BaseException) -> None:
        self.stats.rejected[_failure_reason(error)] += 1
        self.last_error = str(error) or self._unnamed_failure(error)
        self.breaker.record_failure()

    def _unnamed_failure(self, error: BaseException) -> str:
        if self.timeout_seconds is not None and _failure_reason(error) == "timeout":
            return f"the call timed out after {self.timeout_seconds:g} s"
        return f"the call failed ({type(error).__name__})"

    def _account(self, usage: Usage, planning: bool) -> None:
        self.stats.usage = self.stats.usage + usage
        self.stats.cost += self.cost_of(usage)
        if planning:
            self.budgets.planned_with(usage, self.cost_of(usage))
        else:
            self.budgets.priced_replies += 1


def _failure_reason(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return TIMEOUT
    if isinstance(error, RateLimited):
        return RATE_LIMITED
    if isinstance(error, TransientProviderError):
        if "timed out" in str(error).lower() or "timeout" in str(error).lower():
            return TIMEOUT
        return SERVER_ERROR
    return PROVIDER_ERROR
