"""What a generation run is asked to do."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from seedbed.domain.errors import InvalidInput
from seedbed.generation.dedup import DEFAULT_SIMILARITY_THRESHOLD
from seedbed.generation.pricing import Price
from seedbed.generation.strategies import known_data_type


@dataclass(frozen=True, slots=True)
class Budget:
    """Limits that stop a run cleanly; None means no limit."""

    max_tokens: int | None = None
    max_cost: float | None = None
    max_calls: int | None = None


@dataclass(frozen=True, slots=True)
class SeedItem:
    data: Mapping[str, Any]
    id: str | None = None


@dataclass(frozen=True, slots=True)
class GenerationSpec:
    count: int
    model: str = ""  # "provider/model"; empty means the configured default
    temperature: float = 0.9
    top_p: float | None = None
    max_tokens: int | None = None  # per call
    instructions: str | None = None
    preserve_fields: tuple[str, ...] = ()
    custom_prompt: str | None = None
    data_types: tuple[str, ...] = ()
    samples_per_call: int = 5
    examples_per_call: int = 3
    concurrency: int | None = None  # None: what the provider allows
    similarity_threshold: float = DEFAULT_SIMILARITY_THRESHOLD
    budget: Budget = field(default_factory=Budget)
    max_retries: int = 5  # per call, for rate limits and transient errors
    call_timeout_seconds: float = 120.0
    # The circuit breaker opens after this many consecutive failed calls, for a
    # cool-down that doubles with each opening; four openings end the run.
    breaker_threshold: int = 8
    breaker_cooldown_seconds: float = 2.0
    random_seed: int = 0
    prices: Mapping[str, Price] | None = None

    def check(self) -> None:
        if self.count <= 0:
            raise InvalidInput("the number of samples to generate must be at least 1")
        if self.samples_per_call <= 0 or self.examples_per_call <= 0:
            raise InvalidInput("samples_per_call and examples_per_call must be at least 1")
        if not 0 <= self.temperature <= 2:
            raise InvalidInput("temperature must be between 0 and 2")
        if not 0 < self.similarity_threshold <= 1:
            raise InvalidInput("similarity_threshold must be in (0, 1]")
        if self.max_tokens is not None and self.max_tokens <= 0:
            raise InvalidInput("max_tokens must be positive")
        unknown = [name for name in self.data_types if not known_data_type(name)]
        if unknown:
            raise InvalidInput(f"unknown data type(s): {', '.join(map(repr, unknown))}")


def seed_items(seeds: Any) -> list[SeedItem]:
    """Seeds as given by a caller (objects, or SeedItems), checked."""
    if isinstance(seeds, Mapping) or isinstance(seeds, str | bytes):
        raise InvalidInput("seeds must be a list of objects")
    items = [seed if isinstance(seed, SeedItem) else SeedItem(seed) for seed in seeds]
    if not items:
        raise InvalidInput("at least one seed item is needed to generate from")
    for position, item in enumerate(items):
        if not isinstance(item.data, Mapping):
            raise InvalidInput(
                f"seed {position} is not an object (got {type(item.data).__name__});"
                " every seed must be a JSON object"
            )
        if not item.data:
            raise InvalidInput(f"seed {position} is an empty object; seeds need at least one field")
    return items


_STORED_FIELDS = (
    "count",
    "model",
    "temperature",
    "top_p",
    "max_tokens",
    "instructions",
    "preserve_fields",
    "custom_prompt",
    "data_types",
    "samples_per_call",
    "examples_per_call",
    "concurrency",
    "similarity_threshold",
    "max_retries",
    "call_timeout_seconds",
    "breaker_threshold",
    "breaker_cooldown_seconds",
    "random_seed",
)


def spec_to_record(spec: GenerationSpec) -> dict[str, Any]:
    """The spec as JSON, to store with a job (prices are settings, not part of a job)."""
    record = {name: getattr(spec, name) for name in _STORED_FIELDS}
    record["preserve_fields"] = list(spec.preserve_fields)
    record["data_types"] = list(spec.data_types)
    record["budget"] = {
        "max_tokens": spec.budget.max_tokens,
        "max_cost": spec.budget.max_cost,
        "max_calls": spec.budget.max_calls,
    }
    return record


def spec_from_record(record: Mapping[str, Any], **changes: Any) -> GenerationSpec:
    values = {name: record[name] for name in _STORED_FIELDS if name in record}
    values["preserve_fields"] = tuple(values.get("preserve_fields", ()))
    values["data_types"] = tuple(values.get("data_types", ()))
    values["budget"] = Budget(**record.get("budget", {}))
    values.update(changes)
    return GenerationSpec(**values)
