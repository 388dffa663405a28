"""The one judge every generated sample passes, and the reasons it refuses one.

The rules, in the order they are checked (the first that fails names the refusal):

- ``invalid``: not the seeds' JSON shape (schema, required text left empty);
- ``out_of_set``: a closed-set field (a category, a label, a role) with a value the seeds
  never use; ``out_of_range``: a number outside the seeds' range (both unless the field
  was opened with ``allow_new_values``);
- ``placeholder``: ``[company email]``, ``<name>``, ``{phone}``, lorem ipsum, ``XXX``;
- ``leakage``: as close to a held-out item as a near duplicate (a test set must not leak
  into its own expansion);
- ``seed_copy``: as close to a seed as a near duplicate;
- ``duplicate`` / ``near_duplicate``: repeats a sample already accepted (here or by
  another worker) or an item already in the dataset;
- ``templated``: a long text field (an answer, a context) repeats the same field of an
  earlier sample or seed, though the rest differs — one answer template reused; inside a
  list (a dialogue's turns) each long text is compared on its own, so one reply reused
  among new questions is caught, unless the seeds themselves repeat it; and a top-level
  long text that opens or closes with the same words as more than a quarter of those
  accepted (every question "I need to …", every answer "… our support team is available
  24/7."), unless the seeds share that frame as often;
- ``critic``: the optional LLM critic scored it below its threshold.

Every accepted sample carries what the judge measured of it (``quality``): its
similarity to the nearest seed and the critic's verdict when a critic ran.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from seedbed.generation.dedup import NearDuplicateFilter, sample_text, similarity, word_set
from seedbed.generation.frames import FrameCap
from seedbed.generation.placeholders import PlaceholderCheck
from seedbed.generation.result import (
    CRITIC,
    INVALID,
    LEAKAGE,
    OUT_OF_RANGE,
    OUT_OF_SET,
    PLACEHOLDER,
    SEED_COPY,
    TEMPLATED,
)
from seedbed.generation.schema import JsonSchema
from seedbed.generation.shape import LONG_TEXT_WORDS, SeedShape, values_at
from seedbed.generation.validation import SampleValidator


@dataclass(frozen=True, slots=True)
class Verdict:
    reason: str | None  # None: accepted
    detail: str = ""
    quality: Mapping[str, Any] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return self.reason is None


@dataclass(frozen=True, slots=True)
class CriticVerdict:
    score: float  # 0..1
    passed: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"score": round(self.score, 3), "passed": self.passed, "reason": self.reason}


class Critic(Protocol):
    """Scores one candidate; a None verdict means the critic could not tell (its call
    failed), and the sample is judged by the rules alone."""

    async def review(
        self, sample: Mapping[str, Any], data_type: str | None
    ) -> CriticVerdict | None: ...


class Judge:
    def __init__(
        self,
        seeds: Sequence[Mapping[str, Any]],
        *,
        item_schema: JsonSchema,
        shape: SeedShape,
        preserve_fields: Iterable[str] = (),
        threshold: float,
        known: Iterable[Mapping[str, Any]] = (),
        held_out: Iterable[Mapping[str, Any]] = (),
        critic: Critic | None = None,
    ) -> None:
        self.shape = shape
        self.critic = critic
        self._ignored = tuple(preserve_fields)
        self._validator = SampleValidator(item_schema, seeds)
        seed_texts = [self.text(seed) for seed in seeds]
        self._placeholders = PlaceholderCheck(seed_texts)
        self._seed_words = [word_set(text) for text in seed_texts]
        self._seeds = _filter_of(seed_texts, threshold)
        self._held_out = _filter_of((self.text(item) for item in held_out), threshold)
        self._accepted = NearDuplicateFilter(threshold)
        self._fields = [FieldTexts(path, threshold) for path in shape.long_text_fields]
        self._frames = [
            FrameCap(path, seeds) for path in shape.long_text_fields if "[]" not in path
        ]
        for seed in seeds:
            for field_texts in self._fields:
                field_texts.learn_from_seed(seed)
        for item in known:
            self.remember(item)

    # -- what callers ask ---------------------------------------------------------------

    def normalized(self, raw: Any) -> Any:
        """The sample without keys the seeds do not have (models add an ``id`` or a note)."""
        return self._validator.normalized(raw) if isinstance(raw, Mapping) else raw

    def shape_problem(self, sample: Any) -> str | None:
        """Why the sample is not in the seeds' shape, in words a model can act on."""
        return self._validator.problem(sample)

    def by_rules(self, sample: Any) -> Verdict:
        """Every rule but the critic's, without remembering the sample."""
        problem = self.shape_problem(sample)
        if problem is not None:
            return Verdict(INVALID, problem)
        outside = self.shape.out_of_set(sample)
        if outside is not None:
            path, value = outside
            allowed = ", ".join(map(str, self.shape.closed_sets[path]))
            return Verdict(OUT_OF_SET, f"{path}: {value!r} is not one of {allowed}")
        beyond = self.shape.out_of_range(sample)
        if beyond is not None:
            path, value = beyond
            bounds = self.shape.ranges[path]
            return Verdict(OUT_OF_RANGE, f"{path}: {value} is outside {bounds.low}..{bounds.high}")
        text = self.text(sample)
        gap = self._placeholders.first(text)
        if gap is not None:
            return Verdict(PLACEHOLDER, f"holds the placeholder {gap!r}")
        if self._held_out.verdict(text) is not None:
            return Verdict(LEAKAGE, "too close to a held-out item")
        if self._seeds.verdict(text) is not None:
            return Verdict(SEED_COPY, "too close to a seed")
        repeated = self._accepted.verdict(text)
        if repeated is not None:
            return Verdict(repeated, "repeats an accepted sample or a dataset item")
        for field_texts in self._fields:
            if field_texts.repeats(sample):
                path = field_texts.path
                return Verdict(TEMPLATED, f"{path} repeats another sample's {path}")
        for frames in self._frames:
            frame = frames.overused(sample)
            if frame is not None:
                return Verdict(TEMPLATED, f"{frames.path}: too many samples share its {frame}")
        return Verdict(None, quality={"nearest_seed_similarity": self.nearest_seed(text)})

    async def reviewed(self, sample: Any, verdict: Verdict, data_type: str | None) -> Verdict:
        """The rules' ``verdict`` with the critic's added, when there is a critic."""
        if not verdict.accepted or self.critic is None:
            return verdict
        review = await self.critic.review(sample, data_type)
        if review is None:
            return verdict
        quality = {**verdict.quality, "critic": review.as_dict()}
        if not review.passed:
            detail = f"the critic scored it {review.score:.2f}: {review.reason}"
            return Verdict(CRITIC, detail, quality)
        return Verdict(None, quality=quality)

    def remember(self, sample: Mapping[str, Any]) -> None:
        """Count ``sample`` as accepted from now on (here, by another worker, or already
        in the dataset)."""
        self._accepted.add(self.text(sample))
        for field_texts in self._fields:
            field_texts.remember(sample)
        for frames in self._frames:
            frames.add(sample)

    def nearest_seed(self, text: str) -> float:
        words = word_set(text)
        return round(max((similarity(words, seed) for seed in self._seed_words), default=0.0), 3)

    def text(self, sample: Mapping[str, Any]) -> str:
        return sample_text(sample, self._ignored)


