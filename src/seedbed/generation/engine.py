"""The generation engine: exactly N new, valid, unique samples, or a precise account of
why not.

One run plans calls, keeps up to the provider's concurrency in flight, and judges every
returned sample in one place (the loop below), so the duplicate filter and the counters
need no locks. Calls are planned deterministically from the spec's random seed: call k
always shows the same examples with the same settings, which is what lets the response
cache replay a re-run instead of paying for it again.
"""

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from seedbed.generation.cache import ResponseCache, request_key
from seedbed.generation.dedup import NearDuplicateFilter, sample_text
from seedbed.generation.parsing import parse_samples
from seedbed.generation.pricing import price_of
from seedbed.generation.prompts import generation_messages, prompt_hash, repair_messages
from seedbed.generation.resilience import AdaptiveConcurrency, CircuitBreaker, backoff_seconds
from seedbed.generation.result import (
    ATTEMPTS_EXHAUSTED,
    BUDGET_EXHAUSTED,
    CANCELLED,
    COMPLETED,
    INVALID,
    NO_VALID_SAMPLES,
    PARSE_ERROR,
    PROVIDER_ERROR,
    PROVIDER_UNAVAILABLE,
    SURPLUS,
    GeneratedSample,
    GenerationResult,
    GenerationStats,
    Provenance,
)
from seedbed.generation.schema import batch_schema, infer_item_schema, without_markers
from seedbed.generation.spec import GenerationSpec, SeedItem, seed_items
from seedbed.generation.strategies import split_count
from seedbed.generation.validation import SampleValidator
from seedbed.providers.base import (
    Completion,
    CompletionRequest,
    Message,
    Provider,
    ProviderError,
    ProviderNotConfigured,
    RateLimited,
    TransientProviderError,
    UnknownModel,
    Usage,
)

ProgressCallback = Callable[[GenerationStats], None]
SampleCallback = Callable[[GeneratedSample], None]
# Has the last word on a sample that passed every check: returns None to accept it, or
# the reason it is refused (a job uses it to persist samples, checked against samples
# other workers accepted meanwhile).
Acceptor = Callable[[GeneratedSample], Awaitable[str | None]]

# A reply that is unusable is shown back to the model once with the reason.
_REPAIR_ATTEMPTS = 1
# Temperature offsets cycled across calls, so calls explore differently.
_TEMPERATURE_SPREAD = (0.0, 0.15, -0.1, 0.25, -0.2, 0.1)
# Replies judged before a run that has produced nothing valid is called futile.
_FUTILITY_REPLIES = 4


@dataclass(slots=True)
class _CallPlan:
    index: int
    data_type: str | None
    asked: int
    examples: list[SeedItem]
    temperature: float


@dataclass(slots=True)
class _CallOutcome:
    plan: _CallPlan
    samples: list[Any] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    cost: float = 0.0
    attempt: int = 0
    prompt_hash: str = ""
    cached: bool = False
    failed: bool = False


