"""Workspace A's resources, addressed with workspace B's key: every route of the app
that takes a resource id in its path (the list comes from the OpenAPI document, so a new
route is covered the day it is added), and the routes that take one in their body or
query, answer B exactly as they answer an id that was never created — a 404, never a
403 nor A's data — and leave A as it was. And B's key naming A's workspace is a 401.

The server requires keys (``auth="required"``); A holds one resource of every kind
(``tests.fault.build_world``), its generation jobs finished, so that A's state only
changes if someone changes it. A route that does change it leaves A rebuilt for the
next one.
"""

import json
import re
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from seedbed.api.app import create_app
from seedbed.providers.registry import ProviderRegistry
from seedbed.services import keys
from seedbed.settings import Settings
from seedbed.storage.database import Database
from seedbed.storage.tables import metadata
from seedbed.testing import StubBehaviour, StubLLMServer
from tests.conftest import ENGINES
from tests.fault import API, JOBS, MODEL, World, build_world, llm_settings

A, B = "team-a", "team-b"


def _document() -> dict:
    return create_app(Settings(database_url="sqlite://", home=tempfile.gettempdir())).openapi()


def _operations(document: dict, keep: Callable[[str, dict], bool]) -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if keep(path, operation)
    ]


DOCUMENT = _document()
ROUTES_WITH_IDS = _operations(
    DOCUMENT,
    lambda path, operation: any(p["in"] == "path" for p in operation.get("parameters", [])),
)
# Where the Comet-Workspace header chooses the workspace: Opik's surface and seedbed's own.
WORKSPACE_ROUTES = _operations(
    DOCUMENT, lambda path, operation: path.startswith((API, f"/api{API}", "/seedbed/"))
)


def template(path: str) -> str:
    """The route as the tables below name it: the /api and /v2 mounts are the same routes."""
    return re.sub(r"^/api(?=/v1/private/)|^/v2(?=/datasets/)", "", path)


def is_galileo(path: str) -> bool:
    return not path.startswith(
        (API, f"/api{API}", "/seedbed/", "/api/v1/synth_data", "/is-alive", "/api/is-alive")
    )


# -- what B sends ---------------------------------------------------------------------------

# Writes that Opik accepts for an id it does not hold — deletes by id, and the trace and
# span writes its client sends in any order (a score may come before its trace): answered
# 204 in the caller's workspace whatever the id, and they must leave A's resource alone.
ACCEPTED_FOR_ANY_ID = {
    ("DELETE", "/v1/private/datasets/{dataset_id}"),
    ("DELETE", "/v1/private/traces/{trace_id}"),
    ("PUT", "/v1/private/traces/{trace_id}/feedback-scores"),
    ("POST", "/v1/private/traces/{trace_id}/feedback-scores/delete"),
    ("PUT", "/v1/private/spans/{span_id}/feedback-scores"),
    ("POST", "/v1/private/spans/{span_id}/feedback-scores/delete"),
}
# Writes that create the trace or span if it is not there yet: ids are global and chosen
# by the client, so another workspace's id is a 409, as for datasets
# (tests/api/test_workspaces_and_keys.py); ids are random, so this reveals nothing guessable.
CONFLICT_FOR_A_TAKEN_ID = {
    ("PATCH", "/v1/private/traces/{trace_id}"),
    ("PATCH", "/v1/private/spans/{span_id}"),
}


