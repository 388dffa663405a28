"""The Galileo-compatible surface in-process: bad input is refused in Galileo's (FastAPI's)
error shapes, ``{"detail": [{"loc", "msg", "type"}]}`` for a 422 and ``{"detail": "..."}``
otherwise, without writing anything; the Opik surface keeps its own shapes; content
edits honour ``If-Match``; logins exchange seedbed API keys for tokens that stop working
when their key is revoked. The real Galileo client is driven in
``tests/compat/test_galileo_sdk.py``."""

import json
import time
import uuid
from collections.abc import Iterator

import jwt
import pytest
from fastapi.testclient import TestClient

from seedbed.api.app import create_app
from seedbed.services import keys
from seedbed.testing import StubBehaviour, StubLLMServer

VALID_EXTENSION = {
    "prompt_settings": {"model_alias": "GPT-4o mini"},
    "examples": ["How do I reset my password?", "Can I pay by invoice?"],
    "count": 3,
}
ROWS = [{"input": "How do I reset my password?", "output": "Use the sign-in page."}]


def assert_validation_error(response, location: tuple) -> None:
    """Galileo's 422: an HTTPValidationError naming where the problem is."""
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail
    assert all({"loc", "msg", "type"} <= set(problem) for problem in detail)
    assert any(tuple(problem["loc"][: len(location)]) == location for problem in detail), detail


