"""The prompt library through the unmodified Opik client against ``seedbed serve``:
``create_prompt`` / ``create_chat_prompt`` (the same template twice is one version, a new
template a new one), ``get_prompt`` by name and version, ``get_prompt_history``,
``search_prompts``, and an ``evaluate()`` run that records which prompt it ran, found
again with ``GET experiments?prompt_id=`` through the client's own REST layer."""

import pytest
from opik import exceptions
from opik.evaluation import evaluate
from opik.evaluation.metrics import Equals

# Tracing on and evaluate()'s process-wide client made afresh, as evaluate()'s own tests
# need them (an autouse fixture). Prompts are read with ``no_cache``: the client caches
# them per process, across the servers of different tests.
from tests.compat.test_opik_evaluate import client_as_a_user_has_it  # noqa: F401

pytestmark = [
    pytest.mark.compat,
    pytest.mark.usefixtures("offline_llm_judge_library"),
    pytest.mark.filterwarnings("ignore:`verify=<str>` is deprecated:DeprecationWarning"),
]

GREETING = "Hello {{name}}, you asked: {{question}}"


def test_the_same_template_is_one_version_and_a_new_one_a_new_commit(opik_client):
    first = opik_client.create_prompt("greeting", GREETING, metadata={"team": "support"})
    again = opik_client.create_prompt("greeting", GREETING, metadata={"team": "support"})
    changed = opik_client.create_prompt(
        "greeting", GREETING + " Thanks!", metadata={"team": "support"}
    )

    assert again.commit == first.commit and again.version_id == first.version_id
    assert changed.commit != first.commit
    assert (first.version, changed.version) == ("v1", "v2")
    assert first.format(name="Ada", question="why?") == "Hello Ada, you asked: why?"

    latest = opik_client.get_prompt("greeting", no_cache=True)
    assert (latest.prompt, latest.commit, latest.metadata) == (
        GREETING + " Thanks!",
        changed.commit,
        {"team": "support"},
    )
    pinned = opik_client.get_prompt("greeting", version="v1", no_cache=True)
    assert (pinned.prompt, pinned.commit) == (GREETING, first.commit)
    by_commit = opik_client.get_prompt("greeting", commit=first.commit, no_cache=True)
    assert by_commit.version_id == first.version_id

    history = opik_client.get_prompt_history("greeting")
    assert [(p.commit, p.prompt) for p in history] == [
        (changed.commit, GREETING + " Thanks!"),
        (first.commit, GREETING),
    ]
    assert [p.commit for p in opik_client.get_prompt_history("greeting", search="thanks")] == [
        changed.commit
    ]
    assert opik_client.get_prompt("never made", no_cache=True) is None
    assert opik_client.get_prompt_history("never made") == []


def test_chat_prompts_keep_their_messages_and_their_structure(opik_client):
    messages = [
        {"role": "system", "content": "You answer about {{product}}."},
        {"role": "user", "content": "{{question}}"},
    ]
    chat = opik_client.create_chat_prompt("support-chat", messages, tags=["alpha"])

    found = opik_client.get_chat_prompt("support-chat", no_cache=True)
    assert found.template == messages
    assert found.commit == chat.commit
    assert found.format({"product": "seedbed", "question": "How?"}) == [
        {"role": "system", "content": "You answer about seedbed."},
        {"role": "user", "content": "How?"},
    ]
    # A prompt's structure never changes: the client refuses to mix them.
    with pytest.raises(exceptions.PromptTemplateStructureMismatch):
        opik_client.get_prompt("support-chat", no_cache=True)
    with pytest.raises(exceptions.PromptTemplateStructureMismatch):
        opik_client.create_prompt("support-chat", "plain text now")
    assert len(opik_client.get_chat_prompt_history("support-chat")) == 1


def test_search_prompts_by_name_tag_and_structure(opik_client):
    opik_client.create_prompt("summary-short", "Summarise {{text}} briefly.", tags=["alpha"])
    opik_client.create_prompt("summary-long", "Summarise {{text}} at length.")
    opik_client.create_chat_prompt("triage", [{"role": "user", "content": "{{ticket}}"}])

    def names(filter_string: str | None = None) -> list[str]:
        return sorted(p.name for p in opik_client.search_prompts(filter_string=filter_string))

    assert names() == ["summary-long", "summary-short", "triage"]
    assert names('name contains "summary"') == ["summary-long", "summary-short"]
    assert names('tags contains "alpha"') == ["summary-short"]
    assert names('template_structure = "chat"') == ["triage"]
    found = {p.name: p for p in opik_client.search_prompts()}
    assert found["summary-long"].prompt == "Summarise {{text}} at length."
    assert found["triage"].template == [{"role": "user", "content": "{{ticket}}"}]


def test_an_evaluate_run_records_its_prompt_and_is_found_by_it(opik_client):
    dataset = opik_client.create_dataset("prompted")
    dataset.insert([{"question": f"q{n}", "reference": f"a{n}"} for n in range(3)])
    used = opik_client.create_prompt("answerer", "Answer {{question}}")
    other = opik_client.create_prompt("other", "Something else")

    def task(item: dict) -> dict:
        return {"output": item["reference"]}

    with_prompt = evaluate(
        dataset=dataset,
        task=task,
        scoring_metrics=[Equals()],
        experiment_name="with-prompt",
        prompts=[used],
        verbose=0,
    )
    evaluate(
        dataset=dataset,
        task=task,
        scoring_metrics=[Equals()],
        experiment_name="without-prompt",
        verbose=0,
    )

    rest = opik_client.rest_client.experiments
    linked = rest.find_experiments(prompt_id=used.__internal_api__prompt_id__, size=100)
    assert [found.id for found in linked.content] == [with_prompt.experiment_id]
    assert rest.find_experiments(prompt_id=other.__internal_api__prompt_id__).content == []

    summary = rest.get_experiment_by_id(with_prompt.experiment_id)
    link = {
        "prompt_version_id": used.version_id,
        "commit": used.commit,
        "prompt_id": used.__internal_api__prompt_id__,
        "prompt_name": "answerer",
    }
    assert summary.prompt_version.dict(exclude_none=True) == link
    assert [found.dict(exclude_none=True) for found in summary.prompt_versions] == [link]
    assert summary.metadata["prompts"] == {"answerer": "Answer {{question}}"}

    plain = rest.get_experiment_by_id(opik_client.get_experiment_by_name("without-prompt").id)
    assert plain.prompt_version is None and plain.prompt_versions is None


def test_prompts_stay_in_their_workspace(server, opik_env, make_opik_client):
    opik_env(server, workspace="team-a")
    make_opik_client().create_prompt("private", "Only for {{team}}")
    opik_env(server, workspace="team-b")
    other_team = make_opik_client()

    assert other_team.get_prompt("private", no_cache=True) is None
    assert other_team.search_prompts() == []
    made = other_team.create_prompt("private", "Team b's own {{thing}}")
    assert made.prompt == "Team b's own {{thing}}"
    assert made.version == "v1"
