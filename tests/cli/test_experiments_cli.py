"""``seedbed experiments list/show/compare`` over experiments recorded through the API."""

import pytest
from fastapi.testclient import TestClient

from seedbed.api.app import create_app
from seedbed.settings import Settings
from seedbed.storage.database import Database
from tests.api.experiment_http import RunSpec, create_experiment, dataset_with_items, record_runs


def _rows(output: str) -> list[list[str]]:
    """Tab-separated lines of a piped listing, header included."""
    return [line.split("\t") for line in output.splitlines() if "\t" in line]


@pytest.fixture
def recorded(database_url, tmp_path) -> dict:
    """Two experiments over three questions: 'baseline' gets 2 of 3 right, 'tuned' all 3."""
    database = Database(database_url)
    try:
        with TestClient(
            create_app(Settings(database_url=database_url, home=tmp_path), database)
        ) as client:
            dataset_id, item_ids = dataset_with_items(
                client, "faq", [{"q": f"question {n}"} for n in range(3)]
            )
            made = {}
            for name, right in (("baseline", [1, 1, 0]), ("tuned", [1, 1, 1])):
                experiment_id = create_experiment(client, "faq", name=name)
                runs = [
                    RunSpec(
                        item_id,
                        duration_ms=100 * (n + 1),
                        output={"answer": f"a{n}"},
                        scores={"correct": right[n]},
                    )
                    for n, item_id in enumerate(item_ids)
                ]
                record_runs(client, experiment_id, runs)
                made[name] = experiment_id
    finally:
        database.dispose()
    return {"dataset_id": dataset_id, **made}


def test_list_shows_each_experiment_with_its_scores(seedbed, recorded):
    rows = _rows(seedbed("experiments", "list", "--dataset", "faq").output)

    assert rows[0][:5] == ["name", "dataset", "traces", "feedback scores", "p50 ms"]
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["baseline"][1:5] == ["faq", "3", "correct=0.667", "200.0"]
    assert by_name["tuned"][3] == "correct=1.000"
    assert by_name["tuned"][-1] == recorded["tuned"]


def test_show_takes_a_name_or_an_id_and_lists_the_items(seedbed, recorded):
    by_name = seedbed("experiments", "show", "baseline").output
    by_id = seedbed("experiments", "show", recorded["baseline"]).output

    assert by_name == by_id
    metrics = {row[0]: row[1] for row in _rows(by_name) if len(row) == 2}
    assert metrics["correct"] == "0.667" and metrics["duration p50 ms"] == "200.0"
    items = [row for row in _rows(by_name) if len(row) == 4][1:]
    assert sorted(row[2] for row in items) == ["correct=0.000", "correct=1.000", "correct=1.000"]


def test_compare_puts_experiments_side_by_side(seedbed, recorded):
    rows = _rows(seedbed("experiments", "compare", "baseline", "tuned").output)

    assert rows[0] == ["metric", "baseline", "tuned"]
    assert ["correct", "0.667", "1.000"] in rows
    assert ["traces", "3", "3"] in rows


def test_an_unknown_experiment_is_a_readable_error(seedbed, recorded):
    result = seedbed.fails("experiments", "show", "no-such-run")
    assert "experiment 'no-such-run' not found in workspace 'default'" in result.output
