"""A fake LLM server speaking OpenAI's chat completions and Anthropic's Messages API.

A real HTTP server on 127.0.0.1 for tests and benchmarks of code that calls LLMs. It
writes JSON samples shaped by the request's JSON schema or by the example objects in the
prompt, and misbehaves on purpose at the rates a :class:`StubBehaviour` sets::

    with StubLLMServer(StubBehaviour(latency_ms=50, duplicate_rate=0.2)) as stub:
        client = openai.OpenAI(base_url=stub.base_url, api_key="test")
        ...
        assert stub.stats["requests"] == 3

From another process, ``python -m seedbed.testing.llm_stub --port 8765 --fault-rate 0.2``
prints the base URL and serves until it gets SIGTERM or SIGINT.

Routes: ``POST /v1/chat/completions``, ``POST /v1/messages``, ``GET /v1/models``,
``GET /stats`` (the counters as JSON) and ``POST /stats/reset``.

How the rates combine. Each request draws, in this order, ``rate_limit_rate`` r (429),
``server_error_rate`` s (500; 500 or 529 on the Messages API) and ``fault_rate`` f (one
of 429, 500 and a malformed reply, chosen uniformly); the first draw that hits decides.
So a 429 comes with probability ``r + (1 - r)(1 - s)f/3``. A request past them answers
200, and each of its choices draws ``malformed_rate``, ``fenced_rate`` and
``prose_rate`` in turn, first hit wins, else clean JSON. Each sample then draws
``non_object_rate``, ``duplicate_rate`` and ``near_duplicate_rate``, first hit wins;
a sample none of them hit then draws ``out_of_set_rate``, ``template_rate``,
``placeholder_rate`` and ``seed_copy_rate`` (llm_stub_flaws.py), first hit wins, else it
is a fresh sample. Every request, errors included, waits the latency first.
"""

import argparse
import itertools
import json
import signal
import threading
import time
import traceback
from dataclasses import dataclass, field, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from random import Random
from typing import Any, Self
from urllib.parse import urlsplit

from seedbed.testing.llm_stub_protocols import (
    PROTOCOLS,
    Choice,
    WireProtocol,
    models_payload,
    openai_error,
)
from seedbed.testing.llm_stub_samples import SampleMaker, StubPrompt, dressed
from seedbed.testing.llm_stub_stats import Outcome, StubStats


def _knob(default: Any, help: str, choices: tuple[str, ...] | None = None) -> Any:
    # The help text doubles as the CLI's --help, so the two cannot drift apart.
    return field(default=default, metadata={"help": help, "choices": choices})


@dataclass(frozen=True)
class StubBehaviour:
    """How the stub answers. Rates are probabilities in 0..1, drawn from ``Random(seed)``."""

    latency_ms: float = _knob(0.0, "delay before every answer, in milliseconds")
    jitter_ms: float = _knob(0.0, "extra delay drawn uniformly from 0..jitter, in milliseconds")
    rate_limit_rate: float = _knob(0.0, "share of requests answered 429 with Retry-After")
    retry_after_seconds: float = _knob(0.2, "the Retry-After a 429 carries, in seconds")
    server_error_rate: float = _knob(0.0, "share of requests answered 500")
    fault_rate: float = _knob(
        0.0, "share of requests given a 429, a 500 or malformed JSON, uniformly"
    )
    malformed_rate: float = _knob(0.0, "share of replies whose content is broken JSON")
    fenced_rate: float = _knob(0.0, "share of replies wrapped in ```json fences")
    prose_rate: float = _knob(0.0, "share of replies wrapped in chatty prose")
    duplicate_rate: float = _knob(
        0.0, "share of samples that copy an earlier sample or prompt example"
    )
    near_duplicate_rate: float = _knob(
        0.0, "share of samples that copy an earlier one with one small change"
    )
    non_object_rate: float = _knob(0.0, "share of samples that are a bare string or number")
    out_of_set_rate: float = _knob(
        0.0, "share of samples whose label (category, sentiment) the examples never use"
    )
    template_rate: float = _knob(
        0.0, "share of samples whose longest text repeats an earlier sample's"
    )
    placeholder_rate: float = _knob(
        0.0, "share of samples with a placeholder such as [company email] in a text"
    )
    seed_copy_rate: float = _knob(
        0.0, "share of samples that copy a prompt example with one small change"
    )
    samples_per_reply: str = _knob(
        "as_asked",
        "how many samples a reply holds: as asked, asked+2, or half",
        ("as_asked", "too_many", "too_few"),
    )
    wrap: str = _knob(
        "object",
        'a batch without a schema: {"samples": [...]} or a bare [...]',
        ("object", "array"),
    )
    seed: int = _knob(
        0, "seed of the random draws; a seed and a request order give the same replies"
    )

    def __post_init__(self) -> None:
        for knob in fields(self):
            value, choices = getattr(self, knob.name), knob.metadata["choices"]
            if knob.name.endswith("_rate") and not 0 <= value <= 1:
                raise ValueError(f"{knob.name} must be between 0 and 1, not {value}")
            if choices and value not in choices:
                raise ValueError(f"{knob.name} must be one of {', '.join(choices)}, not {value!r}")
        if min(self.latency_ms, self.jitter_ms, self.retry_after_seconds) < 0:
            raise ValueError("latency_ms, jitter_ms and retry_after_seconds cannot be negative")


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    payload: dict[str, Any]
    headers: dict[str, str]
    delay_seconds: float
    outcome: Outcome


