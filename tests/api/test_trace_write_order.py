"""Writes of one trace or span apply in the order the client made them, whatever order
they arrive in. Opik's client sends an early create (the function's name, an empty
input) and later the full one, from different threads, each stamped with its
``last_updated_at``; a ``seedbed serve`` process receives them here in both orders, one
after the other and at once, many times."""

import datetime as dt
import threading
import uuid

import httpx
import pytest

ROUNDS = 15
WORKSPACE = {"Comet-Workspace": "default"}
START = dt.datetime(2024, 5, 1, 10, 0, 0, tzinfo=dt.UTC)


def _at(seconds: float) -> str:
    return (START + dt.timedelta(seconds=seconds)).isoformat()


def _early_and_full(trace_id: str, span_id: str) -> tuple[list, list]:
    """(path, body) of the early and the full writes of a trace and of its span, as
    ``@opik.track`` sends them: the early ones made at +0.001 s, the full ones at +2 s."""
    early_trace = {"id": trace_id, "name": "f", "start_time": _at(0), "input": {}}
    full_trace = {
        **early_trace,
        "name": "answer",
        "input": {"question": "Where is my order?"},
        "output": {"answer": "On its way"},
        "end_time": _at(2),
        "metadata": {"release": "7"},
    }
    early_span = {
        "id": span_id,
        "trace_id": trace_id,
        "name": "f",
        "type": "general",
        "start_time": _at(0),
        "input": {},
    }
    full_span = {
        **early_span,
        "name": "call model",
        "type": "llm",
        "input": {"prompt": "Where is my order?"},
        "output": {"text": "On its way"},
        "end_time": _at(1.5),
        "provider": "openai",
    }
    early, full = [], []
    for path, key, first, last in (
        ("traces/batch", "traces", early_trace, full_trace),
        ("spans/batch", "spans", early_span, full_span),
    ):
        early.append((path, {key: [{**first, "last_updated_at": _at(0.001)}]}))
        full.append((path, {key: [{**last, "last_updated_at": _at(2)}]}))
    return early, full


def _send(client: httpx.Client, writes: list) -> None:
    for path, body in writes:
        response = client.post(f"/api/v1/private/{path}", json=body)
        assert response.status_code == 204, response.text


def _send_at_once(client: httpx.Client, first: list, second: list) -> None:
    ready = threading.Barrier(2)
    failures: list[BaseException] = []

    def send(writes: list) -> None:
        try:
            ready.wait(timeout=30)
            _send(client, writes)
        except BaseException as failure:  # reported by the test's thread
            failures.append(failure)

    threads = [threading.Thread(target=send, args=(writes,)) for writes in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures


def _stored(client: httpx.Client, kind: str, row_id: str) -> dict:
    response = client.get(f"/api/v1/private/{kind}/{row_id}")
    assert response.status_code == 200, response.text
    found = response.json()
    return {key: found.get(key) for key in ("name", "type", "input", "output", "end_time")}


@pytest.mark.parametrize("arrival", ["early first", "full first", "at once"])
def test_the_full_write_wins_whatever_order_the_two_arrive_in(server, arrival):
    with httpx.Client(base_url=server, headers=WORKSPACE, timeout=60) as client:
        ids = [(str(uuid.uuid4()), str(uuid.uuid4())) for _ in range(ROUNDS)]
        for trace_id, span_id in ids:
            early, full = _early_and_full(trace_id, span_id)
            if arrival == "early first":
                _send(client, early + full)
            elif arrival == "full first":
                _send(client, full + early)
            else:
                _send_at_once(client, early, full)

        for trace_id, span_id in ids:
            assert _stored(client, "traces", trace_id) == {
                "name": "answer",
                "type": None,
                "input": {"question": "Where is my order?"},
                "output": {"answer": "On its way"},
                "end_time": "2024-05-01T10:00:02.000000Z",
            }
            assert _stored(client, "spans", span_id) == {
                "name": "call model",
                "type": "llm",
                "input": {"prompt": "Where is my order?"},
                "output": {"text": "On its way"},
                "end_time": "2024-05-01T10:00:01.500000Z",
            }


def test_a_field_only_the_earlier_write_carries_is_kept(server):
    """A later write replaces the fields it carries and no others."""
    with httpx.Client(base_url=server, headers=WORKSPACE, timeout=60) as client:
        trace_id = str(uuid.uuid4())
        later = {
            "id": trace_id,
            "start_time": _at(0),
            "output": {"a": 2},
            "last_updated_at": _at(2),
        }
        earlier = {
            "id": trace_id,
            "start_time": _at(0),
            "output": {"a": 1},
            "tags": ["first"],
            "last_updated_at": _at(1),
        }
        _send(
            client, [("traces/batch", {"traces": [later]}), ("traces/batch", {"traces": [earlier]})]
        )

        found = client.get(f"/api/v1/private/traces/{trace_id}").json()
        assert (found["output"], found["tags"]) == ({"a": 2}, ["first"])


def test_an_update_that_arrives_before_an_earlier_made_create_keeps_its_fields(server):
    """An update carries no time of its own: it counts from when it arrives, so a create
    the client made before it (and that arrives after it) does not undo it."""
    with httpx.Client(base_url=server, headers=WORKSPACE, timeout=60) as client:
        trace_id = str(uuid.uuid4())
        made = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
        response = client.patch(
            f"/api/v1/private/traces/{trace_id}", json={"output": {"answer": "final"}}
        )
        assert response.status_code == 204, response.text
        create = {
            "id": trace_id,
            "name": "answer",
            "start_time": _at(0),
            "output": {},
            "last_updated_at": made.isoformat(),
        }
        _send(client, [("traces/batch", {"traces": [create]})])

        found = client.get(f"/api/v1/private/traces/{trace_id}").json()
        assert (found["name"], found["output"]) == ("answer", {"answer": "final"})