SCORE = {"name": "accuracy", "value": 1.0, "source": "sdk"}
# Valid bodies for the routes with an id in their path that need one: a body that fails
# validation would be refused before the id is looked up, and prove nothing.
PATH_ROUTE_BODIES: dict[tuple[str, str], Callable[[World], dict]] = {
    ("PATCH", "/v1/private/datasets/items/{dataset_item_id}"): lambda world: {
        "data": {"taken": "over"}
    },
    ("POST", "/v1/private/datasets/{dataset_id}/items/changes"): lambda world: {
        "added_items": [{"data": {"taken": "over"}}]
    },
    ("POST", "/v1/private/datasets/{dataset_id}/items/from-traces"): lambda world: {
        "trace_ids": [world.trace_id],
        "enrichment_options": {"includeSpans": True},
    },
    ("POST", "/v1/private/datasets/{dataset_id}/items/from-spans"): lambda world: {
        "span_ids": [world.span_id],
        "enrichment_options": {},
    },
    ("POST", "/v1/private/datasets/{dataset_id}/versions/retrieve"): lambda world: {
        "version_name": "v1"
    },
    ("POST", "/v1/private/datasets/{dataset_id}/versions/restore"): lambda world: {
        "version_ref": "v1"
    },
    ("POST", "/v1/private/datasets/{dataset_id}/versions/hash/{version_hash}/tags"): lambda world: {
        "tag": "taken-over"
    },
    ("PATCH", "/v1/private/datasets/{dataset_id}/versions/hash/{version_hash}"): lambda world: {
        "change_description": "taken over",
        "tags_to_add": ["taken-over"],
    },
    ("POST", "/v1/private/datasets/{dataset_id}/expansions"): lambda world: {
        "model": MODEL,
        "sample_count": 1,
    },
    ("PUT", "/v1/private/datasets/{dataset_id}"): lambda world: {"name": "taken over"},
    ("PATCH", "/v1/private/traces/{trace_id}"): lambda world: {"name": "taken over"},
    ("PUT", "/v1/private/traces/{trace_id}/feedback-scores"): lambda world: SCORE,
    ("POST", "/v1/private/traces/{trace_id}/feedback-scores/delete"): lambda world: {
        "name": world.score_name
    },
    ("PATCH", "/v1/private/spans/{span_id}"): lambda world: {
        "trace_id": world.trace_id,
        "name": "taken over",
    },
    ("PUT", "/v1/private/spans/{span_id}/feedback-scores"): lambda world: SCORE,
    ("POST", "/v1/private/spans/{span_id}/feedback-scores/delete"): lambda world: {
        "name": world.score_name
    },
    ("PATCH", "/v1/private/experiments/{experiment_id}"): lambda world: {"name": "taken over"},
    ("PUT", "/v1/private/prompts/{prompt_id}"): lambda world: {"name": "taken over"},
    ("PATCH", "/datasets/{dataset_id}/content"): lambda world: {
        "edits": [{"edit_type": "append_row", "values": {"input": "taken over"}}]
    },
}


@dataclass(frozen=True)
class Call:
    """One request of B's, with A's ids in it or with ids nobody created."""

    method: str
    path: str
    params: dict | None = None
    json: dict | None = None
    files: dict | None = None
    data: dict | None = None


def never_created(world: World) -> World:
    """A world of the same shape whose ids were never created anywhere."""
    fields = {
        name: str(uuid.uuid4()) for name in World.__dataclass_fields__ if name.endswith("_id")
    }
    fields.update(
        item_ids=tuple(str(uuid.uuid4()) for _ in world.item_ids),
        dataset_name="never created",
        version_hash="0123456789abcdef",
        tag="never-tagged",
        score_name="never scored",
        prompt_name="never created prompt",
    )
    return World(**fields)


def path_route_call(method: str, path: str, world: World) -> Call:
    filled = re.sub(r"\{(\w+)\}", lambda match: world.path_value(path, match.group(1)), path)
    operation = DOCUMENT["paths"][path][method.lower()]
    body = PATH_ROUTE_BODIES.get((method, template(path)))
    if "requestBody" in operation and operation["requestBody"].get("required") and body is None:
        pytest.fail(f"{method} {path} needs a body: add a valid one to PATH_ROUTE_BODIES")
    return Call(method, filled, json=body(world) if body else None)


