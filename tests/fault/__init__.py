"""Fault tests: the server under what nobody sends on purpose — requests generated from
its own OpenAPI document (``test_openapi_fuzz``), many writers at once on one dataset
(``test_concurrent_writers``), and another workspace's ids (``test_workspace_isolation``).

:func:`build_world` makes one resource of every kind through the API, as a client
would, and :meth:`World.path_value` says which of them a path parameter names: the fuzz
aims some of its generated requests at them, the isolation matrix all of its requests.
"""

import datetime as dt
import json
import time
import uuid
from dataclasses import dataclass

from seedbed.testing import StubLLMServer

API = "/v1/private"
JOBS = "/seedbed/v1/jobs"
MODEL = "openai/gpt-4o-mini"
T0 = dt.datetime(2024, 5, 1, 12, 0, 0)
SEEDS = [
    {"question": "How do I reset my password?", "answer": "Use the link on the sign-in page."},
    {"question": "Can I pay by invoice?", "answer": "Yes, on the business plan."},
]


def llm_settings(stub: StubLLMServer) -> dict:
    """Settings that send every generation to the stub LLM, and give up on it quickly."""
    return {
        "openai_api_key": "test",
        "openai_base_url": stub.base_url,
        "default_model": MODEL,
        "collinear_models": {"fault-model": MODEL},
        "generation_max_retries": 1,
        "generation_breaker_cooldown_seconds": 0.01,
    }


@dataclass(frozen=True)
class World:
    """One of everything, in one workspace."""

    project_id: str
    dataset_id: str
    dataset_name: str
    item_ids: tuple[str, ...]
    version_id: str
    version_hash: str
    tag: str
    experiment_id: str
    experiment_item_id: str
    trace_id: str
    span_id: str
    score_name: str
    export_job_id: str
    generation_job_id: str
    galileo_dataset_id: str
    extension_dataset_id: str
    prompt_id: str
    prompt_version_id: str
    prompt_name: str

    def path_value(self, path: str, parameter: str) -> str:
        """The id of this world that ``parameter`` of ``path`` stands for."""
        if parameter == "job_id":
            return self.generation_job_id
        if parameter == "dataset_id":
            if "/datasets/extend/" in path:
                return self.extension_dataset_id
            # Galileo's dataset routes live at the root; Opik's under /v1/private.
            return self.dataset_id if "/v1/private/" in path else self.galileo_dataset_id
        by_name = {
            "dataset_item_id": self.item_ids[0],
            "experiment_item_id": self.experiment_item_id,
            "export_job_id": self.export_job_id,
            "project_id": self.project_id,
            "experiment_id": self.experiment_id,
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "version_hash": self.version_hash,
            "tag": self.tag,
            "prompt_id": self.prompt_id,
            "version_id": self.prompt_version_id,  # only prompt versions have this name
            "version_number": "v1",
        }
        if parameter not in by_name:
            raise KeyError(f"no resource of the world stands for {{{parameter}}} in {path}")
        return by_name[parameter]


