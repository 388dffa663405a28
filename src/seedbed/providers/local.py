"""The ``local`` provider: a GGUF model run in-process by llama.cpp (``llama-cpp-python``).

By default it serves the embedded Qwen2.5-Coder-1.5B-Instruct, whose weights
:mod:`seedbed.providers.local_weights` assembles on first use; a user's own GGUF works the
same way. Given a JSON schema, the provider compiles it into a llama.cpp grammar, so
sampling can only produce JSON that matches it (unless ``max_tokens`` cuts the reply short).

A CPU model does one call at a time: calls run in a worker thread, one after another,
and every provider pointing at the same file shares one loaded model.
"""

import asyncio
import atexit
import functools
import json
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seedbed.providers.base import (
    Completion,
    CompletionRequest,
    ProviderError,
    ProviderNotConfigured,
    UnknownModel,
    Usage,
)
from seedbed.providers.local_weights import EMBEDDED_MODEL_NAME, ensure_embedded_weights

DEFAULT_LOCAL_MODEL = EMBEDDED_MODEL_NAME
DEFAULT_CONTEXT_TOKENS = 4096
DEFAULT_CACHE_DIR = Path("~/.seedbed/models")

_PROVIDER = "local"
_INSTALL_HINT = "the local provider needs llama-cpp-python: pip install 'seedbed[local]'"
logger = logging.getLogger(__name__)


class LocalProvider:
    name = "local"
    supports_json_schema = True
    max_concurrency = 1

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        *,
        cache_dir: str | os.PathLike[str] = DEFAULT_CACHE_DIR,
        n_threads: int | None = None,
        n_ctx: int = DEFAULT_CONTEXT_TOKENS,
        allow_model_paths: bool = False,
    ) -> None:
        """``model_path``: a GGUF file that serves every model name; None serves the
        embedded model, assembled into ``cache_dir`` on first use. Nothing is read or
        loaded until the first call. ``allow_model_paths`` lets a model name be a path
        to a ``.gguf`` file; off by default, since model names arrive over the API."""
        self.allow_model_paths = allow_model_paths
        self.model_path = Path(model_path).expanduser() if model_path is not None else None
        self.cache_dir = Path(cache_dir).expanduser()
        self.n_threads = n_threads or os.cpu_count() or 1
        self.n_ctx = n_ctx

    async def complete(self, request: CompletionRequest) -> Completion:
        return await asyncio.to_thread(self._complete_blocking, request)

    def load(self, model: str = DEFAULT_LOCAL_MODEL) -> None:
        """Assemble the weights and load the model now, so the first call does not wait."""
        self._loaded(model)

    def model_file(self, model: str) -> Path:
        """The GGUF file that serves ``model``, assembling the embedded weights if needed."""
        if model.endswith(".gguf") and self.allow_model_paths:
            path = Path(model).expanduser()
            if not path.is_file():
                raise UnknownModel(_PROVIDER, model, f"no GGUF file at {path}")
            return path
        if self.model_path is not None:
            if not self.model_path.is_file():
                raise ProviderNotConfigured(_PROVIDER, model, f"no GGUF file at {self.model_path}")
            return self.model_path
        if model == DEFAULT_LOCAL_MODEL:
            return ensure_embedded_weights(self.cache_dir)
        raise UnknownModel(
            _PROVIDER,
            model,
            f"the local provider serves {DEFAULT_LOCAL_MODEL!r}"
            + (
                " or a path to a .gguf file"
                if self.allow_model_paths
                else " (set SEEDBED_LOCAL_MODEL_PATH for your own GGUF)"
            ),
        )

    def _complete_blocking(self, request: CompletionRequest) -> Completion:
        model = self._loaded(request.model)
        arguments = _chat_arguments(request)
        with model.one_call_at_a_time:
            try:
                response = model.llama.create_chat_completion(**arguments)
            except ValueError as error:  # e.g. the prompt does not fit the context window
                raise ProviderError(_PROVIDER, request.model, str(error)) from error
        return _completion_from(response, request.model)

    def _loaded(self, model: str) -> "_LoadedModel":
        # Checked before the weights are assembled: no point writing a gigabyte for a
        # model that cannot run.
        llama_cpp = _import_llama_cpp(model)
        return _load_shared(llama_cpp, self.model_file(model), self.n_ctx, self.n_threads, model)


