"""The prompt library over HTTP: what the Opik client does not check for itself —
bad input answered in Opik's error shapes with nothing written, ids that name nothing,
masks, tags, structure, and experiments' links surviving the prompt they name."""

import pytest

from tests.api.experiment_http import create_experiment, dataset_with_items, new_id
from tests.api.opik_http import API, get_json

OTHER = {"Comet-Workspace": "elsewhere"}
NOBODY = "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b"  # a well-formed id nothing has


def add_version(client, name: str, template: str, status: int = 200, **fields) -> dict:
    version = {"template": template, **fields.pop("version", {})}
    response = client.post(
        f"{API}/prompts/versions", json={"name": name, "version": version, **fields}
    )
    assert response.status_code == status, response.text
    return response.json()


def retrieve(client, status: int = 200, **body) -> dict:
    response = client.post(f"{API}/prompts/versions/retrieve", json=body)
    assert response.status_code == status, response.text
    return response.json()


def prompts_named(client, name: str) -> list[dict]:
    return get_json(client, f"{API}/prompts", name=name)["content"]


def test_a_prompt_with_a_template_starts_at_v1_and_reads_back(client):
    response = client.post(
        f"{API}/prompts",
        json={
            "name": "greeting",
            "description": "Says hello",
            "template": "Hello {{name}}, about {{#topic}}{{topic}}{{/topic}}",
            "metadata": {"team": "support"},
            "change_description": "first",
            "tags": ["alpha", "alpha", "beta"],
        },
    )

    assert response.status_code == 201, response.text
    prompt_id = response.headers["location"].rsplit("/", 1)[1]
    found = get_json(client, f"{API}/prompts/{prompt_id}")
    assert {key: found[key] for key in ("name", "description", "tags", "version_count")} == {
        "name": "greeting",
        "description": "Says hello",
        "tags": ["alpha", "beta"],
        "version_count": 1,
    }
    latest = found["latest_version"]
    assert latest["version_number"] == "v1"
    assert latest["commit"] == latest["id"].replace("-", "")[-8:]
    assert latest["variables"] == ["name", "topic"]
    assert (latest["type"], latest["template_structure"], latest["metadata"]) == (
        "mustache",
        "text",
        {"team": "support"},
    )


def test_a_name_is_taken_once_per_workspace(client):
    add_version(client, "greeting", "Hello")
    taken = client.post(f"{API}/prompts", json={"name": "greeting"})

    assert taken.status_code == 409
    assert taken.json() == {"errors": ["Prompt id or name already exists"]}
    elsewhere = client.post(f"{API}/prompts", json={"name": "greeting"}, headers=OTHER)
    assert elsewhere.status_code == 201, elsewhere.text


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"name": "", "version": {"template": "x"}}, 422),
        ({"name": "   ", "version": {"template": "x"}}, 400),
        ({"name": "p", "version": {"template": ""}}, 422),
        ({"name": "p", "version": {"template": "  \n"}}, 400),
        ({"name": "p", "version": {"template": "x", "type": "handlebars"}}, 422),
        ({"name": "p", "version": {"template": "x", "commit": "short"}}, 422),
        ({"name": "p", "version": {"template": "x\u0000"}}, 422),
        ({"name": "p", "version": {"template": "x"}, "template_structure": "html"}, 422),
    ],
)
def test_a_bad_version_is_refused_and_writes_nothing(client, body, status):
    response = client.post(f"{API}/prompts/versions", json=body)

    assert response.status_code == status, response.text
    assert set(response.json()) == ({"errors"} if status == 422 else {"code", "message"})
    assert get_json(client, f"{API}/prompts")["total"] == 0


def test_retrieve_by_commit_number_or_latest_and_what_names_nothing(client):
    first = add_version(client, "greeting", "Hello")
    second = add_version(client, "greeting", "Hello again")

    assert retrieve(client, name="greeting")["id"] == second["id"]
    assert retrieve(client, name="greeting", commit=first["commit"])["id"] == first["id"]
    assert retrieve(client, name="greeting", version_number="v1")["id"] == first["id"]
    assert retrieve(client, 404, name="greeting", version_number="v3") == {
        "errors": ["Prompt version not found"]
    }
    assert retrieve(client, 404, name="nobody") == {"errors": ["Prompt not found"]}
    assert retrieve(client, 404, name="greeting", environment="production")
    assert retrieve(client, 400, name="greeting", version_number="three")["code"] == 400
    both = retrieve(client, 400, name="greeting", commit=first["commit"], version_number="v1")
    assert "mutually exclusive" in both["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/prompts/not-an-id",
        f"/prompts/{NOBODY}",
        "/prompts/versions/not-an-id",
        f"/prompts/versions/{NOBODY}",
        "/prompts/not-an-id/versions",
        f"/prompts/{NOBODY}/versions/by-number/v1",
    ],
)
def test_an_id_that_names_no_prompt_is_not_found(client, path):
    response = client.get(f"{API}{path}")

    assert response.status_code == 404, response.text
    assert set(response.json()) == {"errors"}


