"""Diversity by design: the axes a run spreads its calls over.

Temperature alone makes a model say the same thing in other words. Before generating, the
planner lays out axes and gives every call one combination of their values, so coverage is
planned and can be reported:

- the seeds' **label axis**: the first closed-set field (a category, an intent, a
  sentiment) — spread over the samples of each call (one label per sample, in a cycle
  across calls), so even a run of two calls covers every label;
- a **style axis** (plain, detailed, hurried, formal), unless the user names axes;
- the user's own axes (``vary={"persona": ["novice", "expert"]}``);
- **evolutions** the user asks for (Evol-Instruct's ways to make a case harder).
"""

import itertools
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from seedbed.domain.errors import InvalidInput
from seedbed.generation.shape import SeedShape

EVOLUTIONS: dict[str, str] = {
    "add_constraints": "add one or two realistic constraints or requirements to the request",
    "deepen": "ask about the underlying reason or a less obvious detail, not the surface",
    "concretize": "replace general wording with a concrete situation, names and numbers",
    "multi_step": "need several steps of reasoning or several actions to answer",
    "comparative": "compare two options, products or situations",
    "hypothetical": "ask about a hypothetical or what-if situation",
}

STYLE_AXIS = "style"
_STYLES = (
    "plain and short",
    "detailed, with specifics such as names, amounts or dates",
    "informal, as typed quickly by a busy person",
    "precise and formal",
)


@dataclass(frozen=True, slots=True)
class Axis:
    name: str
    values: tuple[str, ...]
    # The closed-set field the axis fixes: each call's samples must take its value.
    fixed_field: str | None = None
    guidance: Mapping[str, str] = field(default_factory=dict)

    def describe(self, value: str) -> str:
        if self.fixed_field is not None:
            # The text must earn its label: a model told only the label tends to write
            # whatever text it likes and attach the label to it.
            return (
                f'every example has {self.fixed_field} = "{value}"; write each one so that'
                f' "{value}" is the correct {self.fixed_field} for it'
            )
        hint = self.guidance.get(value)
        return f"{self.name}: {value}" + (f" ({hint})" if hint else "")

    def describe_slots(self, values: Sequence[str]) -> str:
        """The label of each sample of a call, in order (a fixed-field axis)."""
        if len(set(values)) == 1:
            return self.describe(values[0])
        listed = ", ".join(f'"{value}"' for value in values)
        return (
            f"the examples have, in this order, {self.fixed_field} = {listed}; write each one"
            f" so that its {self.fixed_field} is the correct one for it"
        )


def plan_axes(
    shape: SeedShape,
    *,
    vary: Mapping[str, Sequence[str]] = (),
    evolutions: Sequence[str] = (),
) -> list[Axis]:
    unknown = [name for name in evolutions if name not in EVOLUTIONS]
    if unknown:
        known = ", ".join(EVOLUTIONS)
        raise InvalidInput(f"unknown evolution(s): {', '.join(unknown)}; known: {known}")
    axes: list[Axis] = []
    label = _label_axis(shape, named=set(dict(vary)))
    if label is not None:
        axes.append(label)
    for name, values in dict(vary).items():
        chosen = tuple(dict.fromkeys(str(value) for value in values if str(value).strip()))
        if not chosen:
            raise InvalidInput(f"the axis {name!r} needs at least one value")
        axes.append(Axis(name, chosen))
    if not vary:
        axes.append(Axis(STYLE_AXIS, _STYLES))
    if evolutions:
        axes.append(Axis("evolution", tuple(evolutions), guidance=EVOLUTIONS))
    return axes


def axis_cells(axes: Sequence[Axis], seed: int) -> list[dict[str, str]]:
    """Every combination of the axes' values once, in an order fixed by ``seed``; calls
    take them in turn. Each next combination is one whose values have come least so far,
    so a run of few calls still reaches every value of every axis (five categories and two
    personas: the first five calls show every category, the first two both personas)."""
    if not axes:
        return [{}]
    remaining = list(itertools.product(*(axis.values for axis in axes)))
    random.Random(seed).shuffle(remaining)
    shown: Counter[tuple[int, str]] = Counter()
    ordered: list[tuple[str, ...]] = []
    while remaining:
        best = min(
            range(len(remaining)),
            key=lambda index: sum(
                shown[position, value] for position, value in enumerate(remaining[index])
            ),
        )
        chosen = remaining.pop(best)
        shown.update(enumerate(chosen))
        ordered.append(chosen)
    return [dict(zip((axis.name for axis in axes), values, strict=True)) for values in ordered]


def _label_axis(shape: SeedShape, named: set[str]) -> Axis | None:
    for path, values in shape.closed_sets.items():
        top_level = "." not in path and "[]" not in path
        if top_level and path not in named and len(values) > 1:
            return Axis(path, tuple(str(value) for value in values), fixed_field=path)
    return None
