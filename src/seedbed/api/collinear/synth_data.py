"""Collinear's synthetic data: ``multiplier`` new samples shaped like each example.

Each example is the only seed of its own engine run, so every sample made for it has
that example's keys. The runs go concurrently (at most ``CONCURRENT_RUNS`` at once; the
provider's own concurrency limit is shared by all of them). Every run knows all the
examples, so no sample repeats one; samples of different runs are then checked against
each other, and an example whose samples collided with another's is topped up by a
further run that knows everything accepted so far. The result is exactly
``multiplier`` samples per example, unique across the request, or an error saying why.

Which model serves a Collinear ``model_id`` (Collinear's ids are UUIDs of models
registered with Collinear):

1. an id mapped in ``SEEDBED_COLLINEAR_MODELS`` (JSON ``{"<model_id>":
   "provider/model"}``; ids match ignoring case and surrounding blanks) is served by
   the model it maps to;
2. else an id that is itself a seedbed model name, one the provider registry can place
   (``openai/gpt-4o-mini``, ``ollama/llama3.1``, or a bare ``gpt-4o-mini`` or
   ``claude-…``), is served by that model;
3. else, when ``SEEDBED_DEFAULT_MODEL`` is set, that model serves it;
4. else the request is refused (:class:`UnknownModelId`), naming the id.
"""

import asyncio
import dataclasses
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from seedbed.domain.errors import InvalidInput, Unprocessable, UpstreamFailure
from seedbed.generation.dedup import NearDuplicateFilter, sample_text
from seedbed.generation.result import PROVIDER_UNAVAILABLE, GenerationResult
from seedbed.generation.spec import GenerationSpec, seed_items
from seedbed.providers.base import UnknownModel
from seedbed.providers.registry import ProviderRegistry
from seedbed.services import expansions
from seedbed.storage.database import Database

# One synchronous request: at most 100 examples, 100 samples each, 1,000 in all.
MAX_EXAMPLES = 100
MAX_MULTIPLIER = 100
MAX_GENERATED = 1_000
CONCURRENT_RUNS = 4
# The first round and up to three top-ups for samples that collided across examples.
_ROUNDS = 4


class UnknownModelId(InvalidInput):
    def __init__(self, model_id: str) -> None:
        super().__init__(
            f"unknown model_id {model_id!r}: it is not mapped in SEEDBED_COLLINEAR_MODELS,"
            " it is not a model name a configured provider serves, and SEEDBED_DEFAULT_MODEL"
            " is not set"
        )
        self.model_id = model_id


@dataclass(frozen=True, slots=True)
class SynthesizedSample:
    original: Mapping[str, Any]  # the example it was made from
    generated: dict[str, Any]  # with the example's keys, in the example's order


def resolve_model_id(
    model_id: str, registry: ProviderRegistry, mapping: Mapping[str, str], default_model: str
) -> str:
    """The seedbed model (``provider/model``) that serves a Collinear model id."""
    wanted = model_id.strip()
    mapped = {key.strip().lower(): model for key, model in mapping.items()}
    if wanted.lower() in mapped:
        return mapped[wanted.lower()]
    try:
        provider, model = registry.split(wanted)
    except UnknownModel:
        if default_model:
            return default_model
        raise UnknownModelId(model_id) from None
    return f"{provider}/{model}"


async def generate_like_examples(
    database: Database,
    registry: ProviderRegistry,
    examples: Sequence[Mapping[str, Any]],
    multiplier: int,
    spec: GenerationSpec,
) -> list[SynthesizedSample]:
    """``multiplier`` samples per example, grouped by example in the examples' order.
    ``spec`` gives the model, prompt and limits; its count is ignored."""
    _check_request(examples, multiplier)
    seen = NearDuplicateFilter(spec.similarity_threshold)
    for example in examples:
        seen.add(sample_text(example))
    accepted: list[list[dict[str, Any]]] = [[] for _ in examples]
    limit = asyncio.Semaphore(CONCURRENT_RUNS)

    async def top_up(position: int, count: int, round_number: int) -> GenerationResult:
        known = [*examples, *(sample for samples in accepted for sample in samples)]
        # Another random seed per round: a top-up must not replay the round before it
        # from the response cache (without a seed, every run draws a fresh one).
        fixed = spec.random_seed
        run_spec = dataclasses.replace(
            spec, count=count, random_seed=None if fixed is None else fixed + round_number
        )
        seed = [examples[position]]
        async with limit:
            try:
                return await expansions.generate(database, registry, seed, run_spec, known)
            except (Unprocessable, UpstreamFailure) as error:  # nothing at all was generated
                raise type(error)(f"example {position}: {error.message}") from error

    for round_number in range(_ROUNDS):
        missing = {
            position: multiplier - len(samples)
            for position, samples in enumerate(accepted)
            if len(samples) < multiplier
        }
        if not missing:
            break
        results = await _all_or_none(
            [top_up(position, count, round_number) for position, count in missing.items()]
        )
        for position, result in zip(missing, results, strict=True):
            if not result.complete:
                raise _fell_short(position, result)
            for sample in result.samples:
                if seen.add_if_new(sample_text(sample.data)) is None:
                    accepted[position].append(sample.data)
    short = sum(multiplier - len(samples) for samples in accepted)
    if short:
        raise Unprocessable(
            f"generated {multiplier * len(examples) - short} of {multiplier * len(examples)}"
            f" distinct samples: after {_ROUNDS} rounds the model kept repeating samples made"
            " for other examples; send fewer or more varied examples, or a smaller multiplier"
        )
    return [
        SynthesizedSample(example, _in_key_order(sample, example))
        for example, samples in zip(examples, accepted, strict=True)
        for sample in samples
    ]


def _check_request(examples: Sequence[Mapping[str, Any]], multiplier: int) -> None:
    seed_items(examples)  # a list of non-empty objects
    if len(examples) > MAX_EXAMPLES:
        raise InvalidInput(
            f"at most {MAX_EXAMPLES} examples can be sent at once, not {len(examples)}"
        )
    if not 1 <= multiplier <= MAX_MULTIPLIER:
        raise InvalidInput(f"multiplier must be between 1 and {MAX_MULTIPLIER}, not {multiplier}")
    if multiplier * len(examples) > MAX_GENERATED:
        raise InvalidInput(
            f"multiplier × examples must be at most {MAX_GENERATED} samples,"
            f" not {multiplier} × {len(examples)}"
        )


async def _all_or_none(runs: list[Coroutine[Any, Any, GenerationResult]]) -> list[GenerationResult]:
    """Every run's result; on the first failure the other runs are cancelled (they would
    only spend on samples the request can no longer return)."""
    tasks = [asyncio.create_task(run) for run in runs]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def _fell_short(position: int, result: GenerationResult) -> Exception:
    message = f"example {position}: {result.detail}"
    if result.stop_reason == PROVIDER_UNAVAILABLE:
        return UpstreamFailure(message)
    return Unprocessable(message)


def _in_key_order(sample: Mapping[str, Any], example: Mapping[str, Any]) -> dict[str, Any]:
    ordered = {key: sample[key] for key in example if key in sample}
    ordered.update((key, value) for key, value in sample.items() if key not in ordered)
    return ordered
