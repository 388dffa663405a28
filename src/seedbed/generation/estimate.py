"""A pre-flight estimate of a generation run: its calls, tokens, cost and duration,
before anything is paid for.

It plans the way the engine does: calls asking ``samples_per_call`` samples each, every
call showing ``examples_per_call`` seeds in the prompt the engine renders, priced by the
same table. What only the run can know is assumed, and each assumption is listed in the
estimate so the page can show it:

- a share of the samples returned fails the judge (duplicates, invalid shapes), so more
  calls are planned than ``count / samples_per_call``;
- a few replies are unusable and asked again once, with the bad reply in the prompt;
- a token is about four characters of English or JSON;
- a new sample is as long as the seeds are on average;
- a provider writes at a typical speed; calls run in parallel up to its concurrency.

A run that plans topics makes one more call first (topics.py): the seeds shown, short
phrases written; each call's prompt then names a topic per sample.
"""

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from seedbed.generation.axes import plan_axes
from seedbed.generation.pricing import price_of
from seedbed.generation.prompts import generation_messages
from seedbed.generation.shape import infer_shape
from seedbed.generation.spec import GenerationSpec
from seedbed.generation.topics import topic_request, topics_planned, topics_wanted

ACCEPTANCE_RATE = 0.8
REPAIR_RATE = 0.05
CHARACTERS_PER_TOKEN = 4.0
# The JSON object around a call's samples, and the words of a repair request.
REPLY_OVERHEAD_TOKENS = 10
REPAIR_REQUEST_TOKENS = 60
# One topic phrase, with its JSON in the topic call or its words in a generation prompt.
TOPIC_TOKENS = 12


@dataclass(frozen=True, slots=True)
class ProviderSpeed:
    output_tokens_per_second: float
    prompt_tokens_per_second: float
    latency_seconds: float


# The embedded model's speed was measured on two cores with constrained decoding; the
# hosted APIs' is a typical figure for small models.
LOCAL_SPEED = ProviderSpeed(10.0, 100.0, 0.0)
HOSTED_SPEED = ProviderSpeed(60.0, 2000.0, 0.8)
PROVIDER_SPEEDS: dict[str, ProviderSpeed] = {"local": LOCAL_SPEED}


@dataclass(frozen=True, slots=True)
class GenerationEstimate:
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost: float | None  # None: the model has no known price
    seconds: float
    assumptions: tuple[str, ...]
    budget_warning: str | None = None

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def estimate_generation(
    spec: GenerationSpec,
    seeds: Sequence[Mapping[str, Any]],
    *,
    qualified_model: str,
    concurrency: int,
) -> GenerationEstimate:
    """What generating ``spec.count`` samples from ``seeds`` with ``qualified_model``
    (``provider/model``) is expected to take; ``concurrency`` is the provider's."""
    spec.check()
    if not seeds:
        raise ValueError("an estimate needs at least one seed")
    per_call = min(spec.samples_per_call, spec.count)
    planned = math.ceil(spec.count / (per_call * ACCEPTANCE_RATE))
    repairs = math.ceil(planned * REPAIR_RATE)
    calls = planned + repairs

    prompt = _prompt_tokens(spec, seeds, per_call)
    if topics_planned(spec):  # each sample's topic is named in its call's prompt
        prompt += per_call * TOPIC_TOKENS
    reply = per_call * _tokens(_average_length(seeds, indent=None)) + REPLY_OVERHEAD_TOKENS
    if spec.max_tokens is not None:
        reply = min(reply, spec.max_tokens)
    repair_prompt = prompt + reply + REPAIR_REQUEST_TOKENS
    prompt_tokens = planned * prompt + repairs * repair_prompt
    completion_tokens = calls * reply
    topic_prompt, topic_reply = _topic_call_tokens(spec, seeds) if topics_planned(spec) else (0, 0)
    prompt_tokens += topic_prompt
    completion_tokens += topic_reply

    price = price_of(qualified_model, spec.prices)
    cost = None
    if price is not None:
        cost = (
            prompt_tokens * price.input_per_million + completion_tokens * price.output_per_million
        ) / 1_000_000
    provider = qualified_model.split("/", 1)[0]
    speed = PROVIDER_SPEEDS.get(provider, HOSTED_SPEED)
    call_seconds = (
        speed.latency_seconds
        + prompt / speed.prompt_tokens_per_second
        + reply / speed.output_tokens_per_second
    )
    seconds = math.ceil(calls / max(1, concurrency)) * call_seconds
    if topics_planned(spec):  # the topics come before any sample is asked for
        calls += 1
        seconds += (
            speed.latency_seconds
            + topic_prompt / speed.prompt_tokens_per_second
            + topic_reply / speed.output_tokens_per_second
        )
    return GenerationEstimate(
        calls=calls,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost=cost,
        seconds=seconds,
        assumptions=(
            f"{ACCEPTANCE_RATE:.0%} of returned samples pass the checks",
            f"{REPAIR_RATE:.0%} of replies are asked again once",
            f"a token is about {CHARACTERS_PER_TOKEN:g} characters",
            "a new sample is as long as the seeds on average",
            f"{provider} writes about {speed.output_tokens_per_second:g} tokens/s,"
            f" {max(1, concurrency)} call(s) at a time",
        ),
        budget_warning=_budget_warning(spec, calls, prompt_tokens + completion_tokens, cost),
    )