# Routes that take A's ids in their body or query, and what B sends them: B's answer must
# be the one an id nobody created gets, whatever that answer is.
BODY_CALLS: dict[str, Callable[[World], Call]] = {
    "put items into A's dataset by id": lambda world: Call(
        "PUT",
        f"{API}/datasets/items",
        json={"dataset_id": world.dataset_id, "items": [{"data": {"x": 1}}]},
    ),
    "copy A's dataset into B's": lambda world: Call(
        "PUT",
        f"{API}/datasets/items",
        json={
            "dataset_name": "b's copy",
            "items": [{"data": {"x": 1}}],
            "copy_from_dataset_id": world.dataset_id,
            "copy_from_version_id": world.version_id,
        },
    ),
    "update A's items in a batch": lambda world: Call(
        "PATCH",
        f"{API}/datasets/items/batch",
        json={"ids": list(world.item_ids), "update": {"data": {"x": 1}}},
    ),
    "delete A's items": lambda world: Call(
        "POST", f"{API}/datasets/items/delete", json={"item_ids": list(world.item_ids)}
    ),
    "delete A's items by dataset": lambda world: Call(
        "POST", f"{API}/datasets/items/delete", json={"dataset_id": world.dataset_id, "filters": []}
    ),
    "upload a file into A's dataset": lambda world: Call(
        "POST",
        f"{API}/datasets/items/from-json",
        data={"dataset_id": world.dataset_id, "format": "jsonl"},
        files={"file": ("rows.jsonl", b'{"x": 1}\n', "application/octet-stream")},
    ),
    "stream A's dataset by name": lambda world: Call(
        "POST", f"{API}/datasets/items/stream", json={"dataset_name": world.dataset_name}
    ),
    "retrieve A's dataset by name": lambda world: Call(
        "POST", f"{API}/datasets/retrieve", json={"dataset_name": world.dataset_name}
    ),
    "delete A's datasets in a batch": lambda world: Call(
        "POST", f"{API}/datasets/delete-batch", json={"ids": [world.dataset_id]}
    ),
    "list datasets of A's project": lambda world: Call(
        "GET", f"{API}/datasets", params={"project_id": world.project_id}
    ),
    "list traces of A's project": lambda world: Call(
        "GET", f"{API}/traces", params={"project_id": world.project_id}
    ),
    "trace score names of A's project": lambda world: Call(
        "GET", f"{API}/traces/feedback-scores/names", params={"project_id": world.project_id}
    ),
    "delete A's traces": lambda world: Call(
        "POST", f"{API}/traces/delete", json={"ids": [world.trace_id]}
    ),
    "score A's traces in a batch": lambda world: Call(
        "PUT", f"{API}/traces/feedback-scores", json={"scores": [{**SCORE, "id": world.trace_id}]}
    ),
    "score A's spans in a batch": lambda world: Call(
        "PUT", f"{API}/spans/feedback-scores", json={"scores": [{**SCORE, "id": world.span_id}]}
    ),
    "add a span to A's trace": lambda world: Call(
        "POST",
        f"{API}/spans",
        json={
            "trace_id": world.trace_id,
            "project_name": "fault project",
            "start_time": "2024-05-01T12:00:00Z",
        },
    ),
    "list experiments of A's dataset": lambda world: Call(
        "GET", f"{API}/experiments", params={"datasetId": world.dataset_id}
    ),
    "list A's experiments by id": lambda world: Call(
        "GET", f"{API}/experiments", params={"experiment_ids": json.dumps([world.experiment_id])}
    ),
    "score names of A's experiments": lambda world: Call(
        "GET",
        f"{API}/experiments/feedback-scores/names",
        params={"experiment_ids": json.dumps([world.experiment_id])},
    ),
    "add items to A's experiment": lambda world: Call(
        "POST",
        f"{API}/experiments/items",
        json={
            "experiment_items": [
                {
                    "id": str(uuid.uuid4()),
                    "experiment_id": world.experiment_id,
                    "dataset_item_id": world.item_ids[1],
                    "trace_id": world.trace_id,
                }
            ]
        },
    ),
    "delete A's experiments": lambda world: Call(
        "POST", f"{API}/experiments/delete", json={"ids": [world.experiment_id]}
    ),
    "finish A's experiments": lambda world: Call(
        "POST", f"{API}/experiments/finish", json={"ids": [world.experiment_id]}
    ),
    "delete A's experiment items": lambda world: Call(
        "POST", f"{API}/experiments/items/delete", json={"ids": [world.experiment_item_id]}
    ),
    "retrieve A's prompt by name": lambda world: Call(
        "POST", f"{API}/prompts/versions/retrieve", json={"name": world.prompt_name}
    ),
    "read A's prompt versions by id": lambda world: Call(
        "POST", f"{API}/prompts/versions/retrieve-by-ids", json={"ids": [world.prompt_version_id]}
    ),
    "tag A's prompt versions": lambda world: Call(
        "PATCH",
        f"{API}/prompts/versions",
        json={"ids": [world.prompt_version_id], "update": {"tags": ["taken-over"]}},
    ),
    "delete A's prompts": lambda world: Call(
        "POST", f"{API}/prompts/delete", json={"ids": [world.prompt_id]}
    ),
    "list prompts of A's project": lambda world: Call(
        "GET", f"{API}/prompts", params={"project_id": world.project_id}
    ),
    "list experiments of A's prompt": lambda world: Call(
        "GET", f"{API}/experiments", params={"prompt_id": world.prompt_id}
    ),
    "start a job on A's dataset": lambda world: Call(
        "POST", JOBS, json={"count": 1, "dataset_id": world.dataset_id, "model": MODEL}
    ),
    "extend A's Galileo dataset": lambda world: Call(
        "POST",
        "/datasets/extend",
        json={"source_dataset": {"dataset_id": world.galileo_dataset_id}, "count": 1},
    ),
}


