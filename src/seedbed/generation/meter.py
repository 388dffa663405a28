"""What this process has spent on generation, per provider: calls, tokens and cost.

Every generation run adds its account once it ends; ``/metrics`` reads the totals. Runs
may end on several threads at once, so the totals are kept under a lock.
"""

import threading
from dataclasses import dataclass

from seedbed.generation.result import GenerationStats


@dataclass(slots=True)
class ProviderTotals:
    calls: int = 0
    cached_calls: int = 0
    prompt_tokens: float = 0.0
    completion_tokens: float = 0.0
    cost: float = 0.0


class GenerationMeter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals: dict[str, ProviderTotals] = {}

    def record(self, provider: str, stats: GenerationStats) -> None:
        with self._lock:
            totals = self._totals.setdefault(provider, ProviderTotals())
            totals.calls += stats.calls
            totals.cached_calls += stats.cached_calls
            totals.prompt_tokens += stats.usage.prompt_tokens
            totals.completion_tokens += stats.usage.completion_tokens
            totals.cost += stats.cost

    def totals(self) -> dict[str, ProviderTotals]:
        with self._lock:
            return {
                provider: ProviderTotals(
                    t.calls, t.cached_calls, t.prompt_tokens, t.completion_tokens, t.cost
                )
                for provider, t in self._totals.items()
            }


# One per process: runs started by the server's routes and by its in-process jobs alike.
generation_meter = GenerationMeter()
