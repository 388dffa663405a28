"""The ``seedbed`` command line as a user runs it: help, datasets, keys. Every command
that touches data runs on SQLite and on PostgreSQL."""

import csv
import io
import json
import re
import subprocess
import sys
import uuid

import pytest
from fastapi.testclient import TestClient

from seedbed.api.app import create_app
from seedbed.settings import Settings
from seedbed.storage.database import Database

ROWS = [
    {"input": "How do I reset my password?", "expected_output": "Use the sign-in page's link."},
    {"input": "¿Dónde está mi pedido?", "expected_output": "En camino."},
    {"input": "Can I pay by invoice?", "expected_output": "Yes, on the business plan."},
]


def _table(output: str) -> list[list[str]]:
    """The body rows of a listing. Piped (as here) it is tab-separated, one header line."""
    lines = [line for line in output.splitlines() if "\t" in line]
    return [line.split("\t") for line in lines[1:]]


def _datasets(seedbed, *options) -> dict[str, list[str]]:
    """``datasets list`` as {name: [items, latest version, last updated, id]}."""
    return {row[0]: row[1:] for row in _table(seedbed("datasets", "list", *options).output)}


def _import(seedbed, path, dataset: str):
    return seedbed("datasets", "import", path, "--dataset", dataset)


def _exported(seedbed, dataset: str, *options) -> list[dict]:
    """``datasets export`` to standard output, as the JSON rows it printed."""
    printed = seedbed("datasets", "export", dataset, *options).stdout
    return [json.loads(line) for line in printed.splitlines()]


def _data(rows: list[dict]) -> list[dict]:
    """Exported JSONL rows without the item's own fields, in a stable order."""
    own = {"id", "source", "tags", "description", "evaluators", "execution_policy"}
    return sorted(({k: v for k, v in row.items() if k not in own} for row in rows), key=json.dumps)


def _write_jsonl(path, rows: list[dict]):
    lines = [json.dumps(row, ensure_ascii=False) + "\n" for row in rows]
    path.write_text("".join(lines), encoding="utf-8")
    return path


def _write_json(path, rows: list[dict]):
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return path


def _write_csv(path, rows: list[dict]):
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


WRITERS = {"jsonl": _write_jsonl, "json": _write_json, "csv": _write_csv}


# -- help ---------------------------------------------------------------------------------

GROUPS = {
    (): ["serve", "expand", "doctor", "worker", "keys", "datasets", "experiments", "jobs"],
    ("keys",): ["create", "list", "revoke"],
    ("datasets",): ["list", "create", "import", "export"],
    ("experiments",): ["list", "show", "compare"],
    ("jobs",): ["list", "watch", "report", "cancel"],
}
COMMANDS = [("serve",), ("expand",), ("doctor",), ("worker",)] + [
    group + (name,)
    for group in [("keys",), ("datasets",), ("experiments",), ("jobs",)]
    for name in GROUPS[group]
]


@pytest.mark.parametrize("group", GROUPS, ids=lambda group: " ".join(("seedbed",) + group))
def test_help_of_each_group_names_its_commands(run_seedbed, group):
    result = run_seedbed(*group, "--help")

    assert result.exit_code == 0, result.output
    listed = re.findall(r"^[│ ]*([a-z]+)  ", result.output, re.MULTILINE)
    assert listed == GROUPS[group]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_of_each_command_shows_its_usage_and_database_option(run_seedbed, command):
    result = run_seedbed(*command, "--help")

    assert result.exit_code == 0, result.output
    assert f"Usage: seedbed {' '.join(command)}" in result.output
    assert "--database-url" in result.output


