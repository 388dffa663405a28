"""What a careless model does that only a careful reader catches, on demand.

A real model copies the labels of the examples it is shown (a category, a sentiment); the
stub does too. At the rates a :class:`~seedbed.testing.llm_stub.StubBehaviour` sets, it
then spoils samples the way weak models do: a label the examples never use, one answer
template reused under different questions, a placeholder such as ``[company email]``, or a
copy of a prompt example with one word changed.
"""

import copy
import re
from collections.abc import Mapping, Sequence
from random import Random
from typing import Any

PLACEHOLDERS = ("[company email]", "<customer name>", "{phone}", "[insert date]", "XXXX")

_LABEL = re.compile(r"[a-z][a-z0-9_-]*")


def example_labels(examples: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Top-level fields whose example values are all labels (one lowercase token, such as
    ``billing`` or ``positive``), with the labels seen."""
    values: dict[str, list[str]] = {}
    for example in examples:
        for key, value in example.items():
            values.setdefault(key, []).append(value)
    return {
        key: sorted(set(found))
        for key, found in values.items()
        if all(isinstance(value, str) and _LABEL.fullmatch(value) for value in found)
    }


def with_labels(sample: Any, labels: Mapping[str, list[str]], rng: Random) -> Any:
    """The sample with each label field set to one of the examples' labels."""
    if not isinstance(sample, dict):
        return sample
    return {
        key: rng.choice(labels[key]) if key in labels and isinstance(value, str) else value
        for key, value in sample.items()
    }


def with_new_label(sample: Any, labels: Mapping[str, list[str]], word: str) -> Any | None:
    fields = [key for key in labels if isinstance(sample, dict) and key in sample]
    if not fields:
        return None
    changed = dict(sample)
    changed[fields[0]] = f"{word} {len(word)}"
    return changed


def with_template(sample: Any, earlier: Sequence[Any]) -> Any | None:
    """The sample with its longest text replaced by the same field of an earlier sample."""
    if not isinstance(sample, dict):
        return None
    texts = [key for key, value in sample.items() if isinstance(value, str)]
    if len(texts) < 2:
        return None
    longest = max(texts, key=lambda key: len(sample[key]))
    for candidate in reversed(earlier):
        if isinstance(candidate, dict) and isinstance(candidate.get(longest), str):
            if candidate.get(longest) != sample[longest]:
                return {**sample, longest: candidate[longest]}
    return None


def with_placeholder(sample: Any, rng: Random) -> Any | None:
    if not isinstance(sample, dict):
        return None
    texts = [key for key, value in sample.items() if isinstance(value, str)]
    if not texts:
        return None
    key = rng.choice(texts)
    return {**sample, key: f"{sample[key]} Contact us at {rng.choice(PLACEHOLDERS)}"}


def copied_example(examples: Sequence[Any], rng: Random) -> Any | None:
    return copy.deepcopy(rng.choice(examples)) if examples else None
