"""The content-addressed response cache: the same request is never paid for twice.

A request's key is the SHA-256 of everything that shapes the reply (provider, model,
messages, sampling settings, schema, call seed). Re-running a generation replays the
calls it already paid for; the engine varies the call seed between calls, so two
different calls never share a reply.
"""

import hashlib
import json
from dataclasses import asdict
from typing import Any, Protocol

from seedbed.providers.base import Completion, CompletionRequest, Usage


class ResponseCache(Protocol):
    async def get(self, key: str) -> Completion | None: ...

    async def put(self, key: str, completion: Completion) -> None: ...


def request_key(provider: str, request: CompletionRequest) -> str:
    payload = {
        "provider": provider,
        "model": request.model,
        "messages": [asdict(message) for message in request.messages],
        "temperature": request.temperature,
        "top_p": request.top_p,
        "max_tokens": request.max_tokens,
        "json_schema": request.json_schema,
        "seed": request.seed,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def completion_to_record(completion: Completion) -> dict[str, Any]:
    return {
        "text": completion.text,
        "prompt_tokens": completion.usage.prompt_tokens,
        "completion_tokens": completion.usage.completion_tokens,
        "model": completion.model,
        "finish_reason": completion.finish_reason,
    }


def completion_from_record(record: dict[str, Any]) -> Completion:
    return Completion(
        text=record["text"],
        usage=Usage(record.get("prompt_tokens", 0), record.get("completion_tokens", 0)),
        model=record.get("model", ""),
        finish_reason=record.get("finish_reason"),
    )


class MemoryResponseCache:
    """For library use within one process; the server keeps its cache in the database."""

    def __init__(self) -> None:
        self._records: dict[str, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self._records)

    async def get(self, key: str) -> Completion | None:
        record = self._records.get(key)
        return completion_from_record(record) if record else None

    async def put(self, key: str, completion: Completion) -> None:
        self._records[key] = completion_to_record(completion)
