"""One place that assembles a generation run: the model resolved to its provider, the
response cache, shared concurrency, the settings' retry policy, a fresh random seed unless
one is given, and the optional critic. The library, the expansions endpoints, the CLI and
the job runner all build their runs here.
"""

import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from seedbed.generation.cache import MemoryResponseCache, ResponseCache
from seedbed.generation.critic import LLMCritic
from seedbed.generation.engine import GenerationRun, GenerationSink
from seedbed.generation.schema import without_markers
from seedbed.generation.spec import GenerationSpec, SeedItem, seed_items
from seedbed.providers.registry import ProviderRegistry
from seedbed.settings import Settings

# provider name, model name → the cache of that model's replies
CacheFactory = Callable[[str, str], ResponseCache]


def spec_from_settings(settings: Settings, count: int, **fields: Any) -> GenerationSpec:
    """A spec with the settings' retry policy (retries, the breaker's first pause); every
    surface builds its specs here, and ``fields`` override anything."""
    defaults: dict[str, Any] = {
        "max_retries": settings.generation_max_retries,
        "breaker_cooldown_seconds": settings.generation_breaker_cooldown_seconds,
    }
    return GenerationSpec(count=count, **{**defaults, **fields})


def fresh_seed() -> int:
    return secrets.randbelow(2**31 - 1) + 1


class GenerationFactory:
    def __init__(self, registry: ProviderRegistry, cache_for: CacheFactory | None = None) -> None:
        """``cache_for``: where replies are cached (the database, for the server and the
        CLI); by default each run keeps its own in memory. The settings are the registry's."""
        self.settings: Settings = registry.settings
        self.registry = registry
        self.cache_for = cache_for or (lambda provider, model: MemoryResponseCache())

    def spec(self, count: int, **fields: Any) -> GenerationSpec:
        return spec_from_settings(self.settings, count, **fields)

    def pinned(self, spec: GenerationSpec) -> GenerationSpec:
        """The spec with its model resolved (an unknown model fails now, not later) and its
        random seed drawn, as a job stores it so that every chunk and every re-run of a
        chunk plans the same calls."""
        spec.check()
        resolved = self.registry.resolve(spec.model or None)
        if spec.critic_model:
            self.registry.resolve(spec.critic_model)
        seed = spec.random_seed if spec.random_seed is not None else fresh_seed()
        return replace(spec, model=resolved.qualified, random_seed=seed)

    def run(
        self,
        seeds: Iterable[SeedItem | Mapping[str, Any]],
        spec: GenerationSpec,
        *,
        existing: Iterable[Mapping[str, Any]] = (),
        held_out: Iterable[Mapping[str, Any]] = (),
        sink: GenerationSink | None = None,
        already_accepted=(),
    ) -> GenerationRun:
        spec = self.pinned(spec)
        seeds = seed_items(seeds)
        resolved = self.registry.resolve(spec.model)
        critic = None
        if spec.critic_model:
            judge = self.registry.resolve(spec.critic_model)
            critic = LLMCritic(
                judge.provider,
                judge.model,
                threshold=spec.critic_threshold,
                cache=self.cache_for(judge.provider.name, judge.model),
                random_seed=spec.random_seed,
                examples=[without_markers(seed.data) for seed in seeds],
                prices=spec.prices,
            )
        return GenerationRun(
            seeds,
            spec,
            resolved.provider,
            model=resolved.model,
            existing=existing,
            held_out=held_out,
            cache=self.cache_for(resolved.provider.name, resolved.model),
            concurrency=resolved.concurrency if spec.concurrency is None else None,
            sink=sink,
            critic=critic,
            already_accepted=already_accepted,
        )
