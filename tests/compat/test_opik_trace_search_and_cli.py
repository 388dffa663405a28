"""The unmodified Opik client's trace and span searches, ``copy_traces`` and
``auth_check``, and the ``opik`` CLI's ``export``, ``import`` and ``migrate dataset``,
against ``seedbed serve``: what the user sees come back."""

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import opik
import pytest
from opik.api_objects import opik_client as opik_client_module
from opik.rest_api.core.api_error import ApiError

pytestmark = [
    pytest.mark.compat,
    # Raised inside httpx by how the Opik client builds its HTTP client; not ours to fix.
    pytest.mark.filterwarnings("ignore:`verify=<str>` is deprecated:DeprecationWarning"),
]

START = dt.datetime(2024, 5, 1, 10, 0, 0, tzinfo=dt.UTC)


def _log_project(client: opik.Opik, project: str, count: int = 3) -> list[str]:
    """``count`` traces a minute apart, each with an LLM span; the last one tagged and
    scored. Returns the trace ids, oldest first."""
    trace_ids = []
    for n in range(count):
        start = START + dt.timedelta(minutes=n)
        last = n == count - 1
        trace = client.trace(
            name=f"answer {n}",
            start_time=start,
            input={"question": f"question {n}"},
            tags=["gold"] if last else None,
            project_name=project,
        )
        span = trace.span(
            name="llm call",
            type="llm",
            start_time=start,
            input={"prompt": f"question {n}"},
            model="gpt-4o-mini",
            provider="openai",
            usage={"prompt_tokens": 10 * n, "completion_tokens": 2, "total_tokens": 10 * n + 2},
        )
        span.end(end_time=start + dt.timedelta(seconds=1), output={"text": f"reply {n}"})
        trace.end(end_time=start + dt.timedelta(seconds=2), output={"answer": f"reply {n}"})
        trace_ids.append(trace.id)
    client.flush()
    client.log_traces_feedback_scores(
        [{"id": trace_ids[-1], "name": "accuracy", "value": 0.8}], project_name=project
    )
    client.flush()
    return trace_ids