class FieldTexts:
    """The long texts of one field seen so far, for the ``templated`` rule. A field inside
    a list (``turns[].text``) is compared text by text, the short ones ("Thanks!") left
    out; a text the seeds repeat among themselves (a standard greeting) is no template."""

    def __init__(self, path: str, threshold: float) -> None:
        self.path = path
        self._in_list = "[]" in path
        self._seen = NearDuplicateFilter(threshold)
        self._seeds_repeat = NearDuplicateFilter(threshold)

    def texts(self, sample: Any) -> list[str]:
        values = [value for value in values_at(sample, self.path) if isinstance(value, str)]
        if not self._in_list:
            joined = " ".join(values)
            return [joined] if joined else []
        return [value for value in values if len(value.split()) >= LONG_TEXT_WORDS]

    def learn_from_seed(self, seed: Any) -> None:
        for text in self.texts(seed):
            if self._seen.verdict(text) is not None:
                self._seeds_repeat.add(text)
            self._seen.add(text)

    def repeats(self, sample: Any) -> bool:
        return any(
            self._seen.verdict(text) is not None and self._seeds_repeat.verdict(text) is None
            for text in self.texts(sample)
        )

    def remember(self, sample: Any) -> None:
        for text in self.texts(sample):
            self._seen.add(text)


def _filter_of(texts: Iterable[str], threshold: float) -> NearDuplicateFilter:
    found = NearDuplicateFilter(threshold)
    for text in texts:
        found.add(text)
    return found
