"""Comparing experiments: the paired test's p-values and the per-item changes, checked
against values worked out by hand."""

import pytest

from seedbed.domain.experiment_comparison import (
    IMPROVED,
    MIXED,
    REGRESSED,
    UNCHANGED,
    compare_scores,
    item_changes,
    score_histogram,
    wilcoxon_signed_rank,
)


def test_three_positive_differences_give_one_extreme_pattern_in_eight_per_tail():
    # W+ = 1 + 2 + 3 = 6 is reached by 1 of the 2**3 sign patterns; two tails -> 2/8.
    test = wilcoxon_signed_rank([1.0, 2.0, 3.0])
    assert (test.pairs, test.p_value, test.exact) == (3, 0.25, True)


def test_a_negative_difference_takes_its_rank_out_of_the_positive_sum():
    # |d| ranks: 0.25->1, 0.5->2, 0.75->3, 1.0->4; W+ = 9, reached or passed by 2 of 16.
    assert wilcoxon_signed_rank([0.5, -0.25, 1.0, 0.75]).p_value == 0.25
    assert wilcoxon_signed_rank([-0.5, 0.25, -1.0, -0.75]).p_value == 0.25


def test_tied_differences_share_their_ranks():
    # |d| = 1, 1, 1, 2 -> ranks 2, 2, 2, 4; W+ = 8 of 10; 4 of 16 patterns reach 8.
    assert wilcoxon_signed_rank([1.0, 1.0, -1.0, 2.0]).p_value == 0.5


def test_zero_differences_count_as_pairs_but_carry_no_sign():
    test = wilcoxon_signed_rank([0.0, 0.0, 1.0])
    assert (test.pairs, test.p_value) == (3, 1.0)
    assert wilcoxon_signed_rank([0.0, 0.0]).p_value == 1.0


def test_many_pairs_use_the_normal_approximation():
    # n = 30, all positive: W+ = 465, mean 232.5, sd sqrt(30*31*61/24) = 48.6184;
    # z = (465 - 232.5 - 0.5) / 48.6184 = 4.77186 -> p = erfc(z / sqrt 2) = 1.8262e-6.
    test = wilcoxon_signed_rank([float(value) for value in range(1, 31)])
    assert not test.exact
    assert test.p_value == pytest.approx(1.8262e-6, rel=1e-3)


def test_compare_scores_gives_averages_deltas_and_the_test_per_score():
    # Items i1..i4; experiment A (the baseline) then B; None: no score for that item.
    columns = {
        "accuracy": [[0.25, 0.5, 0.5, 0.25], [0.75, 1.0, 0.5, 0.75]],
        "fluency": [[0.5, 1.0, None, None], [0.5, 0.0, None, 1.0]],
    }
    accuracy, fluency = compare_scores(columns)
    assert accuracy.averages == [0.375, 0.75]
    assert accuracy.differences == [None, 0.375]
    # Differences 0.5, 0.5, 0, 0.5: three tied non-zero ranks, all positive -> 2/8.
    assert accuracy.tests[0] is None
    assert (accuracy.tests[1].pairs, accuracy.tests[1].p_value) == (4, 0.25)
    assert fluency.averages == [0.75, 0.5]
    assert fluency.differences == [None, -0.25]
    assert fluency.tests[1].pairs == 2  # i4's fluency has no baseline to pair with

    assert item_changes(columns, 4) == [IMPROVED, MIXED, UNCHANGED, IMPROVED]
    swapped = {name: list(reversed(values)) for name, values in columns.items()}
    assert item_changes(swapped, 4)[0] == REGRESSED


def test_a_score_only_the_baseline_has_gets_no_difference():
    (only,) = compare_scores({"recall": [[1.0], [None]]})
    assert only.averages == [1.0, None]
    assert only.differences == [None, None]
    assert only.tests == [None, None]


def test_histogram_counts_values_per_interval_with_the_top_edge_in_the_last():
    assert score_histogram([0.0, 0.1, 0.5, 1.0], 0.0, 1.0, 4) == [2, 0, 1, 1]
    assert score_histogram([3.0, None, 3.0], 3.0, 3.0, 4) == [2, 0, 0, 0]
