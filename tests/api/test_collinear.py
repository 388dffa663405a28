"""Collinear's ``POST /api/v1/synth_data/generate`` as its clients call it: ``multiplier``
new rows per example, each ``generated`` the JSON text of an object with exactly that
example's keys, all distinct and none a copy of an example; keys in either of
Collinear's headers; ``model_id`` resolved through the configured mapping, a model name,
or the default model; every refusal in Collinear's (FastAPI's) error shapes, without a
paid call. The LLM is a real HTTP server speaking OpenAI's protocol."""

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from seedbed.api.app import create_app
from seedbed.providers.registry import ProviderRegistry
from seedbed.services import keys
from seedbed.settings import Settings
from seedbed.storage.database import Database
from seedbed.testing import StubBehaviour, StubLLMServer
from seedbed.testing.canned_provider import CannedProvider
from tests.conftest import ENGINES, running_server

GENERATE = "/api/v1/synth_data/generate"
MAPPED_ID = "3f6b8f1e-2a4d-4c1b-9e57-0d5c2a7b9e11"
OTHER_ID = "9d2e4c7a-5b1f-4e3d-8a6c-1f0b7e9d3c55"
PROMPT = "Write questions that customers ask a support team, each with a short answer."
# The same keys in every example: the stub's injected duplicates then also copy rows
# made for another example, which the request as a whole must still refuse.
SUPPORT = [
    {"question": "How do I reset my password?", "answer": "Use the link on the sign-in page."},
    {"question": "Can I pay by invoice?", "answer": "Yes, on the business plan."},
    {"question": "Where is my order?", "answer": "The tracking link is in your email."},
]
# Examples of different shapes in one request: each row takes its own example's keys.
SHAPES = [
    {"question": "How do I reset my password?", "answer": "Use the link on the sign-in page."},
    {
        "conv_prefix": [{"role": "user", "content": "My shipment is missing."}],
        "response": {"role": "assistant", "content": "Sorry! Let me check the tracking number."},
    },
    {"text": "The delivery was late again.", "label": "complaint", "score": 0.2},
]


def request_body(examples=SUPPORT, multiplier=4, model_id=MAPPED_ID, prompt=PROMPT) -> dict:
    return {"model_id": model_id, "multiplier": multiplier, "examples": examples, "prompt": prompt}


