"""Opik's query parameters (``filters``, ``sorting``, ``experiment_ids``, ``types``) are
read at the Opik edge; what is not well formed is a 400 in Opik's shape,
``{"code": 400, "message": ...}``, on every endpoint that takes them."""

import uuid

import pytest

from seedbed.api.opik.queries import parse_filters, parse_sorting, string_list
from seedbed.domain.errors import InvalidInput
from seedbed.domain.filters import FieldKind, Operator
from seedbed.domain.items import ITEM_FIELDS

API = "/v1/private"


def test_filters_arrive_as_json_text_or_as_the_array_itself():
    text = parse_filters(
        '[{"field":"data","key":"question","operator":"contains","value":"refund"}]', ITEM_FIELDS
    )
    array = parse_filters(
        [{"field": "data.question", "operator": "contains", "value": "refund"}], ITEM_FIELDS
    )
    assert text == array
    assert text[0].key_path == ("question",) and text[0].operator is Operator.CONTAINS
    assert parse_filters(None, ITEM_FIELDS) == parse_filters("", ITEM_FIELDS) == ()


@pytest.mark.parametrize(
    "raw, message",
    [
        ("not json", "filters must be a JSON array"),
        ('{"field":"data"}', "filters must be a JSON array"),
        ('["data"]', "each filter must be an object"),
        ('[{"operator":"=","value":"x"}]', "needs a 'field'"),
        ('[{"field":"data","key":"q","operator":"~","value":"x"}]', "unknown filter operator"),
    ],
)
def test_bad_filters_are_refused_with_a_reason(raw, message):
    with pytest.raises(InvalidInput, match=message):
        parse_filters(raw, ITEM_FIELDS)


def test_sorting_uses_the_first_entry_and_defaults_to_ascending():
    sort = parse_sorting('[{"field":"data.score"},{"field":"id","direction":"DESC"}]', ITEM_FIELDS)
    assert (sort.field, sort.kind, sort.key_path, sort.descending) == (
        "data",
        FieldKind.JSON,
        ("score",),
        False,
    )
    assert parse_sorting('[{"field":"id","direction":"desc"}]', ITEM_FIELDS).descending
    assert parse_sorting("[]", ITEM_FIELDS) is None
    with pytest.raises(InvalidInput, match="ASC or DESC"):
        parse_sorting('[{"field":"id","direction":"UP"}]', ITEM_FIELDS)
    with pytest.raises(InvalidInput, match="objects with a 'field'"):
        parse_sorting('["id"]', ITEM_FIELDS)


def test_id_and_type_lists_are_json_arrays_of_strings():
    assert string_list('["a", "b"]', "types") == ("a", "b")
    assert string_list(None, "types") is None
    with pytest.raises(InvalidInput, match="experiment_ids must be a JSON array"):
        string_list("a,b", "experiment_ids")
    with pytest.raises(InvalidInput, match="of strings"):
        string_list("[1]", "experiment_ids")


@pytest.fixture
def dataset_id(client) -> str:
    created = client.post(f"{API}/datasets", json={"name": "queried"})
    dataset = created.headers["location"].rsplit("/", 1)[1]
    client.put(
        f"{API}/datasets/items", json={"dataset_id": dataset, "items": [{"data": {"q": "x"}}]}
    )
    return dataset


def _assert_bad_request(response, words: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"code", "message"} and body["code"] == 400
    assert words in body["message"]


BAD_FILTERS = "[{not json"
BAD_SORTING = '[{"field":"nope"}]'


@pytest.mark.parametrize(
    "method, path, request_arguments, words",
    [
        ("GET", "/datasets", {"params": {"filters": BAD_FILTERS}}, "filters must be a JSON"),
        ("GET", "/datasets", {"params": {"sorting": BAD_SORTING}}, "unknown field 'nope'"),
        ("GET", "/datasets/{d}/items", {"params": {"filters": BAD_FILTERS}}, "filters must"),
        ("GET", "/datasets/{d}/items", {"params": {"sorting": BAD_SORTING}}, "unknown field"),
        ("GET", "/experiments", {"params": {"filters": BAD_FILTERS}}, "filters must be a JSON"),
        ("GET", "/experiments", {"params": {"sorting": "DESC"}}, "sorting must be a JSON"),
        ("GET", "/experiments", {"params": {"types": "regular"}}, "types must be a JSON"),
        ("GET", "/experiments", {"params": {"types": '["nope"]'}}, "types must be among"),
        ("GET", "/experiments", {"params": {"experiment_ids": "x"}}, "experiment_ids must"),
        (
            "GET",
            "/datasets/{d}/items/experiments/items",
            {"params": {"experiment_ids": f'["{uuid.uuid4()}"]', "filters": BAD_FILTERS}},
            "filters must be a JSON",
        ),
        (
            "GET",
            "/datasets/{d}/items/experiments/items/stats",
            {"params": {"experiment_ids": "[1"}},
            "experiment_ids must be a JSON array",
        ),
        (
            "POST",
            "/datasets/items/stream",
            {"json": {"dataset_name": "queried", "filters": BAD_FILTERS}},
            "filters must be a JSON",
        ),
        (
            "POST",
            "/datasets/items/delete",
            {"json": {"dataset_id": "{d}", "filters": [{"field": "data.q", "operator": "~"}]}},
            "unknown filter operator",
        ),
    ],
)
def test_bad_query_parameters_are_a_400_in_opiks_shape(
    client, dataset_id, method, path, request_arguments, words
):
    arguments = {
        kind: {
            key: value.replace("{d}", dataset_id) if isinstance(value, str) else value
            for key, value in given.items()
        }
        for kind, given in request_arguments.items()
    }
    response = client.request(method, API + path.replace("{d}", dataset_id), **arguments)
    _assert_bad_request(response, words)
    # Nothing was deleted by a refused delete.
    assert client.get(f"{API}/datasets/{dataset_id}/items").json()["total"] == 1


def test_well_formed_queries_reach_the_service(client, dataset_id):
    client.put(
        f"{API}/datasets/items",
        json={"dataset_id": dataset_id, "items": [{"data": {"q": "refund please"}}]},
    )
    found = client.get(
        f"{API}/datasets/{dataset_id}/items",
        params={
            "filters": '[{"field":"data","key":"q","operator":"contains","value":"refund"}]',
            "sorting": '[{"field":"data.q","direction":"DESC"}]',
        },
    ).json()
    assert [item["data"]["q"] for item in found["content"]] == ["refund please"]
