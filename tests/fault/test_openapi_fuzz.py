"""Requests generated from the app's own OpenAPI document (schemathesis): whatever is
sent, the server answers without a 5xx, and every 4xx in its surface's error shape.

Each operation is one test per engine, on a fresh database. Where a request names a
resource (a path parameter, or a top-level ``dataset_id``, ``dataset_name``, …), about
half of the generated values are replaced by the ids of real resources
(``tests.fault.build_world``), so the fuzz reaches past "not found" into the code that
reads and changes data. Generation (expansions, jobs, Collinear, Galileo's extend) calls
a stub LLM.

The settings, and why:

- phases: ``examples`` (the few the document has), ``coverage`` (schemathesis'
  deterministic boundary and type-violation cases for every parameter and field:
  most of the requests, and where bad input is found) and ``fuzzing``, 10 random
  examples per operation, positive and negative. Not ``stateful``: FastAPI declares no
  links, and the world above gives the fuzz its state. The coverage phase does not
  probe methods an operation does not declare: that is one fact per path, tested once
  per surface below.
- a fixed seed and no Hypothesis example database: CI sends the same requests every
  run, whatever ran before on the machine.
- checks: ``not_a_server_error`` and :func:`error_shape`; not schema conformance of
  the answers, which the document does not describe (it declares no 404 nor 409).

About 3,300 requests per engine, ~2 minutes for the file on 2 cores with ``-n 2``.
"""

import tempfile
import zlib
from collections.abc import Iterator

import hypothesis
import pytest
import requests
import schemathesis
from fastapi.testclient import TestClient
from schemathesis.checks import not_a_server_error
from starlette.types import ASGIApp, Receive, Scope, Send

from seedbed.api.app import create_app
from seedbed.providers.registry import ProviderRegistry
from seedbed.settings import Settings
from seedbed.testing import StubBehaviour, StubLLMServer
from tests.fault import World, build_world, llm_settings

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20240501,
        "generation": {"mode": "all", "max-examples": 10, "database": "none"},
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True, "unexpected-methods": []},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
    }
)


def app_without_storage():
    """The app over a database it never opens: enough for its document and its routing."""
    return create_app(Settings(database_url="sqlite://", home=tempfile.gettempdir()))


# The document the app serves at /openapi.json, generated without serving it:
# ``from_asgi`` would start the app's lifespan (its job executor) for the whole run, over
# no database. The tests build their own apps on the engine under test.
schema = schemathesis.openapi.from_dict(app_without_storage().openapi(), config=CONFIG).exclude(
    # The same routers mounted again: /api/v1/private is where the Opik client points,
    # /v2 where newer Galileo clients do. Same functions, same answers.
    path_regex=r"^/api/(v1/private|is-alive)/|^/v2/",
)

# -- error shapes -------------------------------------------------------------------------

_OPIK_PREFIXES = ("/v1/private", "/api/v1/private", "/seedbed/", "/is-alive", "/api/is-alive")
_LIST_SHAPED = (404, 409, 422)


def assert_error_shape(path: str, status: int, body) -> None:
    """Opik's (and seedbed's own) ``{"errors": [...]}`` for 404, 409 and 422 and
    ``{"code", "message"}`` otherwise; Galileo's and Collinear's (FastAPI's) ``{"detail":
    [{"loc", "msg", "type"}, ...]}`` for 422 and ``{"detail": "..."}`` otherwise."""
    if path.startswith(_OPIK_PREFIXES):
        if status in _LIST_SHAPED:
            assert isinstance(body, dict) and set(body) == {"errors"}, (
                f"not Opik's {status} shape: {body}"
            )
            errors = body["errors"]
            assert isinstance(errors, list) and errors, f"not Opik's {status} shape: {body}"
            assert all(isinstance(error, str) and error for error in errors), (
                f"not Opik's shape: {body}"
            )
        else:
            assert isinstance(body, dict) and set(body) == {"code", "message"}, (
                f"not Opik's shape: {body}"
            )
            assert (
                body["code"] == status and isinstance(body["message"], str) and body["message"]
            ), body
        return
    assert isinstance(body, dict) and set(body) == {"detail"}, (
        f"not FastAPI's {status} shape: {body}"
    )
    detail = body["detail"]
    if status == 422:
        assert isinstance(detail, list) and detail, f"not FastAPI's 422 shape: {body}"
        for problem in detail:
            assert isinstance(problem, dict) and {"loc", "msg", "type"} <= set(problem), body
    else:
        assert isinstance(detail, str) and detail, f"not FastAPI's {status} shape: {body}"


def error_shape(ctx, response, case) -> None:
    """A schemathesis check: a 4xx is JSON in its surface's error shape."""
    if not 400 <= response.status_code < 500:
        return
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(
            f"a {response.status_code} that is not JSON: {response.text[:200]!r}"
        ) from None
    assert_error_shape(case.path, response.status_code, body)


# -- the app under test -------------------------------------------------------------------


@pytest.fixture(scope="module")
def stub() -> Iterator[StubLLMServer]:
    with StubLLMServer(StubBehaviour(seed=11)) as server:
        yield server


