"""Small calls to the Opik-compatible API shared by the tests of this package."""

import json

API = "/v1/private"


def create_dataset(
    client, name: str = "items", prefix: str = API, headers: dict | None = None, **fields
) -> str:
    """Create a dataset and return its id (read from the Location header)."""
    response = client.post(f"{prefix}/datasets", json={"name": name, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return response.headers["location"].rsplit("/", 1)[1]


def put_items(
    client, dataset_id: str, items: list[dict], headers: dict | None = None, **extra
) -> None:
    response = client.put(
        f"{API}/datasets/items",
        json={"dataset_id": dataset_id, "items": items, **extra},
        headers=headers,
    )
    assert response.status_code == 204, response.text


def get_json(client, path: str, headers: dict | None = None, **params) -> dict:
    """GET with Opik's conventions: list parameters (filters, sorting) travel as JSON."""
    query = {
        key: json.dumps(value) if isinstance(value, list) else value
        for key, value in params.items()
    }
    response = client.get(path, params=query, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()
