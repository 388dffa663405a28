"""The experiments and compare pages in a real browser, on two experiments that the real
``opik`` client's ``evaluate()`` made: each score's averages, the difference to the
baseline, the paired test's p-value and pairs, the per-item rows and their filter."""

import re
from collections.abc import Iterator

import opik
import pytest
from opik import tracing_runtime_config
from opik.api_objects import opik_client as opik_client_module
from opik.evaluation import evaluate
from opik.evaluation.metrics import Equals
from playwright.sync_api import Page, expect

from tests.compat.conftest import make_opik_client, offline_llm_judge_library, opik_env

__all__ = ["make_opik_client", "offline_llm_judge_library", "opik_env"]  # fixtures used here

pytestmark = [
    pytest.mark.usefixtures("offline_llm_judge_library"),
    pytest.mark.filterwarnings("ignore:`verify=<str>` is deprecated:DeprecationWarning"),
]
ITEMS = 8


@pytest.fixture
def opik_client(web_server, opik_env, make_opik_client, monkeypatch) -> Iterator[opik.Opik]:
    """The client as a user has it, pointed at the server: tracing on (evaluate() keeps
    the task's output in the trace only then) and its process-wide client made afresh."""
    opik_env(web_server)
    monkeypatch.delenv("OPIK_TRACK_DISABLE")
    tracing_runtime_config.reset_tracing_to_config_default()
    opik_client_module.reset_global_client()
    yield make_opik_client()
    opik_client_module.reset_global_client()
    tracing_runtime_config.reset_tracing_to_config_default()


def _run(dataset, name: str, right) -> str:
    def task(item: dict) -> dict:
        return {"output": item["reference"] if right(item["number"]) else "I do not know"}

    result = evaluate(
        dataset=dataset,
        task=task,
        scoring_metrics=[Equals()],
        experiment_name=name,
        task_threads=1,
        verbose=0,
    )
    return result.experiment_id


def test_compare_two_evaluations_against_the_baseline(
    page: Page, web_server: str, opik_client: opik.Opik, browser_watch
) -> None:
    dataset = opik_client.create_dataset("capitals")
    dataset.insert(
        [
            {"question": f"What is capital #{n}?", "reference": f"City {n}", "number": n}
            for n in range(ITEMS)
        ]
    )
    # The baseline is right on even numbers (0.5); the candidate on all but 0 (0.875):
    # item 0 regressed, 1, 3, 5 and 7 improved, 2, 4 and 6 stayed the same.
    baseline = _run(dataset, "baseline", lambda number: number % 2 == 0)
    candidate = _run(dataset, "candidate", lambda number: number != 0)

    page.goto(f"{web_server}/experiments")
    experiments = page.get_by_role("table")
    expect(experiments).to_contain_text("baseline")
    expect(experiments).to_contain_text("candidate")
    expect(experiments.locator("thead")).to_contain_text("equals_metric")
    expect(experiments.locator("tr", has_text="candidate")).to_contain_text("0.875")
    expect(experiments.locator("tr", has_text="candidate")).to_contain_text(" ms")
    page.get_by_role("checkbox", name="Compare baseline").check()
    page.get_by_role("checkbox", name="Compare candidate").check()
    page.get_by_role("button", name="Compare").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Compare experiments")

    page.goto(f"{web_server}/experiments/compare?ids={baseline},{candidate}")
    rows = page.locator('tr[data-score="equals_metric"]')
    expect(rows.nth(0)).to_contain_text("baseline")
    expect(rows.nth(0)).to_contain_text("0.5")
    expect(rows.nth(1)).to_contain_text("candidate")
    # Differences -1, +1, +1, +1, +1: five tied ranks, W+ = 12 of 15; 6 of 32 sign
    # patterns are as extreme on each side -> p = 12/32.
    expect(rows.nth(1).locator("td")).to_have_text(["candidate", "0.875", "+0.375", "0.375", "8"])
    expect(page.get_by_text("Wilcoxon signed-rank test")).to_be_visible()
    expect(
        page.get_by_role("img", name=re.compile("Distribution of equals_metric"))
    ).to_be_visible()

    items = page.locator("table.compare-items tbody tr")
    expect(items).to_have_count(ITEMS)
    first = items.filter(has_text="What is capital #0?")
    expect(first).to_contain_text("regressed")
    expect(first).to_contain_text("City 0")  # the baseline's output
    expect(first).to_contain_text("I do not know")  # the candidate's

    page.get_by_role("link", name="Improved (4)").click()
    expect(items).to_have_count(4)
    for number in (1, 3, 5, 7):
        expect(items.filter(has_text=f"What is capital #{number}?")).to_contain_text("improved")
    page.get_by_role("link", name="Regressed (1)").click()
    expect(items).to_have_count(1)
    page.get_by_role("link", name="Unchanged (3)").click()
    expect(items).to_have_count(3)

    # A link naming one experiment: a message on the page, not a failure.
    browser_watch.expect_error_page("/experiments/compare")
    page.goto(f"{web_server}/experiments/compare?ids={baseline}")
    expect(page.get_by_role("alert")).to_contain_text("compare needs between 2 and 5")


def test_the_compare_page_shows_which_prompt_each_experiment_ran(
    page: Page, web_server: str, opik_client: opik.Opik
) -> None:
    dataset = opik_client.create_dataset("prompted")
    dataset.insert([{"question": f"q{n}", "reference": f"a{n}", "number": n} for n in range(3)])
    first = opik_client.create_prompt("answerer", "Answer {{question}}")
    second = opik_client.create_prompt("answerer", "Answer {{question}} in one word")

    def run(name: str, prompts: list) -> str:
        return evaluate(
            dataset=dataset,
            task=lambda item: {"output": item["reference"]},
            scoring_metrics=[Equals()],
            experiment_name=name,
            prompts=prompts,
            task_threads=1,
            verbose=0,
        ).experiment_id

    ids = [run("first prompt", [first]), run("second prompt", [second]), run("no prompt", [])]

    page.goto(f"{web_server}/experiments/compare?ids={','.join(ids)}")
    prompts = page.get_by_role("region", name="Prompts")
    expect(prompts.locator('tr[data-experiment="first prompt"] td')).to_have_text(
        ["first prompt", f"answerer v1 (commit {first.commit})"]
    )
    expect(prompts.locator('tr[data-experiment="second prompt"] td')).to_have_text(
        ["second prompt", f"answerer v2 (commit {second.commit})"]
    )
    expect(prompts.locator('tr[data-experiment="no prompt"] td')).to_have_text(
        ["no prompt", "none recorded"]
    )
