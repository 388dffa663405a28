"""What the stub LLM writes: fresh samples, injected duplicates, and broken replies.

Nothing here knows about HTTP or a vendor protocol. :class:`SampleMaker` turns a
:class:`StubPrompt` into one batch of samples, shaped by a JSON schema when the request
carries one and by the example objects in the prompt otherwise. Every random choice is
drawn from the ``random.Random`` the caller hands in, so a seed and a request order
always give the same replies.
"""

import copy
import itertools
import json
import re
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from random import Random
from typing import TYPE_CHECKING, Any

from seedbed.testing.llm_stub_flaws import (
    copied_example,
    example_labels,
    with_labels,
    with_new_label,
    with_placeholder,
    with_template,
)
from seedbed.testing.llm_stub_schema import SchemaWalker, count_for_array

if TYPE_CHECKING:
    from seedbed.testing.llm_stub import StubBehaviour

# Common English words; fresh strings draw 6-10 of them so that two samples share few
# word n-grams and pass exact and near-duplicate filters alike.
VOCABULARY = tuple(
    [
        "able",
        "about",
        "above",
        "across",
        "act",
        "add",
        "after",
        "again",
        "against",
        "age",
        "agree",
        "air",
        "all",
        "allow",
        "almost",
        "alone",
        "along",
        "already",
        "always",
        "amount",
        "animal",
        "answer",
        "any",
        "appear",
        "apple",
        "area",
        "arm",
        "around",
        "art",
        "ask",
        "away",
        "baby",
        "back",
        "bad",
        "ball",
        "bank",
        "base",
        "beach",
        "bear",
        "beautiful",
        "bed",
        "begin",
        "behind",
        "believe",
        "best",
        "better",
        "big",
        "bird",
        "black",
        "blue",
        "board",
        "boat",
        "body",
        "book",
        "border",
        "bottom",
        "box",
        "boy",
        "bread",
        "bridge",
        "bright",
        "bring",
        "brother",
        "brown",
        "build",
        "busy",
        "buy",
        "call",
        "calm",
        "camera",
        "car",
        "card",
        "care",
        "carry",
        "case",
        "cat",
        "catch",
        "cause",
        "center",
        "chair",
        "chance",
        "change",
        "cheap",
        "child",
        "choose",
        "circle",
        "city",
        "class",
        "clean",
        "clear",
        "clock",
        "close",
        "cloud",
        "coast",
        "cold",
        "color",
        "come",
        "common",
        "cook",
        "cool",
        "corner",
        "count",
        "country",
        "course",
        "cover",
        "cross",
        "crowd",
        "cup",
        "dance",
        "dark",
        "daughter",
        "day",
        "deep",
        "desk",
        "different",
        "dinner",
        "doctor",
        "door",
        "dream",
        "dress",
        "drink",
        "drive",
        "dry",
        "early",
        "earth",
        "east",
        "easy",
        "eat",
        "edge",
        "egg",
        "empty",
        "engine",
        "enjoy",
        "enough",
        "evening",
        "event",
        "face",
        "fact",
        "fair",
        "fall",
        "family",
        "farm",
        "fast",
        "father",
        "field",
        "find",
        "fine",
        "fire",
        "fish",
        "floor",
        "flower",
        "fly",
        "follow",
        "food",
        "forest",
        "forget",
        "fresh",
        "friend",
        "front",
        "fruit",
        "full",
        "game",
        "garden",
        "gentle",
        "gift",
        "glass",
        "gold",
        "good",
        "grass",
        "green",
        "ground",
        "group",
        "grow",
        "guess",
        "hair",
        "half",
        "hand",
        "happy",
        "hard",
        "hat",
        "heavy",
        "help",
        "hill",
        "history",
        "hold",
        "home",
        "hope",
        "horse",
        "hot",
        "house",
        "idea",
        "island",
        "job",
        "join",
        "jump",
        "keep",
        "key",
        "kind",
        "king",
        "kitchen",
        "lake",
        "lamp",
        "land",
        "large",
        "late",
        "laugh",
        "leaf",
        "learn",
        "letter",
        "light",
        "line",
        "lion",
        "list",
        "little",
        "long",
        "look",
        "lucky",
        "machine",
        "map",
        "market",
    ]
)

# How many samples one reply may hold, whatever the prompt asks for.
MAX_SAMPLES_PER_REPLY = 500

