"""The generation engine: exactly N new samples a person would keep, or a precise account
of why not.

A run ties together parts that each have one home:

- the **planner** (planner.py, axes.py) decides every call before any reply is seen;
- the **caller** (calls.py) makes a call well: cache, retries, breaker, concurrency,
  timeout, accounting, each failure under its reason;
- the **judge** (judge.py) is the one place that decides about a sample;
- **budgets** (budget.py) stop a run cleanly;
- a **sink** is how the outside world hears of the run: the samples of each reply to
  store (a job stores them in one transaction and may refuse some), samples others
  accepted meanwhile, and progress.

The loop below keeps up to the provider's concurrency in flight and judges replies in the
order their calls were planned, so the judge and the counters need no locks.
"""

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from seedbed.generation.axes import plan_axes
from seedbed.generation.budget import Budgets
from seedbed.generation.cache import ResponseCache
from seedbed.generation.calls import (
    DEFAULT_CALL_TIMEOUT_SECONDS,
    PLANNING_TOPICS,
    Caller,
    PermanentFailure,
)
from seedbed.generation.judge import Critic, Judge
from seedbed.generation.meter import generation_meter
from seedbed.generation.parsing import parse_samples
from seedbed.generation.planner import CallPlan, Planner
from seedbed.generation.pricing import price_of
from seedbed.generation.prompts import generation_messages, prompt_hash, repair_messages
from seedbed.generation.report import QualityReport, quality_report
from seedbed.generation.resilience import CircuitBreaker
from seedbed.generation.result import (
    ATTEMPTS_EXHAUSTED,
    BUDGET_EXHAUSTED,
    CANCELLED,
    COMPLETED,
    INVALID,
    NO_VALID_SAMPLES,
    PROVIDER_UNAVAILABLE,
    SURPLUS,
    UNPARSEABLE,
    GeneratedSample,
    GenerationResult,
    GenerationStats,
    Provenance,
)
from seedbed.generation.schema import (
    batch_schema,
    in_key_order,
    infer_item_schema,
    labels_first,
    with_closed_sets,
    without_markers,
)
from seedbed.generation.shape import infer_shape
from seedbed.generation.spec import GenerationSpec, SeedItem, seed_items
from seedbed.generation.topics import (
    describe_samples,
    parse_topics,
    topic_key,
    topic_request,
    topics_planned,
    without_topic,
)
from seedbed.providers.base import Completion, CompletionRequest, Message, Provider, Usage
from seedbed.providers.concurrency import AdaptiveConcurrency

# A reply that is unusable is shown back to the model once with the reason.
_REPAIR_ATTEMPTS = 1
# Replies judged before a run that has produced nothing valid is called futile.
_FUTILITY_REPLIES = 4
# How often a run reports progress while its calls are still running.
_PROGRESS_SECONDS = 1.0


ProgressCallback = Callable[[GenerationStats], None]
SampleCallback = Callable[[GeneratedSample], None]


class GenerationSink(Protocol):
    """Where a run's results go as they arrive. Every method is awaited on the run's
    event loop: a sink that writes to a database does so off the loop."""

    async def news(self) -> Sequence[Mapping[str, Any]]:
        """Samples accepted elsewhere (another worker) since the last call."""
        ...

    async def store(self, samples: Sequence[GeneratedSample]) -> list[str | None]:
        """Keep one reply's accepted samples; for each, None, or why it was refused
        (``duplicate``, ``surplus``, ``cancelled``)."""
        ...

    async def progress(self, stats: GenerationStats) -> None: ...

    def stopped(self) -> bool:
        """True when the run should end now (cancelled, or the job has all it needs)."""
        ...


class KeepingSink:
    """The sink of a run that keeps its samples in memory (the library, the expansions
    endpoint, the CLI): it stores everything and reports progress to optional callbacks."""

    def __init__(
        self, on_progress: ProgressCallback | None = None, on_sample: SampleCallback | None = None
    ) -> None:
        self.on_progress = on_progress
        self.on_sample = on_sample

    async def news(self) -> Sequence[Mapping[str, Any]]:
        return ()

    async def store(self, samples: Sequence[GeneratedSample]) -> list[str | None]:
        if self.on_sample is not None:
            for sample in samples:
                self.on_sample(sample)
        return [None] * len(samples)

    async def progress(self, stats: GenerationStats) -> None:
        if self.on_progress is not None:
            self.on_progress(stats)

    def stopped(self) -> bool:
        return False


