"""``seedbed.expand``: the engine as a library call, no server needed.

    import seedbed
    result = seedbed.expand([{"question": "…", "answer": "…"}], n=50, model="openai/gpt-4o-mini")
    result.items          # exactly 50 new objects, unless result.stop_reason says why not
    result.samples[0].provenance, result.stats, result.report

Each call makes new samples; pass ``random_seed`` to make a run reproducible (the same
seed replays the same calls from the cache when one is given).
"""

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from seedbed.generation.cache import MemoryResponseCache, ResponseCache
from seedbed.generation.engine import KeepingSink, ProgressCallback, SampleCallback
from seedbed.generation.result import GenerationResult
from seedbed.generation.spec import Budget, SeedItem
from seedbed.settings import Settings


async def aexpand(
    seeds: Iterable[Mapping[str, Any] | SeedItem],
    n: int,
    *,
    model: str | None = None,
    instructions: str | None = None,
    preserve_fields: Iterable[str] = (),
    custom_prompt: str | None = None,
    data_types: Iterable[str] = (),
    existing: Iterable[Mapping[str, Any]] = (),
    held_out: Iterable[Mapping[str, Any]] = (),
    budget: Budget | None = None,
    cache: ResponseCache | None = None,
    settings: Settings | None = None,
    registry: Any = None,
    on_progress: ProgressCallback | None = None,
    on_sample: SampleCallback | None = None,
    **options: Any,
) -> GenerationResult:
    """Generate ``n`` new samples shaped like ``seeds``. ``options`` are the other
    :class:`GenerationSpec` fields (``temperature``, ``max_tokens``, ``samples_per_call``,
    ``concurrency``, ``similarity_threshold``, ``random_seed``, ``allow_new_values``,
    ``vary``, ``evolutions``, ``critic_model``, …)."""
    from seedbed.generation.factory import GenerationFactory
    from seedbed.providers.registry import ProviderRegistry

    registry = registry or ProviderRegistry(settings or Settings())
    kept = cache if cache is not None else MemoryResponseCache()
    factory = GenerationFactory(registry, cache_for=lambda provider, model: kept)
    spec = factory.spec(
        n,
        model=model or "",
        instructions=instructions,
        preserve_fields=tuple(preserve_fields),
        custom_prompt=custom_prompt,
        data_types=tuple(data_types),
        budget=budget or Budget(),
        **_as_spec_values(options),
    )
    run = factory.run(
        seeds,
        spec,
        existing=existing,
        held_out=held_out,
        sink=KeepingSink(on_progress, on_sample),
    )
    result = await run.run()
    result.report = run.report()
    return result


def expand(
    seeds: Iterable[Mapping[str, Any] | SeedItem], n: int, **arguments: Any
) -> GenerationResult:
    """The blocking form of :func:`aexpand`, in an event loop of its own; the providers'
    connections opened in it are closed before it ends."""
    from seedbed.providers.registry import ProviderRegistry

    registry = arguments.pop("registry", None) or ProviderRegistry(
        arguments.get("settings") or Settings()
    )

    async def expand_and_close() -> GenerationResult:
        try:
            return await aexpand(seeds, n, registry=registry, **arguments)
        finally:
            await registry.aclose()

    return asyncio.run(expand_and_close())


def _as_spec_values(options: Mapping[str, Any]) -> dict[str, Any]:
    values = dict(options)
    for name in ("allow_new_values", "evolutions"):
        if name in values:
            values[name] = tuple(values[name])
    if "vary" in values:
        values["vary"] = {axis: tuple(choices) for axis, choices in dict(values["vary"]).items()}
    return values
