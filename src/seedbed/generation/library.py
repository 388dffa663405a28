"""``seedbed.expand``: the engine as a library call, no server needed.

import seedbed
result = seedbed.expand([{"question": "…", "answer": "…"}], n=50, model="openai/gpt-4o-mini")
result.items          # exactly 50 new objects, unless result.stop_reason says why not
result.samples[0].provenance, result.stats
"""

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from seedbed.generation.cache import MemoryResponseCache, ResponseCache
from seedbed.generation.engine import GenerationRun, ProgressCallback, SampleCallback
from seedbed.generation.result import GenerationResult
from seedbed.generation.spec import Budget, GenerationSpec, SeedItem
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
    ``concurrency``, ``similarity_threshold``, ``random_seed``, …)."""
    from seedbed.providers.registry import ProviderRegistry

    registry = registry or ProviderRegistry(settings or Settings())
    resolved = registry.resolve(model)
    spec = GenerationSpec(
        count=n,
        model=resolved.qualified,
        instructions=instructions,
        preserve_fields=tuple(preserve_fields),
        custom_prompt=custom_prompt,
        data_types=tuple(data_types),
        budget=budget or Budget(),
        **options,
    )
    run = GenerationRun(
        seeds,
        spec,
        resolved.provider,
        model=resolved.model,
        existing=existing,
        cache=cache if cache is not None else MemoryResponseCache(),
        concurrency=resolved.concurrency if spec.concurrency is None else None,
        on_progress=on_progress,
        on_sample=on_sample,
    )
    return await run.run()


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
