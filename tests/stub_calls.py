"""What a run asked the fake LLM, as the tests read it back."""

from seedbed.testing import StubLLMServer


def sample_calls(stub: StubLLMServer) -> list[dict]:
    """The calls that asked for samples: a run first asks for topics (generation/topics.py)."""
    return [call for call in stub.stats["calls"] if '"samples"' in call["messages"][0]["content"]]


def sample_prompts(stub: StubLLMServer) -> list[str]:
    """The system and user messages of every call that asked for samples."""
    return ["\n".join(m["content"] for m in call["messages"]) for call in sample_calls(stub)]
