"""The README's Opik compatibility table says what the code serves.

Every endpoint of Opik's datasets, experiments, traces, spans (with their feedback
scores), projects and prompts, plus the optimizations and workspace check the client
calls, has one row in the table: ``supported``, ``partial`` (with what is missing) or
``not supported``. A row that claims an endpoint the app does not serve, or a served
endpoint the table calls unsupported, fails here; so does an endpoint of those groups
in Opik's OpenAPI document (``opik_endpoints.tsv``, read from it) without a row.
"""

import re
import tempfile
from pathlib import Path

from seedbed.api.app import create_app
from seedbed.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"
OPIK_ENDPOINTS = Path(__file__).with_name("opik_endpoints.tsv")
METHODS = ("get", "post", "put", "patch", "delete")
ROW = re.compile(
    r"^\| `(?P<method>GET|POST|PUT|PATCH|DELETE) (?P<path>/v1/private/\S*)` "
    r"\| (?P<status>supported|partial|not supported) \|(?P<notes>[^|]*)\|$"
)


def endpoint(method: str, path: str) -> tuple[str, str]:
    """``(METHOD, path)`` with every path parameter written ``{}``: the reference and the
    app name their parameters differently (``{id}``, ``{datasetId}``)."""
    return method.upper(), re.sub(r"\{[^}]+\}", "{}", path)


def table() -> dict[tuple[str, str], tuple[str, str]]:
    rows: dict[tuple[str, str], tuple[str, str]] = {}
    for line in README.read_text().splitlines():
        match = ROW.match(line.strip())
        if match:
            key = endpoint(match["method"], match["path"])
            assert key not in rows, f"two rows for {key}"
            rows[key] = (match["status"], match["notes"].strip())
    return rows


def reference_endpoints() -> set[tuple[str, str]]:
    lines = OPIK_ENDPOINTS.read_text().splitlines()
    return {
        endpoint(*line.split("\t")[0].split(" "))
        for line in lines
        if line and not line.startswith("#")
    }


def served_endpoints() -> set[tuple[str, str]]:
    home = tempfile.mkdtemp()
    app = create_app(Settings(database_url=f"sqlite:///{home}/seedbed.db", home=home))
    return {
        endpoint(method, path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/v1/private/")
        for method in operations
        if method in METHODS
    }


def test_every_endpoint_of_the_groups_has_exactly_one_row():
    rows, reference = table(), reference_endpoints()

    assert sorted(reference - rows.keys()) == [], "endpoints without a row in the README"
    assert sorted(rows.keys() - reference) == [], "rows for endpoints Opik does not have"


def test_the_table_says_what_the_app_serves():
    rows, served = table(), served_endpoints()

    claimed = {key for key, (status, _) in rows.items() if status != "not supported"}
    assert sorted(claimed - served) == [], "the README claims endpoints the app does not serve"
    assert sorted((served & rows.keys()) - claimed) == [], "served endpoints marked unsupported"
    unexplained = [
        key for key, (status, notes) in rows.items() if status == "partial" and not notes
    ]
    assert unexplained == [], "a partial row says what is missing"
