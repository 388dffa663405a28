"""``seedbed expand`` as a user runs it, with OpenAI's provider pointed at a stub LLM
server through the environment: from a seed file or a dataset, to a file, to standard
output or into a dataset; bad input stops with a message and writes nothing. Runs on
SQLite and on PostgreSQL."""

import json
from collections.abc import Iterator

import pytest

from seedbed.testing import StubBehaviour, StubLLMServer
from tests.stub_calls import sample_calls, sample_prompts

SEEDS = [
    {"question": "How do I reset my password?", "answer": "Use the link on the sign-in page."},
    {"question": "Can I pay by invoice?", "answer": "Yes, on the business plan."},
    {"question": "Where is my order?", "answer": "The tracking link is in your email."},
    {"question": "Do you ship to Canada?", "answer": "Yes, within five business days."},
]
MODEL = ("--model", "gpt-4o-mini")
# The keys of an exported JSONL row that are the item's own fields, not its data.
OWN_FIELDS = {"id", "source", "tags", "description", "evaluators", "execution_policy"}


@pytest.fixture
def stub(monkeypatch) -> Iterator[StubLLMServer]:
    """The stub, and the environment a user would set to reach it."""
    with StubLLMServer(StubBehaviour(seed=4)) as server:
        for name in ("SEEDBED_OPENAI_BASE_URL", "SEEDBED_OPENAI_API_KEY", "SEEDBED_DEFAULT_MODEL"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        yield server


@pytest.fixture
def seed_file(tmp_path):
    path = tmp_path / "seeds.jsonl"
    path.write_text("".join(json.dumps(seed) + "\n" for seed in SEEDS), encoding="utf-8")
    return path


def jsonl(text: str) -> list:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def datasets(seedbed) -> dict[str, list[str]]:
    """``datasets list`` as {name: [items, latest version]}; piped, it is tab-separated."""
    listed = seedbed("datasets", "list").stdout.splitlines()
    rows = [line.split("\t") for line in listed if "\t" in line]
    return {row[0]: row[1:3] for row in rows[1:]}


def exported(seedbed, dataset: str) -> list[dict]:
    return jsonl(seedbed("datasets", "export", dataset).stdout)


def assert_new_samples(samples: list, count: int) -> None:
    """``count`` objects in the seeds' shape, none a seed, none repeated."""
    assert len(samples) == count
    for sample in samples:
        assert isinstance(sample, dict)
        assert set(sample) == set(SEEDS[0])
        assert sample not in SEEDS
    assert len({json.dumps(sample, sort_keys=True) for sample in samples}) == count


def test_help_describes_the_options(run_seedbed):
    result = run_seedbed("expand", "--help")

    assert result.exit_code == 0, result.output
    assert "Usage: seedbed expand" in result.output
    options = ["--count", "-n", "--model", "--instructions", "--preserve", "--data-type"]
    options += ["--output", "-o", "--save", "--into", "--provenance", "--database-url"]
    for option in options:
        assert option in result.output, option


# -- where the samples go -----------------------------------------------------------------------


def test_from_a_seed_file_to_a_jsonl_file(seedbed, stub, seed_file, tmp_path):
    out = tmp_path / "out.jsonl"

    result = seedbed("expand", seed_file, "-n", 7, *MODEL, "-o", out)

    assert_new_samples(jsonl(out.read_text(encoding="utf-8")), 7)
    assert result.stdout == ""
    assert "wrote 7 samples" in result.stderr
    assert stub.stats["requests"] >= 1
    assert datasets(seedbed) == {}


def test_from_a_seed_file_to_standard_output(seedbed, stub, seed_file):
    options = ["--instructions", "About refunds.", "--preserve", "answer"]

    result = seedbed("expand", seed_file, "-n", 4, *MODEL, *options)

    assert_new_samples(jsonl(result.stdout), 4)
    sent = sample_prompts(stub)
    assert sent
    assert all("Additional instructions: About refunds." in prompt for prompt in sent)
    assert all("consistent with the patterns of the examples: answer" in p for p in sent)


def test_topics_are_planned_first_unless_turned_off(seedbed, stub, seed_file):
    seedbed("expand", seed_file, "-n", 4, *MODEL)
    first, *others = stub.stats["calls"]
    assert "list the situations" in first["messages"][0]["content"]
    assert others and others == sample_calls(stub)

    stub.reset_stats()
    seedbed("expand", seed_file, "-n", 4, *MODEL, "--no-topics")
    assert stub.stats["calls"] and stub.stats["calls"] == sample_calls(stub)


def test_into_a_new_dataset_adds_the_samples_as_one_version(seedbed, stub, seed_file):
    result = seedbed("expand", seed_file, "-n", 5, *MODEL, "--into", "grown")

    assert result.stdout == ""  # saved, not printed
    assert "saved 5 samples to 'grown' as version v1" in result.stderr
    assert datasets(seedbed) == {"grown": ["5", "v1"]}
    rows = exported(seedbed, "grown")
    # The user's fields exactly, where the samples came from in their tags.
    assert all(set(row) - OWN_FIELDS == set(SEEDS[0]) for row in rows)
    assert all(row["tags"] == ["generated", "model:openai/gpt-4o-mini"] for row in rows)
    assert_new_samples([{key: row[key] for key in SEEDS[0]} for row in rows], 5)


def test_save_adds_the_samples_to_the_source_dataset_as_a_new_version(seedbed, stub, seed_file):
    seedbed("datasets", "import", seed_file, "--dataset", "support-faq")
    assert datasets(seedbed) == {"support-faq": ["4", "v1"]}

    seedbed("expand", "support-faq", "-n", 3, *MODEL, "--save")

    assert datasets(seedbed) == {"support-faq": ["7", "v2"]}
    generated = [row for row in exported(seedbed, "support-faq") if "tags" in row]
    assert_new_samples([{key: row[key] for key in SEEDS[0]} for row in generated], 3)


def test_provenance_lines_hold_the_sample_and_where_it_came_from(seedbed, stub, seed_file):
    result = seedbed("expand", seed_file, "-n", 3, *MODEL, "--provenance")

    lines = jsonl(result.stdout)
    assert all(set(line) == {"data", "provenance"} for line in lines)
    assert_new_samples([line["data"] for line in lines], 3)
    for line in lines:
        provenance = line["provenance"]
        assert provenance["model"] == "openai/gpt-4o-mini"
        assert isinstance(provenance["prompt_hash"], str) and provenance["prompt_hash"]
        assert provenance["tokens"] > 0


# -- refusing ---------------------------------------------------------------------------------


def assert_refused(seedbed, result, out, message: str) -> None:
    assert message in result.stderr, result.stderr
    assert result.stdout == ""
    assert not out.exists()
    assert datasets(seedbed) == {}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("no-such-dataset", "dataset 'no-such-dataset' not found in workspace 'default'"),
        ("missing.jsonl", "no such file: missing.jsonl"),
    ],
)
def test_an_unknown_dataset_or_a_missing_file_is_refused(seedbed, stub, tmp_path, source, message):
    out = tmp_path / "out.jsonl"

    result = seedbed.fails("expand", source, "-n", 2, *MODEL, "-o", out)

    assert result.exit_code == 1
    assert_refused(seedbed, result, out, message)
    assert stub.stats["requests"] == 0