@dataclass(frozen=True, slots=True)
class _LoadedModel:
    llama: Any
    # A llama.cpp context holds one sequence: concurrent calls would corrupt each other.
    one_call_at_a_time: threading.Lock


_loaded_models: dict[tuple[Path, int, int], _LoadedModel] = {}
_loading = threading.Lock()


def _load_shared(
    llama_cpp: Any, path: Path, n_ctx: int, n_threads: int, model: str
) -> _LoadedModel:
    key = (path.resolve(), n_ctx, n_threads)
    with _loading:
        if key not in _loaded_models:
            if not _loaded_models:
                atexit.register(_close_loaded_models)
            _loaded_models[key] = _LoadedModel(
                _open_gguf(llama_cpp, path, n_ctx, n_threads, model), threading.Lock()
            )
        return _loaded_models[key]


def _close_loaded_models() -> None:
    # Left to the garbage collector at interpreter exit, llama.cpp's finalizers run after
    # the module globals they need are gone and print a traceback.
    with _loading:
        for loaded in _loaded_models.values():
            loaded.llama.close()
        _loaded_models.clear()


def _open_gguf(llama_cpp: Any, path: Path, n_ctx: int, n_threads: int, model: str) -> Any:
    try:
        return llama_cpp.Llama(
            model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, verbose=False
        )
    except ValueError as error:
        raise ProviderNotConfigured(
            _PROVIDER, model, f"llama.cpp cannot load {path} as a GGUF model: {error}"
        ) from error


def _import_llama_cpp(model: str) -> Any:
    try:
        import llama_cpp
    except ImportError as error:
        raise ProviderNotConfigured(_PROVIDER, model, _INSTALL_HINT) from error
    return llama_cpp


def _chat_arguments(request: CompletionRequest) -> dict[str, Any]:
    messages = [{"role": message.role, "content": message.content} for message in request.messages]
    arguments: dict[str, Any] = {"messages": messages}
    sampling = {
        "temperature": request.temperature,
        "top_p": request.top_p,
        "max_tokens": request.max_tokens,
        # llama.cpp seeds its sampler with an unsigned 32-bit integer.
        "seed": request.seed % 2**32 if request.seed is not None else None,
    }
    arguments.update({name: value for name, value in sampling.items() if value is not None})
    if request.json_schema is not None:
        arguments["grammar"] = _grammar_for(request.json_schema)
    return arguments


def _grammar_for(json_schema: Mapping[str, Any]) -> Any:
    # Keys keep their order: the grammar emits properties in the order the schema lists them.
    # default=dict: a read-only Mapping (e.g. MappingProxyType) is not a dict to json.
    return _compiled_grammar(json.dumps(json_schema, default=dict))


@functools.lru_cache(maxsize=64)
def _compiled_grammar(schema_text: str) -> Any:
    # Compiled here rather than through response_format, which silently falls back to
    # "any JSON object" when llama.cpp's converter cannot handle a schema; the fallback is
    # the same, but it is logged.
    from llama_cpp import LlamaGrammar
    from llama_cpp.llama_grammar import JSON_GBNF

    try:
        return LlamaGrammar.from_json_schema(schema_text, verbose=False)
    except Exception as error:  # unsupported schemas fail assertions or raise ValueError
        logger.warning(
            "llama.cpp cannot enforce this JSON schema (%s); replies are only held to JSON objects",
            error,
        )
        return LlamaGrammar.from_string(JSON_GBNF, verbose=False)


def _completion_from(response: Mapping[str, Any], model: str) -> Completion:
    choice = response["choices"][0]
    usage = response.get("usage") or {}
    return Completion(
        text=choice["message"].get("content") or "",
        usage=Usage(usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)),
        model=model,
        finish_reason=choice.get("finish_reason"),
        raw=response,
    )