ASKED_COUNT = re.compile(
    r"(\d+)\s+(?:new\s+|more\s+|different\s+|unique\s+)*"
    r"(?:samples?|examples?|items?|objects?|rows?|data\s+points?)\b",
    re.IGNORECASE,
)
# A line that asks for something ("Write 5 new examples") says how many better than one
# that describes what is shown ("Here are 3 examples from the dataset").
REQUEST_LINE = re.compile(
    r"\b(?:write|generate|create|produce|make|give|return|provide|holding)\b", re.IGNORECASE
)
# Lines that show a worked example ("Example max goldens per context: 2") say nothing
# about how many samples this request wants.
WORKED_EXAMPLE_LINE = re.compile(r"^\s*example\b", re.IGNORECASE)

# The sample every reply copies when the prompt shows no example object.
DEFAULT_EXAMPLE = {"input": "text", "expected_output": "text"}

# What a model leaves behind when it opens the JSON and then loses the thread.
GARBAGE_AFTER_OPEN_ARRAY = (
    '{"input": "Sure, here is',
    "...]}",
    '}{,, "samples"',
)

PROSE_INTROS = (
    "Sure! Here are the samples:",
    "Of course. Here is the JSON you asked for:",
    "Here you go:",
)
PROSE_OUTROS = (
    "Let me know if you need more.",
    "I hope these help!",
    "Feel free to ask for changes.",
)


@dataclass(frozen=True, slots=True)
class StubPrompt:
    """A chat request reduced to what decides the reply, whichever protocol carried it."""

    model: str
    example_texts: tuple[str, ...]  # system and user messages, where examples are found
    last_user_text: str
    prompt_chars: int  # all message text, for token accounting
    schema: Mapping[str, Any] | None = None
    max_tokens: int | None = None
    choices: int = 1


@dataclass(slots=True)
class Batch:
    """One reply's JSON value and the samples inside it."""

    value: Any
    samples: list[Any]
    duplicates: int = 0
    near_duplicates: int = 0
    flawed: int = 0  # spoilt on purpose: a new label, a template, a placeholder, a seed copy

    @property
    def text(self) -> str:
        return json.dumps(self.value, ensure_ascii=False)


