"""What a generation run returns: the samples, their provenance, and the account."""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from seedbed.providers.base import Usage

# Why a received sample did not become an accepted sample (the judge's reasons, in the
# order it checks them; see generation/judge.py), or the target was already reached.
INVALID = "invalid"
OUT_OF_SET = "out_of_set"
OUT_OF_RANGE = "out_of_range"
PLACEHOLDER = "placeholder"
LEAKAGE = "leakage"
SEED_COPY = "seed_copy"
DUPLICATE = "duplicate"
NEAR_DUPLICATE = "near_duplicate"
TEMPLATED = "templated"
CRITIC = "critic"
SURPLUS = "surplus"  # valid and new, but the target was already reached
SAMPLE_REJECTIONS = (
    INVALID,
    OUT_OF_SET,
    OUT_OF_RANGE,
    PLACEHOLDER,
    LEAKAGE,
    SEED_COPY,
    DUPLICATE,
    NEAR_DUPLICATE,
    TEMPLATED,
    CRITIC,
    SURPLUS,
)

# Why a reply held no samples, or a call attempt failed (counted per reply / attempt).
UNPARSEABLE = "unparseable"  # a reply with no readable JSON
TIMEOUT = "timeout"
RATE_LIMITED = "rate_limited"
SERVER_ERROR = "server_error"  # 5xx, a dropped connection
PROVIDER_ERROR = "provider_error"  # any other refusal (a 400, say): not retried
CALL_FAILURES = (TIMEOUT, RATE_LIMITED, SERVER_ERROR, PROVIDER_ERROR)


@dataclass(frozen=True, slots=True)
class Provenance:
    seed_item_ids: tuple[str, ...]
    model: str
    provider: str
    prompt_hash: str
    call_index: int
    attempt: int
    data_type: str | None
    strategy: str
    prompt_tokens: float
    completion_tokens: float
    cost: float
    cached: bool
    # The diversity-axis values the call was planned with (``{"category": "billing"}``).
    axis: Mapping[str, str] = field(default_factory=dict)
    # The situation it was asked to be about (generation/topics.py), if topics were planned.
    topic: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "seed_item_ids": list(self.seed_item_ids),
            "model": self.model,
            "provider": self.provider,
            "prompt_hash": self.prompt_hash,
            "call_index": self.call_index,
            "attempt": self.attempt,
            "data_type": self.data_type,
            "strategy": self.strategy,
            "tokens": round(self.prompt_tokens + self.completion_tokens, 1),
            "cost": self.cost,
            "cached": self.cached,
            "axis": dict(self.axis),
            "topic": self.topic,
        }


@dataclass(frozen=True, slots=True)
class GeneratedSample:
    data: dict[str, Any]
    provenance: Provenance
    # What the judge measured: nearest-seed similarity, the critic's verdict.
    quality: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class GenerationStats:
    requested: int
    accepted: int = 0
    rejected: Counter = field(default_factory=Counter)
    samples_received: int = 0
    calls: int = 0  # paid provider requests, retries included
    cached_calls: int = 0  # replies replayed from the response cache
    replies: int = 0  # replies that came back (paid or cached)
    abandoned_calls: int = 0  # still in flight when the target was reached; cancelled
    usage: Usage = field(default_factory=Usage)
    cost: float = 0.0
    unpriced: bool = False  # the model has no known price, so cost is 0
    elapsed_seconds: float = 0.0
    # While calls run: what the slowest-moving one is doing (a provider that can tell says
    # "loading_model", "writing", ...) and the tokens the running calls have written.
    stage: str = ""
    tokens_in_flight: int = 0
    # Samples asked per diversity-axis combination: [[[axis, value], ...], count].
    planned: list = field(default_factory=list)

    @property
    def failed_attempts(self) -> int:
        return sum(self.rejected[reason] for reason in CALL_FAILURES)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requested": self.requested,
            "accepted": self.accepted,
            "rejected": dict(self.rejected),
            "samples_received": self.samples_received,
            "calls": self.calls,
            "cached_calls": self.cached_calls,
            "replies": self.replies,
            "abandoned_calls": self.abandoned_calls,
            "prompt_tokens": self.usage.prompt_tokens,
            "completion_tokens": self.usage.completion_tokens,
            "cost": round(self.cost, 6),
            "unpriced": self.unpriced,
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "stage": self.stage,
            "tokens_in_flight": self.tokens_in_flight,
            "planned": [list(entry) for entry in self.planned],
        }


# Why a run ended.
COMPLETED = "completed"
BUDGET_EXHAUSTED = "budget_exhausted"
ATTEMPTS_EXHAUSTED = "attempts_exhausted"
PROVIDER_UNAVAILABLE = "provider_unavailable"
NO_VALID_SAMPLES = "no_valid_samples"
CANCELLED = "cancelled"


@dataclass(slots=True)
class GenerationResult:
    samples: list[GeneratedSample]
    stats: GenerationStats
    stop_reason: str
    detail: str = ""  # a sentence a user can act on when the run fell short
    # The quality report of the accepted samples (generation/report.py), when measured.
    report: dict[str, Any] | None = None

    @property
    def complete(self) -> bool:
        return self.stop_reason == COMPLETED

    @property
    def items(self) -> list[dict[str, Any]]:
        return [sample.data for sample in self.samples]
