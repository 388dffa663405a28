"""The Opik client's test suites (evaluation-suite datasets whose versions carry the
suite's assertions and execution policy) against a running seedbed."""

import pytest

pytestmark = [
    pytest.mark.compat,
    pytest.mark.usefixtures("offline_llm_judge_library"),
    pytest.mark.filterwarnings("ignore:`verify=<str>` is deprecated:DeprecationWarning"),
]


POLICY = {"runs_per_item": 3, "pass_threshold": 2}
ASSERTIONS = ["The answer names a concrete next step", "No invented policy"]


def test_a_suite_keeps_its_assertions_policy_and_items(opik_client, make_opik_client):
    suite = opik_client.create_test_suite(
        name="refunds",
        description="refund regressions",
        global_assertions=ASSERTIONS,
        global_execution_policy=POLICY,
    )
    suite.insert(
        [
            {"data": {"question": "How do I get a refund?"}},
            {"data": {"question": "Refund to a gift card?"}},
        ]
    )

    fetched = make_opik_client().get_test_suite("refunds")

    assert fetched.get_global_execution_policy() == POLICY
    assert sorted(fetched.get_global_assertions()) == sorted(ASSERTIONS)
    questions = {item["data"]["question"] for item in fetched.get_items()}
    assert questions == {"How do I get a refund?", "Refund to a gift card?"}
    assert "refunds" in [listed.name for listed in opik_client.get_test_suites()]


def test_changing_a_suites_settings_makes_a_new_version(opik_client):
    suite = opik_client.create_test_suite(
        name="billing", global_assertions=ASSERTIONS[:1], global_execution_policy=POLICY
    )
    suite.insert([{"data": {"question": "Why was I charged twice?"}}])
    before = suite.get_current_version_name()

    suite.update_test_settings(global_execution_policy={"runs_per_item": 1, "pass_threshold": 1})

    assert suite.get_current_version_name() != before
    assert opik_client.get_test_suite("billing").get_global_execution_policy() == {
        "runs_per_item": 1,
        "pass_threshold": 1,
    }
    assert len(opik_client.get_test_suite("billing").get_items()) == 1
