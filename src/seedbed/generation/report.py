"""The quality report of a run or a job: what a careful reader of the samples would check,
measured.

- the account: requested, accepted, rejected by reason; tokens, cost and time per sample;
- diversity of the accepted samples beside the seeds': distinct-1 and distinct-2 (distinct
  word uni/bigrams over all of them), compression ratio (raw ÷ zlib size of the joined
  texts: higher is more repetitive), mean and max pairwise word-set similarity;
- shared frames: each long text field's commonest opening and closing words, with the
  share of samples and of seeds that carry them (``frames.py``);
- how close samples are to their nearest seed (min, median, p90, max);
- coverage: each closed-set field's values among the samples (and the share inside the
  set), each diversity axis's values as planned and as accepted, the topics, data types;
- the critic's scores, when a critic ran;
- the worst five samples by nearest-seed similarity, by similarity to another sample and
  by critic score.
"""

import statistics
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from seedbed.generation.axes import Axis
from seedbed.generation.dedup import normalize, sample_text, similarity, word_set
from seedbed.generation.frames import shared_frames
from seedbed.generation.result import GenerationStats
from seedbed.generation.shape import SeedShape, values_at

QualityReport = dict[str, Any]

# Pairwise similarity is quadratic: it is measured on an evenly spaced subset.
_PAIRWISE_LIMIT = 400
_WORST = 5


def quality_report(
    seeds: Sequence[Mapping[str, Any]],
    samples: Sequence[Mapping[str, Any]],
    *,
    qualities: Sequence[Mapping[str, Any]],
    stats: GenerationStats | Mapping[str, Any],
    shape: SeedShape,
    axes: Sequence[Axis] = (),
    axis_values: Sequence[Mapping[str, str]] = (),
    topics: Sequence[str | None] = (),
    data_types: Sequence[str | None] = (),
    planned: Mapping[Any, int] | None = None,
    ignored_fields: Iterable[str] = (),
) -> QualityReport:
    ignored = tuple(ignored_fields)
    texts = [sample_text(sample, ignored) for sample in samples]
    account = stats.as_dict() if isinstance(stats, GenerationStats) else dict(stats)
    accepted = len(samples)
    tokens = account.get("prompt_tokens", 0) + account.get("completion_tokens", 0)
    pairwise, closest_pairs = _pairwise(texts)
    nearest = [quality.get("nearest_seed_similarity") for quality in qualities]
    critic_scores = [
        quality["critic"]["score"]
        for quality in qualities
        if isinstance(quality.get("critic"), Mapping)
    ]
    return {
        "requested": account.get("requested"),
        "accepted": accepted,
        "rejected": dict(account.get("rejected", {})),
        "per_sample": {
            "tokens": _ratio(tokens, accepted),
            "cost": _ratio(account.get("cost", 0.0), accepted, digits=6),
            "seconds": _ratio(account.get("elapsed_seconds", 0.0), accepted),
        },
        "diversity": {
            # Measured on free text: closed-set labels repeat by design.
            "samples": _diversity([shape.free_text(sample) for sample in samples]),
            "seeds": _diversity([shape.free_text(seed) for seed in seeds]),
            "mean_pairwise_similarity": pairwise[0],
            "max_pairwise_similarity": pairwise[1],
        },
        "shared_frames": shared_frames(shape.long_text_fields, seeds, samples),
        "nearest_seed_similarity": _distribution([value for value in nearest if value is not None]),
        "closed_sets": _closed_set_coverage(shape, samples),
        "axes": _axis_coverage(axes, axis_values, planned),
        # What the accepted samples are about (topics.py), commonest first.
        "topics": dict(Counter(topic for topic in topics if topic).most_common()),
        "data_types": dict(Counter(data_type or "general" for data_type in data_types)),
        "critic": _critic(critic_scores),
        "worst": {
            "closest_to_a_seed": _worst(samples, nearest, highest=True),
            "closest_to_another_sample": [
                {"sample": samples[index], "similarity": value} for index, value in closest_pairs
            ],
            "lowest_critic_score": _worst(
                samples,
                [
                    q["critic"]["score"] if isinstance(q.get("critic"), Mapping) else None
                    for q in qualities
                ],
                highest=False,
            ),
        },
    }