# -- the two workspaces -----------------------------------------------------------------------


class Workspaces:
    """A keyed server with a world in A and keys for A and B, rebuilt when a test damaged A."""

    def __init__(self, client: TestClient, database: Database) -> None:
        self.client = client
        self.database = database
        self.damaged = True
        self.reset()

    def reset(self) -> None:
        with self.database.writing() as connection:
            for table in reversed(metadata.sorted_tables):
                connection.execute(table.delete())
            key_a = keys.create_key(connection, "key of a", [A]).secret
            key_b = keys.create_key(connection, "key of b", [B]).secret
        self.key_b = key_b
        self.opik = {
            A: {"Authorization": key_a, "Comet-Workspace": A},
            B: {"Authorization": key_b, "Comet-Workspace": B},
        }
        self.galileo = {A: self._galileo_login(key_a), B: self._galileo_login(key_b)}
        self.world = build_world(self.client, self.opik[A], self.galileo[A])
        self.pristine = self.observe_a()
        unreadable = {path: read for path, read in self.pristine.items() if read[0] != 200}
        assert not unreadable, f"A cannot read its own resources: {unreadable}"
        self.damaged = False

    def _galileo_login(self, key: str) -> dict:
        response = self.client.post("/login/api_key", json={"api_key": key})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def headers(self, workspace: str, path: str) -> dict:
        return self.galileo[workspace] if is_galileo(path) else self.opik[workspace]

    def send(self, call: Call, workspace: str = B, headers: dict | None = None):
        return self.client.request(
            call.method,
            call.path,
            params=call.params,
            json=call.json,
            data=call.data,
            files=call.files,
            headers=headers if headers is not None else self.headers(workspace, call.path),
        )

    def observe_a(self) -> dict:
        """Everything A can read about its resources."""
        world, opik, galileo = self.world, self.opik[A], self.galileo[A]
        reads = {
            f"{API}/datasets/{world.dataset_id}": opik,
            f"{API}/datasets/{world.dataset_id}/items?size=100": opik,
            f"{API}/datasets/{world.dataset_id}/versions?size=100": opik,
            f"{API}/datasets?size=100": opik,
            f"{API}/datasets/export-jobs": opik,
            f"{API}/datasets/export-jobs/{world.export_job_id}": opik,
            f"{API}/projects?size=100": opik,
            f"{API}/traces?size=100&project_name=fault project": opik,
            f"{API}/traces/{world.trace_id}": opik,
            f"{API}/spans/{world.span_id}": opik,
            f"{API}/experiments?size=100": opik,
            f"{API}/experiments/{world.experiment_id}": opik,
            f"{API}/experiments/items/{world.experiment_item_id}": opik,
            f"{API}/prompts?size=100": opik,
            f"{API}/prompts/{world.prompt_id}": opik,
            f"{API}/prompts/{world.prompt_id}/versions?size=100": opik,
            f"{API}/prompts/versions/{world.prompt_version_id}": opik,
            f"{JOBS}?size=100": opik,
            f"{JOBS}/{world.generation_job_id}/items": opik,
            "/datasets?limit=100": galileo,
            f"/datasets/{world.galileo_dataset_id}/content": galileo,
            f"/datasets/extend/{world.extension_dataset_id}": galileo,
        }
        return {path: self._read(path, headers) for path, headers in reads.items()}

    def _read(self, path: str, headers: dict) -> tuple[int, object]:
        response = self.client.get(path, headers=headers)
        return response.status_code, response.json()

    def assert_a_unchanged(self) -> None:
        now = self.observe_a()
        if now != self.pristine:
            self.damaged = True
            changed = sorted(path for path in now if now[path] != self.pristine[path])
            pytest.fail(f"B's request changed what A reads at {changed}")


