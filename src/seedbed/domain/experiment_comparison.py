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

# Score name -> per experiment (the baseline first) -> per item: the score the experiment
# gave the item (the average over the item's runs), or None when it gave none. Every
# experiment's list holds the same items in the same order.
ScoreColumns = Mapping[str, Sequence[Sequence[float | None]]]


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
    nonzero = sorted((value for value in differences if abs(value) > TOLERANCE), key=abs)
    if not nonzero:
        return PairedTest(len(differences), 1.0, exact=True)
    doubled_ranks, positive = _doubled_ranks(nonzero)
    if len(nonzero) <= EXACT_PAIRS_LIMIT:
        return PairedTest(len(differences), _exact_p(doubled_ranks, positive), exact=True)
    return PairedTest(len(differences), _normal_p(doubled_ranks, positive), exact=False)


def _doubled_ranks(ordered: Sequence[float]) -> tuple[list[int], int]:
    """For differences sorted by size: each one's rank, doubled so that tied values'
    shared (mean) rank stays an integer, and the sum of the positive ones' ranks. One
    plain loop: at 100k pairs this is the test's cost."""
    count = len(ordered)
    sizes = [abs(value) for value in ordered]
    ranks = [0] * count
    positive = 0
    start = 0
    while start < count:
        end, first = start, sizes[start]
        while end + 1 < count and sizes[end + 1] - first <= TOLERANCE:
            end += 1
        doubled = start + end + 2  # twice the mean of ranks start+1 .. end+1
        for position in range(start, end + 1):
            ranks[position] = doubled
            if ordered[position] > 0:
                positive += doubled
        start = end + 1
    return ranks, positive


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


def compare_scores(columns: ScoreColumns) -> list[ScoreComparison]:
    """Per score: each experiment's average over its items, and, for every experiment
    after the first (the baseline), the difference and the test over shared items."""
    found = []
    for name, per_experiment in columns.items():
        averages = [_average(values) for values in per_experiment]
        differences: list[float | None] = [None]
        tests: list[PairedTest | None] = [None]
        for index, values in enumerate(per_experiment[1:], start=1):
            base, other = averages[0], averages[index]
            differences.append(None if base is None or other is None else other - base)
            pairs = [
                mine - theirs
                for mine, theirs in zip(values, per_experiment[0], strict=True)
                if mine is not None and theirs is not None
            ]
            tests.append(wilcoxon_signed_rank(pairs) if pairs else None)
        found.append(ScoreComparison(name, averages, differences, tests))
    return found


def _average(values: Sequence[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return sum(present) / len(present) if present else None


def item_changes(columns: ScoreColumns, item_count: int) -> list[str]:
    """How each item fared in the other experiments against the baseline, over all
    scores both gave it: improved (only better), regressed (only worse), mixed or
    unchanged."""
    better = [False] * item_count
    worse = [False] * item_count
    for per_experiment in columns.values():
        baseline = per_experiment[0]
        for values in per_experiment[1:]:
            for index, (mine, theirs) in enumerate(zip(values, baseline, strict=True)):
                if mine is None or theirs is None:
                    continue
                if mine - theirs > TOLERANCE:
                    better[index] = True
                elif theirs - mine > TOLERANCE:
                    worse[index] = True
    return [
        MIXED if up and down else IMPROVED if up else REGRESSED if down else UNCHANGED
        for up, down in zip(better, worse, strict=True)
    ]


def score_histogram(
    values: Sequence[float | None], low: float, high: float, bins: int
) -> list[int]:
    """How many values fall in each of ``bins`` equal intervals of [low, high] (None:
    no score, not counted)."""
    counts = [0] * bins
    scale = bins / (high - low) if high > low else 0.0
    last = bins - 1
    for value in values:
        if value is not None:
            index = int((value - low) * scale)
            counts[index if 0 <= index < last else (0 if index < 0 else last)] += 1
    return counts
