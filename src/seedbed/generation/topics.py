"""Topics: what each sample is about, planned once per run before any sample is written.

A model asked for "five new examples like these" returns the examples' own situations in
other words, and a small one drifts to whatever it knows best (a gym, a dentist) or
writes a text that does not fit the label it was given. So a run first asks for a list
of distinct situations a real user of the seeds' application would bring, for each label
of the seeds' label field (a refund that never reached the card: billing; a parcel
marked delivered that never came: shipping), and every sample then gets one of them
with its label. Different situations give different words; a situation listed under its
label gives a text that earns the label; a list drawn from the seeds keeps the domain.

The planning call goes through the caller like any other (cache, retries, budgets), with
a seed fixed by the run's, so a resumed run gets the same topics from the cache. When it
fails, the run goes on without topics.
"""

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from seedbed.generation.axes import Axis
from seedbed.generation.parsing import json_value
from seedbed.generation.placeholders import placeholders_in
from seedbed.generation.spec import GenerationSpec
from seedbed.providers.base import CompletionRequest, Message

# A topic names a situation; it is not the example itself.
MAX_TOPIC_WORDS = 14
# Enough for variety, few enough that a slow local model writes them in seconds.
_MAX_TOPICS = 24
_MAX_PER_LABEL = 6
_MIN_PER_LABEL = 2
_SHOWN_SEEDS = 8

_SYSTEM = (
    "You plan synthetic test data for evaluating an LLM application. You read examples of"
    " its data and list the situations its real users bring to it. You answer with JSON only."
)


def topics_planned(spec: GenerationSpec) -> bool:
    """Whether a run asks for topics first: when the spec says so, unless the user wrote
    the prompt (a custom prompt is the whole task, as Collinear's API sends it) or a
    call budget leaves no room for the extra call."""
    if not spec.plan_topics or spec.custom_prompt:
        return False
    max_calls = spec.budget.max_calls
    return max_calls is None or max_calls > math.ceil(spec.count / spec.samples_per_call)


def topic_request(
    seeds: Sequence[Mapping[str, Any]],
    axes: Sequence[Axis],
    spec: GenerationSpec,
    *,
    model: str,
    timeout_seconds: float | None = None,
) -> tuple[CompletionRequest, list[str]]:
    """The planning call of a run, and the labels its reply is keyed by (none when the
    seeds have no label field)."""
    label_axis = next((axis for axis in axes if axis.fixed_field is not None), None)
    labels = list(label_axis.values) if label_axis else []
    wanted = topics_wanted(spec.count, labels)
    messages = topic_messages(
        seeds,
        label_field=label_axis.fixed_field if label_axis else None,
        labels=labels,
        wanted=wanted,
        instructions=spec.instructions,
    )
    request = CompletionRequest(
        model=model,
        messages=messages,
        temperature=spec.temperature,
        top_p=spec.top_p,
        max_tokens=spec.max_tokens,
        json_schema=topic_schema(labels, wanted),
        # Fixed by the run's seed (calls use seed * 1_000_003 + their index), so a resumed
        # run replays the same topics from the cache.
        seed=(spec.random_seed or 0) * 1_000_003 - 1,
        timeout_seconds=timeout_seconds,
    )
    return request, labels


def topic_key(item_schema: Mapping[str, Any]) -> str:
    """The key a sample's topic is written under in a reply, one the seeds do not use."""
    taken = set(item_schema.get("properties") or {})
    return next(key for key in ("about", "_about", "__about_topic") if key not in taken)


def without_topic(sample: Any, key: str) -> Any:
    """A sample as the model wrote it, without the topic it wrote first, nor that topic
    echoed as a heading at the start of a text ("Video Quality: 4K on two devices")."""
    if not isinstance(sample, Mapping) or key not in sample:
        return sample
    topic = sample[key]
    heading = f"{topic.strip().casefold()}:" if isinstance(topic, str) and topic.strip() else None
    kept = {}
    for name, value in sample.items():
        if name == key:
            continue
        if heading and isinstance(value, str) and value.casefold().startswith(heading):
            rest = value[len(heading) :].lstrip()
            value = rest[:1].upper() + rest[1:] if rest else value
        kept[name] = value
    return kept


