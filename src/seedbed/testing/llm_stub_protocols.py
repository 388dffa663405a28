"""The wire protocols the stub LLM speaks: OpenAI chat completions and Anthropic Messages.

Each protocol reads a request body into a :class:`StubPrompt` and writes replies and
errors in its vendor's JSON shapes, so the real SDKs parse them and raise their own
exception classes (``RateLimitError``, ``InternalServerError``, ...).
"""

import time
from collections.abc import Mapping
from dataclasses import dataclass
from random import Random
from typing import Any, Protocol

from seedbed.testing.llm_stub_samples import Batch, StubPrompt

# OpenAI refuses larger values of ``n``; the stub does not need to do better.
MAX_CHOICES = 128


@dataclass(frozen=True, slots=True)
class Choice:
    """One reply text and what went into it."""

    content: str
    kind: str  # "ok", "fenced", "prose" or "malformed"
    truncated: bool  # cut at max_tokens
    batch: Batch | None  # None when a client cannot read the samples out of the content

    @property
    def completion_tokens(self) -> int:
        return max(1, len(self.content) // 4)


class WireProtocol(Protocol):
    def prompt(self, body: Mapping[str, Any], default_model: str) -> StubPrompt: ...

    def reply(
        self, reply_id: str, prompt: StubPrompt, choices: list[Choice], prompt_tokens: int
    ) -> dict[str, Any]: ...

    def error(
        self, kind: str, rng: Random | None = None, message: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Status and body of an error; ``kind``: rate_limited, server_error or bad_request."""
        ...


class OpenAIChat:
    """``POST /v1/chat/completions``."""

    def prompt(self, body: Mapping[str, Any], default_model: str) -> StubPrompt:
        messages = [
            message for message in body.get("messages") or [] if isinstance(message, Mapping)
        ]
        texts = [(message.get("role"), text_of(message.get("content"))) for message in messages]
        user_texts = [text for role, text in texts if role == "user"]
        return StubPrompt(
            model=str(body.get("model") or default_model),
            example_texts=tuple(
                text for role, text in texts if role in ("system", "developer", "user")
            ),
            last_user_text=user_texts[-1] if user_texts else "",
            prompt_chars=sum(len(text) for _, text in texts),
            schema=_json_schema(body.get("response_format"), schema_holder="json_schema"),
            max_tokens=_positive_int(body.get("max_completion_tokens") or body.get("max_tokens")),
            choices=min(_positive_int(body.get("n")) or 1, MAX_CHOICES),
        )

    def reply(
        self, reply_id: str, prompt: StubPrompt, choices: list[Choice], prompt_tokens: int
    ) -> dict[str, Any]:
        completion_tokens = sum(choice.completion_tokens for choice in choices)
        return {
            "id": f"chatcmpl-{reply_id}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": prompt.model,
            "system_fingerprint": "stub",
            "choices": [
                {
                    "index": index,
                    "message": {"role": "assistant", "content": choice.content, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "length" if choice.truncated else "stop",
                }
                for index, choice in enumerate(choices)
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    def error(
        self, kind: str, rng: Random | None = None, message: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        if kind == "rate_limited":
            return 429, openai_error(
                message or "Rate limit reached for requests. Please try again later.",
                "rate_limit_error",
                "rate_limit_exceeded",
            )
        if kind == "server_error":
            return 500, openai_error(
                message
                or "The server had an error while processing your request. Sorry about that!",
                "server_error",
                None,
            )
        return 400, openai_error(message or "Invalid request.", "invalid_request_error", None)


class AnthropicMessages:
    """``POST /v1/messages``; the SDK's ``base_url`` is the server root, without ``/v1``."""

    def prompt(self, body: Mapping[str, Any], default_model: str) -> StubPrompt:
        system = text_of(body.get("system"))
        messages = [
            message for message in body.get("messages") or [] if isinstance(message, Mapping)
        ]
        texts = [(message.get("role"), text_of(message.get("content"))) for message in messages]
        user_texts = [text for role, text in texts if role == "user"]
        # Structured outputs arrive as output_config.format, or as output_format in the beta API.
        output_format = (body.get("output_config") or {}).get("format") or body.get("output_format")
        return StubPrompt(
            model=str(body.get("model") or default_model),
            example_texts=(system, *user_texts),
            last_user_text=user_texts[-1] if user_texts else "",
            prompt_chars=len(system) + sum(len(text) for _, text in texts),
            schema=_json_schema(output_format, schema_holder=None),
            max_tokens=_positive_int(body.get("max_tokens")),
        )

    def reply(
        self, reply_id: str, prompt: StubPrompt, choices: list[Choice], prompt_tokens: int
    ) -> dict[str, Any]:
        [choice] = choices
        return {
            "id": f"msg_{reply_id}",
            "type": "message",
            "role": "assistant",
            "model": prompt.model,
            "content": [{"type": "text", "text": choice.content}],
            "stop_reason": "max_tokens" if choice.truncated else "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": prompt_tokens, "output_tokens": choice.completion_tokens},
        }

    def error(
        self, kind: str, rng: Random | None = None, message: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        if kind == "rate_limited":
            return 429, anthropic_error(
                "rate_limit_error", message or "Number of requests has exceeded your rate limit."
            )
        if kind == "server_error":
            # Anthropic's busy servers answer 529; plain 500s happen too.
            if rng is not None and rng.random() < 0.5:
                return 529, anthropic_error("overloaded_error", message or "Overloaded")
            return 500, anthropic_error("api_error", message or "Internal server error")
        return 400, anthropic_error("invalid_request_error", message or "Invalid request.")


PROTOCOLS: dict[str, WireProtocol] = {
    "/v1/chat/completions": OpenAIChat(),
    "/v1/messages": AnthropicMessages(),
}


def openai_error(message: str, error_type: str, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": error_type, "param": None, "code": code}}


def anthropic_error(error_type: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": error_type, "message": message}}


def models_payload(model: str) -> dict[str, Any]:
    """``GET /v1/models`` in a shape both SDKs accept: each reads its fields, ignores the rest."""
    entry = {
        "id": model,
        "object": "model",
        "type": "model",
        "created": 0,
        "created_at": "2024-01-01T00:00:00Z",
        "owned_by": "seedbed",
        "display_name": model,
    }
    return {
        "object": "list",
        "data": [entry],
        "has_more": False,
        "first_id": model,
        "last_id": model,
    }


def text_of(content: Any) -> str:
    """The text of a message: a plain string, or the text parts of a list of content blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            part["text"]
            for part in content
            if isinstance(part, Mapping) and isinstance(part.get("text"), str)
        )
    return ""


def _json_schema(response_format: Any, schema_holder: str | None) -> Mapping[str, Any] | None:
    """The schema of a ``{"type": "json_schema", ...}`` format, under ``schema_holder`` if given."""
    if not isinstance(response_format, Mapping) or response_format.get("type") != "json_schema":
        return None
    holder = response_format.get(schema_holder) if schema_holder else response_format
    schema = holder.get("schema") if isinstance(holder, Mapping) else None
    return schema if isinstance(schema, Mapping) else None


def _positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None
