"""The ``local`` provider: a GGUF model run in-process by llama.cpp (``llama-cpp-python``).

By default it serves the embedded Qwen2.5-Coder-1.5B-Instruct, whose weights
:mod:`seedbed.providers.local_weights` assembles on first use; a user's own GGUF works the
same way. Given a JSON schema, the provider compiles it into a llama.cpp grammar, so
sampling can only produce JSON that matches it (unless ``max_tokens`` cuts the reply short).

A CPU model does one call at a time (llama.cpp already uses every core for one call):
calls run in a worker thread, one after another, and every provider pointing at the same
file shares one loaded model. A call decodes token by token, so it reports its progress
(:mod:`seedbed.providers.progress`) and stops at the next token once its caller gives up
on it (a timeout or a cancelled task): the model is free for the next call at once.
Consecutive calls on one model reuse the evaluated prompt tokens they share from the
start (llama.cpp keeps the previous call's tokens and compares), so a fixed system prompt
is read once.
"""

import asyncio
import atexit
import functools
import json
import logging
import os
import threading
from collections.abc import Iterator, Mapping
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
from seedbed.providers.local_weights import (
    EMBEDDED_MODEL_FILENAME,
    EMBEDDED_MODEL_NAME,
    EMBEDDED_MODEL_SHA256,
    EMBEDDED_MODEL_SIZE,
    ensure_embedded_weights,
    is_verified,
)
from seedbed.providers.progress import (
    ASSEMBLING_WEIGHTS,
    LOADING_MODEL,
    READING_PROMPT,
    WRITING,
    CallProgress,
    report,
)

DEFAULT_LOCAL_MODEL = EMBEDDED_MODEL_NAME
DEFAULT_CONTEXT_TOKENS = 4096
DEFAULT_CACHE_DIR = Path("~/.seedbed/models")

_PROVIDER = "local"
_INSTALL_HINT = "the local provider needs llama-cpp-python: pip install 'seedbed[local]'"
# How often a call waiting for the model checks whether its caller still wants it.
_WAIT_POLL_SECONDS = 0.1
logger = logging.getLogger(__name__)


class CallAbandoned(Exception):
    """The caller gave up on the call (timeout or cancellation): its thread stops."""


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
        timeout_seconds: float | None = None,
    ) -> None:
        """``model_path``: a GGUF file that serves every model name; None serves the
        embedded model, assembled into ``cache_dir`` on first use. Nothing is read or
        loaded until the first call. ``allow_model_paths`` lets a model name be a path
        to a ``.gguf`` file; off by default, since model names arrive over the API.
        ``timeout_seconds``: how long a call may take when its request sets no timeout
        (None: no limit; a call always ends at its ``max_tokens``)."""
        self.allow_model_paths = allow_model_paths
        self.model_path = Path(model_path).expanduser() if model_path is not None else None
        self.cache_dir = Path(cache_dir).expanduser()
        self.n_threads = n_threads or os.cpu_count() or 1
        self.n_ctx = n_ctx
        self.timeout_seconds = timeout_seconds

    async def complete(self, request: CompletionRequest) -> Completion:
        timeout = (
            request.timeout_seconds if request.timeout_seconds is not None else self.timeout_seconds
        )
        abandoned = threading.Event()
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(self._complete_blocking, request, abandoned), timeout
            )
        except TimeoutError:
            raise TimeoutError(
                f"{_PROVIDER}/{request.model}: no reply within {timeout:g} s; the call was stopped"
            ) from None
        finally:
            # The thread cannot be interrupted; it checks this between tokens and stops.
            abandoned.set()

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
            if not is_verified(
                self.cache_dir / EMBEDDED_MODEL_FILENAME, EMBEDDED_MODEL_SIZE, EMBEDDED_MODEL_SHA256
            ):
                report(CallProgress(ASSEMBLING_WEIGHTS))
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

    def _complete_blocking(
        self, request: CompletionRequest, abandoned: threading.Event
    ) -> Completion:
        model = self._loaded(request.model)
        with model.in_use_by(abandoned):
            report(CallProgress(READING_PROMPT))
            try:
                return _decode(model.llama, request, abandoned)
            except ValueError as error:  # e.g. the prompt does not fit the context window
                raise ProviderError(_PROVIDER, request.model, str(error)) from error

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

    def in_use_by(self, abandoned: threading.Event) -> "_ModelInUse":
        return _ModelInUse(self.one_call_at_a_time, abandoned)


class _ModelInUse:
    """Holds the model for one call; a call abandoned while it waits never starts."""

    def __init__(self, lock: threading.Lock, abandoned: threading.Event) -> None:
        self._lock = lock
        self._abandoned = abandoned

    def __enter__(self) -> None:
        # Polled rather than blocking, so that an abandoned waiter leaves at once and
        # does not keep a worker thread of the event loop's pool.
        while not self._lock.acquire(timeout=_WAIT_POLL_SECONDS):
            if self._abandoned.is_set():
                raise CallAbandoned()
        if self._abandoned.is_set():
            self._lock.release()
            raise CallAbandoned()

    def __exit__(self, *exc_info: object) -> None:
        self._lock.release()


_loaded_models: dict[tuple[Path, int, int], _LoadedModel] = {}
_loading = threading.Lock()


def _load_shared(
    llama_cpp: Any, path: Path, n_ctx: int, n_threads: int, model: str
) -> _LoadedModel:
    key = (path.resolve(), n_ctx, n_threads)
    with _loading:
        if key not in _loaded_models:
            report(CallProgress(LOADING_MODEL))
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


def _decode(llama: Any, request: CompletionRequest, abandoned: threading.Event) -> Completion:
    """Stream the reply token by token, reporting progress and stopping when abandoned.

    llama.cpp's chat completion drops a caller's stopping criteria, so streaming is the
    one way to stop between tokens; each streamed text chunk is exactly one token."""
    chunks = llama.create_chat_completion(**_chat_arguments(request), stream=True)
    parts: list[str] = []
    finish_reason = None
    try:
        for choice in _choices(chunks):
            if abandoned.is_set():
                raise CallAbandoned()
            delta = choice.get("delta") or {}
            if "content" in delta:
                parts.append(delta["content"] or "")
                report(CallProgress(WRITING, len(parts)))
            finish_reason = choice.get("finish_reason") or finish_reason
    finally:
        chunks.close()
    completion_tokens = len(parts)
    # The context now holds the prompt and every reply token but the last one sampled:
    # an end-of-text token is not part of the reply; at max_tokens the last token was
    # never fed back.
    prompt_tokens = llama.n_tokens - completion_tokens + (finish_reason == "length")
    return Completion(
        text="".join(parts),
        usage=Usage(prompt_tokens, completion_tokens),
        model=request.model,
        finish_reason=finish_reason,
    )


def _choices(chunks: Iterator[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for chunk in chunks:
        yield chunk["choices"][0]


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
