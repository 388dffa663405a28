"""Any OpenAI-compatible chat-completions endpoint, through the official ``openai`` SDK:
OpenAI itself, Azure OpenAI, vLLM, Ollama, llama.cpp's server, OpenRouter and the like.

The SDK's own retries are off; the engine retries, so that it can count every attempt,
honour ``Retry-After`` across calls and slow down as a whole when rate-limited.
"""

from collections.abc import Mapping
from typing import Any, Literal

from seedbed.providers.base import Completion, CompletionRequest, ProviderNotConfigured, Usage
from seedbed.providers.sdk_clients import PerLoopClient
from seedbed.providers.sdk_errors import translated

StructuredOutput = Literal["json_schema", "json_object", "none"]
# The openai SDK's own default: a slow model writing a long reply is not a dead endpoint.
DEFAULT_TIMEOUT_SECONDS = 600.0


class OpenAICompatibleProvider:
    def __init__(
        self,
        name: str = "openai",
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        max_concurrency: int = 16,
        structured_output: StructuredOutput = "json_schema",
        azure_api_version: str | None = None,
        default_headers: Mapping[str, str] | None = None,
        timeout_seconds: float | None = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self.name = name
        # For requests that set no timeout of their own; None: no limit.
        self.timeout_seconds = timeout_seconds
        self.max_concurrency = max_concurrency
        self.supports_json_schema = structured_output == "json_schema"
        self._structured_output = structured_output
        self._api_key = api_key
        self._base_url = base_url
        self._azure_api_version = azure_api_version
        self._default_headers = dict(default_headers or {})
        self._clients = PerLoopClient()

    async def complete(self, request: CompletionRequest) -> Completion:
        client = self._sdk_client(request.model)
        openai = _sdk(self.name, request.model)
        try:
            response = await client.chat.completions.create(
                **self._arguments(request), timeout=request.timeout_seconds or self.timeout_seconds
            )
        except openai.OpenAIError as error:
            raise translated(openai, self.name, request.model, error, self._secrets()) from None
        return _completion(response, request.model)

    def _secrets(self) -> list[str | None]:
        # Azure and some gateways take the key in a header of their own.
        return [self._api_key, *self._default_headers.values()]

    def _arguments(self, request: CompletionRequest) -> dict[str, Any]:
        arguments: dict[str, Any] = {
            "model": request.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        }
        optional = {
            "temperature": request.temperature,
            "top_p": request.top_p,
            "max_tokens": request.max_tokens,
            "seed": request.seed,
        }
        arguments.update({key: value for key, value in optional.items() if value is not None})
        if request.json_schema is not None and self._structured_output == "json_schema":
            arguments["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": "samples",
                    "schema": dict(request.json_schema),
                    "strict": is_strict_compatible(request.json_schema),
                },
            }
        elif request.json_schema is not None and self._structured_output == "json_object":
            arguments["response_format"] = {"type": "json_object"}
        return arguments

    async def aclose(self) -> None:
        await self._clients.aclose()

    def _sdk_client(self, model: str) -> Any:
        return self._clients.get(lambda: self._new_sdk_client(model))

    def _new_sdk_client(self, model: str) -> Any:
        openai = _sdk(self.name, model)
        if not self._api_key and not self._base_url:
            raise ProviderNotConfigured(
                self.name,
                model,
                "no API key: set OPENAI_API_KEY (or configure this provider's api_key)",
            )
        # Local servers (Ollama, vLLM, llama.cpp) need no key, but the SDK insists on one.
        api_key = self._api_key or "not-needed"
        common = {"api_key": api_key, "max_retries": 0, "default_headers": self._default_headers}
        if self._azure_api_version:
            return openai.AsyncAzureOpenAI(
                azure_endpoint=self._base_url, api_version=self._azure_api_version, **common
            )
        return openai.AsyncOpenAI(base_url=self._base_url, **common)


def is_strict_compatible(schema: Mapping[str, Any]) -> bool:
    """OpenAI's strict mode needs every object to list all its properties as required
    and to forbid others; optional keys make a schema non-strict."""
    if schema.get("type") == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        if (
            set(schema.get("required", [])) != set(properties)
            or schema.get("additionalProperties") is not False
        ):
            return False
        return all(is_strict_compatible(child) for child in properties.values())
    if "prefixItems" in schema:  # not a keyword of strict mode
        return False
    if "items" in schema and isinstance(schema["items"], Mapping):
        return is_strict_compatible(schema["items"])
    return True


def _sdk(provider: str, model: str) -> Any:
    try:
        import openai
    except ImportError as error:  # a core dependency, but a broken install should say so
        raise ProviderNotConfigured(
            provider, model, "the openai package is not installed"
        ) from error
    return openai


def _completion(response: Any, model: str) -> Completion:
    choice = response.choices[0]
    usage = response.usage
    return Completion(
        text=choice.message.content or "",
        usage=Usage(usage.prompt_tokens or 0, usage.completion_tokens or 0) if usage else Usage(),
        model=response.model or model,
        finish_reason=choice.finish_reason,
        raw=response.model_dump(),
    )
