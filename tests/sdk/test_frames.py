"""The SDK and pandas, against a real ``seedbed serve``: a dataset's items and an
experiment's results as DataFrames, and a DataFrame as the seeds of a job."""

from collections.abc import Iterator

import httpx
import pandas
import pytest

from seedbed.sdk import Client, NotFound
from seedbed.testing import StubBehaviour, StubLLMServer
from tests.api.experiment_http import RunSpec, create_experiment, dataset_with_items, record_runs
from tests.conftest import running_server

QUESTIONS = [{"q": f"question {n}", "level": n % 2} for n in range(3)]


@pytest.fixture
def stub() -> Iterator[StubLLMServer]:
    with StubLLMServer(StubBehaviour(seed=7)) as server:
        yield server


@pytest.fixture
def base_url(database, database_url, tmp_path, stub) -> Iterator[str]:
    with running_server(
        database_url, tmp_path, OPENAI_BASE_URL=stub.base_url, OPENAI_API_KEY="test"
    ) as url:
        yield url


def test_items_and_experiment_results_as_dataframes(base_url):
    with httpx.Client(base_url=base_url, timeout=30) as http:
        _, item_ids = dataset_with_items(http, "faq", QUESTIONS)
        experiment_id = create_experiment(http, "faq", name="tuned")
        record_runs(
            http,
            experiment_id,
            [
                RunSpec(item_id, duration_ms=100, output={"answer": f"a{n}"}, scores={"correct": n})
                for n, item_id in enumerate(item_ids)
            ],
        )

    with Client(base_url) as seedbed:
        items = seedbed.dataset_items("faq").to_pandas()
        results = seedbed.experiment_results("tuned").to_pandas()
        with pytest.raises(NotFound, match="experiment 'nope' not found"):
            seedbed.experiment_results("nope")

    assert list(items.columns) == ["q", "level", "id", "tags"]
    assert items[["q", "level"]].to_dict(orient="records") == QUESTIONS
    assert list(items["id"]) == item_ids
    assert len(results) == 3
    assert {"q", "level", "output", "score.correct", "dataset_item_id", "trace_id"} <= set(
        results.columns
    )
    by_item = results.set_index("dataset_item_id")
    assert [by_item.loc[item_id, "score.correct"] for item_id in item_ids] == [0, 1, 2]
    assert [by_item.loc[item_id, "output"] for item_id in item_ids] == [
        {"answer": f"a{n}"} for n in range(3)
    ]


def test_a_dataframe_is_taken_as_the_seeds_of_a_job(base_url):
    seeds = pandas.DataFrame(
        [
            {"question": "How do I reset my password?", "answer": "Use the sign-in link."},
            {"question": "Can I pay by invoice?", "answer": "Yes, on the business plan."},
        ]
    )
    with Client(base_url) as seedbed:
        job = seedbed.start_job(4, seeds=seeds, model="gpt-4o-mini")
        seedbed.wait(job["id"], timeout=120)
        samples = seedbed.job_items(job["id"])

    assert len(samples) == 4
    assert all(set(sample["data"]) == {"question", "answer"} for sample in samples)