def test_another_workspaces_prompt_is_not_found(client):
    version = add_version(client, "greeting", "Hello")

    for path in (f"/prompts/{version['prompt_id']}", f"/prompts/versions/{version['id']}"):
        assert client.get(f"{API}{path}", headers=OTHER).status_code == 404
    hidden = client.post(
        f"{API}/prompts/versions/retrieve", json={"name": "greeting"}, headers=OTHER
    )
    assert hidden.status_code == 404
    assert client.get(f"{API}/prompts", headers=OTHER).json()["total"] == 0


def test_a_prompts_structure_never_changes(client):
    chat = add_version(
        client, "chat", '[{"role": "user", "content": "{{q}}"}]', template_structure="chat"
    )
    later = add_version(client, "chat", '[{"role": "user", "content": "{{q}}!"}]')

    assert (chat["template_structure"], later["template_structure"]) == ("chat", "chat")
    assert later["version_number"] == "v2"


def test_a_client_chosen_commit_is_kept_and_taken_once(client):
    kept = add_version(client, "greeting", "Hello", version={"commit": "abcd1234"})
    again = add_version(client, "other", "Hi", status=409, version={"commit": "abcd1234"})

    assert kept["commit"] == "abcd1234"
    assert again == {"errors": ["Prompt version already exists"]}
    assert [found["name"] for found in get_json(client, f"{API}/prompts")["content"]] == [
        "greeting"
    ]


def test_a_mask_is_neither_the_latest_version_nor_in_the_history(client):
    visible = add_version(client, "greeting", "Hello")
    mask = add_version(client, "greeting", "Masked hello", version={"version_type": "mask"})

    assert mask["version_type"] == "mask" and "version_number" not in mask
    assert retrieve(client, name="greeting")["id"] == visible["id"]
    history = get_json(client, f"{API}/prompts/{visible['prompt_id']}/versions")
    assert [found["id"] for found in history["content"]] == [visible["id"]]
    assert get_json(client, f"{API}/prompts/versions/{mask['id']}")["template"] == "Masked hello"
    assert prompts_named(client, "greeting")[0]["version_count"] == 1


def test_history_is_newest_first_searched_and_filtered(client):
    first = add_version(client, "greeting", "Hello", version={"metadata": {"env": "dev"}})
    second = add_version(client, "greeting", "Goodbye", version={"metadata": {"env": "prod"}})
    prompt_id = first["prompt_id"]

    def history(**params) -> list[str]:
        page = get_json(client, f"{API}/prompts/{prompt_id}/versions", **params)
        return [found["version_number"] for found in page["content"]]

    assert history() == ["v2", "v1"]
    assert history(search="GOODBYE") == ["v2"]
    assert history(
        filters=[{"field": "metadata", "key": "env", "operator": "=", "value": "dev"}]
    ) == ["v1"]
    assert history(size=1, page=2) == ["v1"]
    assert second["version_number"] == "v2"
    bad = client.get(
        f"{API}/prompts/{prompt_id}/versions", params={"filters": '[{"field": "colour"}]'}
    )
    assert bad.status_code == 400 and "unknown field" in bad.json()["message"]


def test_version_tags_are_replaced_or_merged(client):
    version = add_version(client, "greeting", "Hello", version={"tags": ["a"]})

    def tags() -> list[str] | None:
        return get_json(client, f"{API}/prompts/versions/{version['id']}").get("tags")

    def patch(body: dict, status: int = 204):
        response = client.patch(f"{API}/prompts/versions", json=body)
        assert response.status_code == status, response.text

    patch({"ids": [version["id"]], "update": {"tags": ["b"]}, "merge_tags": True})
    assert tags() == ["a", "b"]
    patch({"ids": [version["id"]], "update": {"tags": ["c"]}})
    assert tags() == ["c"]
    patch({"ids": [version["id"]], "update": {}})
    assert tags() == ["c"]
    patch({"ids": [version["id"]], "update": {"tags": []}})
    assert tags() is None
    patch({"ids": [version["id"], new_id()], "update": {"tags": ["d"]}}, status=404)
    assert tags() is None


