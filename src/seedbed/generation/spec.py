"""What a generation run is asked to do."""

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
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
    # None: the provider's own timeout (configurable per provider).
    call_timeout_seconds: float | None = None
    # The circuit breaker opens after this many consecutive failed calls, for a
    # cool-down that doubles with each opening; four openings end the run.
    breaker_threshold: int = 8
    breaker_cooldown_seconds: float = 2.0
    # Fixes which calls a run makes, so the same seed replays the same calls from the
    # response cache. None: a fresh seed per run (the generation factory draws one).
    random_seed: int | None = None
    # Fields (top-level names or paths such as ``metadata.intent``) that may take values
    # the seeds do not have: new labels, numbers outside the seeds' range.
    allow_new_values: tuple[str, ...] = ()
    # Diversity axes the user names, e.g. {"persona": ("novice", "expert")}.
    vary: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Evol-Instruct strategies to spread the samples over (see generation/axes.py).
    evolutions: tuple[str, ...] = ()
    # Ask first for distinct situations for the samples to be about (generation/topics.py).
    plan_topics: bool = True
    # The optional LLM critic: a model ("provider/model") that scores each candidate, and
    # the score (0..1) a sample needs.
    critic_model: str | None = None
    critic_threshold: float = 0.6
    prices: Mapping[str, Price] | None = None  # settings, not part of a stored job

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
        if self.call_timeout_seconds is not None and self.call_timeout_seconds <= 0:
            raise InvalidInput("call_timeout_seconds must be positive")
        if not 0 <= self.critic_threshold <= 1:
            raise InvalidInput("critic_threshold must be between 0 and 1")
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


_SETTINGS_FIELDS = frozenset({"prices"})


def spec_to_record(spec: GenerationSpec) -> dict[str, Any]:
    """The spec as JSON, to store with a job: every field but the settings (prices)."""
    record: dict[str, Any] = {}
    for spec_field in fields(spec):
        if spec_field.name in _SETTINGS_FIELDS:
            continue
        value = getattr(spec, spec_field.name)
        if isinstance(value, Budget):
            value = asdict(value)
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Mapping):
            value = {key: list(inner) for key, inner in value.items()}
        record[spec_field.name] = value
    return record


def spec_from_record(record: Mapping[str, Any], **changes: Any) -> GenerationSpec:
    values: dict[str, Any] = {}
    for spec_field in fields(GenerationSpec):
        if spec_field.name in _SETTINGS_FIELDS or spec_field.name not in record:
            continue
        value = record[spec_field.name]
        if spec_field.name == "budget":
            value = Budget(**value)
        elif isinstance(value, list):
            value = tuple(value)
        elif spec_field.name == "vary":
            value = {key: tuple(inner) for key, inner in value.items()}
        values[spec_field.name] = value
    if "plan_topics" not in record:
        # A job stored before topics were planned resumes with the calls it first made.
        values["plan_topics"] = False
    values.update(changes)
    return GenerationSpec(**values)
