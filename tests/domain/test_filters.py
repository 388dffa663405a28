import pytest

from seedbed.domain.errors import InvalidInput
from seedbed.domain.filters import FieldKind, Operator, parse_filters, parse_sorting
from seedbed.domain.items import ITEM_FIELDS


def test_data_filter_takes_its_key_from_key_or_from_a_dotted_field():
    by_key = parse_filters(
        '[{"field":"data","key":"question","operator":"contains","value":"refund"}]', ITEM_FIELDS
    )
    dotted = parse_filters(
        '[{"field":"data.question","operator":"contains","value":"refund"}]', ITEM_FIELDS
    )
    assert by_key == dotted
    assert by_key[0].key_path == ("question",)
    assert by_key[0].operator is Operator.CONTAINS


def test_nested_keys_become_paths():
    [found] = parse_filters(
        '[{"field":"data","key":"meta.lang","operator":"=","value":"de"}]', ITEM_FIELDS
    )
    assert found.key_path == ("meta", "lang")


@pytest.mark.parametrize(
    "raw, message",
    [
        ("not json", "filters must be a JSON array"),
        ('{"field":"data"}', "filters must be a JSON array"),
        ('[{"field":"data","key":"q","operator":"~","value":"x"}]', "unknown filter operator"),
        ('[{"field":"nope","operator":"=","value":"x"}]', "unknown field 'nope'"),
        ('[{"field":"data","operator":"=","value":"x"}]', "needs a 'key'"),
        ('[{"field":"tags","operator":">","value":"x"}]', "does not apply"),
        ('[{"field":"created_at","operator":">","value":"yesterday"}]', "ISO-8601"),
        ('[{"field":"data","key":"q","operator":"="}]', "needs a 'value'"),
    ],
)
def test_bad_filters_are_refused_with_a_reason(raw, message):
    with pytest.raises(InvalidInput, match=message):
        parse_filters(raw, ITEM_FIELDS)


def test_empty_operators_need_no_value():
    [found] = parse_filters('[{"field":"data","key":"q","operator":"is_empty"}]', ITEM_FIELDS)
    assert found.value == ""


def test_sorting_uses_the_first_entry_and_defaults_to_ascending():
    sort = parse_sorting('[{"field":"data.score"},{"field":"id","direction":"DESC"}]', ITEM_FIELDS)
    assert (sort.field, sort.kind, sort.key_path, sort.descending) == (
        "data",
        FieldKind.JSON,
        ("score",),
        False,
    )
    assert parse_sorting("[]", ITEM_FIELDS) is None
    with pytest.raises(InvalidInput, match="ASC or DESC"):
        parse_sorting('[{"field":"id","direction":"UP"}]', ITEM_FIELDS)