def test_rename_describe_and_delete(client):
    version = add_version(client, "greeting", "Hello")
    add_version(client, "taken", "Hi")
    prompt_id = version["prompt_id"]

    renamed = client.put(f"{API}/prompts/{prompt_id}", json={"name": "welcome", "tags": ["x"]})
    assert renamed.status_code == 204, renamed.text
    clash = client.put(f"{API}/prompts/{prompt_id}", json={"name": "taken"})
    assert clash.status_code == 409
    assert get_json(client, f"{API}/prompts/{prompt_id}")["name"] == "welcome"
    long = client.put(f"{API}/prompts/{prompt_id}", json={"name": "w", "description": "d" * 256})
    assert long.status_code == 422

    assert client.delete(f"{API}/prompts/{prompt_id}").status_code == 204
    assert client.get(f"{API}/prompts/{prompt_id}").status_code == 404
    assert client.get(f"{API}/prompts/versions/{version['id']}").status_code == 404
    assert client.delete(f"{API}/prompts/{prompt_id}").status_code == 404
    batch = client.post(f"{API}/prompts/delete", json={"ids": [new_id()]})
    assert batch.status_code == 204


def test_an_experiment_cannot_link_a_version_that_is_not_there(client):
    dataset_with_items(client, "qa", [{"q": "hi"}])
    foreign = add_version(client, "theirs", "Hello")
    client.post(f"{API}/prompts/delete", json={"ids": [foreign["prompt_id"]]})

    for missing in (new_id(), foreign["id"]):
        response = client.post(
            f"{API}/experiments",
            json={"dataset_name": "qa", "name": "run", "prompt_versions": [{"id": missing}]},
        )
        assert response.status_code == 409, response.text
        assert response.json() == {"errors": ["Prompt version not found"]}
    assert get_json(client, f"{API}/experiments")["total"] == 0

    # Nor one of another workspace's prompts.
    dataset_with_items(client, "qa", [{"q": "hi"}], headers=OTHER)
    ours = add_version(client, "ours", "Hello")
    response = client.post(
        f"{API}/experiments",
        json={"dataset_name": "qa", "prompt_versions": [{"id": ours["id"]}]},
        headers=OTHER,
    )
    assert response.status_code == 409, response.text
    assert get_json(client, f"{API}/experiments", headers=OTHER)["total"] == 0


def test_an_experiments_links_outlive_the_prompt(client):
    dataset_with_items(client, "qa", [{"q": "hi"}])
    first = add_version(client, "greeting", "Hello")
    second = add_version(client, "farewell", "Bye")
    experiment_id = create_experiment(
        client,
        "qa",
        prompt_version={"id": second["id"]},
        prompt_versions=[{"id": first["id"]}, {"id": second["id"]}],
    )

    found = get_json(client, f"{API}/experiments/{experiment_id}")
    assert found["prompt_version"]["prompt_name"] == "farewell"
    assert [link["prompt_name"] for link in found["prompt_versions"]] == ["farewell", "greeting"]

    client.delete(f"{API}/prompts/{first['prompt_id']}")
    found = get_json(client, f"{API}/experiments/{experiment_id}")
    assert found["prompt_versions"][1] == {
        "prompt_version_id": first["id"],
        "prompt_id": first["prompt_id"],
    }
    still = get_json(client, f"{API}/experiments", prompt_id=first["prompt_id"])
    assert [experiment["id"] for experiment in still["content"]] == [experiment_id]
    bad = client.get(f"{API}/experiments", params={"prompt_id": "not-an-id"})
    assert bad.status_code == 400


def test_a_deleted_experiments_links_go_with_it(client):
    dataset_with_items(client, "qa", [{"q": "hi"}])
    version = add_version(client, "greeting", "Hello")
    experiment_id = create_experiment(client, "qa", prompt_versions=[{"id": version["id"]}])

    deleted = client.post(f"{API}/experiments/delete", json={"ids": [experiment_id]})
    assert deleted.status_code == 204, deleted.text
    create_experiment(client, "qa", id=experiment_id)  # the client chooses ids: again

    assert "prompt_versions" not in get_json(client, f"{API}/experiments/{experiment_id}")
    found = get_json(client, f"{API}/experiments", prompt_id=version["prompt_id"])
    assert found["total"] == 0