class GenerationRun:
    def __init__(
        self,
        seeds: Iterable[SeedItem | Mapping[str, Any]],
        spec: GenerationSpec,
        provider: Provider,
        *,
        model: str,
        existing: Iterable[Mapping[str, Any]] = (),
        cache: ResponseCache | None = None,
        concurrency: AdaptiveConcurrency | None = None,
        on_progress: ProgressCallback | None = None,
        on_sample: SampleCallback | None = None,
        should_stop: Callable[[], bool] | None = None,
        accept: Acceptor | None = None,
        already_accepted: Sequence[tuple[Mapping[str, Any], str | None]] = (),
    ) -> None:
        """``already_accepted``: samples (with their data type) of an earlier, interrupted
        run of the same spec; they count toward the target, so a resumed run plans the
        same calls as the first and replays them from the cache."""
        spec.check()
        self.seeds = seed_items(seeds)
        self.spec = spec
        self.provider = provider
        self.model = model  # the provider's own model name
        self.qualified_model = f"{provider.name}/{model}"
        seed_data = [without_markers(seed.data) for seed in self.seeds]
        self.item_schema = infer_item_schema(seed_data, spec.preserve_fields)
        self.validator = SampleValidator(self.item_schema, seed_data)
        self.filter = NearDuplicateFilter(spec.similarity_threshold)
        for item in [*seed_data, *(without_markers(item) for item in existing)]:
            self.filter.add(self._text(item))
        self.cache = cache
        maximum = spec.concurrency or provider.max_concurrency
        self.concurrency = concurrency or AdaptiveConcurrency(maximum)
        self.breaker = CircuitBreaker(spec.breaker_threshold, spec.breaker_cooldown_seconds)
        self.price = price_of(self.qualified_model, spec.prices)
        self.on_progress = on_progress
        self.on_sample = on_sample
        self.should_stop = should_stop or (lambda: False)
        self.accept = accept
        self.stats = GenerationStats(requested=spec.count, unpriced=self.price is None)
        self.samples: list[GeneratedSample] = []
        self._quotas = {
            quota.data_type: quota.count for quota in split_count(spec.count, spec.data_types)
        }
        for data, data_type in already_accepted:
            self.filter.add(self._text(without_markers(data)))
            if data_type in self._quotas:
                self._quotas[data_type] -= 1
        self._asked_in_flight: dict[str | None, int] = {name: 0 for name in self._quotas}
        self._asked_completed = 0
        self._random = random.Random(spec.random_seed)
        self._seed_order: list[int] = []
        self._next_call = 0
        self._last_error = ""
        self._priced_replies = 0  # replies whose usage is counted in stats

    # -- the loop -------------------------------------------------------------------------

    async def run(self) -> GenerationResult:
        started = time.monotonic()
        in_flight: set[asyncio.Task[_CallOutcome]] = set()
        try:
            while True:
                while (plan := self._next_plan(len(in_flight))) is not None:
                    in_flight.add(asyncio.create_task(self._call(plan)))
                if not in_flight:
                    break
                done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                failures = [task.exception() for task in done if task.exception() is not None]
                if failures:  # a configuration error, or a bug in a provider
                    raise failures[0]
                # Calls that finished together are judged in the order they were
                # planned, not in the set's (memory-address) order.
                for outcome in sorted(
                    (task.result() for task in done), key=lambda outcome: outcome.plan.index
                ):
                    await self._judge(outcome)
                self.stats.elapsed_seconds = time.monotonic() - started
                if self.on_progress:
                    self.on_progress(self.stats)
                if self._finished() or self._futile():
                    break
        finally:
            for task in in_flight:
                task.cancel()
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)
        self.stats.elapsed_seconds = time.monotonic() - started
        stop_reason, detail = self._stop_reason()
        return GenerationResult(self.samples, self.stats, stop_reason, detail)

    def _remaining(self, data_type: str | None) -> int:
        return self._quotas[data_type]

    def _reached(self) -> bool:
        return all(remaining <= 0 for remaining in self._quotas.values())

    def _finished(self) -> bool:
        return self._reached() or self.should_stop() or self._provider_down()

    def remember(self, item: Mapping[str, Any]) -> None:
        """Count ``item`` as known from now on (e.g. accepted by another worker)."""
        self.filter.add(self._text(without_markers(item)))

    def _provider_down(self) -> bool:
        """The breaker gave up, or it opened before the provider answered even once (a
        dead endpoint, not a bad patch of a working one)."""
        return self.breaker.exhausted or (self.stats.replies == 0 and self.breaker.openings > 0)

    def _futile(self) -> bool:
        """Nothing valid after several replies: the prompt or the model cannot produce
        the dataset's shape, and more calls would only cost more."""
        rejected = self.stats.rejected
        return (
            self.stats.accepted == 0
            and self.stats.replies >= _FUTILITY_REPLIES
            and rejected[INVALID] + rejected[PARSE_ERROR] > 0
            and self.stats.samples_received == rejected[INVALID]
        )

    # -- planning ---------------------------------------------------------------------------

    def _expected_yield(self) -> float:
        if self._asked_completed < 2 * self.spec.samples_per_call:
            return 1.0
        return min(1.0, max(0.1, self.stats.accepted / self._asked_completed))

    def _next_plan(self, calls_in_flight: int) -> _CallPlan | None:
        if self._finished() or self._budget_exhausted() or self._next_call >= self._call_limit():
            return None
        if self._next_call_could_pass_budget(calls_in_flight):
            return None
        if calls_in_flight >= self.concurrency.limit:
            return None
        expected = self._expected_yield()
        uncovered = {
            name: self._remaining(name) - self._asked_in_flight[name] * expected
            for name in self._quotas
        }
        # Which calls are made depends only on the spec and the call's index while the
        # quotas are open, so an interrupted run, re-run, asks the same questions and the
        # response cache answers them.
        open_types = [name for name, need in uncovered.items() if need > 0]
        if not open_types:
            return None
        index = self._next_call
        data_type = open_types[index % len(open_types)]
        asked = min(self.spec.samples_per_call, self.spec.count)
        self._next_call += 1
        self._asked_in_flight[data_type] += asked
        offset = _TEMPERATURE_SPREAD[index % len(_TEMPERATURE_SPREAD)]
        return _CallPlan(
            index=index,
            data_type=data_type,
            asked=asked,
            examples=self._rotating_examples(),
            temperature=min(2.0, max(0.0, self.spec.temperature + offset)),
        )

    def _rotating_examples(self) -> list[SeedItem]:
        """The next few seeds from a shuffled cycle, so every seed is shown as often as
        any other and neighbouring calls see different ones."""
        wanted = min(self.spec.examples_per_call, len(self.seeds))
        chosen: list[SeedItem] = []
        while len(chosen) < wanted:
            if not self._seed_order:
                self._seed_order = list(range(len(self.seeds)))
                self._random.shuffle(self._seed_order)
            candidate = self.seeds[self._seed_order.pop()]
            if candidate not in chosen:
                chosen.append(candidate)
        return chosen

    def _call_limit(self) -> int:
        if self.spec.budget.max_calls is not None:
            return self.spec.budget.max_calls
        return max(10, 4 * math.ceil(self.spec.count / self.spec.samples_per_call))

    def _next_call_could_pass_budget(self, calls_in_flight: int) -> bool:
        """Whether one more call, with those in flight, is projected to pass a token or
        cost budget, each call costing what the replies so far cost on average. What a
        call costs is known once its reply is in: until then, one call at a time."""
        budget, stats = self.spec.budget, self.stats
        if budget.max_cost is None and budget.max_tokens is None:
            return False
        if self._priced_replies == 0:
            return calls_in_flight > 0
        calls = calls_in_flight + 1
        if budget.max_cost is not None:
            if stats.cost + calls * stats.cost / self._priced_replies > budget.max_cost:
                return True
        if budget.max_tokens is not None:
            tokens = stats.usage.total_tokens
            if tokens + calls * tokens / self._priced_replies > budget.max_tokens:
                return True
        return False

    def _budget_exhausted(self) -> bool:
        budget, stats = self.spec.budget, self.stats
        return (
            (budget.max_calls is not None and stats.calls >= budget.max_calls)
            or (budget.max_tokens is not None and stats.usage.total_tokens >= budget.max_tokens)
            or (budget.max_cost is not None and stats.cost >= budget.max_cost)
        )

    # -- one call ----------------------------------------------------------------------------

    async def _call(self, plan: _CallPlan) -> _CallOutcome:
        outcome = _CallOutcome(plan)
        messages = generation_messages(
            [without_markers(seed.data) for seed in plan.examples],
            plan.asked,
            instructions=self.spec.instructions,
            preserve_fields=self.spec.preserve_fields,
            data_type=plan.data_type,
            custom_prompt=self.spec.custom_prompt,
        )
        outcome.prompt_hash = prompt_hash(messages)
        for attempt in range(1, _REPAIR_ATTEMPTS + 2):
            outcome.attempt = attempt
            completion = await self._complete(plan, messages, outcome)
            if completion is None:
                outcome.failed = True
                return outcome
            parsed = parse_samples(completion.text)
            problem = parsed.error if not parsed.samples else self._problem_of_all(parsed.samples)
            if not parsed.samples:
                self.stats.rejected[PARSE_ERROR] += 1
            if problem is None or attempt > _REPAIR_ATTEMPTS:
                outcome.samples = parsed.samples
                return outcome
            if parsed.samples:  # all invalid: judge them now, then ask again
                self._count_invalid(parsed.samples)
            messages = repair_messages(messages, completion.text, problem)
        return outcome

    def _problem_of_all(self, samples: list[Any]) -> str | None:
        """A reason when no sample of a reply is valid (the model misunderstood)."""
        problems = [self.validator.problem(self._normalized(sample)) for sample in samples]
        return None if any(problem is None for problem in problems) else problems[0]

    def _count_invalid(self, samples: list[Any]) -> None:
        self.stats.samples_received += len(samples)
        self.stats.rejected[INVALID] += len(samples)

    async def _complete(
        self, plan: _CallPlan, messages: tuple[Message, ...], outcome: _CallOutcome
    ) -> Completion | None:
        request = CompletionRequest(
            model=self.model,
            messages=messages,
            temperature=plan.temperature,
            top_p=self.spec.top_p,
            max_tokens=self.spec.max_tokens,
            json_schema=batch_schema(self.item_schema, plan.asked),
            seed=self.spec.random_seed * 1_000_003 + plan.index,
            timeout_seconds=self.spec.call_timeout_seconds,
        )
        key = request_key(self.provider.name, request)
        if self.cache is not None and (cached := await self.cache.get(key)) is not None:
            self.stats.cached_calls += 1
            self.stats.replies += 1
            outcome.cached = True
            return cached
        for retry in range(self.spec.max_retries + 1):
            if retry and self._budget_exhausted():
                return None
            try:
                completion = await self._attempt(request, retry)
            except _PermanentFailure:
                return None
            if completion is not None:
                self._account(completion.usage, outcome)
                if self.cache is not None:
                    await self.cache.put(key, completion)
                return completion
            if self._provider_down():
                return None
        return None

    async def _attempt(self, request: CompletionRequest, retry: int) -> Completion | None:
        await self.breaker.wait_until_closed()
        await self.concurrency.acquire()
        retry_after: float | None = None
        try:
            self.stats.calls += 1
            completion = await asyncio.wait_for(
                self.provider.complete(request), timeout=self.spec.call_timeout_seconds
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
            elif not isinstance(error, TransientProviderError | asyncio.TimeoutError):
                raise _PermanentFailure(error) from error
        else:
            self.breaker.record_success()
            await self.concurrency.on_success()
            self.stats.replies += 1
            return completion
        finally:
            await self.concurrency.release()
        await asyncio.sleep(backoff_seconds(retry + 1, retry_after))
        return None

    def _record_failure(self, error: BaseException) -> None:
        self.stats.rejected[PROVIDER_ERROR] += 1
        self._last_error = (
            str(error) or f"the call timed out after {self.spec.call_timeout_seconds:g} s"
        )
        self.breaker.record_failure()

    def _account(self, usage: Usage, outcome: _CallOutcome) -> None:
        cost = self.price.cost(usage) if self.price else 0.0
        outcome.usage = outcome.usage + usage
        outcome.cost += cost
        self.stats.usage = self.stats.usage + usage
        self.stats.cost += cost
        self._priced_replies += 1

    # -- judging samples -------------------------------------------------------------------

    async def _judge(self, outcome: _CallOutcome) -> None:
        plan = outcome.plan
        self._asked_in_flight[plan.data_type] -= plan.asked
        self._asked_completed += plan.asked
        share = 1 / max(1, len(outcome.samples))
        for raw in outcome.samples:
            self.stats.samples_received += 1
            verdict, sample = self._verdict(raw, plan.data_type)
            accepted = GeneratedSample(sample, self._provenance(outcome, share))
            if verdict is None and self.accept is not None:
                verdict = await self.accept(accepted)
            if verdict is not None:
                self.stats.rejected[verdict] += 1
                continue
            self.filter.add(self._text(sample))
            self._quotas[plan.data_type] -= 1
            self.stats.accepted += 1
            self.samples.append(accepted)
            if self.on_sample:
                self.on_sample(accepted)

    def _verdict(self, raw: Any, data_type: str | None) -> tuple[str | None, dict[str, Any]]:
        sample = self._normalized(raw)
        if self.validator.problem(sample) is not None:
            return INVALID, sample
        text = self._text(sample)
        repeated = self.filter.verdict(text)
        if repeated is not None:
            return repeated, sample
        if self._quotas[data_type] <= 0:
            return SURPLUS, sample
        return None, sample

    def _normalized(self, raw: Any) -> Any:
        return self.validator.normalized(raw) if isinstance(raw, Mapping) else raw

    def _text(self, item: Mapping[str, Any]) -> str:
        return sample_text(item, self.spec.preserve_fields)

    def _provenance(self, outcome: _CallOutcome, share: float) -> Provenance:
        plan = outcome.plan
        return Provenance(
            seed_item_ids=tuple(seed.id for seed in plan.examples if seed.id is not None),
            model=self.qualified_model,
            provider=self.provider.name,
            prompt_hash=outcome.prompt_hash,
            call_index=plan.index,
            attempt=outcome.attempt,
            data_type=plan.data_type,
            strategy="custom_prompt" if self.spec.custom_prompt else "few_shot_variation",
            prompt_tokens=outcome.usage.prompt_tokens * share,
            completion_tokens=outcome.usage.completion_tokens * share,
            cost=outcome.cost * share,
            cached=outcome.cached,
        )

    # -- the end -----------------------------------------------------------------------------

    def _stop_reason(self) -> tuple[str, str]:
        stats, rejected = self.stats, self.stats.rejected
        if self._reached():
            return COMPLETED, ""
        made = self.spec.count - sum(max(0, remaining) for remaining in self._quotas.values())
        short = f"generated {made} of {self.spec.count} samples"
        if self.should_stop():
            return CANCELLED, f"{short}: the run was cancelled"
        if self._provider_down() or (stats.replies == 0 and rejected[PROVIDER_ERROR] > 0):
            return PROVIDER_UNAVAILABLE, f"{short}: the provider kept failing ({self._last_error})"
        if self._budget_exhausted() or self._next_call_could_pass_budget(calls_in_flight=0):
            return (
                BUDGET_EXHAUSTED,
                f"{short}: the budget ({_describe_budget(self.spec)}) is used up",
            )
        if self._futile():
            return NO_VALID_SAMPLES, (
                f"{short}: none of the {stats.replies} replies held a sample in the seeds'"
                f" shape ({rejected[INVALID]} invalid samples, {rejected[PARSE_ERROR]}"
                " unreadable replies); check the model or the custom prompt"
            )
        return (
            ATTEMPTS_EXHAUSTED,
            f"{short}: gave up after {self._next_call} calls ({_describe_rejections(rejected)})",
        )


class _PermanentFailure(Exception):
    """A provider error that retrying will not fix (a 400, say); the call is dropped."""

    def __init__(self, error: ProviderError) -> None:
        super().__init__(str(error))
        self.error = error


def _describe_budget(spec: GenerationSpec) -> str:
    budget = spec.budget
    parts = [
        f"max_tokens={budget.max_tokens}" if budget.max_tokens is not None else "",
        f"max_cost={budget.max_cost}" if budget.max_cost is not None else "",
        f"max_calls={budget.max_calls}" if budget.max_calls is not None else "",
    ]
    return ", ".join(part for part in parts if part)


def _describe_rejections(rejected: Mapping[str, int]) -> str:
    return (
        ", ".join(
            f"{count} {reason.replace('_', ' ')}"
            for reason, count in sorted(rejected.items())
            if count
        )
        or "no replies"
    )