def _prompt_tokens(spec: GenerationSpec, seeds: Sequence[Mapping[str, Any]], asked: int) -> int:
    """The prompt of a call as the engine renders it, with seeds of average length."""
    shown = list(seeds[: min(spec.examples_per_call, len(seeds))])
    messages = generation_messages(
        shown,
        asked,
        instructions=spec.instructions,
        preserve_fields=spec.preserve_fields,
        data_type=spec.data_types[0] if spec.data_types else None,
        custom_prompt=spec.custom_prompt,
    )
    rendered = sum(len(message.content) for message in messages)
    shown_length = sum(len(json.dumps(seed, ensure_ascii=False, indent=2)) for seed in shown)
    average = len(shown) * _average_length(seeds, indent=2)
    return _tokens(rendered - shown_length + average)


def _topic_call_tokens(spec: GenerationSpec, seeds: Sequence[Mapping[str, Any]]) -> tuple[int, int]:
    """The planning call of topics.py: its prompt as rendered, short phrases written."""
    axes = plan_axes(
        infer_shape(seeds, open_fields=spec.allow_new_values, ignored_fields=spec.preserve_fields)
    )
    request, labels = topic_request(seeds, axes, spec, model="")
    prompt = _tokens(sum(len(message.content) for message in request.messages))
    phrases = topics_wanted(spec.count, labels) * max(1, len(labels))
    return prompt, phrases * TOPIC_TOKENS + REPLY_OVERHEAD_TOKENS


def _average_length(seeds: Sequence[Mapping[str, Any]], indent: int | None) -> float:
    return sum(len(json.dumps(seed, ensure_ascii=False, indent=indent)) for seed in seeds) / len(
        seeds
    )


def _tokens(characters: float) -> int:
    return max(1, math.ceil(characters / CHARACTERS_PER_TOKEN))


def _budget_warning(
    spec: GenerationSpec, calls: int, tokens: int, cost: float | None
) -> str | None:
    budget = spec.budget
    if budget.max_calls is not None and calls > budget.max_calls:
        return f"about {calls} calls are needed; the budget allows {budget.max_calls}"
    if budget.max_tokens is not None and tokens > budget.max_tokens:
        return f"about {tokens} tokens are needed; the budget allows {budget.max_tokens}"
    if budget.max_cost is not None and cost is not None and cost > budget.max_cost:
        return f"about ${cost:.4f} is needed; the budget allows ${budget.max_cost:g}"
    return None