@pytest.fixture(scope="module", params=ENGINES)
def keyed(request, migrated_urls, tmp_path_factory) -> Iterator[Workspaces]:
    database = Database(migrated_urls[request.param])
    with StubLLMServer(StubBehaviour(seed=13)) as stub:
        settings = Settings(
            database_url=database.url,
            home=tmp_path_factory.mktemp("keyed"),
            auth="required",
            **llm_settings(stub),
        )
        app = create_app(
            settings, database, providers=ProviderRegistry(settings, load_plugins=False)
        )
        with TestClient(app) as client:
            yield Workspaces(client, database)
    with database.engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())
    database.dispose()


@pytest.fixture
def workspaces(keyed: Workspaces) -> Workspaces:
    if keyed.damaged:
        keyed.reset()
    return keyed


def normalized(response, world: World) -> tuple[int, str]:
    """Status and body, with the world's ids in the body as placeholders."""
    text = response.text
    for name, value in world.__dict__.items():
        for one in value if isinstance(value, tuple) else (value,):
            text = text.replace(str(one), f"<{name}>")
    return response.status_code, text


def label(operation: tuple[str, str]) -> str:
    return " ".join(operation)


# -- the matrix -------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", ROUTES_WITH_IDS, ids=label)
def test_a_route_given_another_workspaces_ids_answers_not_found_and_changes_nothing(
    workspaces, operation
):
    method, path = operation
    world = workspaces.world
    ghost = never_created(world)

    theirs = workspaces.send(path_route_call(method, path, world))
    nobodys = workspaces.send(path_route_call(method, path, ghost))

    route = (method, template(path))
    if route in CONFLICT_FOR_A_TAKEN_ID:
        assert theirs.status_code == 409, theirs.text
    else:
        assert theirs.status_code == (204 if route in ACCEPTED_FOR_ANY_ID else 404), theirs.text
        assert normalized(theirs, world) == normalized(nobodys, ghost)
    workspaces.assert_a_unchanged()


@pytest.mark.parametrize("case", BODY_CALLS)
def test_a_request_naming_another_workspaces_ids_is_answered_as_for_ids_nobody_created(
    workspaces, case
):
    world = workspaces.world
    ghost = never_created(world)

    theirs = workspaces.send(BODY_CALLS[case](world))
    nobodys = workspaces.send(BODY_CALLS[case](ghost))

    assert theirs.status_code < 500, theirs.text
    assert normalized(theirs, world) == normalized(nobodys, ghost)
    workspaces.assert_a_unchanged()


@pytest.mark.parametrize("operation", WORKSPACE_ROUTES, ids=label)
def test_a_key_naming_a_workspace_it_does_not_open_is_refused(workspaces, operation):
    method, path = operation
    call = (
        path_route_call(method, path, workspaces.world)
        if (method, path) in ROUTES_WITH_IDS
        else Call(method, path, json={} if method in ("POST", "PUT", "PATCH") else None)
    )

    response = workspaces.send(
        call, headers={"Authorization": workspaces.key_b, "Comet-Workspace": A}
    )

    assert response.status_code == 401, response.text
    assert response.json() == {
        "code": 401,
        "message": f"The API key does not give access to workspace '{A}'",
    }
    workspaces.assert_a_unchanged()