def _run_cli(home: Path, *arguments: str) -> str:
    """Runs ``opik ARGUMENTS`` with its own home: ``migrate`` keeps its checkpoints there,
    and one left by another run would be resumed."""
    finished = subprocess.run(
        [sys.executable, "-m", "opik.cli", *arguments],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HOME": str(home)},
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return finished.stdout


def _get(server: str, path: str, workspace: str = "default", **params) -> dict:
    response = httpx.get(
        f"{server}/api/v1/private/{path}", params=params, headers={"Comet-Workspace": workspace}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_search_traces_and_spans_with_filter_strings(opik_client):
    trace_ids = _log_project(opik_client, "support-bot")

    everything = opik_client.search_traces(project_name="support-bot")
    assert [trace.id for trace in everything] == trace_ids[::-1]
    assert everything[0].output == {"answer": "reply 2"}
    tagged = opik_client.search_traces(
        project_name="support-bot", filter_string='tags contains "gold"'
    )
    assert [trace.name for trace in tagged] == ["answer 2"]
    scored = opik_client.search_traces(
        project_name="support-bot", filter_string="feedback_scores.accuracy >= 0.5"
    )
    assert [trace.id for trace in scored] == [trace_ids[-1]]
    heavy = opik_client.search_traces(
        project_name="support-bot",
        filter_string='usage.total_tokens > 5 AND input contains "question"',
    )
    assert {trace.name for trace in heavy} == {"answer 1", "answer 2"}
    # Small pages, as the client reads a large project: every trace once.
    paged = opik_client.search_traces(project_name="support-bot", max_batch_size=1)
    assert [trace.id for trace in paged] == trace_ids[::-1]

    spans = opik_client.search_spans(project_name="support-bot")
    assert {span.trace_id for span in spans} == set(trace_ids)
    of_one = opik_client.search_spans(project_name="support-bot", trace_id=trace_ids[0])
    assert [(span.name, span.output) for span in of_one] == [("llm call", {"text": "reply 0"})]
    assert (
        opik_client.search_spans(project_name="support-bot", filter_string='model = "gpt-4"') == []
    )
    assert opik_client.search_traces(project_name="no-such-project") == []


def test_copy_traces_makes_new_traces_and_spans_in_the_destination(opik_env, server):
    opik_env(server)
    client = opik.Opik(batching=True)
    try:
        source_ids = _log_project(client, "source")
        client.copy_traces("source", "destination")
        client.flush()
        copied = client.search_traces(project_name="destination")
        spans = client.search_spans(project_name="destination")
    finally:
        client.end(flush=False)
    assert sorted(trace.name for trace in copied) == ["answer 0", "answer 1", "answer 2"]
    assert not {trace.id for trace in copied} & set(source_ids)
    assert {span.trace_id for span in spans} == {trace.id for trace in copied}
    assert sorted(span.output["text"] for span in spans) == ["reply 0", "reply 1", "reply 2"]


def test_auth_check_passes_in_local_mode(opik_client):
    opik_client.auth_check()


def test_auth_check_with_keys_passes_for_an_opened_workspace_only(
    keyed_server, create_key, opik_env, make_opik_client
):
    secret = create_key("ci", "team-a")
    opik_env(keyed_server, workspace="team-a", api_key=secret)
    make_opik_client().auth_check()
    opik_env(keyed_server, workspace="team-b", api_key=secret)
    with pytest.raises(ApiError) as refused:
        make_opik_client().auth_check()
    assert refused.value.status_code == 401


def test_opik_export_and_import_of_a_project_and_of_a_dataset(opik_client, server, tmp_path):
    trace_ids = _log_project(opik_client, "support-bot")
    dataset = opik_client.get_or_create_dataset("faq", project_name="support-bot")
    dataset.insert([{"input": "Where is my order?", "expected_output": "On its way"}])
    # One folder per export: an import records in its folder that it is done.
    folders = {"traces": tmp_path / "traces", "dataset": tmp_path / "dataset"}
    _run_cli(
        tmp_path, "export", "default", "support-bot", "traces", "--path", str(folders["traces"])
    )
    _run_cli(
        tmp_path,
        "export",
        "default",
        "support-bot",
        "dataset",
        "faq",
        "--path",
        str(folders["dataset"]),
    )
    trace_files = sorted(folders["traces"].rglob("trace_*.json"))
    assert len(trace_files) == 3
    written = json.loads(trace_files[0].read_text())
    assert written["trace"]["id"] in trace_ids and len(written["spans"]) == 1

    for item, names in (("traces", []), ("dataset", ["faq"])):
        _run_cli(
            tmp_path, "import", "default", "support-bot", item, *names,
            "--path", str(folders[item]), "--to-workspace", "restored",
        )  # fmt: skip

    restored = _get(server, "traces", workspace="restored", project_name="support-bot", size=10)
    assert sorted(trace["name"] for trace in restored["content"]) == [
        "answer 0",
        "answer 1",
        "answer 2",
    ]
    spans = _get(server, "spans", workspace="restored", project_name="support-bot", size=10)
    assert sorted(span["output"]["text"] for span in spans["content"]) == [
        "reply 0",
        "reply 1",
        "reply 2",
    ]
    [faq] = _get(server, "datasets", workspace="restored", name="faq")["content"]
    items = _get(server, f"datasets/{faq['id']}/items", workspace="restored")["content"]
    assert [item["data"]["input"] for item in items] == ["Where is my order?"]


def test_opik_export_of_traces_with_a_filter_writes_only_the_matching_ones(opik_client, tmp_path):
    trace_ids = _log_project(opik_client, "support-bot")
    folder = tmp_path / "gold"
    _run_cli(
        tmp_path, "export", "default", "support-bot", "traces",
        "--filter", 'tags contains "gold"', "--path", str(folder),
    )  # fmt: skip
    written = [json.loads(path.read_text()) for path in folder.rglob("trace_*.json")]
    assert [found["trace"]["id"] for found in written] == [trace_ids[-1]]


@pytest.fixture
def fresh_evaluation_client():
    """evaluate() logs through a client the Opik library keeps per process; make it afresh
    for this test's server, and drop it afterwards."""
    opik_client_module.reset_global_client()
    yield
    opik_client_module.reset_global_client()


def test_opik_migrate_dataset_moves_three_versions_and_the_experiment(
    opik_client, server, tmp_path, offline_llm_judge_library, fresh_evaluation_client
):
    from opik.evaluation import evaluate
    from opik.evaluation.metrics import Equals

    dataset = opik_client.get_or_create_dataset("faq")
    for n in range(3):
        dataset.insert([{"input": f"question {n}", "expected_output": f"answer {n}"}])
    evaluate(
        dataset=dataset,
        task=lambda item: {"output": item["expected_output"]},
        scoring_metrics=[Equals()],
        scoring_key_mapping={"reference": "expected_output"},
        experiment_name="baseline",
        project_name="support-bot",
        verbose=0,
    )
    opik_client.flush()
    opik_client.get_or_create_dataset("placeholder", project_name="destination")

    _run_cli(
        tmp_path, "migrate", "dataset", "faq", "--to-project", "destination",
        "--audit-log", str(tmp_path / "audit.json"),
    )  # fmt: skip

    named = {dataset["name"]: dataset for dataset in _get(server, "datasets", size=50)["content"]}
    assert {"faq", "faq_v1"} <= set(named)
    moved = named["faq"]
    versions = _get(server, f"datasets/{moved['id']}/versions", size=10)["content"]
    assert len(versions) >= 3
    items = _get(server, f"datasets/{moved['id']}/items", size=10)["content"]
    assert sorted(item["data"]["input"] for item in items) == [f"question {n}" for n in range(3)]
    [experiment] = [
        found
        for found in _get(server, "experiments", datasetId=moved["id"])["content"]
        if found["name"] == "baseline"
    ]
    assert experiment["trace_count"] == 3
    copied = opik_client.search_traces(project_name="destination")
    assert len(copied) == 3
