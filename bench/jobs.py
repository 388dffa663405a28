"""Generation jobs on ``seedbed worker`` processes: do more workers deliver a job faster?

A job through ``seedbed serve`` with SEEDBED_JOB_RUNNER=workers, against the stub LLM in
its own process answering every call after ``--latency-ms`` (1 s: the LLM, not the two
cores, is what a worker waits for), run with each number of workers in ``--workers``
(each ``seedbed worker --concurrency C``), each run on a fresh PostgreSQL schema. The
time is from ``POST /seedbed/v1/jobs`` to the job reading ``completed``; the set-ups
alternate ``--repeat`` times and their medians are compared with one worker's. Each run
also reports the LLM calls (the stub's ``GET /stats``) and the peak RSS (VmHWM) of the
server, of every worker and of the stub, read just before they are stopped.

``--big N`` runs one job of N samples on two workers instead, once, and checks in the
database that the job holds exactly N samples, all distinct.

Usage: python bench/jobs.py [--workers 1,2,4] [--count 2000] [--latency-ms 1000]
                            [--concurrency 4] [--repeat 3]
       python bench/jobs.py --big 100000 [--concurrency 2]
"""

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import sqlalchemy as sa
from harness import engine_database, running_server
from memory import server_pid

SEEDS = [
    {
        "question": "How do I reset my password?",
        "answer": "Use the 'Forgot password' link on the sign-in page.",
        "intent": "account",
    },
    {
        "question": "Why was my card declined?",
        "answer": "Your bank refused the charge; try another card or call them.",
        "intent": "billing",
    },
    {
        "question": "Do you ship to Canada?",
        "answer": "Yes, in 5–8 business days.",
        "intent": "shipping",
    },
    {
        "question": "Can I return an opened item?",
        "answer": "Within 30 days, if it is undamaged.",
        "intent": "returns",
    },
    {
        "question": "Is there a student discount?",
        "answer": "Yes, 20 % with a valid student email.",
        "intent": "pricing",
    },
]
MB = 1024


def peak_rss_mb(pid: int) -> float:
    """The process's own peak resident set (VmHWM), in MB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / MB
    return 0.0


@dataclass
class Run:
    seconds: float
    calls: int
    peaks: dict[str, float] = field(default_factory=dict)  # process -> MB
    stored: int = 0
    distinct: int = 0


@contextlib.contextmanager
def stub_llm(latency_ms: int) -> Iterator[tuple[str, subprocess.Popen]]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "seedbed.testing.llm_stub",
            "--port",
            "0",
            "--latency-ms",
            str(latency_ms),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield process.stdout.readline().strip(), process
    finally:
        process.terminate()
        process.wait()


@contextlib.contextmanager
def running_workers(url: str, count: int, concurrency: int) -> Iterator[list[subprocess.Popen]]:
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "seedbed",
                "worker",
                "--concurrency",
                str(concurrency),
                "--database-url",
                url,
            ],
            env={**os.environ, "SEEDBED_HOME": tempfile.mkdtemp()},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]
    try:
        engine = sa.create_engine(url)
        deadline = time.monotonic() + 60
        with engine.connect() as connection:  # ready once each has registered
            while (
                connection.exec_driver_sql("SELECT count(*) FROM procrastinate_workers").scalar()
                < count
            ):
                connection.rollback()
                if time.monotonic() > deadline or any(
                    process.poll() is not None for process in processes
                ):
                    raise SystemExit("the workers did not start")
                time.sleep(0.1)
        engine.dispose()
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)


def stored_samples(url: str, job_id: str) -> tuple[int, int]:
    """How many samples the job holds, and how many distinct ones (by their data)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                sa.text(
                    "SELECT count(*), count(DISTINCT data) FROM generation_job_items"
                    " WHERE job_id = :job_id"
                ),
                {"job_id": job_id},
            ).one()
    finally:
        engine.dispose()
    return row[0], row[1]