class SampleMaker:
    """Makes the samples of one stub server and remembers them for duplicate injection."""

    def __init__(self, history_per_shape: int = 1_000) -> None:
        self._counter = itertools.count(1)
        # Kept by shape, so that finding what a copy may replace scans no unrelated samples.
        self._returned: defaultdict[Any, deque[Any]] = defaultdict(
            lambda: deque(maxlen=history_per_shape)
        )

    def remember(self, samples: Iterable[Any]) -> None:
        """Record samples a client could read, as candidates for later duplicates."""
        for sample in samples:
            if isinstance(sample, dict):
                self._returned[_shape(sample)].append(sample)

    def fresh_text(self, rng: Random) -> str:
        words = rng.sample(VOCABULARY, rng.randint(6, 10))
        # The running number keeps strings unique even when two draws pick the same words.
        return f"{' '.join(words).capitalize()} {self.serial()}"

    def word(self, rng: Random) -> str:
        return rng.choice(VOCABULARY)

    def serial(self) -> int:
        return next(self._counter)

    def batch(self, prompt: StubPrompt, behaviour: "StubBehaviour", rng: Random) -> Batch:
        examples = examples_in(prompt.example_texts)
        asked = asked_count(prompt.last_user_text)
        if prompt.schema is not None:
            return self._schema_batch(prompt.schema, asked, examples, behaviour, rng)
        count = adjusted_count(asked or 1, behaviour.samples_per_reply)
        labels = example_labels(examples)
        fresh = [
            with_labels(
                self._like(rng.choice(examples) if examples else DEFAULT_EXAMPLE, rng), labels, rng
            )
            for _ in range(count)
        ]
        batch = self._inject(fresh, examples, behaviour, rng)
        batch.value = batch.samples if behaviour.wrap == "array" else {"samples": batch.samples}
        return batch

    # --- samples shaped like the prompt's examples -------------------------------------

    def _like(self, example: Any, rng: Random) -> Any:
        if isinstance(example, bool):
            return rng.random() < 0.5
        if isinstance(example, int):
            return rng.randint(0, max(10, abs(example) * 2))
        if isinstance(example, float):
            return round(rng.uniform(0, max(1.0, abs(example) * 2)), 3)
        if isinstance(example, str):
            return self.fresh_text(rng)
        if isinstance(example, list):
            return [self._like(rng.choice(example), rng) for _ in example]
        if isinstance(example, dict):
            return {key: self._like(value, rng) for key, value in example.items()}
        return None

    # --- samples shaped by a JSON schema -----------------------------------------------

    def _schema_batch(
        self,
        schema: Mapping[str, Any],
        asked: int | None,
        examples: list[dict[str, Any]],
        behaviour: "StubBehaviour",
        rng: Random,
    ) -> Batch:
        walker = SchemaWalker(self, schema, rng)
        key, array = walker.batch_slot()
        if array is None:
            # The schema describes one sample, not a batch of them.
            batch = self._inject([walker.instance(schema)], examples, behaviour, rng)
            batch.value = batch.samples[0]
            return batch
        count = adjusted_count(count_for_array(array, asked), behaviour.samples_per_reply)
        # A tuple (``prefixItems``) holds each sample to its own schema (its own label).
        per_position = array.get("prefixItems", [])
        fresh = [
            walker.instance(
                per_position[index] if index < len(per_position) else array.get("items", {}),
                depth=1,
            )
            for index in range(count)
        ]
        # What the schema forces a sample to begin with (a ``const``, such as the topic a
        # sample is about) is written as told; flaws and copies concern the rest.
        forced = [
            _forced_keys(sample, per_position[index]) if index < len(per_position) else {}
            for index, sample in enumerate(fresh)
        ]
        content = [_without_keys(sample, keys) for sample, keys in zip(fresh, forced, strict=True)]
        batch = self._inject(content, examples, behaviour, rng)
        written = [
            {**forced[index], **sample}
            if index < len(forced) and isinstance(sample, dict)
            else sample
            for index, sample in enumerate(batch.samples)
        ]
        batch.value = written if key is None else walker.object_with(schema, key, written)
        return batch

    # --- duplicates and other per-sample faults ----------------------------------------

    def _inject(
        self,
        fresh: list[Any],
        examples: list[dict[str, Any]],
        behaviour: "StubBehaviour",
        rng: Random,
    ) -> Batch:
        """Replace fresh samples, at the behaviour's rates, by non-objects, copies or near copies.

        Copies come from samples returned in earlier replies, from the prompt's examples
        and from the samples already placed in this reply.
        """
        batch = Batch(value=None, samples=[])
        for sample in fresh:
            replaced = self._replaced(sample, examples, batch, behaviour, rng)
            if replaced is sample:
                replaced = self._flawed(sample, examples, batch, behaviour, rng)
            batch.samples.append(replaced)
        return batch

    def _flawed(
        self,
        sample: Any,
        examples: list[dict[str, Any]],
        batch: Batch,
        behaviour: "StubBehaviour",
        rng: Random,
    ) -> Any:
        """The sample spoilt, at the behaviour's rates, the way a careless model spoils
        them (first hit wins); the sample itself when none hits or none applies."""
        spoilt = None
        if rng.random() < behaviour.out_of_set_rate:
            spoilt = with_new_label(sample, example_labels(examples), self.word(rng))
        elif rng.random() < behaviour.template_rate:
            spoilt = with_template(
                sample, [*self._returned.get(_shape(sample), ()), *batch.samples]
            )
        elif rng.random() < behaviour.placeholder_rate:
            spoilt = with_placeholder(sample, rng)
        elif rng.random() < behaviour.seed_copy_rate:
            original = copied_example(examples, rng)
            spoilt = near_copy(original, rng) if original is not None else None
        if spoilt is None:
            return sample
        batch.flawed += 1
        return spoilt

    def _replaced(
        self,
        sample: Any,
        examples: list[dict[str, Any]],
        batch: Batch,
        behaviour: "StubBehaviour",
        rng: Random,
    ) -> Any:
        if rng.random() < behaviour.non_object_rate:
            return self.fresh_text(rng) if rng.random() < 0.5 else rng.randint(0, 1_000)
        if rng.random() < behaviour.duplicate_rate:
            candidates = self._earlier_like(sample, examples, batch)
            if candidates:
                batch.duplicates += 1
                return copy.deepcopy(rng.choice(candidates))
        if rng.random() < behaviour.near_duplicate_rate:
            original = _one_with_text(self._earlier_like(sample, examples, batch), rng)
            if original is not None:
                batch.near_duplicates += 1
                return near_copy(original, rng)
        return sample

    def _earlier_like(self, sample: Any, examples: list[dict[str, Any]], batch: Batch) -> list[Any]:
        """Earlier samples and prompt examples whose copy would fit where ``sample`` goes."""
        shape = _shape(sample)
        in_this_prompt = [c for c in [*examples, *batch.samples] if _shape(c) == shape]
        return [*self._returned.get(shape, ()), *in_this_prompt]


def _forced_keys(sample: Any, schema: Mapping[str, Any]) -> dict[str, Any]:
    """The top-level values of ``sample`` that ``schema`` fixes with a ``const``."""
    if not isinstance(sample, dict):
        return {}
    properties = schema.get("properties") or {}
    return {
        name: sample[name]
        for name, sub in properties.items()
        if isinstance(sub, Mapping) and "const" in sub and name in sample
    }