class _StubState:
    """The behaviour, the random stream and the counters that the request threads share."""

    def __init__(self, behaviour: StubBehaviour, model: str) -> None:
        self.model = model
        self.stats = StubStats()
        self._lock = threading.Lock()
        self._maker = SampleMaker()
        self._reply_ids = itertools.count(1)
        self.set_behaviour(behaviour)

    def set_behaviour(self, behaviour: StubBehaviour) -> None:
        with self._lock:
            self.behaviour, self._rng = behaviour, Random(behaviour.seed)

    def answer(self, protocol: WireProtocol, body: dict[str, Any]) -> _Answer:
        # One lock around every draw of a reply keeps a seed's replies reproducible for a
        # given request order; the latency is slept afterwards, outside the lock.
        with self._lock:
            behaviour, rng = self.behaviour, self._rng
            delay = (behaviour.latency_ms + rng.uniform(0, behaviour.jitter_ms)) / 1_000
            fault = _draw_fault(behaviour, rng)
            if fault in ("rate_limited", "server_error"):
                status, payload = protocol.error(fault, rng)
                headers = (
                    {"Retry-After": f"{behaviour.retry_after_seconds:g}"} if status == 429 else {}
                )
                return _Answer(status, payload, headers, delay, Outcome(body, status, [fault]))
            prompt = protocol.prompt(body, self.model)
            choices = [
                self._choice(prompt, behaviour, rng, fault == "malformed")
                for _ in range(prompt.choices)
            ]
            prompt_tokens = max(1, prompt.prompt_chars // 4)
            payload = protocol.reply(
                f"stub-{next(self._reply_ids)}", prompt, choices, prompt_tokens
            )
            return _Answer(200, payload, {}, delay, _outcome_of(body, choices, prompt_tokens))

    def _choice(
        self, prompt: StubPrompt, behaviour: StubBehaviour, rng: Random, malformed: bool
    ) -> Choice:
        kind = _draw_kind(behaviour, rng, malformed)
        batch = self._maker.batch(prompt, behaviour, rng)
        content = dressed(batch.text, kind, rng)
        truncated = prompt.max_tokens is not None and len(content) > prompt.max_tokens * 4
        if truncated:
            content = content[: prompt.max_tokens * 4]
        readable = kind != "malformed" and not truncated
        if readable:
            self._maker.remember(batch.samples)
        return Choice(content, kind, truncated, batch if readable else None)


def _draw_fault(behaviour: StubBehaviour, rng: Random) -> str | None:
    if rng.random() < behaviour.rate_limit_rate:
        return "rate_limited"
    if rng.random() < behaviour.server_error_rate:
        return "server_error"
    if rng.random() < behaviour.fault_rate:
        return rng.choice(("rate_limited", "server_error", "malformed"))
    return None


def _draw_kind(behaviour: StubBehaviour, rng: Random, malformed: bool) -> str:
    if malformed or rng.random() < behaviour.malformed_rate:
        return "malformed"
    if rng.random() < behaviour.fenced_rate:
        return "fenced"
    if rng.random() < behaviour.prose_rate:
        return "prose"
    return "ok"


def _outcome_of(body: dict[str, Any], choices: list[Choice], prompt_tokens: int) -> Outcome:
    # Samples and injections count only where a client can read them: a malformed or
    # truncated choice delivers none.
    readable = [choice.batch for choice in choices if choice.batch is not None]
    return Outcome(
        body,
        200,
        [choice.kind for choice in choices],
        samples=sum(len(batch.samples) for batch in readable),
        duplicates=sum(batch.duplicates for batch in readable),
        near_duplicates=sum(batch.near_duplicates for batch in readable),
        flawed=sum(batch.flawed for batch in readable),
        prompt_tokens=prompt_tokens,
        completion_tokens=sum(choice.completion_tokens for choice in choices),
        truncated=sum(choice.truncated for choice in choices),
    )


class _StubHandler(BaseHTTPRequestHandler):
    server: "_StubHTTPServer"
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs' connection pools expect
    # Headers and body leave in two writes; with Nagle on, the client's delayed ACK would
    # add some 40 ms to every answer.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/v1/models":
            self._send(200, models_payload(self.server.state.model))
        elif path == "/stats":
            self._send(200, self.server.state.stats.snapshot())
        else:
            self._send_not_found()

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = urlsplit(self.path).path
        if path in PROTOCOLS:
            self._complete(PROTOCOLS[path], raw)
        elif path == "/stats/reset":
            self.server.state.stats.reset()
            self._send(200, self.server.state.stats.snapshot())
        else:
            self._send_not_found()

    def _complete(self, protocol: WireProtocol, raw: bytes) -> None:
        state = self.server.state
        body = _json_or_none(raw)
        problem = _problem_with(body)
        if problem:
            sent = body if body is not None else raw.decode(errors="replace")
            state.stats.record(Outcome(sent, 400, ["bad_request"]))
            self._send(*protocol.error("bad_request", message=problem))
            return
        with state.stats.in_flight():
            try:
                answer = state.answer(protocol, body)
            # A stub bug must reach the caller as itself, not as a dropped connection.
            except Exception as error:  # noqa: BLE001
                traceback.print_exc()
                failure = {"message": f"the stub failed: {error!r}", "type": "stub_error"}
                status, payload, headers = 500, {"error": failure}, {}
            else:
                time.sleep(answer.delay_seconds)
                state.stats.record(answer.outcome)
                status, payload, headers = answer.status, answer.payload, answer.headers
        # Sent once the counters are settled, so a snapshot taken after the reply counts it.
        self._send(status, payload, headers)

    def _send_not_found(self) -> None:
        self._send(
            404,
            openai_error(
                f"no route for {self.command} {self.path}", "invalid_request_error", "not_found"
            ),
        )

    def _send(
        self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request would drown test and benchmark output


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _problem_with(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "the request body must be a JSON object"
    if body.get("stream"):
        return "the stub does not stream; send stream=false"
    return None


class _StubHTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # an idle keep-alive connection must not keep the process alive
    # socketserver's default backlog of 5 resets connections when a benchmark opens dozens
    # at once.
    request_queue_size = 1_024

    def __init__(self, address: tuple[str, int], state: _StubState) -> None:
        super().__init__(address, _StubHandler)
        self.state = state


class StubLLMServer:
    """A stub LLM on a real port; ``port=0`` picks a free one. Start it with ``with``."""

    def __init__(
        self,
        behaviour: StubBehaviour | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        model: str = "stub-model",
    ) -> None:
        self._address = (host, port)
        self._state = _StubState(behaviour or StubBehaviour(), model)
        self._httpd: _StubHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        if self._httpd is None:
            self._httpd = _StubHTTPServer(self._address, self._state)
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="stub-llm",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join()
            self._httpd = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The server's root, e.g. ``http://127.0.0.1:8765`` (Anthropic's SDK wants this one)."""
        if self._httpd is None:
            raise RuntimeError(
                "the stub server is not running: use it in a with block or call start()"
            )
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL, e.g. ``http://127.0.0.1:8765/v1``."""
        return f"{self.url}/v1"

    @property
    def stats(self) -> dict[str, Any]:
        """A snapshot of the counters; later requests do not change it."""
        return self._state.stats.snapshot()

    def reset_stats(self) -> None:
        self._state.stats.reset()

    @property
    def behaviour(self) -> StubBehaviour:
        return self._state.behaviour

    @behaviour.setter
    def behaviour(self, behaviour: StubBehaviour) -> None:
        self.set_behaviour(behaviour)

    def set_behaviour(self, behaviour: StubBehaviour) -> None:
        """Answer later requests this way; the random draws restart from its seed."""
        self._state.set_behaviour(behaviour)


def argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m seedbed.testing.llm_stub",
        description="Serve a fake LLM (OpenAI chat completions, Anthropic Messages) until stopped.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one")
    parser.add_argument("--model", default="stub-model", help="the model name GET /v1/models lists")
    for knob in fields(StubBehaviour):
        parser.add_argument(
            f"--{knob.name.replace('_', '-')}",
            type=type(knob.default),
            default=knob.default,
            choices=knob.metadata["choices"],
            help=knob.metadata["help"],
        )
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = argument_parser()
    arguments = vars(parser.parse_args(argv))
    host, port, model = arguments.pop("host"), arguments.pop("port"), arguments.pop("model")
    try:
        behaviour = StubBehaviour(**arguments)
    except ValueError as error:
        parser.error(str(error))
    stopped = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stopped.set())
    with StubLLMServer(behaviour, host=host, port=port, model=model) as stub:
        print(stub.base_url, flush=True)
        stopped.wait()


if __name__ == "__main__":
    main()
