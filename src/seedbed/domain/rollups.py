"""What one trace adds to the aggregates of each experiment that ran it.

An experiment's aggregates (scores, cost, usage, durations, counts) are sums over its
traces, kept up to date as data arrives rather than recomputed when read. Each trace's
share is its *contribution*; a write that changes a trace replaces its old contribution
by the new one in every experiment holding the trace, which is the same as computing the
experiment's aggregates again from scratch (``storage/repositories/experiment_aggregates``
says how they are defined):

- a trace's score for a name is the average of its authors' latest values; the
  experiment's is the average over the traces that have the name;
- a trace's cost and usage are the sums over its spans; the experiment reports the total
  cost, and cost and usage per trace averaged over the traces that have any;
- durations are kept per trace, for percentiles over the experiment's traces.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# The kinds of per-name sums an experiment keeps.
SCORE = "score"
ASSERTION = "assertion"
USAGE = "usage"


@dataclass(frozen=True)
class Contribution:
    """One trace's share of an experiment's aggregates."""

    duration_ms: float | None = None
    cost: float | None = None
    sums: Mapping[tuple[str, str], float] = field(default_factory=dict)  # (kind, name) → value

    def as_json(self) -> dict[str, Any]:
        return {
            "duration_ms": self.duration_ms,
            "cost": self.cost,
            "sums": [[kind, name, value] for (kind, name), value in sorted(self.sums.items())],
        }

    @classmethod
    def from_json(cls, stored: Mapping[str, Any] | None) -> "Contribution":
        if not stored:
            return cls()
        return cls(
            duration_ms=stored.get("duration_ms"),
            cost=stored.get("cost"),
            sums={(kind, name): value for kind, name, value in stored.get("sums", [])},
        )


@dataclass
class ExperimentChange:
    """What to add to one experiment's rollup (negative numbers take away)."""

    trace_count: int = 0
    dataset_item_count: int = 0
    cost_total: float = 0.0
    cost_traces: int = 0
    durations_changed: bool = False
    # (kind, name) → [value to add to the total, traces to add to the count]
    sums: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    def replace(self, old: Contribution | None, new: Contribution | None) -> None:
        """A trace's contribution goes from ``old`` to ``new`` (``None``: the trace is
        not, or no longer, one of the experiment's)."""
        for share, sign in ((old, -1), (new, 1)):
            if share is None:
                continue
            if share.cost is not None:
                self.cost_total += sign * share.cost
                self.cost_traces += sign
            for key, value in share.sums.items():
                entry = self.sums.setdefault(key, [0.0, 0])
                entry[0] += sign * value
                entry[1] += sign
        old_duration = old.duration_ms if old else None
        new_duration = new.duration_ms if new else None
        if old_duration != new_duration:
            self.durations_changed = True

    def is_empty(self) -> bool:
        return not (
            self.trace_count
            or self.dataset_item_count
            or self.cost_traces
            or self.cost_total
            or self.durations_changed
            or any(total or traces for total, traces in self.sums.values())
        )


def percentile_positions(count: int, percent: int) -> tuple[int, float]:
    """Where percentile ``percent`` of ``count`` sorted values lies: the index of the
    value below it and the weight of the one after (linear interpolation between the
    two nearest ranks, as ``percentile_cont`` and numpy do)."""
    scaled = percent * (count - 1)
    return scaled // 100, (scaled % 100) / 100


def interpolated(low: float, high: float | None, weight: float) -> float:
    return low + weight * ((high if high is not None else low) - low)