class Target:
    """The app in-process, and a world in its database made the first time a request
    is aimed at it (most requests that name no resource need none)."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self._world: World | None = None
        self._failure: Exception | None = None

    def world(self) -> World:
        # A world that could not be made is not made again: Hypothesis replays the
        # failing example, and a second attempt would only report its leftovers.
        if self._failure is not None:
            raise self._failure
        if self._world is None:
            try:
                self._world = build_world(self.client, {}, {}, wait_for_jobs=False)
            except Exception as failure:
                self._failure = failure
                raise
        return self._world


@pytest.fixture
def target(database, database_url, tmp_path, stub) -> Iterator[Target]:
    settings = Settings(database_url=database_url, home=tmp_path, **llm_settings(stub))
    app = create_app(settings, database, providers=ProviderRegistry(settings, load_plugins=False))
    # One event loop for all requests, as under a server: the providers' HTTP clients
    # outlive a request.
    with TestClient(without_lifespan(app), raise_server_exceptions=False) as client:
        yield Target(client)


def without_lifespan(app: ASGIApp) -> ASGIApp:
    """The app without its lifespan, whose job executor would take the generation jobs
    the fuzz starts: they are created and wait in the queue, so the fuzz does not spend
    its time generating the 100,000 samples it may ask for (running jobs is tests/jobs'
    subject)."""

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while True:
            message = await receive()
            await send({"type": f"{message['type']}.complete"})
            if message["type"] == "lifespan.shutdown":
                return

    return serve


# Top-level body fields that name a resource, and the world's value for them.
BODY_FIELDS = {
    "dataset_id": lambda world: world.dataset_id,
    "dataset_name": lambda world: world.dataset_name,
    "experiment_id": lambda world: world.experiment_id,
    "experiment_name": lambda world: "fault run",
    "project_name": lambda world: "fault project",
}


def _aimed(value) -> bool:
    """About half of the generated values, decided by the value itself: the same seed
    still sends the same requests."""
    return zlib.crc32(repr(value).encode()) % 2 == 0


def aimed_at_the_world(case, target: Target):
    """A copy of the case with some of its resource names replaced by the world's (a
    copy: coverage cases are made once and sent on both engines)."""
    aimed = case.derive()
    for name, value in case.path_parameters.items():
        # A real job's events stream until the job ends, and no job runs here.
        if _aimed(value) and not case.path.endswith("/events"):
            aimed.path_parameters[name] = target.world().path_value(case.path, name)
    if isinstance(aimed.body, dict):
        for name, world_value in BODY_FIELDS.items():
            if name in aimed.body and _aimed(aimed.body[name]):
                aimed.body[name] = world_value(target.world())
    if case.method.upper() == "GET" and "{" not in case.path:
        target.world()  # lists, filters and sorting then run over real rows
    return aimed


# Integers past what the database holds (64-bit, and far past it): the coverage phase
# sends a schema's bounds, but where a schema declares none it never tries these.
LARGE_INTEGERS = (2**63, 2**64 + 1, 10**30)


def _enlarged(name, value):
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        choice = zlib.crc32(repr((name, value)).encode()) % (2 * len(LARGE_INTEGERS))
        return LARGE_INTEGERS[choice] if choice < len(LARGE_INTEGERS) else value
    if isinstance(value, dict):
        return {key: _enlarged(key, item) for key, item in value.items()}
    if isinstance(value, list):
        return [_enlarged(name, item) for item in value]
    return value


def with_large_integers(case):
    """A copy of the case with about half of its integers (query, body, at any depth)
    replaced by huge ones, chosen by name and value: the same seed sends the same."""
    enlarged = case.derive()
    if isinstance(case.query, dict):
        enlarged.query = {name: _enlarged(name, value) for name, value in case.query.items()}
    if isinstance(case.body, dict | list):
        enlarged.body = _enlarged(None, case.body)
    return enlarged


def send(client: TestClient, case):
    """Send the case in-process: ``requests`` serializes it as schemathesis would on the
    wire (JSON, forms, multipart), the test client delivers the bytes."""
    wire = case.as_transport_kwargs(base_url="http://testserver")
    prepared = requests.Request(
        **{
            key: wire[key]
            for key in ("method", "url", "headers", "params", "cookies", "json", "data", "files")
            if key in wire
        }
    ).prepare()
    headers = [
        (name.encode("latin-1"), str(value).encode("latin-1"))
        for name, value in prepared.headers.items()
    ]
    return client.request(prepared.method, prepared.url, headers=headers, content=prepared.body)


@schema.parametrize()
@hypothesis.settings(deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
def test_every_answer_is_a_success_or_a_client_error_in_its_surfaces_shape(case, target):
    aimed = with_large_integers(aimed_at_the_world(case, target))

    response = send(target.client, aimed)

    aimed.validate_response(response, checks=[not_a_server_error, error_shape])


# -- methods a path does not serve ---------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("TRACE", "/v1/private/datasets"),
        ("PUT", "/seedbed/v1/jobs"),
        ("PUT", "/datasets/extend"),
        ("GET", "/api/v1/synth_data/generate"),
        ("TRACE", "/api/v1/synth_data/generate"),
    ],
)
def test_a_method_a_path_does_not_serve_is_a_405_in_its_surfaces_shape(method, path):
    # Routing answers before any storage is touched: no database, no engine parameter.
    response = TestClient(app_without_storage()).request(method, path)

    assert response.status_code == 405
    assert_error_shape(path, 405, response.json())


@pytest.mark.parametrize(
    ("path", "served"),
    [
        ("/v1/private/datasets", {"GET", "POST"}),
        # GET and DELETE /datasets/{dataset_id} take this path too.
        ("/datasets/extend", {"DELETE", "GET", "POST"}),
        ("/api/v1/synth_data/generate", {"POST"}),
    ],
)
def test_a_405_names_the_methods_the_path_serves(path, served):
    response = TestClient(app_without_storage()).request("TRACE", path)

    assert response.status_code == 405
    assert set(response.headers.get("allow", "").replace(" ", "").split(",")) == served
