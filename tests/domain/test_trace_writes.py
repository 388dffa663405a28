"""Writes of one trace or span merge field by field, the latest made winning: every
arrival order gives the same result."""

import datetime as dt
import itertools
import uuid

from seedbed.domain.traces import Write, fold_writes

T = dt.datetime(2024, 5, 1, 10, 0, 0)
ID = str(uuid.uuid4())


def _at(seconds: int) -> dt.datetime:
    return T + dt.timedelta(seconds=seconds)


def test_every_arrival_order_stores_the_same_fields():
    writes = [
        Write(ID, {"name": "f", "input": {}}, made_at=_at(1)),
        Write(ID, {"name": "answer", "input": {"q": 1}, "output": {"a": 1}}, made_at=_at(3)),
        Write(ID, {"output": {"a": 0}, "tags": ["early"]}, made_at=_at(2)),
    ]

    results = [
        fold_writes(list(order), arrived=_at(9))[ID].values
        for order in itertools.permutations(writes)
    ]

    expected = {"name": "answer", "input": {"q": 1}, "output": {"a": 1}, "tags": ["early"]}
    assert results == [expected] * len(results)


def test_a_write_without_a_time_counts_from_when_it_arrived():
    made_before = Write(ID, {"output": {"a": 1}}, made_at=_at(1))
    unstamped = Write(ID, {"output": {"a": 2}})

    for order in ([made_before, unstamped], [unstamped, made_before]):
        assert fold_writes(order, arrived=_at(5))[ID].values == {"output": {"a": 2}}
