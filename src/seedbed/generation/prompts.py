"""The messages of one generation call.

Each call shows the model a few seed examples (a different few each call), asks for
several new samples at once, and states the output contract. A custom prompt replaces
the task description; ``{examples}`` and ``{count}`` in it are filled in, and the
output contract is always appended so replies stay machine-readable.
"""

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from seedbed.generation.strategies import DATA_TYPE_GUIDANCE
from seedbed.providers.base import Message

SYSTEM_PROMPT = (
    "You create synthetic test data for evaluating an LLM application. You write new,"
    " realistic and varied examples in exactly the same JSON shape as the examples you"
    " are shown, and you answer with JSON only."
)


def generation_messages(
    examples: Sequence[Mapping[str, Any]],
    count: int,
    *,
    instructions: str | None = None,
    preserve_fields: Sequence[str] = (),
    data_type: str | None = None,
    custom_prompt: str | None = None,
    closed_sets: Mapping[str, Sequence[Any]] | None = None,
    axis: Sequence[str] = (),
) -> tuple[Message, ...]:
    """``closed_sets``: fields whose values must come from the seeds' set (path → values).
    ``axis``: what this call's samples have in common (``every example has category =
    "billing"``, ``style: plain and short``)."""
    rendered = _render_examples(examples)
    if custom_prompt:
        task = custom_prompt.replace("{examples}", rendered).replace("{count}", str(count))
        if "{examples}" not in custom_prompt:
            task = f"{task}\n\nExamples:\n\n{rendered}"
    else:
        task = f"Here are {len(examples)} examples from the dataset:\n\n{rendered}"
    rules = [
        "Every new example has the same keys, value types and nesting as the examples.",
        "Stay in the same application and subject area as the examples; write what its"
        " real users would send, with concrete, realistic details (never placeholders such"
        " as [company email] or <name>).",
        "Each new example is clearly different from the examples above and from the"
        " others: a new situation and new wording, not the same answer with another question.",
        "Every expected answer or label must be correct for its own input.",
    ]
    for path, values in (closed_sets or {}).items():
        choices = ", ".join(json.dumps(value, ensure_ascii=False) for value in values)
        rules.append(f"{path} is always one of: {choices}.")
    rules.extend(f"For these {count} examples, {line}." for line in axis)
    if preserve_fields:
        fields = ", ".join(preserve_fields)
        rules.append(f"Keep these fields consistent with the patterns of the examples: {fields}.")
    if data_type:
        rules.append(f"Kind of example to write ({data_type}): {DATA_TYPE_GUIDANCE[data_type]}")
    if instructions:
        rules.append(f"Additional instructions: {instructions}")
    contract = (
        f'Answer with a JSON object of the form {{"samples": [...]}} holding exactly {count}'
        " new examples, and nothing else."
    )
    body = "\n".join(
        [task, "", f"Write {count} new examples.", *(f"- {rule}" for rule in rules), "", contract]
    )
    return (Message("system", SYSTEM_PROMPT), Message("user", body))


def repair_messages(messages: Sequence[Message], reply: str, problem: str) -> tuple[Message, ...]:
    """The conversation so far plus the bad reply and what was wrong with it."""
    shown = reply if len(reply) <= 4000 else reply[:4000] + "…"
    return (
        *messages,
        Message("assistant", shown),
        Message(
            "user",
            f"That reply could not be used: {problem}. Answer again with only the JSON"
            ' object {"samples": [...]}, every sample in the shape of the examples.',
        ),
    )


def prompt_hash(messages: Sequence[Message]) -> str:
    text = json.dumps([[m.role, m.content] for m in messages], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _render_examples(examples: Sequence[Mapping[str, Any]]) -> str:
    return "\n\n".join(
        f"Example {number}:\n{json.dumps(example, ensure_ascii=False, indent=2)}"
        for number, example in enumerate(examples, start=1)
    )