def test_python_dash_m_seedbed_runs_the_command():
    finished = subprocess.run(
        [sys.executable, "-m", "seedbed", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert finished.returncode == 0, finished.stderr
    assert "--port" in finished.stdout and "--host" in finished.stdout


# -- datasets create and list ---------------------------------------------------------------


def test_create_then_list_shows_the_dataset_and_its_item_count(seedbed, tmp_path):
    created = seedbed("datasets", "create", "support-faq", "--description", "what customers ask")
    assert "created dataset 'support-faq'" in created.output
    assert _datasets(seedbed)["support-faq"][:2] == ["0", "-"]

    _import(seedbed, _write_jsonl(tmp_path / "faq.jsonl", ROWS), "support-faq")

    items, latest, _updated, dataset_id = _datasets(seedbed)["support-faq"]
    assert (items, latest) == ("3", "v1")
    assert str(uuid.UUID(dataset_id)) == dataset_id


def test_list_is_per_workspace_and_filters_by_name(seedbed):
    seedbed("datasets", "create", "support-faq")
    seedbed("datasets", "create", "billing")
    seedbed("datasets", "create", "elsewhere", "--workspace", "team-b")

    assert set(_datasets(seedbed)) == {"support-faq", "billing"}
    assert set(_datasets(seedbed, "--name", "faq")) == {"support-faq"}
    assert set(_datasets(seedbed, "--workspace", "team-b")) == {"elsewhere"}


def test_creating_a_dataset_whose_name_is_taken_fails(seedbed):
    seedbed("datasets", "create", "support-faq")

    result = seedbed.fails("datasets", "create", "support-faq")

    assert result.exit_code == 1
    assert "already exists" in result.output and "support-faq" in result.output


# -- datasets import ----------------------------------------------------------------------


@pytest.mark.parametrize("file_format", WRITERS)
def test_import_reads_each_file_format(seedbed, tmp_path, file_format):
    path = WRITERS[file_format](tmp_path / f"faq.{file_format}", ROWS)

    result = _import(seedbed, path, "support-faq")

    assert "'support-faq' is now at v1: 3 added, 0 modified, 3 items in all" in result.output
    assert _data(_exported(seedbed, "support-faq")) == _data(ROWS)


@pytest.mark.parametrize("file_format", ["jsonl", "json"])
def test_reserved_keys_of_json_rows_become_the_items_own_fields(seedbed, tmp_path, file_format):
    chosen = [str(uuid.uuid4()) for _ in ROWS]
    rows = [
        {"id": item_id, "tags": ["seed"], **row} for item_id, row in zip(chosen, ROWS, strict=False)
    ]
    path = WRITERS[file_format](tmp_path / f"faq.{file_format}", rows)

    _import(seedbed, path, "support-faq")

    exported = {row["id"]: row for row in _exported(seedbed, "support-faq")}
    assert set(exported) == set(chosen)
    assert all(row["tags"] == ["seed"] for row in exported.values())
    # The CSV export holds data only: id and tags did not end up in it.
    as_csv = seedbed("datasets", "export", "support-faq", "--format", "csv").stdout
    header = next(csv.reader(io.StringIO(as_csv)))
    assert sorted(header) == ["expected_output", "input"]


def test_importing_the_same_file_twice_adds_nothing(seedbed, tmp_path):
    rows = [{"id": str(uuid.uuid4()), **row} for row in ROWS]
    path = _write_jsonl(tmp_path / "faq.jsonl", rows)
    _import(seedbed, path, "support-faq")

    again = _import(seedbed, path, "support-faq")

    assert "nothing new" in again.output
    assert _datasets(seedbed)["support-faq"][:2] == ["3", "v1"]


def test_reimporting_rows_without_ids_skips_content_already_there(seedbed, tmp_path):
    path = tmp_path / "faq.csv"
    path.write_text("input,expected_output\nq1,a1\nq2,a2\nq1,a1\n")
    first = _import(seedbed, path, "support-faq")
    assert "2 added" in first.output  # the repeated row inside the file counts once

    path.write_text("input,expected_output\nq1,a1\nq2,a2\nq3,a3\n")
    second = _import(seedbed, path, "support-faq")

    assert "is now at v2: 1 added, 0 modified, 3 items in all" in second.output
    assert sorted(row["input"] for row in _exported(seedbed, "support-faq")) == ["q1", "q2", "q3"]


def test_import_replaces_items_whose_id_is_already_there(seedbed, tmp_path):
    rows = [{"id": str(uuid.uuid4()), **row} for row in ROWS]
    _import(seedbed, _write_jsonl(tmp_path / "v1.jsonl", rows), "support-faq")
    changed = [{**rows[0], "expected_output": "Use the reset link we email you."}]

    result = _import(seedbed, _write_jsonl(tmp_path / "v2.jsonl", changed), "support-faq")

    assert "is now at v2: 0 added, 1 modified, 3 items in all" in result.output
    exported = {row["id"]: row["expected_output"] for row in _exported(seedbed, "support-faq")}
    assert exported[rows[0]["id"]] == "Use the reset link we email you."


# -- datasets export ----------------------------------------------------------------------


def test_a_jsonl_export_imports_back_as_the_same_items(seedbed, tmp_path):
    nested = {"input": "nested", "context": {"order": 42, "flags": [True, None]}, "score": 0.5}
    rows = ROWS + [nested]
    _import(seedbed, _write_jsonl(tmp_path / "faq.jsonl", rows), "original")
    export_path = tmp_path / "export.jsonl"

    written = seedbed("datasets", "export", "original", "--output", export_path)
    _import(seedbed, export_path, "copy")

    assert f"wrote 4 items of 'original' to {export_path}" in written.output
    original = _exported(seedbed, "original")
    assert sorted(_exported(seedbed, "copy"), key=json.dumps) == sorted(original, key=json.dumps)
    assert _data(original) == _data(rows)


def test_a_csv_export_imports_back_as_the_same_data(seedbed, tmp_path):
    _import(seedbed, _write_csv(tmp_path / "faq.csv", ROWS), "original")
    export_path = tmp_path / "export.csv"

    seedbed("datasets", "export", "original", "--format", "csv", "--output", export_path)
    _import(seedbed, export_path, "copy")

    assert _data(_exported(seedbed, "copy")) == _data(_exported(seedbed, "original")) == _data(ROWS)


def test_export_of_an_earlier_version_shows_the_items_as_they_were(seedbed, tmp_path):
    rows = [{"id": str(uuid.uuid4()), **row} for row in ROWS]
    _import(seedbed, _write_jsonl(tmp_path / "v1.jsonl", rows), "support-faq")
    later = [{**rows[0], "expected_output": "changed"}, {"input": "new", "expected_output": "new"}]
    _import(seedbed, _write_jsonl(tmp_path / "v2.jsonl", later), "support-faq")

    assert _data(_exported(seedbed, "support-faq", "--version", "v1")) == _data(ROWS)
    assert len(_exported(seedbed, "support-faq")) == 4


# -- errors -------------------------------------------------------------------------------


def test_importing_a_missing_file_fails_with_a_usage_error(seedbed, tmp_path):
    missing = tmp_path / "nowhere.jsonl"

    result = seedbed.fails("datasets", "import", missing, "--dataset", "support-faq")

    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_a_bad_json_line_fails_and_imports_nothing(seedbed, tmp_path):
    path = tmp_path / "faq.jsonl"
    path.write_text('{"input": "fine"}\n{"input": "broken"\n', encoding="utf-8")

    result = seedbed.fails("datasets", "import", path, "--dataset", "support-faq")

    assert result.exit_code == 1
    assert "line 2: not valid JSON" in result.output
    assert _datasets(seedbed) == {}


@pytest.mark.parametrize(
    "command, message",
    [
        (
            ("datasets", "export", "no-such-dataset"),
            "dataset 'no-such-dataset' not found in workspace 'default'",
        ),
        (("datasets", "export", "support-faq", "--version", "v9"), "version not found: 'v9'"),
        (
            ("datasets", "export", "support-faq", "--format", "xml"),
            "--format must be one of jsonl, csv, parquet, hf, not 'xml'",
        ),
        (("datasets", "import", "{tmp}/faq.txt", "-d", "support-faq"), "cannot tell the format"),
        (("datasets", "import", "{tmp}/faq.txt", "-d", "x", "--format", "xml"), "unknown format"),
        (("keys", "revoke", "not-an-id"), "key id must be a UUID"),
        (("keys", "revoke", "01a20b02-150c-7103-ac19-0790b7a23644"), "No active key"),
    ],
    ids=[
        "unknown dataset",
        "unknown version",
        "unknown export format",
        "unknown file type",
        "unknown import format",
        "malformed key id",
        "unknown key",
    ],
)
def test_mistakes_fail_with_a_readable_message(seedbed, tmp_path, command, message):
    _import(seedbed, _write_jsonl(tmp_path / "seed.jsonl", ROWS), "support-faq")
    (tmp_path / "faq.txt").write_text('{"input": "hi"}\n', encoding="utf-8")

    result = seedbed.fails(*(part.format(tmp=tmp_path) for part in command))

    # 2 for a mistake in the command line itself, as for any usage error; 1 otherwise.
    assert result.exit_code == (2 if "--format" in command and "export" in command else 1)
    assert message in result.output
    assert _datasets(seedbed)["support-faq"][:2] == ["3", "v1"]


# -- keys ---------------------------------------------------------------------------------


def test_keys_create_prints_the_secret_once_and_list_never_shows_it(seedbed):
    created = seedbed("keys", "create", "ci-runner", "--workspace", "ws1", "--workspace", "ws2")

    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("sb_") and len(secret) > 40
    assert created.output.count(secret) == 1
    assert "workspaces: ws1, ws2" in created.output

    listed = seedbed("keys", "list").output
    assert secret not in listed
    [[key_id, name, workspaces, hint, _created, revoked]] = _table(listed)
    assert created.output.splitlines()[0].split() == ["id:", key_id]
    assert (name, workspaces, revoked) == ("ci-runner", "ws1, ws2", "")
    assert secret.startswith(hint.rstrip("…")) and len(hint) < 12


def test_a_revoked_key_is_listed_as_revoked_and_refused(seedbed, database_url, tmp_path):
    created = seedbed("keys", "create", "ci-runner", "-w", "ws1").stdout.strip().splitlines()
    key_id, secret = created[0].split()[-1], created[-1]
    settings = Settings(database_url=database_url, home=tmp_path, auth="required")
    headers = {"Authorization": secret, "Comet-Workspace": "ws1"}

    app_database = Database(database_url)
    try:
        with TestClient(create_app(settings, app_database)) as server:
            assert server.get("/api/v1/private/datasets", headers=headers).status_code == 200
            assert f"revoked {key_id}" in seedbed("keys", "revoke", key_id).output
            assert server.get("/api/v1/private/datasets", headers=headers).status_code == 401
    finally:
        app_database.dispose()

    [[listed_id, *_, revoked]] = _table(seedbed("keys", "list").output)
    assert listed_id == key_id and revoked != ""
    assert "No active key" in seedbed.fails("keys", "revoke", key_id).output