def test_a_count_below_one_is_refused(seedbed, stub, seed_file, tmp_path):
    out = tmp_path / "out.jsonl"

    result = seedbed.fails("expand", seed_file, "-n", 0, *MODEL, "-o", out)

    assert result.exit_code == 1
    assert_refused(seedbed, result, out, "at least 1")
    assert stub.stats["requests"] == 0


def test_a_seed_file_whose_lines_are_not_objects_is_refused(seedbed, stub, tmp_path):
    seeds, out = tmp_path / "seeds.jsonl", tmp_path / "out.jsonl"
    seeds.write_text('["a", "list"]\n"a string"\n', encoding="utf-8")

    result = seedbed.fails("expand", seeds, "-n", 2, *MODEL, "-o", out)

    assert result.exit_code == 1
    assert_refused(seedbed, result, out, "line 1: each line must be a JSON object")
    assert stub.stats["requests"] == 0


def test_save_with_a_file_source_is_refused(seedbed, stub, seed_file, tmp_path):
    out = tmp_path / "out.jsonl"

    result = seedbed.fails("expand", seed_file, "-n", 2, *MODEL, "--save", "-o", out)

    assert "--into" in result.stderr
    assert_refused(seedbed, result, out, "--save adds to the source dataset")
    assert stub.stats["requests"] == 0


def test_a_failed_run_into_a_new_dataset_creates_nothing(seedbed, stub, seed_file, tmp_path):
    out = tmp_path / "out.jsonl"

    result = seedbed.fails("expand", seed_file, "-n", 2, "--model", "gemini-pro", "--into", "grown")

    assert result.exit_code == 1
    assert_refused(seedbed, result, out, "gemini-pro")


LABELLED = [
    {"ticket": "My parcel has not moved for a week", "team": "shipping"},
    {"ticket": "I was charged twice for one order", "team": "billing"},
    {"ticket": "The courier left my box at the wrong door", "team": "shipping"},
    {"ticket": "Please send a VAT invoice for my purchase", "team": "billing"},
]


def test_report_seed_and_axes_from_the_command_line(seedbed, stub, tmp_path):
    seeds = tmp_path / "tickets.jsonl"
    seeds.write_text("".join(json.dumps(seed) + "\n" for seed in LABELLED), encoding="utf-8")
    # One call at a time: replies then come back, and are judged, in the same order.
    asked = ("expand", seeds, "-n", 8, *MODEL, "--seed", 11, "--vary", "tone=calm,angry")
    asked += ("--concurrency", 1)

    first = json.loads(seedbed(*asked, "--report", "--json").stdout)
    paid = stub.stats["requests"]
    again = json.loads(seedbed(*asked, "--json").stdout)

    report = first["report"]
    assert report["accepted"] == 8
    assert report["closed_sets"]["team"]["inside_share"] == 1.0
    assert set(report["axes"]) == {"team", "tone"}
    # The same seed asks the same questions: the replies come from the cache.
    assert stub.stats["requests"] == paid
    assert sorted(map(json.dumps, again["samples"])) == sorted(map(json.dumps, first["samples"]))
    sent = " ".join(sample_prompts(stub))
    assert "tone: calm" in sent and "tone: angry" in sent


def test_the_report_reads_as_text(seedbed, stub, seed_file):
    result = seedbed(
        "expand", seed_file, "-n", 5, *MODEL, "--report", "-o", seed_file.parent / "out.jsonl"
    )

    assert "quality report: 5 of 5 samples" in result.stderr
    assert "distinct-2" in result.stderr and "nearest seed" in result.stderr


def test_a_malformed_axis_is_refused_before_any_call(seedbed, stub, seed_file):
    result = seedbed.fails("expand", seed_file, "-n", 5, *MODEL, "--vary", "tone")

    assert "--vary takes AXIS=VALUE" in result.stderr
    assert stub.stats["requests"] == 0