def topics_wanted(count: int, labels: Sequence[str]) -> int:
    """Topics to ask for, per label (or in all when there are no labels)."""
    if labels:
        per_label = math.ceil(count / len(labels))
        return max(_MIN_PER_LABEL, min(_MAX_PER_LABEL, per_label, _MAX_TOPICS // len(labels)))
    return max(1, min(_MAX_TOPICS, count))


def topic_messages(
    seeds: Sequence[Mapping[str, Any]],
    *,
    label_field: str | None,
    labels: Sequence[str],
    wanted: int,
    instructions: str | None = None,
) -> tuple[Message, ...]:
    shown = _seeds_covering(seeds, label_field, labels)
    rendered = "\n".join(
        f"Example {number}: {json.dumps(seed, ensure_ascii=False)}"
        for number, seed in enumerate(shown, start=1)
    )
    if label_field:
        listed = ", ".join(json.dumps(label, ensure_ascii=False) for label in labels)
        ask = (
            f"For each {label_field} ({listed}), list {wanted} situations that belong to that"
            f" {label_field} and no other."
        )
    else:
        ask = f"List {wanted} situations."
    lines = [
        f"Examples from the dataset:\n{rendered}",
        "",
        ask,
        "- each is one a real user of this same application would bring, in its subject area;",
        "- each is a short phrase of at most ten words naming a concrete situation"
        " (not a sentence of the example itself);",
        "- they differ from the examples' situations and from each other.",
    ]
    if instructions:
        lines.append(f"- Additional instructions: {instructions}")
    return (Message("system", _SYSTEM), Message("user", "\n".join(lines)))


def topic_schema(labels: Sequence[str], wanted: int) -> dict[str, Any]:
    """``{"<label>": [wanted phrases], …}``, or ``{"topics": [wanted phrases]}``."""
    phrases = {
        "type": "array",
        "items": {"type": "string"},
        "minItems": wanted,
        "maxItems": wanted,
    }
    keys = list(labels) or ["topics"]
    return {
        "type": "object",
        "properties": {key: phrases for key in keys},
        "required": keys,
        "additionalProperties": False,
    }


def parse_topics(text: str, labels: Sequence[str]) -> dict[str | None, list[str]]:
    """Per label (None without labels), its usable topics: distinct, short phrases
    without placeholders; labels with none are left out."""
    value = json_value(text)
    if not isinstance(value, Mapping):
        return {}
    keys: list[str | None] = list(labels) or [None]
    seen: set[str] = set()
    topics: dict[str | None, list[str]] = {}
    for key in keys:
        listed = value.get("topics" if key is None else key)
        usable = []
        for phrase in listed if isinstance(listed, list) else []:
            cleaned = _cleaned(phrase)
            if cleaned and cleaned.casefold() not in seen:
                seen.add(cleaned.casefold())
                usable.append(cleaned)
        if usable:
            topics[key] = usable
    return topics


def _cleaned(phrase: Any) -> str | None:
    if not isinstance(phrase, str):
        return None
    cleaned = re.sub(r"\s+", " ", phrase).strip().strip(".").strip()
    words = cleaned.split()
    if not words or len(words) > MAX_TOPIC_WORDS or placeholders_in(cleaned):
        return None
    return cleaned


def _seeds_covering(
    seeds: Sequence[Mapping[str, Any]], label_field: str | None, labels: Sequence[str]
) -> list[Mapping[str, Any]]:
    """Up to eight seeds, every label among them where the seeds allow."""
    chosen: list[Mapping[str, Any]] = []
    for label in labels:
        carrying = next((seed for seed in seeds if str(seed.get(label_field or "")) == label), None)
        if carrying is not None and len(chosen) < _SHOWN_SEEDS:
            chosen.append(carrying)
    for seed in seeds:
        if len(chosen) >= _SHOWN_SEEDS:
            break
        if seed not in chosen:
            chosen.append(seed)
    return chosen


def describe_samples(
    slots: Sequence[Mapping[str, str]],
    topics: Sequence[str | None],
    label_fields: Mapping[str, str],
) -> str:
    """The call's line for samples with topics: each one's labels (``slots``, keyed by
    axis name; ``label_fields``: axis name → the field it fixes) and what it is about."""
    parts = []
    for position, topic in enumerate(topics):
        slot = slots[position] if position < len(slots) else {}
        labels = [
            f'{field} = "{slot[axis]}"' for axis, field in label_fields.items() if axis in slot
        ]
        about = f"about {topic}" if topic else "about a situation of its own"
        parts.append(", ".join([*labels, about]))
    numbered = "; ".join(f"({number}) {part}" for number, part in enumerate(parts, start=1))
    earns = ", and its labels are the correct ones for it" if label_fields else ""
    return f"in this order: {numbered}; write each one about its own situation{earns}"
