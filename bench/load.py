"""Many clients at once, with and without a generation job running: does the server keep
answering, and does the job keep going?

``--clients`` clients (50) send a mix of reads and writes for ``--seconds`` (60) to a
``seedbed serve`` on each engine: item pages and experiment listings (reads), item
inserts and trace batches (writes), each client one request after another. Then the
same again while a generation job runs against the stub LLM (in its own process,
answering after ``--latency-ms``). Reported per run: requests per second, p50 and p99
latency, requests that timed out (``--timeout`` 30 s, as the probe's clients) or failed
(anything but a 2xx), and how many samples the job accepted meanwhile.

The goal: 0 timeouts, 0 errors, p99 at most 1 s on SQLite and 500 ms on PostgreSQL, and
the job progressing. Local only (127.0.0.1), bounded in clients and time.

With ``--probe`` the server runs with a probe (``load_probe.py``) and each run also
reports, per route, where the time went (waiting for a turn, for a connection, SQL,
commits, Python), what PostgreSQL's sessions waited on, and the CPU each process used.

Usage: python bench/load.py [--clients 50] [--seconds 60] [--engines sqlite,postgresql]
                            [--runs without-job,with-job] [--latency-ms 200] [--probe]
"""

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import load_report
from harness import engine_database, free_port

MAX_CLIENTS = 200
MAX_SECONDS = 600
SEEDS = [
    {"question": "How do I reset my password?", "answer": "Use the link on the sign-in page."},
    {"question": "Can I pay by invoice?", "answer": "Yes, on the business plan."},
    {"question": "Where is my order?", "answer": "The tracking link is in your email."},
    {"question": "Do you ship to Canada?", "answer": "Yes, within five business days."},
]
API = "/v1/private"


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    timeouts: int = 0
    errors: list[str] = field(default_factory=list)

    def line(self, seconds: float) -> str:
        done = len(self.latencies)
        ordered = sorted(self.latencies) or [0.0]
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return (
            f"{done / seconds:7.1f} rps  p50 {statistics.median(ordered) * 1000:6.0f} ms"
            f"  p99 {p99 * 1000:6.0f} ms  timeouts {self.timeouts}  errors {len(self.errors)}"
        )


@dataclass
class Server:
    base: str
    pid: int