def _without_keys(sample: Any, keys: Mapping[str, Any]) -> Any:
    if not keys or not isinstance(sample, dict):
        return sample
    return {name: value for name, value in sample.items() if name not in keys}


def adjusted_count(asked: int, samples_per_reply: str) -> int:
    if samples_per_reply == "too_many":
        asked += 2
    elif samples_per_reply == "too_few":
        asked = max(1, asked // 2)
    return min(asked, MAX_SAMPLES_PER_REPLY)


def asked_count(text: str) -> int | None:
    """The number of samples the prompt asks for ("Generate 5 new samples", "You MUST
    TRY to generate 100 data points"), or None."""
    asked, mentioned = [], []
    for line in text.splitlines():
        if WORKED_EXAMPLE_LINE.match(line) or not (match := ASKED_COUNT.search(line)):
            continue
        (asked if REQUEST_LINE.search(line) else mentioned).append(int(match.group(1)))
    found = asked or mentioned
    return found[0] if found else None


def examples_in(texts: Iterable[str]) -> list[dict[str, Any]]:
    """Every JSON object written in the texts; a ``{"samples": [...]}`` wrapper gives its items."""
    found: list[dict[str, Any]] = []
    for text in texts:
        start = text.find("{")
        while start != -1:
            end = _balanced_end(text, start)
            parsed = _json_object(text[start:end]) if end else None
            if parsed is None:
                start = text.find("{", start + 1)
                continue
            wrapped = parsed.get("samples")
            if wrapped is None:
                found.append(parsed)
            elif isinstance(wrapped, list):
                found.extend(item for item in wrapped if isinstance(item, dict))
            start = text.find("{", end)
    return found


def _balanced_end(text: str, start: int) -> int | None:
    """The index just past the brace that closes ``text[start]``, minding JSON strings."""
    depth, in_string, escaped = 0, False, False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index + 1
    return None


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _shape(value: Any) -> Any:
    """What a copy must share with a sample to fit where it goes: its keys, or its type."""
    return frozenset(value) if isinstance(value, dict) else type(value)


def _one_with_text(candidates: list[Any], rng: Random) -> Any:
    # A few random tries rather than a scan: history holds up to a thousand candidates.
    for candidate in rng.sample(candidates, min(len(candidates), 8)):
        if _string_paths(candidate):
            return candidate
    return None


def _string_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, str):
        return [path]
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _string_paths(item, (*path, key))]
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in _string_paths(item, (*path, index))]
    return []


def near_copy(sample: Any, rng: Random) -> Any:
    """A copy of the sample with one string changed by a word, a letter's case or punctuation."""
    path = rng.choice(_string_paths(sample))
    if not path:
        return near_copy_of_text(sample, rng)
    changed = copy.deepcopy(sample)
    holder = changed
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = near_copy_of_text(holder[path[-1]], rng)
    return changed


def near_copy_of_text(text: str, rng: Random) -> str:
    how = rng.choice(("word", "case", "punctuation"))
    words = text.split(" ")
    if how == "word" and len(words) > 1:
        index = rng.randrange(len(words))
        words[index] = rng.choice([w for w in VOCABULARY if w != words[index].lower()])
        changed = " ".join(words)
    elif how == "case" and text[:1].isalpha():
        changed = text[0].swapcase() + text[1:]
    else:
        changed = text[:-1] if text[-1:] in ".!?" else text + rng.choice(".!?")
    return changed if changed != text else text + "."


def dressed(text: str, kind: str, rng: Random) -> str:
    """The reply text for a batch's JSON, by kind: ok, fenced, prose or malformed."""
    if kind == "malformed":
        return _broken_json(text, rng)
    if kind == "fenced":
        return f"```json\n{text}\n```"
    if kind == "prose":
        return f"{rng.choice(PROSE_INTROS)}\n{text}\n{rng.choice(PROSE_OUTROS)}"
    return text


def _broken_json(text: str, rng: Random) -> str:
    """Text that looks like the JSON reply but does not parse, the way real models fail."""
    way = rng.choice(("truncated", "garbage", "single_quotes"))
    if way == "truncated" and len(text) > 4:
        broken = text[: rng.randint(len(text) // 2, len(text) - 2)]
    elif way == "single_quotes":
        broken = text.replace('"', "'")
    else:
        broken = '{"samples": [' + rng.choice(GARBAGE_AFTER_OPEN_ARRAY)
    try:
        json.loads(broken)
    except ValueError:
        return broken
    return '{"samples": ['  # a reply with nothing to quote still has to be broken
