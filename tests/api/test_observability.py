"""Operating a running server: ``/metrics`` in Prometheus' text format after traffic
(requests by route and status, latency, jobs by status, generation calls, tokens and
cost by provider), one log line per request that never holds a key or a body, and the
Opik client's session-redirect links."""

# The fixtures `client` and `stub` come from the expansion tests, so test parameters of
# those names are the fixtures, not redefinitions.
# ruff: noqa: F811

import logging
import re
import time

from prometheus_client.parser import text_string_to_metric_families

from tests.api.opik_http import API, create_dataset, put_items

# The app in-process with OpenAI's provider pointed at a stub LLM server.
from tests.api.test_expansions import SEEDS, client, stub  # noqa: F401


def samples(client) -> dict[tuple[str, tuple], float]:
    """Every sample of ``/metrics`` as {(name, sorted labels): value}."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_requests_by_route_and_status_with_their_latency(client):
    before = samples(client)
    dataset_id = create_dataset(client, "support-faq")
    for _ in range(3):
        assert client.get(f"{API}/datasets/{dataset_id}").status_code == 200
    assert client.get(f"{API}/datasets/01a20b02-150c-7103-ac19-0790b7a23644").status_code == 404

    after = samples(client)

    route = f"{API}/datasets/{{dataset_id}}"
    ok = {"method": "GET", "route": route, "status": "200"}
    missing = {**ok, "status": "404"}
    assert (
        value(after, "seedbed_http_requests_total", **ok)
        - value(before, "seedbed_http_requests_total", **ok)
        == 3
    )
    assert (
        value(after, "seedbed_http_requests_total", **missing)
        - value(before, "seedbed_http_requests_total", **missing)
        == 1
    )
    timed = {"method": "GET", "route": route}
    assert (
        value(after, "seedbed_http_request_duration_seconds_count", **timed)
        - value(before, "seedbed_http_request_duration_seconds_count", **timed)
        == 4
    )
    assert value(after, "seedbed_http_request_duration_seconds_sum", **timed) > 0


def test_metrics_show_jobs_by_status_and_generation_by_provider(client, stub):
    dataset_id = create_dataset(client, "support-faq")
    put_items(client, dataset_id, [{"data": seed} for seed in SEEDS])
    before = samples(client)

    expanded = client.post(
        f"{API}/datasets/{dataset_id}/expansions", json={"model": "gpt-4o-mini", "sample_count": 4}
    )
    assert expanded.status_code == 200, expanded.text
    job = client.post("/seedbed/v1/jobs", json={"model": "gpt-4o-mini", "count": 3, "seeds": SEEDS})
    assert job.status_code == 201, job.text
    deadline = time.monotonic() + 120
    while client.get(f"/seedbed/v1/jobs/{job.json()['id']}").json()["status"] != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.1)

    after = samples(client)
    calls = value(after, "seedbed_generation_calls_total", provider="openai") - value(
        before, "seedbed_generation_calls_total", provider="openai"
    )
    assert calls >= 1
    for kind in ("prompt", "completion"):
        assert value(
            after, "seedbed_generation_tokens_total", provider="openai", kind=kind
        ) > value(before, "seedbed_generation_tokens_total", provider="openai", kind=kind)
    assert value(after, "seedbed_generation_cost_usd_total", provider="openai") > value(
        before, "seedbed_generation_cost_usd_total", provider="openai"
    )
    assert value(after, "seedbed_generation_jobs", status="completed") == 1
    assert value(after, "seedbed_generation_jobs", status="failed") == 0


def test_each_request_is_logged_once_without_its_key_or_body(client, caplog):
    secret_question = "What is my PIN 7421?"
    with caplog.at_level(logging.INFO, logger="seedbed.requests"):
        dataset_id = create_dataset(client, "support-faq")
        put_items(client, dataset_id, [{"data": {"question": secret_question}}])
        client.get(
            f"{API}/datasets/{dataset_id}/items",
            headers={"Comet-Workspace": "default", "Authorization": "sb_not-a-real-key"},
        )

    lines = [record.getMessage() for record in caplog.records if record.name == "seedbed.requests"]
    assert len(lines) == 3
    assert re.fullmatch(
        rf"GET {API}/datasets/{dataset_id}/items 200 \d+\.\dms workspace=default",
        lines[-1],
    )
    assert all(secret_question not in line and "sb_not" not in line for line in lines)
    assert all(
        not {"body", "authorization"} & set(record.__dict__)
        for record in caplog.records
        if record.name == "seedbed.requests"
    )


def test_the_opik_clients_links_lead_to_the_ui_page_or_say_there_is_none(client):
    dataset_id = create_dataset(client, "support-faq")
    redirect = "/api/v1/session/redirect"

    to_dataset = client.get(
        f"{redirect}/datasets/",
        params={"dataset_id": dataset_id, "path": "aHR0cA=="},
        follow_redirects=False,
    )
    assert to_dataset.status_code == 303
    assert to_dataset.headers["location"] == f"/datasets/{dataset_id}"
    to_experiment = client.get(
        f"{redirect}/experiments/",
        params={"experiment_id": "e-1", "dataset_id": dataset_id, "path": "aHR0cA=="},
        follow_redirects=False,
    )
    assert to_experiment.status_code == 303
    assert to_experiment.headers["location"] == "/experiments/compare?ids=e-1"

    to_trace = client.get(f"{redirect}/projects/", params={"trace_id": "t-1", "path": "aHR0cA=="})
    assert to_trace.status_code == 404
    assert to_trace.json() == {
        "errors": [
            "seedbed's web UI has no page for trace 't-1'; "
            "read it with GET /api/v1/private/traces/t-1"
        ]
    }
