import pytest

from seedbed.domain.errors import InvalidInput
from seedbed.domain.imports import detect_format, read_rows, write_csv


def test_jsonl_reserved_keys_become_item_fields():
    rows = list(
        read_rows('{"id": "x", "tags": ["a"], "question": "q1"}\n\n{"question": "q2"}\n', "jsonl")
    )
    assert rows == [
        {"id": "x", "tags": ["a"], "data": {"question": "q1"}},
        {"data": {"question": "q2"}},
    ]


def test_bad_jsonl_line_is_named():
    with pytest.raises(InvalidInput, match="line 2"):
        list(read_rows('{"a": 1}\n{oops\n', "jsonl"))


def test_json_must_be_an_array_of_objects():
    assert list(read_rows('[{"a": 1}]', "json")) == [{"data": {"a": 1}}]
    with pytest.raises(InvalidInput, match="array"):
        list(read_rows('{"a": 1}', "json"))
    with pytest.raises(InvalidInput, match="element 1"):
        list(read_rows('[{"a": 1}, 2]', "json"))


def test_csv_rows_are_data_and_round_trip():
    rows = list(read_rows("question,answer\nq1,a1\nq2,a2\n", "csv"))
    assert rows == [
        {"data": {"question": "q1", "answer": "a1"}},
        {"data": {"question": "q2", "answer": "a2"}},
    ]
    text = write_csv([row["data"] for row in rows])
    assert list(read_rows(text, "csv")) == rows


def test_csv_with_too_many_values_is_refused():
    with pytest.raises(InvalidInput, match="more values"):
        list(read_rows("a,b\n1,2,3\n", "csv"))


def test_format_comes_from_the_file_name():
    assert detect_format("x.JSONL") == "jsonl"
    assert detect_format("x.ndjson") == "jsonl"
    assert detect_format("x.csv") == "csv"
    with pytest.raises(InvalidInput):
        detect_format("x.txt")
