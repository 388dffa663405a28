"""The local provider. The slow tests run the real embedded model: its weights are
assembled once into ``$SEEDBED_HOME/models`` (``~/.seedbed/models`` by default) and kept
there, so only the first session pays for it."""

import asyncio
import json
import subprocess
import sys

import jsonschema
import pytest

from seedbed.providers.base import (
    CompletionRequest,
    Message,
    Provider,
    ProviderNotConfigured,
    UnknownModel,
)
from seedbed.providers.local import DEFAULT_LOCAL_MODEL, LocalProvider
from seedbed.settings import Settings

SEED_EXAMPLE = {
    "question": "How do I reset my password?",
    "answer": "Use the 'Forgot password' link on the sign-in page.",
}
THREE_SAMPLES = {
    "type": "object",
    "properties": {
        "samples": {
            "type": "array",
            "minItems": 3,
            "maxItems": 3,
            "items": {
                "type": "object",
                "properties": {"question": {"type": "string"}, "answer": {"type": "string"}},
                "required": ["question", "answer"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["samples"],
    "additionalProperties": False,
}
MESSAGES = (
    Message(
        "system", "You write test data for a customer-support assistant. Reply with JSON only."
    ),
    Message(
        "user",
        f"Here is one example: {json.dumps(SEED_EXAMPLE)}\n"
        'Write 3 new examples about other topics, as {"samples": [{"question": ..., "answer": ...}, ...]}.',
    ),
)


def test_the_local_provider_keeps_the_contract():
    provider = LocalProvider()
    assert isinstance(provider, Provider)
    assert (provider.name, provider.supports_json_schema, provider.max_concurrency) == (
        "local",
        True,
        1,
    )


def test_a_model_it_does_not_serve_is_unknown(tmp_path):
    with pytest.raises(UnknownModel, match=DEFAULT_LOCAL_MODEL):
        LocalProvider(cache_dir=tmp_path).model_file("gpt-4o")
    with pytest.raises(UnknownModel, match="no GGUF file"):
        LocalProvider(cache_dir=tmp_path, allow_model_paths=True).model_file(
            str(tmp_path / "absent.gguf")
        )


def test_a_users_gguf_serves_any_model_name(tmp_path):
    own = tmp_path / "own.gguf"
    own.write_bytes(b"GGUF")
    assert LocalProvider(own).model_file("whatever-it-is") == own
    assert LocalProvider(cache_dir=tmp_path, allow_model_paths=True).model_file(str(own)) == own
    with pytest.raises(ProviderNotConfigured, match="no GGUF file"):
        LocalProvider(tmp_path / "gone.gguf").model_file("whatever-it-is")


def test_model_names_that_are_paths_are_refused_unless_allowed(tmp_path):
    """Model names arrive over the API; a server must not open whatever file they name."""
    own = tmp_path / "own.gguf"
    own.write_bytes(b"GGUF")
    with pytest.raises(UnknownModel, match="SEEDBED_LOCAL_MODEL_PATH"):
        LocalProvider(cache_dir=tmp_path).model_file(str(own))


def test_without_llama_cpp_the_error_names_the_extra():
    # A fresh interpreter in which `import llama_cpp` fails, as it does without the extra.
    script = (
        "import asyncio, sys\n"
        "sys.modules['llama_cpp'] = None\n"
        "from seedbed.providers.base import CompletionRequest, Message, ProviderNotConfigured\n"
        "from seedbed.providers.local import LocalProvider\n"
        "request = CompletionRequest('qwen2.5-coder-1.5b-instruct', (Message('user', 'hi'),))\n"
        "try:\n"
        "    asyncio.run(LocalProvider(cache_dir='/nonexistent').complete(request))\n"
        "except ProviderNotConfigured as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert "seedbed[local]" in result.stdout


@pytest.fixture(scope="session")
def embedded_model() -> LocalProvider:
    provider = LocalProvider(cache_dir=Settings().home / "models")
    provider.load()
    return provider


def complete(provider: LocalProvider, **options):
    request = CompletionRequest(model=DEFAULT_LOCAL_MODEL, messages=MESSAGES, **options)
    return asyncio.run(provider.complete(request))


@pytest.mark.slow
def test_the_embedded_model_writes_new_samples_that_match_the_schema(embedded_model):
    reply = complete(
        embedded_model, temperature=0.8, max_tokens=300, json_schema=THREE_SAMPLES, seed=11
    )

    assert reply.finish_reason == "stop", reply.text
    samples = json.loads(reply.text)
    jsonschema.validate(samples, THREE_SAMPLES)
    questions = [sample["question"].strip() for sample in samples["samples"]]
    assert all(questions)
    assert SEED_EXAMPLE["question"] not in questions
    assert len(set(questions)) == 3
    assert reply.usage.prompt_tokens > 0 and 0 < reply.usage.completion_tokens <= 300
    assert reply.model == DEFAULT_LOCAL_MODEL


@pytest.mark.slow
def test_the_seed_makes_replies_repeatable_and_varied(embedded_model):
    first = complete(embedded_model, temperature=1.0, max_tokens=24, seed=1)
    again = complete(embedded_model, temperature=1.0, max_tokens=24, seed=1)
    other = complete(embedded_model, temperature=1.0, max_tokens=24, seed=2)

    assert first.text == again.text
    assert other.text != first.text
    assert first.finish_reason == "length"