def assert_generated(pairs: list, examples: list[dict], multiplier: int) -> None:
    """``multiplier`` rows per example, in the examples' order, each with exactly its
    example's keys, none repeating another row or an example."""
    assert len(pairs) == len(examples) * multiplier
    rows = []
    for position, pair in enumerate(pairs):
        assert set(pair) == {"original", "generated"}
        example = examples[position // multiplier]
        assert pair["original"] == example
        assert isinstance(pair["generated"], str)
        row = json.loads(pair["generated"])
        assert isinstance(row, dict)
        assert list(row) == list(example)
        assert row not in examples
        rows.append(json.dumps(row, sort_keys=True))
    assert len(set(rows)) == len(rows), "a row was generated twice"


def assert_validation_error(response, *location: str | int) -> str:
    """An ``HTTPValidationError`` with a problem at ``location``; returns the messages."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert set(body) == {"detail"} and body["detail"], body
    for problem in body["detail"]:
        assert {"loc", "msg", "type"} <= set(problem)
        assert isinstance(problem["loc"], list)
        assert isinstance(problem["msg"], str) and problem["msg"]
    locations = [problem["loc"][: len(location)] for problem in body["detail"]]
    assert list(location) in locations, body
    return " ".join(problem["msg"] for problem in body["detail"])


def assert_detail(response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str) and body["detail"], body
    return body["detail"]


def models_called(stub: StubLLMServer) -> set[str]:
    return {call["model"] for call in stub.stats["calls"]}


def app_settings(database_url: str, home: Path, stub: StubLLMServer, **overrides) -> Settings:
    """Local mode, the OpenAI provider pointed at the stub, MAPPED_ID mapped, no default."""
    options = {
        "database_url": database_url,
        "home": home,
        "openai_api_key": "test",
        "openai_base_url": stub.base_url,
        "collinear_models": {MAPPED_ID: "openai/gpt-4o-mini"},
        "default_model": "",
        # A dead provider is declared dead in well under a second.
        "generation_max_retries": 1,
        "generation_breaker_cooldown_seconds": 0.01,
    }
    return Settings(**{**options, **overrides})


@pytest.fixture
def stub() -> Iterator[StubLLMServer]:
    with StubLLMServer(StubBehaviour(seed=3)) as server:
        yield server


@pytest.fixture
def make_client(database, database_url, tmp_path, stub) -> Iterator[Callable[..., TestClient]]:
    """Apps in-process with settings changed as asked, and optionally a canned provider
    serving ``canned/...`` models."""
    with ExitStack() as stack:

        def make(canned: CannedProvider | None = None, **overrides) -> TestClient:
            settings = app_settings(database_url, tmp_path, stub, **overrides)
            registry = ProviderRegistry(settings, load_plugins=False)
            if canned is not None:
                registry.add_provider("canned", canned)
            app = create_app(settings, database, providers=registry)
            return stack.enter_context(TestClient(app))

        yield make


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()


@pytest.fixture(scope="module", params=ENGINES)
def refusing(
    request, migrated_urls, tmp_path_factory
) -> Iterator[tuple[TestClient, StubLLMServer]]:
    """One app per engine for the many refusals (a refused request writes nothing), and
    a stub that must never be called."""
    database = Database(migrated_urls[request.param])
    with StubLLMServer() as stub:
        settings = app_settings(database.url, tmp_path_factory.mktemp("refusing"), stub)
        registry = ProviderRegistry(settings, load_plugins=False)
        with TestClient(create_app(settings, database, providers=registry)) as client:
            yield client, stub
        assert stub.stats["requests"] == 0
    database.dispose()


# -- over HTTP, keys required -------------------------------------------------------------


# One server per engine: starting ``seedbed serve`` is most of this test's time.
def test_a_keyed_server_generates_for_either_header_and_refuses_without_a_key(
    database, database_url, tmp_path, stub
):
    with database.writing() as connection:
        secret = keys.create_key(connection, "collinear-client", ["default"]).secret
    env = {
        "SEEDBED_AUTH": "required",
        "OPENAI_BASE_URL": stub.base_url,
        "OPENAI_API_KEY": "test",
        "SEEDBED_COLLINEAR_MODELS": json.dumps({MAPPED_ID: "openai/gpt-4o-mini"}),
    }
    with (
        running_server(database_url, tmp_path, **env) as base_url,
        httpx.Client(base_url=base_url, timeout=60) as http,
    ):
        bearer = http.post(
            GENERATE, json=request_body(), headers={"Authorization": f"Bearer {secret}"}
        )
        assert bearer.status_code == 200, bearer.text
        assert_generated(bearer.json(), SUPPORT, 4)
        assert models_called(stub) == {"gpt-4o-mini"}  # MAPPED_ID, through the mapping

        api_key = http.post(GENERATE, json=request_body(multiplier=2), headers={"API-Key": secret})
        assert api_key.status_code == 200, api_key.text
        assert_generated(api_key.json(), SUPPORT, 2)

        paid = stub.stats["requests"]
        wrong = "sb_not-a-key"
        refusals = [
            http.post(GENERATE, json=request_body()),
            http.post(GENERATE, json=request_body(), headers={"Authorization": f"Bearer {wrong}"}),
            http.post(GENERATE, json=request_body(), headers={"API-Key": wrong}),
            # The key is checked before the body.
            http.post(GENERATE, json={"multiplier": 0}),
        ]
        for response in refusals:
            assert_detail(response, 401)
            assert response.headers["WWW-Authenticate"] == "Bearer"
        assert "API-Key" in refusals[0].json()["detail"]
        assert stub.stats["requests"] == paid


# -- generating ---------------------------------------------------------------------------


def test_each_row_takes_the_keys_of_the_example_it_was_made_from(client):
    response = client.post(GENERATE, json=request_body(SHAPES, multiplier=3))

    assert response.status_code == 200, response.text
    assert_generated(response.json(), SHAPES, 3)
    conversation = json.loads(response.json()[3]["generated"])
    assert conversation["conv_prefix"][0].keys() == {"role", "content"}
    assert conversation["response"].keys() == {"role", "content"}


def test_the_prompt_is_the_task_and_each_call_shows_one_example(client, stub):
    response = client.post(GENERATE, json=request_body(multiplier=2))

    assert response.status_code == 200, response.text
    prompts = [
        message["content"]
        for call in stub.stats["calls"]
        for message in call["messages"]
        if message["role"] == "user"
    ]
    assert prompts
    assert all(prompt.startswith(PROMPT) for prompt in prompts)
    assert all("Example 1:" in prompt and "Example 2:" not in prompt for prompt in prompts)
    for example in SUPPORT:  # every example seeds calls of its own
        assert any(example["question"] in prompt for prompt in prompts)


def test_a_misbehaving_provider_still_yields_exactly_the_count(client, stub):
    stub.set_behaviour(
        StubBehaviour(seed=5, fault_rate=0.2, duplicate_rate=0.2, retry_after_seconds=0.05)
    )

    # Enough calls that the stub's draws hit some fault or duplicate (several dozen
    # draws at 20 % each).
    response = client.post(GENERATE, json=request_body(multiplier=12))

    assert response.status_code == 200, response.text
    assert_generated(response.json(), SUPPORT, 12)
    stats = stub.stats
    faults = sum(count for status, count in stats["by_status"].items() if status != "200")
    assert faults + stats["by_kind"]["malformed"] + stats["duplicates_injected"] > 0


def test_an_example_sent_twice_still_gets_distinct_rows(client):
    twice = [SUPPORT[0], SUPPORT[0]]

    response = client.post(GENERATE, json=request_body(twice, multiplier=3))

    assert response.status_code == 200, response.text
    assert_generated(response.json(), twice, 3)


TWO_QUESTIONS = [{"q": "Is it safe to swim after eating?"}, {"q": "What is the tallest tree?"}]
SHARED = [{"q": "Which cities have the oldest libraries?"}, {"q": "How do tides follow the moon?"}]
FRESH = [{"q": "Why do cats purr when they are content?"}, {"q": "What makes sourdough rise?"}]


def canned_replies(*batches: list[dict]) -> CannedProvider:
    return CannedProvider([json.dumps({"samples": batch}) for batch in batches])


def test_rows_that_repeat_another_examples_rows_are_replaced(make_client):
    """Both examples' first calls return the same two rows: the second example's copies
    are dropped and made again by a call that knows them."""
    canned = canned_replies(SHARED, SHARED, FRESH)
    client = make_client(canned)

    body = request_body(TWO_QUESTIONS, multiplier=2, model_id="canned/any")
    response = client.post(GENERATE, json=body)

    assert response.status_code == 200, response.text
    pairs = response.json()
    assert_generated(pairs, TWO_QUESTIONS, 2)
    assert [json.loads(pair["generated"]) for pair in pairs] == SHARED + FRESH
    assert len(canned.requests) == 3


def test_a_model_that_only_repeats_another_examples_rows_is_a_422_saying_so(make_client):
    client = make_client(canned_replies(*[SHARED] * 40))

    body = request_body(TWO_QUESTIONS, multiplier=2, model_id="canned/any")
    message = assert_validation_error(client.post(GENERATE, json=body), "body")

    assert "example 1" in message and "generated 0 of 2 samples" in message


# -- which model ---------------------------------------------------------------------------

# name: (model_id, SEEDBED_DEFAULT_MODEL, the model the provider is asked for)
RESOLUTIONS = {
    "mapped id": (MAPPED_ID, "", "gpt-4o-mini"),
    "mapped id, ignoring case": (MAPPED_ID.upper(), "", "gpt-4o-mini"),
    "the mapping before the default": (MAPPED_ID, "openai/default-model", "gpt-4o-mini"),
    "provider-qualified name": ("openai/qualified-model", "", "qualified-model"),
    "bare model name": ("gpt-4.1-nano", "", "gpt-4.1-nano"),
    "default model": (OTHER_ID, "openai/default-model", "default-model"),
}


@pytest.mark.parametrize(
    ("model_id", "default_model", "called"), RESOLUTIONS.values(), ids=RESOLUTIONS
)
def test_model_id_resolution(make_client, stub, model_id, default_model, called):
    client = make_client(default_model=default_model)

    response = client.post(GENERATE, json=request_body(multiplier=1, model_id=model_id))

    assert response.status_code == 200, response.text
    assert_generated(response.json(), SUPPORT, 1)
    assert models_called(stub) == {called}


def test_an_unknown_model_id_without_a_default_is_a_422_naming_it(refusing):
    client, stub = refusing

    response = client.post(GENERATE, json=request_body(model_id=OTHER_ID))

    message = assert_validation_error(response, "body", "model_id")
    assert OTHER_ID in message and "SEEDBED_COLLINEAR_MODELS" in message
    assert stub.stats["requests"] == 0


# -- refusing ----------------------------------------------------------------------------------


def without(field: str) -> dict:
    body = request_body()
    del body[field]
    return body


def numbered(count: int) -> list[dict]:
    return [{"n": n} for n in range(count)]


# name: (body, where the error must point)
INVALID_BODIES = {
    "examples not objects": (request_body(["a question", 2]), ("body", "examples", 0)),
    "an example that is a list": (request_body([[SUPPORT[0]]]), ("body", "examples", 0)),
    "examples not a list": (request_body(SUPPORT[0]), ("body", "examples")),
    "no examples": (request_body([]), ("body", "examples")),
    "an empty example": (request_body([SUPPORT[0], {}]), ("body", "examples", 1)),
    "over 100 examples": (request_body(numbered(101), multiplier=1), ("body", "examples")),
    "multiplier 0": (request_body(multiplier=0), ("body", "multiplier")),
    "negative multiplier": (request_body(multiplier=-3), ("body", "multiplier")),
    "multiplier over 100": (request_body(multiplier=101), ("body", "multiplier")),
    "multiplier not a number": (request_body(multiplier="many"), ("body", "multiplier")),
    "over 1000 rows in all": (request_body(numbered(11), multiplier=100), ("body",)),
    "blank model_id": (request_body(model_id="  "), ("body", "model_id")),
    "prompt not text": (request_body(prompt=["write"]), ("body", "prompt")),
    "text with a NUL": (request_body([{"q": "a\u0000b"}]), ("body", "examples", 0)),
    "no model_id": (without("model_id"), ("body", "model_id")),
    "no multiplier": (without("multiplier"), ("body", "multiplier")),
    "no examples field": (without("examples"), ("body", "examples")),
    "no prompt": (without("prompt"), ("body", "prompt")),
    "not an object": ([request_body()], ("body",)),
}


@pytest.mark.parametrize(("body", "location"), INVALID_BODIES.values(), ids=INVALID_BODIES)
def test_an_invalid_body_is_an_http_validation_error_at_the_field(refusing, body, location):
    client, stub = refusing

    assert_validation_error(client.post(GENERATE, json=body), *location)
    assert stub.stats["requests"] == 0


NOT_JSON = {
    "cut short": (b'{"model_id": "x", ', ("body",)),
    "form-encoded": (b"model_id=x&multiplier=2", ("body",)),
    # Python's parser reads NaN, which no JSON answer could carry back out.
    "NaN in an example": (
        b'{"model_id": "gpt-4o-mini", "multiplier": 1, "prompt": "", "examples": [{"x": NaN}]}',
        ("body", "examples", 0),
    ),
}


@pytest.mark.parametrize(("content", "location"), NOT_JSON.values(), ids=NOT_JSON)
def test_a_body_that_is_not_json_is_an_http_validation_error(refusing, content, location):
    client, stub = refusing

    headers = {"Content-Type": "application/json"}
    response = client.post(GENERATE, content=content, headers=headers)

    assert_validation_error(response, *location)
    assert stub.stats["requests"] == 0


def test_a_provider_that_is_down_is_a_502_saying_so(client, stub):
    stub.set_behaviour(StubBehaviour(server_error_rate=1.0))

    response = client.post(GENERATE, json=request_body(SUPPORT[:1], multiplier=1))

    assert "the provider kept failing" in assert_detail(response, 502)


def test_other_paths_and_methods_under_synth_data_answer_in_collinear_shape(refusing):
    client, _ = refusing

    assert assert_detail(client.get(GENERATE), 405) == "Method Not Allowed"
    assert client.get(GENERATE).headers["Allow"] == "POST"
    assert assert_detail(client.get(f"/api/v1/synth_data/{OTHER_ID}"), 404) == "Not Found"
    upload = client.post(f"{GENERATE}/{MAPPED_ID}/5", files={"file": ("rows.json", b"[]")})
    assert GENERATE in assert_detail(upload, 501)
    # The Opik surface keeps its own shapes.
    assert set(client.post("/v1/private/datasets", json={}).json()) == {"errors"}
    assert set(client.get("/v1/private/no-such-thing").json()) == {"errors"}
