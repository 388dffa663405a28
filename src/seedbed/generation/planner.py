"""The planner: which calls a run makes, decided before any reply is seen.

Quotas split the count over data types (Galileo's ``General Query``, ``Prompt
Injection``, …); every call gets one data type with an open quota, a few seeds from a
shuffled cycle (every seed shown as often as any other, neighbouring calls see different
ones), a temperature from a small spread, and one combination of the diversity axes. A
call whose combination fixes a label is shown seeds with that label first: a model
imitates its examples far better than it follows "this label" in words. What
call *k* asks depends only on the spec and *k* while the quotas are open, so an
interrupted run, run again, asks the same questions and the response cache answers them.
"""

import math
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from seedbed.generation.axes import Axis, axis_cells
from seedbed.generation.shape import values_at
from seedbed.generation.spec import GenerationSpec, SeedItem
from seedbed.generation.strategies import split_count

# Temperature offsets cycled across calls, so calls explore differently.
_TEMPERATURE_SPREAD = (0.0, 0.15, -0.1, 0.25, -0.2, 0.1)


@dataclass(slots=True)
class CallPlan:
    index: int
    data_type: str | None
    asked: int
    examples: list[SeedItem]
    temperature: float
    axis: Mapping[str, str] = field(default_factory=dict)


class Planner:
    def __init__(
        self,
        seeds: Sequence[SeedItem],
        spec: GenerationSpec,
        axes: Sequence[Axis],
        *,
        random_seed: int,
        already_accepted: Sequence[str | None] = (),
    ) -> None:
        """``already_accepted``: the data types of samples an earlier, interrupted run of
        the same spec accepted; they count toward the quotas."""
        self.seeds = list(seeds)
        self.spec = spec
        self.axes = list(axes)
        self.quotas = {
            quota.data_type: quota.count for quota in split_count(spec.count, spec.data_types)
        }
        for data_type in already_accepted:
            if data_type in self.quotas:
                self.quotas[data_type] -= 1
        self.calls_made = 0
        self.asked_by_cell: Counter[tuple[tuple[str, str], ...]] = Counter()
        self._cells = axis_cells(self.axes, random_seed)
        self._in_flight = dict.fromkeys(self.quotas, 0)
        self._asked_completed = 0
        self._accepted = 0
        self._random = random.Random(random_seed)
        self._seed_order: list[int] = []
        self._label_orders: dict[tuple[tuple[str, str], ...], list[int]] = {}

    # -- the quotas ---------------------------------------------------------------------

    def reached(self) -> bool:
        return all(remaining <= 0 for remaining in self.quotas.values())

    def open_for(self, data_type: str | None) -> bool:
        return self.quotas.get(data_type, 0) > 0

    def take(self, data_type: str | None) -> None:
        """One sample of ``data_type`` was accepted."""
        self.quotas[data_type] -= 1
        self._accepted += 1

    def give_back(self, data_type: str | None) -> None:
        """A sample taken with :meth:`take` was refused after all (by the sink)."""
        self.quotas[data_type] += 1
        self._accepted -= 1

    def made(self) -> int:
        return self.spec.count - sum(max(0, remaining) for remaining in self.quotas.values())

    def call_limit(self) -> int:
        if self.spec.budget.max_calls is not None:
            return self.spec.budget.max_calls
        return max(10, 4 * math.ceil(self.spec.count / self.spec.samples_per_call))

    # -- the calls ----------------------------------------------------------------------

    def next_call(self) -> CallPlan | None:
        """The next call to make, or None when the open quotas are covered by calls in
        flight (at the yield seen so far) or the call limit is reached."""
        if self.reached() or self.calls_made >= self.call_limit():
            return None
        expected = self._expected_yield()
        open_types = [
            name
            for name, remaining in self.quotas.items()
            if remaining - self._in_flight[name] * expected > 0
        ]
        if not open_types:
            return None
        index = self.calls_made
        data_type = open_types[index % len(open_types)]
        asked = min(self.spec.samples_per_call, self.spec.count)
        self.calls_made += 1
        self._in_flight[data_type] += asked
        cell = self._cells[index % len(self._cells)]
        self.asked_by_cell[tuple(sorted(cell.items()))] += asked
        offset = _TEMPERATURE_SPREAD[index % len(_TEMPERATURE_SPREAD)]
        return CallPlan(
            index=index,
            data_type=data_type,
            asked=asked,
            examples=self._examples_for(cell),
            temperature=min(2.0, max(0.0, self.spec.temperature + offset)),
            axis=cell,
        )

    def planned(self) -> list[tuple[list[list[str]], int]]:
        """Samples asked per axis combination, as JSON-friendly pairs."""
        return [
            ([list(pair) for pair in cell], count) for cell, count in self.asked_by_cell.items()
        ]

    def settled(self, plan: CallPlan) -> None:
        """The call's reply was judged (or the call failed)."""
        self._in_flight[plan.data_type] -= plan.asked
        self._asked_completed += plan.asked

    def fixed_fields(self, plan: CallPlan) -> dict[str, list[str]]:
        """Closed-set fields the call's axis fixes to one value."""
        return {field: [value] for field, value in self._labels_of(plan.axis)}

    def _labels_of(self, cell: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
        return tuple(
            (axis.fixed_field, cell[axis.name])
            for axis in self.axes
            if axis.fixed_field is not None and axis.name in cell
        )

    def _examples_for(self, cell: Mapping[str, str]) -> list[SeedItem]:
        """Seeds carrying the cell's labels first (in a cycle of their own), the rest from
        the shuffled cycle of all seeds. When more than one example is shown, at least one
        comes from that cycle, so two calls of one cell seldom show the same examples (the
        response cache answers the same question with the same samples)."""
        labels = self._labels_of(cell)
        wanted = min(self.spec.examples_per_call, len(self.seeds))
        matching = [
            index
            for index, seed in enumerate(self.seeds)
            if labels and all(value in values_at(seed.data, path) for path, value in labels)
        ]
        chosen: list[SeedItem] = []
        if matching:
            order = self._label_orders.setdefault(labels, [])
            while len(chosen) < min(max(1, wanted - 1), len(matching)):
                if not order:
                    order.extend(matching)
                    self._random.shuffle(order)
                index = order.pop()
                if self.seeds[index] not in chosen:
                    chosen.append(self.seeds[index])
                    # Shown now, it waits for the next turn of the cycle of all seeds.
                    if index in self._seed_order:
                        self._seed_order.remove(index)
        return self._rotating_examples(chosen, wanted)

    def _expected_yield(self) -> float:
        if self._asked_completed < 2 * self.spec.samples_per_call:
            return 1.0
        return min(1.0, max(0.1, self._accepted / self._asked_completed))

    def _rotating_examples(self, chosen: list[SeedItem], wanted: int) -> list[SeedItem]:
        while len(chosen) < wanted:
            if not self._seed_order:
                self._seed_order = list(range(len(self.seeds)))
                self._random.shuffle(self._seed_order)
            candidate = self.seeds[self._seed_order.pop()]
            if candidate not in chosen:
                chosen.append(candidate)
        return chosen
