"""The messages of one generation call.

The system message holds what every call of a run shares: the task, the rules, the
closed label sets, the fields to preserve, the user's instructions and the output
contract. A local model keeps its computed prefix between calls, so only the user
message (a different few seed examples each call, how many to write, and the call's own
axis and data type) is new work. A custom prompt replaces the task description;
``{examples}`` and ``{count}`` in it are filled in, and the output contract is always
stated so replies stay machine-readable.
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

GENERAL_RULES = (
    "Every new example has the same keys, value types and nesting as the examples.",
    "Stay in the same application and subject area as the examples; write what its"
    " real users would send, with concrete, realistic details (never placeholders such"
    " as [company email] or <name>).",
    "Each new example is clearly different from the examples shown and from the"
    " others: a new situation and new wording, not the same answer with another question.",
    "Every expected answer or label must be correct for its own input.",
)

OUTPUT_CONTRACT = (
    'Answer with a JSON object of the form {"samples": [...]} holding exactly as many'
    " new examples as asked for, and nothing else."
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
    system = _shared_rules(instructions, preserve_fields, closed_sets)
    rendered = _render_examples(examples)
    if custom_prompt:
        task = custom_prompt.replace("{examples}", rendered).replace("{count}", str(count))
        if "{examples}" not in custom_prompt:
            task = f"{task}\n\nExamples:\n{rendered}"
    else:
        task = f"Examples from the dataset:\n{rendered}"
    this_call = [f"For these {count} examples, {line}." for line in axis]
    if data_type:
        this_call.append(f"Kind of example to write ({data_type}): {DATA_TYPE_GUIDANCE[data_type]}")
    user = "\n".join(
        [task, "", f"Write {count} new examples.", *(f"- {line}" for line in this_call)]
    )
    return (Message("system", system), Message("user", user))


def _shared_rules(
    instructions: str | None,
    preserve_fields: Sequence[str],
    closed_sets: Mapping[str, Sequence[Any]] | None,
) -> str:
    rules = list(GENERAL_RULES)
    for path, values in (closed_sets or {}).items():
        choices = ", ".join(json.dumps(value, ensure_ascii=False) for value in values)
        rules.append(f"{path} is always one of: {choices}.")
    if preserve_fields:
        fields = ", ".join(preserve_fields)
        rules.append(f"Keep these fields consistent with the patterns of the examples: {fields}.")
    if instructions:
        rules.append(f"Additional instructions: {instructions}")
    return "\n".join(
        [SYSTEM_PROMPT, "", "Rules:", *(f"- {rule}" for rule in rules), "", OUTPUT_CONTRACT]
    )


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
    """One line per example: compact JSON costs the model fewer tokens to read."""
    return "\n".join(
        f"Example {number}: {json.dumps(example, ensure_ascii=False)}"
        for number, example in enumerate(examples, start=1)
    )