def distinct_n(texts: Sequence[str], n: int) -> float | None:
    """Distinct word n-grams ÷ all word n-grams over ``texts`` (None when there are none)."""
    grams: list[tuple[str, ...]] = []
    for text in texts:
        words = normalize(text).split()
        grams.extend(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    return round(len(set(grams)) / len(grams), 4) if grams else None


def compression_ratio(texts: Sequence[str]) -> float | None:
    joined = "\n".join(normalize(text) for text in texts).encode()
    return round(len(joined) / len(zlib.compress(joined, 9)), 4) if joined else None


def _diversity(texts: Sequence[str]) -> dict[str, Any]:
    return {
        "distinct_1": distinct_n(texts, 1),
        "distinct_2": distinct_n(texts, 2),
        "compression_ratio": compression_ratio(texts),
    }


def _pairwise(
    texts: Sequence[str],
) -> tuple[tuple[float | None, float | None], list[tuple[int, float]]]:
    """(mean, max) similarity over pairs of an evenly spaced subset, and for the worst
    five samples of it the similarity to their closest other sample."""
    if len(texts) < 2:
        return (None, None), []
    step = max(1, len(texts) // _PAIRWISE_LIMIT)
    chosen = list(range(0, len(texts), step))[:_PAIRWISE_LIMIT]
    words = {index: word_set(texts[index]) for index in chosen}
    closest = dict.fromkeys(chosen, 0.0)
    values: list[float] = []
    for position, left in enumerate(chosen):
        for right in chosen[position + 1 :]:
            value = similarity(words[left], words[right])
            values.append(value)
            closest[left] = max(closest[left], value)
            closest[right] = max(closest[right], value)
    worst = sorted(closest.items(), key=lambda pair: -pair[1])[:_WORST]
    return (
        (round(statistics.fmean(values), 4), round(max(values), 4)),
        [(index, round(value, 4)) for index, value in worst],
    )


def _distribution(values: Sequence[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0}
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "min": ordered[0],
        "median": round(statistics.median(ordered), 4),
        "p90": ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))],
        "max": ordered[-1],
        "histogram": _histogram(ordered),
    }


def _histogram(values: Sequence[float], buckets: int = 10) -> list[int]:
    counts = [0] * buckets
    for value in values:
        counts[min(buckets - 1, max(0, int(value * buckets)))] += 1
    return counts


def _closed_set_coverage(shape: SeedShape, samples: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    coverage: dict[str, Any] = {}
    for path, allowed in shape.closed_sets.items():
        found = Counter(value for sample in samples for value in values_at(sample, path))
        total = sum(found.values())
        inside = sum(count for value, count in found.items() if value in allowed)
        coverage[path] = {
            "values": {str(value): found.get(value, 0) for value in allowed},
            "outside": {
                str(value): count for value, count in found.items() if value not in allowed
            },
            "inside_share": _ratio(inside, total, digits=4),
        }
    return coverage


def _axis_coverage(
    axes: Sequence[Axis],
    axis_values: Sequence[Mapping[str, str]],
    planned: Mapping[Any, int] | None,
) -> dict[str, Any]:
    coverage: dict[str, Any] = {}
    for axis in axes:
        accepted = Counter(values.get(axis.name) for values in axis_values if axis.name in values)
        asked: Counter[str] = Counter()
        for cell, count in (planned or {}).items():
            for name, value in cell:
                if name == axis.name:
                    asked[value] += count
        coverage[axis.name] = {
            value: {"planned": asked.get(value, 0), "accepted": accepted.get(value, 0)}
            for value in axis.values
        }
    return coverage


def _critic(scores: Sequence[float]) -> dict[str, Any] | None:
    if not scores:
        return None
    return {
        "count": len(scores),
        "mean": round(statistics.fmean(scores), 4),
        "histogram": _histogram(scores),
    }


def _worst(
    samples: Sequence[Mapping[str, Any]], values: Sequence[float | None], *, highest: bool
) -> list[dict[str, Any]]:
    scored = [(value, index) for index, value in enumerate(values) if value is not None]
    scored.sort(key=lambda pair: -pair[0] if highest else pair[0])
    return [{"sample": samples[index], "value": value} for value, index in scored[:_WORST]]


def _ratio(numerator: float, denominator: int, digits: int = 2) -> float | None:
    return round(numerator / denominator, digits) if denominator else None
