"""Anthropic's Messages API through the official ``anthropic`` SDK (the ``anthropic``
extra). Anthropic has no JSON-schema mode here, so the schema reaches the model only
through the prompt; the engine's parser and validator do the rest. The current SDK takes
no sampling temperature, so variety comes from the prompts (rotating seeds, data types)."""

from typing import Any

from seedbed.providers.base import Completion, CompletionRequest, ProviderNotConfigured, Usage
from seedbed.providers.sdk_clients import PerLoopClient
from seedbed.providers.sdk_errors import translated

# Anthropic requires max_tokens; Opik defaults it to 4000 for Anthropic models too.
DEFAULT_MAX_TOKENS = 4000
# The anthropic SDK's own default: a slow model writing a long reply is not a dead endpoint.
DEFAULT_TIMEOUT_SECONDS = 600.0


class AnthropicProvider:
    supports_json_schema = False

    def __init__(
        self,
        name: str = "anthropic",
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        max_concurrency: int = 8,
        timeout_seconds: float | None = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self.name = name
        # For requests that set no timeout of their own; None: no limit.
        self.timeout_seconds = timeout_seconds
        self.max_concurrency = max_concurrency
        self._api_key = api_key
        self._base_url = base_url
        self._clients = PerLoopClient()

    async def complete(self, request: CompletionRequest) -> Completion:
        anthropic = self._sdk(request.model)
        client = self._sdk_client(anthropic, request.model)
        system = "\n\n".join(m.content for m in request.messages if m.role == "system")
        arguments: dict[str, Any] = {
            "model": request.model,
            "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
            "messages": [
                {"role": m.role, "content": m.content}
                for m in request.messages
                if m.role != "system"
            ],
        }
        if system:
            arguments["system"] = system
        try:
            response = await client.messages.create(
                **arguments, timeout=request.timeout_seconds or self.timeout_seconds
            )
        except anthropic.AnthropicError as error:
            raise translated(anthropic, self.name, request.model, error, [self._api_key]) from None
        text = "".join(
            block.text for block in response.content if getattr(block, "type", "") == "text"
        )
        return Completion(
            text=text,
            usage=Usage(response.usage.input_tokens, response.usage.output_tokens),
            model=response.model,
            finish_reason={"max_tokens": "length"}.get(response.stop_reason, "stop"),
            raw=response.model_dump(),
        )

    def _sdk(self, model: str) -> Any:
        try:
            import anthropic
        except ImportError as error:
            raise ProviderNotConfigured(
                self.name,
                model,
                "the anthropic package is not installed: pip install 'seedbed[anthropic]'",
            ) from error
        return anthropic

    async def aclose(self) -> None:
        await self._clients.aclose()

    def _sdk_client(self, anthropic: Any, model: str) -> Any:
        if not self._api_key:
            raise ProviderNotConfigured(
                self.name,
                model,
                "no API key: set ANTHROPIC_API_KEY (or configure this provider's api_key)",
            )
        return self._clients.get(
            lambda: anthropic.AsyncAnthropic(
                api_key=self._api_key, base_url=self._base_url, max_retries=0
            )
        )
