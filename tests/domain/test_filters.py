"""Filters, sorts and the query values the listing services take, built from Python."""

import pytest

from seedbed.domain.datasets import DATASET_FIELDS
from seedbed.domain.errors import InvalidInput
from seedbed.domain.filters import FieldKind, Operator, make_filter, make_sort
from seedbed.domain.items import ITEM_FIELDS
from seedbed.domain.queries import CompareViewQuery, DatasetQuery, ExperimentQuery, ItemQuery


def test_a_keyed_field_takes_its_key_after_a_dot_or_as_key():
    dotted = make_filter(ITEM_FIELDS, "data.question", "contains", "refund")
    by_key = make_filter(ITEM_FIELDS, "data", Operator.CONTAINS, "refund", key="question")
    assert dotted == by_key
    assert dotted.key_path == ("question",)
    assert dotted.operator is Operator.CONTAINS
    assert make_filter(ITEM_FIELDS, "data", "=", "de", key="meta.lang").key_path == ("meta", "lang")


@pytest.mark.parametrize(
    "arguments, message",
    [
        (("data.q", "~", "x"), "unknown filter operator"),
        (("nope", "=", "x"), "unknown field 'nope'"),
        (("data", "=", "x"), "needs a 'key'"),
        (("tags", ">", "x"), "does not apply"),
        (("created_at", ">", "yesterday"), "ISO-8601"),
        (("data.q", "=", None), "needs a 'value'"),
        (("data.q", "=", ["a"]), "must be a string"),
    ],
)
def test_bad_filters_are_refused_with_a_reason(arguments, message):
    with pytest.raises(InvalidInput, match=message):
        make_filter(ITEM_FIELDS, *arguments)


def test_empty_operators_need_no_value_and_booleans_read_as_json():
    assert make_filter(ITEM_FIELDS, "data.q", "is_empty").value == ""
    assert make_filter(ITEM_FIELDS, "data.flag", "=", True).value == "true"


def test_numbers_are_checked_where_the_field_is_numeric():
    assert make_filter(DATASET_FIELDS, "dataset_items_count", ">", 3).number == 3.0
    with pytest.raises(InvalidInput, match="needs a number"):
        make_filter(DATASET_FIELDS, "dataset_items_count", ">", "many")


def test_a_sort_on_a_keyed_field_needs_its_key():
    sort = make_sort(ITEM_FIELDS, "data.score", descending=True)
    assert (sort.field, sort.kind, sort.key_path, sort.descending) == (
        "data",
        FieldKind.JSON,
        ("score",),
        True,
    )
    with pytest.raises(InvalidInput, match="needs a key"):
        make_sort(ITEM_FIELDS, "data")


def test_queries_are_built_step_by_step_and_stay_unchanged():
    plain = DatasetQuery(name="support")
    narrowed = plain.where("tags", "contains", "gold").sorted_by("created_at", descending=True)
    assert plain.filters == () and plain.sort is None
    assert narrowed.name == "support"
    assert [(f.field, f.operator, f.value) for f in narrowed.filters] == [
        ("tags", Operator.CONTAINS, "gold")
    ]
    assert narrowed.sort.field == "created_at" and narrowed.sort.descending


def test_each_query_checks_its_own_resources_fields():
    assert ItemQuery(version="v2").where("data.question", "contains", "refund").version == "v2"
    sorted_by_score = ExperimentQuery().sorted_by("feedback_scores.accuracy", descending=True)
    assert sorted_by_score.sort.key_path == ("accuracy",)
    on_runs = CompareViewQuery(experiment_ids=("e",)).where("feedback_scores.f1", ">=", 0.5)
    assert on_runs.filters[0].kind is FieldKind.NAMED_NUMBER
    with pytest.raises(InvalidInput, match="unknown field 'data.question'"):
        DatasetQuery().where("data.question", "contains", "x")
    with pytest.raises(InvalidInput, match="unknown field"):
        ExperimentQuery().sorted_by("no_such_field")