@contextlib.contextmanager
def stub_llm(latency_ms: int) -> Iterator[Server]:
    process = subprocess.Popen(
        [sys.executable, "-m", "seedbed.testing.llm_stub", "--port", "0"]
        + ["--latency-ms", str(latency_ms)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield Server(process.stdout.readline().strip(), process.pid)
    finally:
        process.terminate()
        process.wait()


@contextlib.contextmanager
def serving(url: str, llm_url: str, probe: bool) -> Iterator[Server]:
    port = free_port()
    provider = {"stub": {"type": "openai", "base_url": llm_url, "api_key": "bench"}}
    log = tempfile.NamedTemporaryFile("w", suffix=".log", delete=False)
    command = [str(Path(__file__).with_name("load_probe.py"))] if probe else ["-m", "seedbed"]
    process = subprocess.Popen(
        [sys.executable, *command, "serve", "--port", str(port), "--database-url", url],
        env={
            **os.environ,
            "SEEDBED_HOME": tempfile.mkdtemp(),
            "SEEDBED_PROVIDERS": json.dumps(provider),
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/is-alive/ping", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                raise SystemExit(f"server did not start; see {log.name}")
            time.sleep(0.1)
        yield Server(base, process.pid)
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def prepare(base: str) -> str:
    """A dataset with 200 items, and an experiment on it; the dataset's id."""
    with httpx.Client(base_url=base, timeout=60) as http:
        name = f"load-{uuid.uuid4().hex[:6]}"
        created = http.post(f"{API}/datasets", json={"name": name})
        created.raise_for_status()
        dataset_id = created.headers["location"].rsplit("/", 1)[1]
        items = [{"data": {"n": n, "text": f"question {n}"}} for n in range(200)]
        http.put(
            f"{API}/datasets/items", json={"dataset_id": dataset_id, "items": items}
        ).raise_for_status()
        http.post(
            f"{API}/experiments", json={"dataset_name": name, "name": "load"}
        ).raise_for_status()
        return dataset_id


def _request(turn: int, dataset_id: str) -> tuple[str, str, dict | None]:
    kind = turn % 4
    if kind == 0:
        return "GET", f"{API}/datasets/{dataset_id}/items?page=1&size=20", None
    if kind == 1:
        return "GET", f"{API}/experiments?page=1&size=10", None
    if kind == 2:
        item = {"id": str(uuid.uuid4()), "data": {"text": f"written {uuid.uuid4().hex}"}}
        return "PUT", f"{API}/datasets/items", {"dataset_id": dataset_id, "items": [item]}
    now = "2026-01-01T00:00:00Z"
    traces = [
        {"id": str(uuid.uuid4()), "project_name": "load", "name": "t", "start_time": now}
        for _ in range(5)
    ]
    return "POST", f"{API}/traces/batch", {"traces": traces}


async def load(base: str, dataset_id: str, clients: int, seconds: float, timeout: float) -> Tally:
    tally = Tally()
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(number: int, http: httpx.AsyncClient) -> None:
        turn = number
        while time.monotonic() < deadline:
            method, path, body = _request(turn, dataset_id)
            turn += 1
            started = time.perf_counter()
            try:
                response = await http.request(method, path, json=body, timeout=timeout)
            except httpx.TimeoutException:
                tally.timeouts += 1
                continue
            except httpx.HTTPError as error:
                tally.errors.append(f"{method} {path}: {error!r}")
                continue
            if response.is_success:
                tally.latencies.append(time.perf_counter() - started)
            else:
                tally.errors.append(
                    f"{method} {path}: {response.status_code} {response.text[:200]}"
                )

    async with httpx.AsyncClient(base_url=base, limits=limits) as http:
        await asyncio.gather(*(client(number, http) for number in range(clients)))
    return tally


def accepted(base: str, job_id: str) -> tuple[int, str]:
    job = httpx.get(f"{base}/seedbed/v1/jobs/{job_id}", timeout=60).json()
    return job["accepted"], job["status"]


def run(engine: str, with_job: bool, args) -> str:
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(engine_database(engine))
        application = f"seedbed_load_{uuid.uuid4().hex[:8]}"
        if engine == "postgresql":
            url += f"&application_name={application}"  # how the probe finds its sessions
        llm = stack.enter_context(stub_llm(args.latency_ms))
        server = stack.enter_context(serving(url, llm.base, args.probe))
        base = server.base
        dataset_id = prepare(base)
        job_id = None
        if with_job:
            created = httpx.post(
                f"{base}/seedbed/v1/jobs",
                json={"count": 100_000, "model": "stub/any", "seeds": SEEDS},
                timeout=60,
            )
            created.raise_for_status()
            job_id = created.json()["id"]
            time.sleep(2)  # the job is under way before the clients start
            before, _ = accepted(base, job_id)
        with contextlib.ExitStack() as probes:
            if args.probe:
                httpx.get(f"{base}/bench-probe", timeout=60)  # forget the preparation
                clock = probes.enter_context(
                    load_report.CpuClock({"server": server.pid, "stub LLM": llm.pid})
                )
                sampler = load_report.PostgresSampler(url, application)
                if engine == "postgresql":
                    probes.enter_context(sampler)
            tally = asyncio.run(load(base, dataset_id, args.clients, args.seconds, args.timeout))
        label = f"{engine:10} {'with job' if with_job else 'no job':8} {args.clients} clients"
        line = f"{label}  {tally.line(args.seconds)}"
        if job_id is not None:
            after, status = accepted(base, job_id)
            line += f"  job +{after - before} samples ({status})"
            httpx.post(f"{base}/seedbed/v1/jobs/{job_id}/cancel", timeout=60)
        for error in tally.errors[:3]:
            line += f"\n    {error}"
        if args.probe:
            probed = httpx.get(f"{base}/bench-probe", timeout=60).json()
            report = [clock.line(len(tally.latencies)), *sampler.lines()]
            report += load_report.breakdown(probed["records"])
            report += load_report.statements(probed["statements"])
            line += "\n" + "\n".join(report)
        return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--runs", default="without-job,with-job")
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument("--probe", action="store_true", help="where the time went (see above)")
    args = parser.parse_args()
    if not 1 <= args.clients <= MAX_CLIENTS or not 0 < args.seconds <= MAX_SECONDS:
        raise SystemExit(f"--clients 1..{MAX_CLIENTS} and --seconds up to {MAX_SECONDS}")
    for engine in args.engines.split(","):
        for kind in args.runs.split(","):
            print(run(engine, kind == "with-job", args), flush=True)


if __name__ == "__main__":
    main()