def build_world(client, headers: dict, galileo_headers: dict, wait_for_jobs: bool = True) -> World:
    """Make one resource of every kind in the workspace ``headers`` open.

    With ``wait_for_jobs`` the two generation jobs (seedbed's own and a Galileo
    extension) are waited for, so that the world no longer changes by itself; that
    needs the app's lifespan (its job executor) to be running.
    """
    project_id = _created(
        client.post(f"{API}/projects", json={"name": "fault project"}, headers=headers)
    )
    dataset_name = "fault dataset"
    dataset_id = _created(
        client.post(f"{API}/datasets", json={"name": dataset_name}, headers=headers)
    )
    item_ids = tuple(str(uuid.uuid4()) for _ in range(3))
    for start in (0, 2):  # two writes, so there are two versions to tell apart
        _expect(
            client.put(
                f"{API}/datasets/items",
                json={
                    "dataset_id": dataset_id,
                    "items": [
                        {"id": item_id, "data": {"n": n}} for n, item_id in enumerate(item_ids)
                    ][start : start + 2],
                },
                headers=headers,
            ),
            204,
        )
    versions = _expect(client.get(f"{API}/datasets/{dataset_id}/versions", headers=headers), 200)
    first = versions["content"][-1]
    version_id, version_hash = first["id"], first["version_hash"]  # v1
    tag = "golden"
    _expect(
        client.post(
            f"{API}/datasets/{dataset_id}/versions/hash/{version_hash}/tags",
            json={"tag": tag},
            headers=headers,
        ),
        204,
    )

    trace_id, span_id, experiment_id, experiment_item_id = (str(uuid.uuid4()) for _ in range(4))
    moment = T0.isoformat() + "Z"
    trace = {
        "id": trace_id,
        "project_name": "fault project",
        "name": "task",
        "start_time": moment,
        "input": {"q": 1},
    }
    _expect(client.post(f"{API}/traces", json=trace, headers=headers), 201)
    span = {
        "id": span_id,
        "trace_id": trace_id,
        "project_name": "fault project",
        "type": "llm",
        "start_time": moment,
    }
    _expect(client.post(f"{API}/spans", json=span, headers=headers), 201)
    score_name = "accuracy"
    for kind, entity_id in (("traces", trace_id), ("spans", span_id)):
        _expect(
            client.put(
                f"{API}/{kind}/{entity_id}/feedback-scores",
                json={"name": score_name, "value": 0.5, "source": "sdk"},
                headers=headers,
            ),
            204,
        )
    _expect(
        client.post(
            f"{API}/experiments",
            json={"id": experiment_id, "dataset_name": dataset_name, "name": "fault run"},
            headers=headers,
        ),
        201,
    )
    _expect(
        client.post(
            f"{API}/experiments/items",
            json={
                "experiment_items": [
                    {
                        "id": experiment_item_id,
                        "experiment_id": experiment_id,
                        "dataset_item_id": item_ids[0],
                        "trace_id": trace_id,
                    }
                ]
            },
            headers=headers,
        ),
        204,
    )
    prompt_name = "fault prompt"
    prompt_version = _expect(
        client.post(
            f"{API}/prompts/versions",
            json={
                "name": prompt_name,
                "version": {"template": "Answer {{question}}", "tags": ["first"]},
                "project_name": "fault project",
            },
            headers=headers,
        ),
        200,
    )
    _expect(
        client.post(
            f"{API}/experiments",
            json={
                "dataset_name": dataset_name,
                "name": "fault prompted run",
                "prompt_versions": [{"id": prompt_version["id"]}],
            },
            headers=headers,
        ),
        201,
    )
    export_job_id = _expect(
        client.post(f"{API}/datasets/{dataset_id}/export", headers=headers), 202
    )["id"]
    generation_job_id = _expect(
        client.post(JOBS, json={"count": 2, "seeds": SEEDS, "model": MODEL}, headers=headers), 201
    )["id"]

    galileo_rows = "".join(json.dumps(row) + "\n" for row in SEEDS).encode()
    galileo_dataset_id = _expect(
        client.post(
            "/datasets",
            params={"format": "jsonl"},
            data={"name": "fault galileo"},
            files={"file": ("fault.jsonl", galileo_rows, "application/octet-stream")},
            headers=galileo_headers,
        ),
        200,
    )["id"]
    extension_dataset_id = _expect(
        client.post(
            "/datasets/extend",
            json={"examples": ["How do I reset my password?", "Can I pay by invoice?"], "count": 2},
            headers=galileo_headers,
        ),
        200,
    )["dataset_id"]

    if wait_for_jobs:
        _wait_until_finished(client, f"{JOBS}/{generation_job_id}", headers)
        _wait_until_finished(client, f"/datasets/extend/{extension_dataset_id}", galileo_headers)
    return World(
        project_id=project_id,
        dataset_id=dataset_id,
        dataset_name=dataset_name,
        item_ids=item_ids,
        version_id=version_id,
        version_hash=version_hash,
        tag=tag,
        experiment_id=experiment_id,
        experiment_item_id=experiment_item_id,
        trace_id=trace_id,
        span_id=span_id,
        score_name=score_name,
        export_job_id=export_job_id,
        generation_job_id=generation_job_id,
        galileo_dataset_id=galileo_dataset_id,
        extension_dataset_id=extension_dataset_id,
        prompt_id=prompt_version["prompt_id"],
        prompt_version_id=prompt_version["id"],
        prompt_name=prompt_name,
    )


def _expect(response, status: int):
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: {response.text}"
    )
    return response.json() if response.content else None


def _created(response) -> str:
    _expect(response, 201)
    return response.headers["location"].rsplit("/", 1)[1]


def _wait_until_finished(client, path: str, headers: dict, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        found = _expect(client.get(path, headers=headers), 200)
        if found.get("status") in ("completed", "failed", "cancelled"):
            return
        if "steps_total" in found and found["steps_completed"] == found["steps_total"]:
            return
        assert time.monotonic() < deadline, f"{path} did not finish: {found}"
        time.sleep(0.05)
