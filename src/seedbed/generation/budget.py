"""Budgets: limits on calls, tokens and cost that stop a run cleanly.

What a call costs is known once its reply is in, so the first call goes alone; after it,
calls in flight count at the average cost of the replies so far, and no call is started
that is projected to pass a token or cost budget. The call that plans a run's topics
counts against the budgets, not toward that average: it is not a call for samples.
"""

from seedbed.generation.result import GenerationStats
from seedbed.generation.spec import Budget
from seedbed.providers.base import Usage


class Budgets:
    def __init__(self, budget: Budget, stats: GenerationStats) -> None:
        self.budget = budget
        self.stats = stats
        self.priced_replies = 0  # replies to calls for samples, counted in stats
        self._planning_tokens = 0
        self._planning_cost = 0.0

    def planned_with(self, usage: Usage, cost: float) -> None:
        """The planning call's reply is in (its usage is in stats too)."""
        self._planning_tokens += usage.total_tokens
        self._planning_cost += cost

    def exhausted(self) -> bool:
        budget, stats = self.budget, self.stats
        return (
            (budget.max_calls is not None and stats.calls >= budget.max_calls)
            or (budget.max_tokens is not None and stats.usage.total_tokens >= budget.max_tokens)
            or (budget.max_cost is not None and stats.cost >= budget.max_cost)
        )

    def next_call_could_pass(self, calls_in_flight: int) -> bool:
        budget, stats = self.budget, self.stats
        if budget.max_cost is None and budget.max_tokens is None:
            return False
        if self.priced_replies == 0:
            return calls_in_flight > 0
        calls = calls_in_flight + 1
        if budget.max_cost is not None:
            per_call = (stats.cost - self._planning_cost) / self.priced_replies
            if stats.cost + calls * per_call > budget.max_cost:
                return True
        if budget.max_tokens is not None:
            tokens = stats.usage.total_tokens
            per_call = (tokens - self._planning_tokens) / self.priced_replies
            if tokens + calls * per_call > budget.max_tokens:
                return True
        return False

    def describe(self) -> str:
        budget = self.budget
        parts = [
            f"max_tokens={budget.max_tokens}" if budget.max_tokens is not None else "",
            f"max_cost={budget.max_cost}" if budget.max_cost is not None else "",
            f"max_calls={budget.max_calls}" if budget.max_calls is not None else "",
        ]
        return ", ".join(part for part in parts if part)
