"""The planner: which calls a run makes, decided before any reply is seen.

Quotas split the count over data types (Galileo's ``General Query``, ``Prompt
Injection``, …); every call gets one data type with an open quota, a few seeds from a
shuffled cycle (every seed shown as often as any other, neighbouring calls see different
ones), a temperature from a small spread, and one combination of the diversity axes.
Axes that fix a label (the seeds' category) are spread over the samples of a call
instead: each sample has a slot with its own label, taken in a cycle across calls, so a
run of ten samples in two calls covers five categories; with the topics a run asked for
first (topics.py), each slot also gets a situation listed under its label, in turns of
their own. A call is shown seeds with its slots' labels first: a model imitates its
examples far better than it follows "this label" in words. What
call *k* asks depends only on the spec, the topics and *k* while the quotas are open, so an
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
    axis: Mapping[str, str] = field(default_factory=dict)  # what all its samples share
    # Per sample, the values of the axes that fix a label ({"category": "billing"}).
    slots: list[Mapping[str, str]] = field(default_factory=list)
    # Per sample, what it is to be about (empty when no topics were planned; None for a
    # sample whose label has none).
    topics: list[str | None] = field(default_factory=list)


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
        self.planning_calls = 0  # calls made for the plan itself (the topics)
        self.asked_by_cell: Counter[tuple[tuple[str, str], ...]] = Counter()
        self._label_axes = [axis for axis in self.axes if axis.fixed_field is not None]
        self._cells = axis_cells(
            [axis for axis in self.axes if axis.fixed_field is None], random_seed
        )
        # Per label axis, the labels still to give in the current turn of its cycle.
        self._label_queues: list[list[str]] = [[] for _ in self._label_axes]
        self._in_flight = dict.fromkeys(self.quotas, 0)
        self._asked_completed = 0
        self._accepted = 0
        self._random = random.Random(random_seed)
        self._seed_order: list[int] = []
        self._label_orders: dict[tuple[tuple[str, str], ...], list[int]] = {}
        # Per label of the first label axis (None without one), its topics and the ones
        # still to give in the current turn.
        self._topics: dict[str | None, list[str]] = {}
        self._topic_queues: dict[str | None, list[str]] = {}

    def use_topics(self, topics: Mapping[str | None, Sequence[str]]) -> None:
        """What samples are about (see topics.py): each sample gets one with its label,
        in turns that give every topic of the label once, in a new order."""
        self._topics = {label: list(listed) for label, listed in topics.items() if listed}

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
            return self.spec.budget.max_calls - self.planning_calls
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
        slots = self._next_slots(asked)
        for slot in slots or [{}] * asked:
            self.asked_by_cell[tuple(sorted({**cell, **slot}.items()))] += 1
        offset = _TEMPERATURE_SPREAD[index % len(_TEMPERATURE_SPREAD)]
        return CallPlan(
            index=index,
            data_type=data_type,
            asked=asked,
            examples=self._examples_for(self._labels_of(slots)),
            temperature=min(2.0, max(0.0, self.spec.temperature + offset)),
            axis=cell,
            slots=slots,
            topics=self._next_topics(slots, asked),
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

    def slot_fields(self, plan: CallPlan) -> list[dict[str, str]]:
        """Per sample of the call, the closed-set fields its slot fixes to one value."""
        return [dict(labels) for labels in self._labels_of(plan.slots)]

    def _next_slots(self, asked: int) -> list[dict[str, str]]:
        """Labels in turns: each turn gives every label once, in a new order (so calls
        that share a style or a persona do not also share their labels)."""
        if not self._label_axes:
            return []
        slots: list[dict[str, str]] = [{} for _ in range(asked)]
        for axis, queue in zip(self._label_axes, self._label_queues, strict=True):
            for slot in slots:
                _refill(queue, axis.values, self._random)
                slot[axis.name] = queue.pop()
        return slots

    def _next_topics(self, slots: Sequence[Mapping[str, str]], asked: int) -> list[str | None]:
        """Per sample, a topic listed under its slot's label, in turns like the labels'."""
        if not self._topics:
            return []
        first_axis = self._label_axes[0].name if self._label_axes else None
        topics: list[str | None] = []
        for slot in slots or [{}] * asked:
            label = slot.get(first_axis) if first_axis else None
            if label not in self._topics:
                topics.append(None)
                continue
            queue = self._topic_queues.setdefault(label, [])
            _refill(queue, self._topics[label], self._random)
            topics.append(queue.pop())
        return topics

    def _labels_of(self, slots: Sequence[Mapping[str, str]]) -> list[tuple[tuple[str, str], ...]]:
        """Per slot, its ``(field, value)`` pairs."""
        return [
            tuple((axis.fixed_field, slot[axis.name]) for axis in self._label_axes)
            for slot in slots
        ]

    def _examples_for(self, slot_labels: Sequence[tuple[tuple[str, str], ...]]) -> list[SeedItem]:
        """Seeds carrying the slots' labels first (one per label, each label's seeds in a
        cycle of their own), the rest from the shuffled cycle of all seeds. When more than
        one example is shown, at least one comes from that cycle, so two calls with the
        same labels seldom show the same examples (the response cache answers the same
        question with the same samples)."""
        wanted = min(self.spec.examples_per_call, len(self.seeds))
        chosen: list[SeedItem] = []
        for labels in dict.fromkeys(slot_labels):
            if len(chosen) >= max(1, wanted - 1):
                break
            index = self._next_carrying(labels, chosen)
            if index is not None:
                chosen.append(self.seeds[index])
                # Shown now, it waits for the next turn of the cycle of all seeds.
                if index in self._seed_order:
                    self._seed_order.remove(index)
        return self._rotating_examples(chosen, wanted)

    def _next_carrying(
        self, labels: tuple[tuple[str, str], ...], chosen: list[SeedItem]
    ) -> int | None:
        """The next seed, in the labels' own cycle, that carries them and is not chosen."""
        matching = [
            index
            for index, seed in enumerate(self.seeds)
            if labels and all(value in values_at(seed.data, path) for path, value in labels)
        ]
        order = self._label_orders.setdefault(labels, [])
        for _ in range(2 * len(matching)):
            if not order:
                order.extend(matching)
                self._random.shuffle(order)
            index = order.pop()
            if self.seeds[index] not in chosen:
                return index
        return None

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


def _refill(queue: list[str], values: Sequence[str], rng: random.Random) -> None:
    """An empty queue takes a new turn of ``values``, shuffled."""
    if not queue:
        queue.extend(values)
        rng.shuffle(queue)
