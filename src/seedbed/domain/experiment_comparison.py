"""Comparing experiments against a baseline: per score the averages, the difference to
the baseline with a paired significance test over the items both experiments scored,
and per item whether it improved, regressed or stayed the same.

The test is the Wilcoxon signed-rank test, two-sided: the exact distribution of the
signed-rank statistic for up to ``EXACT_PAIRS_LIMIT`` non-zero differences, the normal
approximation (with tie and continuity corrections) above. Pairs whose difference is
zero carry no sign and are left out of the ranking, as in Wilcoxon's original test. It
needs no assumption about how scores are distributed and runs in O(n log n), so it
stays quick at 100k pairs.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

TEST_NAME = "Wilcoxon signed-rank test (two-sided)"
EXACT_PAIRS_LIMIT = 25
# Score differences smaller than this are equal (scores are floats from many clients).
TOLERANCE = 1e-9

IMPROVED = "improved"
REGRESSED = "regressed"
UNCHANGED = "unchanged"
MIXED = "mixed"  # better on one score or experiment, worse on another
ITEM_CHANGES = (IMPROVED, REGRESSED, UNCHANGED, MIXED)

# experiment id -> dataset item id -> score name -> the item's score (its runs' average)
ItemScores = Mapping[str, Mapping[str, Mapping[str, float]]]


@dataclass(frozen=True, slots=True)
class PairedTest:
    pairs: int  # items scored by both experiments
    p_value: float
    exact: bool


@dataclass(frozen=True, slots=True)
class ScoreComparison:
    name: str
    averages: list[float | None]  # per experiment, in the order given
    differences: list[float | None]  # to the baseline; None for the baseline itself
    tests: list[PairedTest | None]  # idem


def wilcoxon_signed_rank(differences: Sequence[float]) -> PairedTest:
    """The two-sided p-value of the paired differences being centred on zero."""
    nonzero = [value for value in differences if abs(value) > TOLERANCE]
    if not nonzero:
        return PairedTest(len(differences), 1.0, exact=True)
    doubled_ranks = _doubled_ranks([abs(value) for value in nonzero])
    positive = sum(rank for rank, value in zip(doubled_ranks, nonzero, strict=True) if value > 0)
    if len(nonzero) <= EXACT_PAIRS_LIMIT:
        return PairedTest(len(differences), _exact_p(doubled_ranks, positive), exact=True)
    return PairedTest(len(differences), _normal_p(doubled_ranks, positive), exact=False)


def _doubled_ranks(values: Sequence[float]) -> list[int]:
    """Twice the average rank of each value (ties share their ranks' mean), so that
    half ranks stay integers."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] - values[order[start]] <= TOLERANCE:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = start + end + 2  # 2 * mean of ranks start+1 .. end+1
        start = end + 1
    return ranks


def _exact_p(doubled_ranks: Sequence[int], positive: int) -> float:
    """Every sign pattern is equally likely under the null hypothesis: count, for each
    possible positive rank sum, the patterns that give it."""
    counts = {0: 1}
    for rank in doubled_ranks:
        grown = dict(counts)
        for total, ways in counts.items():
            grown[total + rank] = grown.get(total + rank, 0) + ways
        counts = grown
    patterns = 2 ** len(doubled_ranks)
    at_most = sum(ways for total, ways in counts.items() if total <= positive)
    at_least = sum(ways for total, ways in counts.items() if total >= positive)
    return min(1.0, 2 * min(at_most, at_least) / patterns)


def _normal_p(doubled_ranks: Sequence[int], positive: int) -> float:
    # The statistic is twice the positive rank sum: its mean is half the doubled
    # ranks' sum and its variance a quarter of their squares' sum (tie-corrected).
    mean = sum(doubled_ranks) / 2
    variance = sum(rank * rank for rank in doubled_ranks) / 4
    # Continuity correction of half a rank, one in doubled ranks.
    z = max(0.0, abs(positive - mean) - 1) / math.sqrt(variance)
    return min(1.0, math.erfc(z / math.sqrt(2)))


def compare_scores(
    experiment_ids: Sequence[str], score_names: Sequence[str], scores: ItemScores
) -> list[ScoreComparison]:
    """Per score: each experiment's average over its items, and, for every experiment
    after the first (the baseline), the difference and the test over shared items."""
    baseline = experiment_ids[0]
    found = []
    for name in score_names:
        averages = [_average(scores.get(experiment, {}), name) for experiment in experiment_ids]
        differences: list[float | None] = [None]
        tests: list[PairedTest | None] = [None]
        for index, experiment in enumerate(experiment_ids[1:], start=1):
            base, other = averages[0], averages[index]
            differences.append(None if base is None or other is None else other - base)
            pairs = _paired_differences(scores.get(baseline, {}), scores.get(experiment, {}), name)
            tests.append(wilcoxon_signed_rank(pairs) if pairs else None)
        found.append(ScoreComparison(name, averages, differences, tests))
    return found


def _average(by_item: Mapping[str, Mapping[str, float]], name: str) -> float | None:
    values = [item_scores[name] for item_scores in by_item.values() if name in item_scores]
    return sum(values) / len(values) if values else None


def _paired_differences(
    baseline: Mapping[str, Mapping[str, float]], other: Mapping[str, Mapping[str, float]], name: str
) -> list[float]:
    return [
        other_scores[name] - baseline[item_id][name]
        for item_id, other_scores in other.items()
        if name in other_scores and name in baseline.get(item_id, {})
    ]


def item_change(experiment_ids: Sequence[str], scores: ItemScores, item_id: str) -> str:
    """How an item fared in the other experiments against the baseline, over all scores
    both gave it: improved (only better), regressed (only worse), mixed or unchanged."""
    baseline = scores.get(experiment_ids[0], {}).get(item_id, {})
    better = worse = False
    for experiment in experiment_ids[1:]:
        for name, value in scores.get(experiment, {}).get(item_id, {}).items():
            if name not in baseline:
                continue
            difference = value - baseline[name]
            better = better or difference > TOLERANCE
            worse = worse or difference < -TOLERANCE
    if better and worse:
        return MIXED
    return IMPROVED if better else REGRESSED if worse else UNCHANGED


def score_histogram(values: Sequence[float], low: float, high: float, bins: int) -> list[int]:
    """How many values fall in each of ``bins`` equal intervals of [low, high]."""
    counts = [0] * bins
    width = (high - low) / bins if high > low else 1.0
    for value in values:
        index = int((value - low) / width) if high > low else 0
        counts[min(bins - 1, max(0, index))] += 1
    return counts