def assert_error(response, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert set(response.json()) == {"detail"}
    assert words in response.json()["detail"]


def create_dataset(client, name: str, rows: list[dict], headers: dict | None = None) -> dict:
    content = "".join(json.dumps(row) + "\n" for row in rows).encode()
    response = client.post(
        "/datasets",
        params={"format": "jsonl"},
        data={"name": name, "draft": "False"},
        files={"file": (name, content, "application/octet-stream")},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


def dataset_names(client, headers: dict | None = None) -> list[str]:
    response = client.get("/datasets", headers=headers)
    assert response.status_code == 200, response.text
    return [found["name"] for found in response.json()["datasets"]]


# -- extend: bad input ---------------------------------------------------------------------


BAD_EXTENSIONS = [
    ({"data_types": ["General Query", "Haiku"]}, ("body", "data_types", 1)),
    ({"count": 0}, ("body", "count")),
    ({"count": -3}, ("body", "count")),
    ({"count": "many"}, ("body", "count")),
    ({"examples": [42]}, ("body", "examples", 0)),
    ({"examples": [["a", "list"]]}, ("body", "examples", 0)),
    ({"examples": [None]}, ("body", "examples", 0)),
    ({"examples": ["   "]}, ("body", "examples", 0)),
    ({"examples": [{}]}, ("body", "examples", 0)),
    ({"examples": "How do I reset my password?"}, ("body", "examples")),
    ({"examples": ["a question", {"input": "an object"}]}, ("body",)),
    ({"examples": []}, ("body",)),  # nothing to generate from
    ({"source_dataset": {"row_ids": []}, "examples": []}, ("body", "source_dataset", "dataset_id")),
    ({"prompt_settings": {"temperature": 3}}, ("body", "prompt_settings", "temperature")),
    ({"prompt_settings": {"max_tokens": 0}}, ("body", "prompt_settings", "max_tokens")),
]


def test_a_bad_extension_is_refused_and_creates_nothing(client):
    # One app for all the cases: starting one per case would be most of the test's time.
    for change, location in BAD_EXTENSIONS:
        response = client.post("/datasets/extend", json={**VALID_EXTENSION, **change})

        assert_validation_error(response, location)
    assert dataset_names(client) == []


def test_extend_refuses_a_body_that_is_not_json(client):
    response = client.post(
        "/datasets/extend", content=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert_validation_error(response, ("body",))


def test_extend_from_a_source_dataset_that_does_not_exist_is_a_404(client):
    source = {"dataset_id": str(uuid.uuid4())}

    response = client.post(
        "/v2/datasets/extend", json={**VALID_EXTENSION, "examples": [], "source_dataset": source}
    )

    assert_error(response, 404, "Dataset not found")
    assert dataset_names(client) == []


def test_extend_from_rows_that_are_not_in_the_source_dataset_is_a_404(client):
    source = create_dataset(client, "faq", ROWS)
    missing = str(uuid.uuid4())

    response = client.post(
        "/datasets/extend",
        json={
            **VALID_EXTENSION,
            "source_dataset": {"dataset_id": source["id"], "row_ids": [missing]},
        },
    )

    assert_error(response, 404, missing)
    assert dataset_names(client) == ["faq"]


@pytest.mark.parametrize("root", ["", "/v2"])
def test_progress_of_an_extension_that_does_not_exist_is_a_404(client, root):
    assert_error(client.get(f"{root}/datasets/extend/{uuid.uuid4()}"), 404, "No generation job")


def test_progress_of_a_dataset_no_extension_writes_is_a_404(client):
    dataset = create_dataset(client, "faq", ROWS)

    assert_error(client.get(f"/datasets/extend/{dataset['id']}"), 404, "No generation job")


def test_progress_needs_a_dataset_id(client):
    assert_validation_error(client.get("/datasets/extend/not-an-id"), ("path", "dataset_id"))


# -- extend: models ------------------------------------------------------------------------


@pytest.fixture
def generating_client(settings, database) -> Iterator[TestClient]:
    """Local mode with OpenAI's provider served by the stub LLM server."""
    with StubLLMServer(StubBehaviour(seed=5)) as stub:
        configured = settings.model_copy(
            update={
                "openai_base_url": stub.base_url,
                "openai_api_key": "test",
                "default_model": "openai/gpt-4o-mini",
            }
        )
        with TestClient(create_app(configured, database)) as test_client:
            yield test_client


MODEL_ALIASES = [
    ("GPT-4o mini", "openai/gpt-4o-mini"),
    ("gpt-4.1-mini", "openai/gpt-4.1-mini"),
    ("GPT-4.1 nano", "openai/gpt-4.1-nano"),
    ("openai/gpt-4o", "openai/gpt-4o"),  # a seedbed model name is used as it is
    ("A model Galileo offers and seedbed does not", "openai/gpt-4o-mini"),  # the default
    ("", "openai/gpt-4o-mini"),
]


def test_model_aliases_map_to_seedbed_models(generating_client):
    for alias, model in MODEL_ALIASES:
        body = {**VALID_EXTENSION, "prompt_settings": {"model_alias": alias}}

        response = generating_client.post("/datasets/extend", json=body)

        assert response.status_code == 200, response.text
        dataset_id = response.json()["dataset_id"]
        started = generating_client.get("/seedbed/v1/jobs", params={"size": 1}).json()["content"][0]
        assert (started["target_dataset_id"], started["kind"], started["model"]) == (
            dataset_id,
            "galileo_extend",
            model,
        ), alias
        progress = generating_client.get(f"/datasets/extend/{dataset_id}").json()
        assert progress["steps_total"] == 3
        assert model in progress["progress_message"]


# -- datasets and content ------------------------------------------------------------------


def test_an_unknown_dataset_is_a_404_in_galileos_shape(client):
    unknown = uuid.uuid4()
    edit = {"edits": [{"edit_type": "append_row", "values": {"input": "a"}}]}

    assert_error(client.get(f"/datasets/{unknown}"), 404, "Dataset not found")
    assert_error(client.get(f"/datasets/{unknown}/content"), 404, "Dataset not found")
    assert_error(client.patch(f"/datasets/{unknown}/content", json=edit), 404, "Dataset not found")
    assert_error(client.delete(f"/datasets/{unknown}"), 404, "Dataset not found")


def test_the_opik_surface_keeps_its_own_error_shape(client):
    response = client.get(f"/v1/private/datasets/{uuid.uuid4()}")

    assert response.status_code == 404
    assert response.json() == {"errors": ["Dataset not found"]}


def test_a_dataset_id_must_be_a_uuid(client):
    assert_validation_error(client.get("/datasets/not-a-uuid"), ("path", "dataset_id"))


def test_a_taken_name_is_a_conflict_unless_a_suffix_is_asked_for(client):
    create_dataset(client, "faq", ROWS)

    taken = client.post(
        "/datasets", data={"name": "faq"}, files={"file": ("faq.csv", b"input\nhi\n")}
    )
    suffixed = client.post(
        "/datasets",
        data={"name": "faq", "append_suffix_if_duplicate": "true"},
        files={"file": ("faq.csv", b"input\nhi\n")},
    )

    assert_error(taken, 409, "already exists")
    assert suffixed.status_code == 200 and suffixed.json()["name"] == "faq (1)"
    assert suffixed.json()["num_rows"] == 1


UNREADABLE_UPLOADS = [
    ("jsonl", b'{"input": "a"}\nnot json\n', 400),
    ("json", b'{"input": "a"}', 400),
    ("csv", b"\xff\xfe\x00", 400),
    ("feather", b"ARROW1", 422),
    ("parquet", b"PAR1", 422),
]


def test_an_unreadable_upload_creates_no_dataset(client):
    for file_format, content, status in UNREADABLE_UPLOADS:
        response = client.post(
            "/datasets",
            params={"format": file_format},
            data={"name": "faq"},
            files={"file": ("faq", content)},
        )

        assert response.status_code == status, (file_format, response.text)
        assert "detail" in response.json()
    assert dataset_names(client) == []


def test_rows_keep_every_key_as_data_and_duplicates_stay(client):
    # Opik's import would take "id" and "tags" as the item's own fields and skip the
    # repeated row; a Galileo row is all values.
    rows = [{"id": "Q-1", "tags": "billing", "input": "Invoice?"}] * 2

    created = create_dataset(client, "tickets", rows)
    content = client.get(f"/datasets/{created['id']}/content").json()

    assert created["num_rows"] == 2
    assert created["column_names"] == ["id", "input", "tags"]
    assert [row["values_dict"] for row in content["rows"]] == rows
    assert [row["values"] for row in content["rows"]] == [["Q-1", "Invoice?", "billing"]] * 2


def test_content_pages_by_starting_token(client):
    rows = [{"input": f"question {number}"} for number in range(7)]
    created = create_dataset(client, "paged", rows)

    def page(starting_token: int, limit: int) -> dict:
        response = client.get(
            f"/datasets/{created['id']}/content",
            params={"starting_token": starting_token, "limit": limit},
        )
        assert response.status_code == 200, response.text
        return response.json()

    assert [row["index"] for row in page(0, 3)["rows"]] == [0, 1, 2]
    middle = page(2, 3)
    assert [row["values_dict"]["input"] for row in middle["rows"]] == [
        "question 2",
        "question 3",
        "question 4",
    ]
    assert [row["index"] for row in middle["rows"]] == [2, 3, 4]
    assert middle["next_starting_token"] == 5
    assert page(5, 3)["next_starting_token"] is None
    assert page(9, 3)["rows"] == []
    assert_validation_error(
        client.get(f"/datasets/{created['id']}/content", params={"limit": 0}), ("query", "limit")
    )


def test_content_edits_need_the_latest_etag(client):
    created = create_dataset(client, "faq", ROWS)
    url = f"/datasets/{created['id']}/content"
    etag = client.get(url).headers["ETag"]
    append = {"edits": [{"edit_type": "append_row", "values": {"input": "Where is my order?"}}]}

    applied = client.patch(url, json=append, headers={"If-Match": etag})
    stale = client.patch(url, json=append, headers={"If-Match": etag})

    assert applied.status_code == 204, applied.text
    assert applied.headers["ETag"] not in (etag, "")
    assert_error(stale, 412, "ETag")
    content = client.get(url)
    assert content.headers["ETag"] == applied.headers["ETag"]
    assert [row["values_dict"]["input"] for row in content.json()["rows"]] == [
        "How do I reset my password?",
        "Where is my order?",
    ]
    assert client.get(f"/datasets/{created['id']}").json()["current_version_index"] == 2


def test_rows_are_updated_and_deleted_by_row_id(client):
    created = create_dataset(client, "faq", [*ROWS, {"input": "Can I pay by invoice?"}])
    url = f"/datasets/{created['id']}/content"
    first, second = [row["row_id"] for row in client.get(url).json()["rows"]]

    response = client.patch(
        url,
        json={
            "edits": [
                {
                    "edit_type": "update_row",
                    "row_id": first,
                    "values": {"output": "Use the reset link."},
                },
                {"edit_type": "delete_row", "row_id": second},
            ]
        },
    )

    assert response.status_code == 204, response.text
    assert [row["values_dict"] for row in client.get(url).json()["rows"]] == [
        {"input": "How do I reset my password?", "output": "Use the reset link."}
    ]


BAD_EDITS = [
    ({}, ("body", "edits")),
    ({"edits": []}, ("body", "edits")),
    ({"edits": [{"edit_type": "prepend_row", "values": {"input": "a"}}]}, ("body", "edits", 0)),
    ({"edits": [{"edit_type": "update_row", "values": {"input": "a"}}]}, ("body", "edits", 0)),
    ({"edits": [{"edit_type": "append_row", "values": "a"}]}, ("body", "edits", 0)),
]


def test_bad_content_edits_are_refused(client):
    created = create_dataset(client, "faq", ROWS)

    for body, location in BAD_EDITS:
        assert_validation_error(
            client.patch(f"/datasets/{created['id']}/content", json=body), location
        )
    assert client.get(f"/datasets/{created['id']}").json()["current_version_index"] == 1


def test_editing_a_row_of_another_dataset_is_a_404(client):
    other = create_dataset(client, "other", ROWS)
    row_id = client.get(f"/datasets/{other['id']}/content").json()["rows"][0]["row_id"]
    created = create_dataset(client, "faq", ROWS)

    response = client.patch(
        f"/datasets/{created['id']}/content",
        json={"edits": [{"edit_type": "delete_row", "row_id": row_id}]},
    )

    assert_error(response, 404, row_id)


def test_query_finds_datasets_by_name_and_refuses_filters_it_cannot_apply(client):
    create_dataset(client, "faq", ROWS)
    create_dataset(client, "faq v2", ROWS)

    exact = client.post(
        "/datasets/query", json={"filters": [{"name": "name", "operator": "eq", "value": "faq"}]}
    )
    drafts = client.post("/datasets/query", json={"filters": [{"name": "draft", "value": True}]})
    by_project = client.post(
        "/datasets/query",
        json={"filters": [{"name": "used_in_project", "value": str(uuid.uuid4())}]},
    )

    assert [found["name"] for found in exact.json()["datasets"]] == ["faq"]
    assert drafts.json()["datasets"] == []
    assert_validation_error(by_project, ("body", "filters", 0))


# -- login and tokens ----------------------------------------------------------------------


def test_local_mode_logs_in_with_any_key_and_gives_a_far_reaching_token(client):
    response = client.post("/login/api_key", json={"api_key": "anything"})

    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "bearer"
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert claims["exp"] > time.time() + 7 * 24 * 3600
    user = client.get("/current_user").json()
    assert uuid.UUID(user["id"]).version == 4
    assert {"email", "role"} <= set(user)


def test_login_needs_an_api_key(client):
    assert_validation_error(client.post("/login/api_key", json={}), ("body", "api_key"))


@pytest.fixture
def keyed(settings, database) -> Iterator[tuple[TestClient, dict]]:
    """A server that requires keys, and a key bound to the workspace "team"."""
    with database.writing() as connection:
        created = keys.create_key(connection, "alice", ["team"])
    required = settings.model_copy(update={"auth": "required"})
    with TestClient(create_app(required, database)) as test_client:
        yield test_client, {"secret": created.secret, "id": created.key.id}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_key_logs_in_and_its_token_opens_its_workspace(keyed, database):
    client, key = keyed
    token = client.post("/login/api_key", json={"api_key": key["secret"]}).json()["access_token"]

    created = create_dataset(client, "faq", ROWS, headers=bearer(token))
    user = client.get("/current_user", headers=bearer(token)).json()

    assert user["organization_name"] == "team" and user["email"] == "alice@seedbed.local"
    assert created["created_by_user"]["id"] == user["id"]
    assert dataset_names(client, bearer(token)) == ["faq"]
    # A plain seedbed key works as the bearer too.
    assert dataset_names(client, bearer(key["secret"])) == ["faq"]


def test_requests_without_a_valid_token_are_refused(keyed):
    client, key = keyed
    token = client.post("/login/api_key", json={"api_key": key["secret"]}).json()["access_token"]
    header, claims, signature = token.split(".")
    forged_claims = json.loads(jwt.utils.base64url_decode(claims))
    forged = ".".join(
        [
            header,
            jwt.utils.base64url_encode(
                json.dumps({**forged_claims, "ws": "other"}).encode()
            ).decode(),
            signature,
        ]
    )

    wrong_key = client.post("/login/api_key", json={"api_key": "sb_not-a-key"})
    no_token = client.get("/datasets")
    forged_token = client.get("/datasets", headers=bearer(forged))

    assert_error(wrong_key, 401, "not valid")
    assert_error(no_token, 401, "Not authenticated")
    assert no_token.headers["WWW-Authenticate"] == "Bearer"
    assert_error(forged_token, 401, "not valid")


def test_revoking_a_key_ends_its_tokens(keyed, database):
    client, key = keyed
    token = client.post("/login/api_key", json={"api_key": key["secret"]}).json()["access_token"]
    assert client.get("/datasets", headers=bearer(token)).status_code == 200

    with database.writing() as connection:
        keys.revoke_key(connection, key["id"])

    assert_error(client.get("/datasets", headers=bearer(token)), 401, "no longer valid")


def test_tokens_survive_a_restart_of_the_server(keyed, settings, database):
    client, key = keyed
    token = client.post("/login/api_key", json={"api_key": key["secret"]}).json()["access_token"]

    restarted = create_app(settings.model_copy(update={"auth": "required"}), database)
    with TestClient(restarted) as again:
        assert again.get("/datasets", headers=bearer(token)).status_code == 200