def run_job(
    workers: int,
    count: int,
    concurrency: int,
    stub: tuple[str, subprocess.Popen],
    *,
    poll_seconds: float = 0.05,
    check_items: bool = False,
) -> Run:
    base_stub_url, stub_process = stub
    stub_url = base_stub_url.removesuffix("/v1")  # the OpenAI base URL; stats are at the root
    with (
        engine_database("postgresql") as url,
        running_server(url) as base_url,
        running_workers(url, workers, concurrency) as worker_processes,
    ):
        httpx.post(f"{stub_url}/stats/reset", timeout=30).raise_for_status()
        started = time.perf_counter()
        created = httpx.post(
            f"{base_url}/seedbed/v1/jobs", json={"count": count, "seeds": SEEDS}, timeout=30
        )
        created.raise_for_status()
        job_id = created.json()["id"]
        job_url = f"{base_url}/seedbed/v1/jobs/{job_id}"
        while (job := httpx.get(job_url, timeout=60).json())["status"] in ("queued", "running"):
            time.sleep(poll_seconds)
        wall = time.perf_counter() - started
        if job["status"] != "completed" or job["accepted"] != count:
            raise SystemExit(f"the job did not complete: {job}")
        calls = httpx.get(f"{stub_url}/stats", timeout=30).json()["requests"]
        run = Run(wall, calls)
        run.peaks["server"] = peak_rss_mb(server_pid(base_url))
        for index, process in enumerate(worker_processes, 1):
            run.peaks[f"worker {index}"] = peak_rss_mb(process.pid)
        run.peaks["stub"] = peak_rss_mb(stub_process.pid)
        if check_items:
            run.stored, run.distinct = stored_samples(url, job_id)
    return run


def peaks_text(run: Run) -> str:
    return ", ".join(f"{name} {mb:.0f}" for name, mb in run.peaks.items())


def compare_workers(options: argparse.Namespace, stub: tuple[str, subprocess.Popen]) -> None:
    counts = [int(value) for value in options.workers.split(",")]
    runs: dict[int, list[Run]] = {workers: [] for workers in counts}
    for _ in range(options.repeat):
        for workers in counts:
            runs[workers].append(run_job(workers, options.count, options.concurrency, stub))
    print(
        f"{options.count}-sample job, stub at {options.latency_ms} ms,"
        f" each worker --concurrency {options.concurrency}"
    )
    print("| workers | median | speed-up | runs | LLM calls | peak RSS, MB |")
    print("|---:|---:|---:|---|---:|---|")
    base = statistics.median(run.seconds for run in runs[counts[0]])
    for workers in counts:
        median = statistics.median(run.seconds for run in runs[workers])
        middle = sorted(runs[workers], key=lambda run: run.seconds)[len(runs[workers]) // 2]
        print(
            f"| {workers} | {median:.2f} s | {base / median:.2f}x"
            f" | {', '.join(f'{run.seconds:.2f}' for run in runs[workers])}"
            f" | {middle.calls} | {peaks_text(middle)} |"
        )
    print(f"(speed-up against {counts[0]} worker(s); load average: {os.getloadavg()})")


def big_job(options: argparse.Namespace, stub: tuple[str, subprocess.Popen]) -> None:
    run = run_job(2, options.big, options.concurrency, stub, poll_seconds=1.0, check_items=True)
    print(
        f"{options.big}-sample job on two workers (--concurrency {options.concurrency}),"
        f" stub at {options.latency_ms} ms"
    )
    print(f"  time        {run.seconds:.1f} s")
    print(f"  LLM calls   {run.calls}")
    print(f"  stored      {run.stored} samples, {run.distinct} distinct")
    print(f"  peak RSS    {peaks_text(run)} (MB)")
    print(f"  load average {os.getloadavg()}")
    if run.stored != options.big or run.distinct != options.big:
        raise SystemExit(f"expected exactly {options.big} distinct samples")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", default="1,2,4", help="the set-ups, in workers")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--latency-ms", type=int, default=1000)
    parser.add_argument(
        "--concurrency",
        type=int,
        help="chunks each worker runs at a time (default 4; 2 with --big, whose chunks each"
        " remember every sample of the job: about 9 KB each)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each set-up, alternated")
    parser.add_argument("--big", type=int, help="one job of this many samples on two workers")
    options = parser.parse_args()
    if options.concurrency is None:
        options.concurrency = 2 if options.big else 4
    with stub_llm(options.latency_ms) as stub:
        # The server and the workers inherit these.
        os.environ.update(
            SEEDBED_JOB_RUNNER="workers",
            OPENAI_BASE_URL=stub[0],
            OPENAI_API_KEY="bench",
            SEEDBED_DEFAULT_MODEL="openai/gpt-4o-mini",
        )
        if options.big:
            big_job(options, stub)
        else:
            compare_workers(options, stub)


if __name__ == "__main__":
    main()
