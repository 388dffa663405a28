"""A provider that answers from a queue of canned replies, for tests of code that
generates (as ``llm``'s MockModel): no network, no model, and every request recorded."""

from collections import deque
from collections.abc import Callable, Iterable

from seedbed.providers.base import Completion, CompletionRequest, Usage

Reply = str | Exception | Callable[[CompletionRequest], str]


class CannedProvider:
    supports_json_schema = False

    def __init__(
        self, replies: Iterable[Reply] = (), *, name: str = "canned", max_concurrency: int = 4
    ):
        self.name = name
        self.max_concurrency = max_concurrency
        self.replies: deque[Reply] = deque(replies)
        self.requests: list[CompletionRequest] = []

    def queue(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    async def complete(self, request: CompletionRequest) -> Completion:
        self.requests.append(request)
        if not self.replies:
            raise AssertionError("the canned provider ran out of replies")
        reply = self.replies.popleft()
        if isinstance(reply, Exception):
            raise reply
        text = reply(request) if callable(reply) else reply
        prompt_characters = sum(len(message.content) for message in request.messages)
        return Completion(
            text,
            Usage(max(1, prompt_characters // 4), max(1, len(text) // 4)),
            request.model,
            "stop",
        )