@dataclass(slots=True)
class _Reply:
    plan: CallPlan
    samples: list[Any] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    attempt: int = 0
    prompt_hash: str = ""
    cached: bool = False
    answers: int = 0  # replies of the provider (or the cache): a repair is a second


class GenerationRun:
    def __init__(
        self,
        seeds: Iterable[SeedItem | Mapping[str, Any]],
        spec: GenerationSpec,
        provider: Provider,
        *,
        model: str,
        existing: Iterable[Mapping[str, Any]] = (),
        held_out: Iterable[Mapping[str, Any]] = (),
        cache: ResponseCache | None = None,
        concurrency: AdaptiveConcurrency | None = None,
        sink: GenerationSink | None = None,
        critic: Critic | None = None,
        already_accepted: Sequence[tuple[Mapping[str, Any], str | None]] = (),
    ) -> None:
        """``existing``: items the samples must not repeat (the dataset). ``held_out``:
        items never shown to the model, that no sample may come close to.
        ``already_accepted``: samples (with their data type) of an earlier, interrupted
        run of the same spec; they count toward the target, so a resumed run plans the
        same calls as the first and replays them from the cache."""
        spec.check()
        if spec.random_seed is None:
            raise ValueError("a run needs a resolved random_seed (see generation.factory)")
        self.seeds = seed_items(seeds)
        self.spec = spec
        self.provider = provider
        self.model = model  # the provider's own model name
        self.qualified_model = f"{provider.name}/{model}"
        self.seed_data = [without_markers(seed.data) for seed in self.seeds]
        self.shape = infer_shape(
            self.seed_data, open_fields=spec.allow_new_values, ignored_fields=spec.preserve_fields
        )
        schema = infer_item_schema(self.seed_data, spec.preserve_fields)
        # What a reply is held to: the closed sets, and the labels written before the text.
        self.item_schema = labels_first(
            with_closed_sets(schema, self.shape.closed_sets), self.shape.closed_sets
        )
        self._reply_key_order = list(self.item_schema.get("properties", {}))
        self._topic_key = topic_key(self.item_schema)
        self.judge = Judge(
            self.seed_data,
            item_schema=schema,  # closed sets are the judge's own rule (out_of_set)
            shape=self.shape,
            preserve_fields=spec.preserve_fields,
            threshold=spec.similarity_threshold,
            known=[without_markers(item) for item in existing],
            held_out=[without_markers(item) for item in held_out],
            critic=critic,
        )
        for data, _ in already_accepted:
            self.judge.remember(without_markers(data))
        self.axes = plan_axes(self.shape, vary=spec.vary, evolutions=spec.evolutions)
        # Axis name → the field it fixes, for the axes that fix a label.
        self._label_fields = {
            axis.name: axis.fixed_field for axis in self.axes if axis.fixed_field is not None
        }
        self.planner = Planner(
            self.seeds,
            spec,
            self.axes,
            random_seed=spec.random_seed,
            already_accepted=[data_type for _, data_type in already_accepted],
        )
        self.stats = GenerationStats(requested=spec.count)
        self.budgets = Budgets(spec.budget, self.stats)
        price = price_of(self.qualified_model, spec.prices)
        self.stats.unpriced = price is None
        timeout = spec.call_timeout_seconds
        if timeout is None:
            timeout = getattr(provider, "timeout_seconds", DEFAULT_CALL_TIMEOUT_SECONDS)
        self.caller = Caller(
            provider,
            stats=self.stats,
            budgets=self.budgets,
            price=price,
            cache=cache,
            concurrency=concurrency
            or AdaptiveConcurrency(spec.concurrency or provider.max_concurrency),
            breaker=CircuitBreaker(spec.breaker_threshold, spec.breaker_cooldown_seconds),
            max_retries=spec.max_retries,
            timeout_seconds=timeout,
        )
        self.sink = sink or KeepingSink()
        self.samples: list[GeneratedSample] = []
        # Replies judged so far: calls may have replied meanwhile (``stats.replies``)
        # while their samples wait to be judged.
        self.replies_judged = 0

    # -- the loop -------------------------------------------------------------------------

    async def run(self) -> GenerationResult:
        started = time.monotonic()
        in_flight: set[asyncio.Task[_Reply | None]] = set()
        try:
            if topics_planned(self.spec) and not self._finished():
                await self._plan_topics(started)
            while True:
                while (plan := self._next_plan(len(in_flight))) is not None:
                    in_flight.add(asyncio.create_task(self._call(plan)))
                if not in_flight:
                    break
                done, in_flight = await self._wait_for_news(in_flight)
                failures = [task.exception() for task in done if task.exception() is not None]
                if failures:  # a configuration error, or a bug in a provider
                    raise failures[0]
                # Calls that finished together are judged in the order they were planned.
                for reply in sorted(
                    (task.result() for task in done), key=lambda reply: reply.plan.index
                ):
                    await self._judge_reply(reply)
                    self.replies_judged += reply.answers
                self.stats.elapsed_seconds = time.monotonic() - started
                self.stats.planned = self.planner.planned()
                await self.sink.progress(self.stats)
                if self._finished() or self._futile():
                    break
        finally:
            for task in in_flight:
                task.cancel()
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)
        self.stats.elapsed_seconds = time.monotonic() - started
        self.stats.stage = ""
        self.stats.planned = self.planner.planned()
        generation_meter.record(self.provider.name, self.stats)
        stop_reason, detail = self._stop_reason()
        return GenerationResult(self.samples, self.stats, stop_reason, detail)

    async def _wait_for_news(self, in_flight: set[asyncio.Task]) -> tuple[set, set]:
        """Until a call ends, a call frees its slot to wait out a backoff (so another can
        start), or it is time to report progress."""
        self.caller.slot_freed.clear()
        freed = asyncio.ensure_future(self.caller.slot_freed.wait())
        try:
            done, _ = await asyncio.wait(
                {*in_flight, freed}, timeout=_PROGRESS_SECONDS, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            freed.cancel()
        done.discard(freed)
        return done, in_flight - done

    def report(self) -> QualityReport:
        """The quality report of what this run accepted."""
        return quality_report(
            self.seed_data,
            [sample.data for sample in self.samples],
            qualities=[sample.quality for sample in self.samples],
            stats=self.stats,
            shape=self.shape,
            axes=self.axes,
            axis_values=[sample.provenance.axis for sample in self.samples],
            topics=[sample.provenance.topic for sample in self.samples],
            data_types=[sample.provenance.data_type for sample in self.samples],
            planned=self.planner.asked_by_cell,
            ignored_fields=self.spec.preserve_fields,
        )

    def _finished(self) -> bool:
        return self.planner.reached() or self.sink.stopped() or self.caller.provider_down()

    def _futile(self) -> bool:
        """Nothing valid after several replies: the prompt or the model cannot produce
        the dataset's shape, and more calls would only cost more."""
        rejected = self.stats.rejected
        return (
            self.stats.accepted == 0
            and self.replies_judged >= _FUTILITY_REPLIES
            and rejected[INVALID] + rejected[UNPARSEABLE] > 0
            and self.stats.samples_received == rejected[INVALID]
        )

    def _next_plan(self, calls_in_flight: int) -> CallPlan | None:
        if self._finished() or self.budgets.exhausted():
            return None
        if self.budgets.next_call_could_pass(calls_in_flight):
            return None
        # A call waiting out a backoff holds no slot: the next planned call takes it.
        if calls_in_flight - self.caller.backing_off >= self.caller.concurrency.limit:
            return None
        return self.planner.next_call()

    # -- one call ----------------------------------------------------------------------------

    async def _call(self, plan: CallPlan) -> _Reply:
        reply = _Reply(plan)
        messages = generation_messages(
            # Shown in the order a reply writes them: labels first.
            [
                in_key_order(without_markers(seed.data), self._reply_key_order)
                for seed in plan.examples
            ],
            plan.asked,
            instructions=self.spec.instructions,
            preserve_fields=self.spec.preserve_fields,
            data_type=plan.data_type,
            custom_prompt=self.spec.custom_prompt,
            closed_sets=self.shape.closed_sets,
            axis=self._axis_lines(plan),
        )
        reply.prompt_hash = prompt_hash(messages)
        schema = batch_schema(
            self.item_schema,
            plan.asked,
            self.planner.slot_fields(plan),
            plan.topics,
            self._topic_key,
        )
        for attempt in range(1, _REPAIR_ATTEMPTS + 2):
            reply.attempt = attempt
            completion = await self._complete(plan, messages, schema, reply)
            if completion is None:
                return reply
            reply.answers += 1
            parsed = parse_samples(completion.text)
            samples = [without_topic(sample, self._topic_key) for sample in parsed.samples]
            problem = parsed.error if not samples else self._problem_of_all(samples)
            if not samples:
                self.stats.rejected[UNPARSEABLE] += 1
            if problem is None or attempt > _REPAIR_ATTEMPTS:
                reply.samples = samples
                return reply
            if samples:  # all invalid: count them now, then ask again
                self.stats.samples_received += len(samples)
                self.stats.rejected[INVALID] += len(samples)
            messages = repair_messages(messages, completion.text, problem)
        return reply

    async def _plan_topics(self, started: float) -> None:
        """Ask once for what the samples will be about (topics.py); without an answer
        the run goes on without topics."""
        request, labels = topic_request(
            self.seed_data,
            self.axes,
            self.spec,
            model=self.model,
            timeout_seconds=self.caller.timeout_seconds,
        )
        self.planner.planning_calls += 1
        self.stats.stage = PLANNING_TOPICS
        call = asyncio.create_task(self.caller.complete(request, planning=True))
        try:
            # A local model takes a while to write them: progress goes on meanwhile.
            while not call.done() and not self.sink.stopped():
                await asyncio.wait({call}, timeout=_PROGRESS_SECONDS)
                self.stats.elapsed_seconds = time.monotonic() - started
                await self.sink.progress(self.stats)
        finally:
            if not call.done():
                call.cancel()
                await asyncio.gather(call, return_exceptions=True)
        self.stats.stage = ""
        answered = None
        if not call.cancelled() and not isinstance(call.exception(), PermanentFailure):
            answered = call.result()
        if answered is not None:
            self.planner.use_topics(parse_topics(answered[0].text, labels))

    def _axis_lines(self, plan: CallPlan) -> list[str]:
        lines = []
        for axis in self.axes:
            if axis.name in plan.axis:
                lines.append(axis.describe(plan.axis[axis.name]))
            elif plan.slots and axis.name in plan.slots[0] and not plan.topics:
                lines.append(axis.describe_slots([slot[axis.name] for slot in plan.slots]))
        if plan.topics:  # one line for each sample's labels and topic
            lines.insert(0, describe_samples(plan.slots, plan.topics, self._label_fields))
        return lines

    def _problem_of_all(self, samples: list[Any]) -> str | None:
        """A reason when no sample of a reply is in the seeds' shape (the model
        misunderstood)."""
        problems = [self.judge.shape_problem(self.judge.normalized(sample)) for sample in samples]
        return None if any(problem is None for problem in problems) else problems[0]

    async def _complete(
        self,
        plan: CallPlan,
        messages: tuple[Message, ...],
        schema: Mapping[str, Any],
        reply: _Reply,
    ) -> Completion | None:
        request = CompletionRequest(
            model=self.model,
            messages=messages,
            temperature=plan.temperature,
            top_p=self.spec.top_p,
            max_tokens=self.spec.max_tokens,
            json_schema=schema,
            seed=self.spec.random_seed * 1_000_003 + plan.index,
            timeout_seconds=self.caller.timeout_seconds,
        )
        try:
            answered = await self.caller.complete(request)
        except PermanentFailure:
            return None
        if answered is None:
            return None
        completion, usage, cached = answered
        reply.usage = reply.usage + usage
        reply.cached = reply.cached or cached
        return completion

    # -- judging a reply ---------------------------------------------------------------------

    async def _judge_reply(self, reply: _Reply) -> None:
        plan = reply.plan
        self.planner.settled(plan)
        for item in await self.sink.news():
            self.judge.remember(without_markers(item))
        share = 1 / max(1, len(reply.samples))
        candidates: list[GeneratedSample] = []
        for position, raw in enumerate(reply.samples):
            self.stats.samples_received += 1
            sample = self.judge.normalized(raw)
            verdict = self.judge.by_rules(sample)
            if verdict.accepted and not self.planner.open_for(plan.data_type):
                self.stats.rejected[SURPLUS] += 1
                continue
            if verdict.accepted:
                verdict = await self.judge.reviewed(sample, verdict, plan.data_type)
            if not verdict.accepted:
                self.stats.rejected[verdict.reason] += 1
                continue
            self.judge.remember(sample)
            self.planner.take(plan.data_type)
            candidates.append(
                GeneratedSample(
                    sample, self._provenance(reply, share, sample, position), verdict.quality
                )
            )
        if not candidates:
            return
        refusals = await self.sink.store(candidates)
        for candidate, refusal in zip(candidates, refusals, strict=True):
            if refusal is None:
                self.stats.accepted += 1
                self.samples.append(candidate)
            else:
                self.stats.rejected[refusal] += 1
                self.planner.give_back(plan.data_type)

    def _provenance(
        self, reply: _Reply, share: float, sample: Mapping[str, Any], position: int
    ) -> Provenance:
        plan = reply.plan
        # The labels it carries: a provider without structured output may not keep its slot's.
        axis = {
            **plan.axis,
            **{
                name: str(sample[path])
                for name, path in self._label_fields.items()
                if path in sample
            },
        }
        cost = self.caller.cost_of(reply.usage)
        return Provenance(
            seed_item_ids=tuple(seed.id for seed in plan.examples if seed.id is not None),
            model=self.qualified_model,
            provider=self.provider.name,
            prompt_hash=reply.prompt_hash,
            call_index=plan.index,
            attempt=reply.attempt,
            data_type=plan.data_type,
            strategy="custom_prompt" if self.spec.custom_prompt else "few_shot_variation",
            prompt_tokens=reply.usage.prompt_tokens * share,
            completion_tokens=reply.usage.completion_tokens * share,
            cost=cost * share,
            cached=reply.cached,
            axis=axis,
            topic=plan.topics[position] if position < len(plan.topics) else None,
        )

    # -- the end -----------------------------------------------------------------------------

    def _stop_reason(self) -> tuple[str, str]:
        stats, rejected = self.stats, self.stats.rejected
        if self.planner.reached():
            return COMPLETED, ""
        short = f"generated {self.planner.made()} of {self.spec.count} samples"
        if self.sink.stopped():
            return CANCELLED, f"{short}: the run was cancelled"
        if self.caller.provider_down() or (stats.replies == 0 and stats.failed_attempts > 0):
            return PROVIDER_UNAVAILABLE, (
                f"{short}: the provider kept failing ({self.caller.last_error})"
            )
        if self.budgets.exhausted() or self.budgets.next_call_could_pass(calls_in_flight=0):
            return BUDGET_EXHAUSTED, f"{short}: the budget ({self.budgets.describe()}) is used up"
        if self._futile():
            return NO_VALID_SAMPLES, (
                f"{short}: none of the {self.replies_judged} replies held a sample in the seeds'"
                f" shape ({rejected[INVALID]} invalid samples, {rejected[UNPARSEABLE]}"
                " unreadable replies); check the model or the custom prompt"
            )
        return ATTEMPTS_EXHAUSTED, (
            f"{short}: gave up after {self.planner.calls_made} calls"
            f" ({_describe_rejections(rejected)})"
        )


def _describe_rejections(rejected: Mapping[str, int]) -> str:
    return (
        ", ".join(
            f"{count} {reason.replace('_', ' ')}"
            for reason, count in sorted(rejected.items())
            if count
        )
        or "no replies"
    )
