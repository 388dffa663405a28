"""Generation jobs on ``seedbed worker`` processes: does a second worker halve the time?

A 1,000-sample job (10 chunks) through ``seedbed serve`` with SEEDBED_JOB_RUNNER=workers,
against the stub LLM in its own process answering after 200 ms, run once with ONE
worker and once with TWO (each ``--concurrency 4``), each run on a fresh PostgreSQL
schema. The time is from ``POST /seedbed/v1/jobs`` to the job reading ``completed``;
the two set-ups alternate ``--repeat`` times and the medians are compared.

Usage: python bench/jobs.py [--count 1000] [--latency-ms 200] [--concurrency 4] [--repeat 3]
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

import httpx
import sqlalchemy as sa
from harness import engine_database, running_server

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


@contextlib.contextmanager
def stub_llm(latency_ms: int) -> Iterator[str]:
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
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait()


@contextlib.contextmanager
def running_workers(url: str, count: int, concurrency: int) -> Iterator[None]:
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
        with (
            engine.connect() as connection
        ):  # ready once each has registered in procrastinate's table
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
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)


def timed_job(workers: int, count: int, concurrency: int) -> float:
    with (
        engine_database("postgresql") as url,
        running_server(url) as base_url,
        running_workers(url, workers, concurrency),
    ):
        started = time.perf_counter()
        created = httpx.post(
            f"{base_url}/seedbed/v1/jobs", json={"count": count, "seeds": SEEDS}, timeout=30
        )
        created.raise_for_status()
        job_url = f"{base_url}/seedbed/v1/jobs/{created.json()['id']}"
        while (job := httpx.get(job_url, timeout=30).json())["status"] in ("queued", "running"):
            time.sleep(0.05)
        wall = time.perf_counter() - started
    if job["status"] != "completed" or job["accepted"] != count:
        raise SystemExit(f"the job did not complete: {job}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument(
        "--concurrency", type=int, default=4, help="chunks each worker runs at a time"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each set-up, alternated")
    options = parser.parse_args()
    times: dict[int, list[float]] = {1: [], 2: []}
    with stub_llm(options.latency_ms) as base_url:
        # The server and the workers inherit these.
        os.environ.update(
            SEEDBED_JOB_RUNNER="workers",
            OPENAI_BASE_URL=base_url,
            OPENAI_API_KEY="bench",
            SEEDBED_DEFAULT_MODEL="openai/gpt-4o-mini",
        )
        for _ in range(options.repeat):
            for workers, runs in times.items():
                runs.append(timed_job(workers, options.count, options.concurrency))
    one, two = statistics.median(times[1]), statistics.median(times[2])
    print(
        f"{options.count}-sample job, stub at {options.latency_ms} ms, workers with --concurrency {options.concurrency}"
    )
    print(f"  one worker    {one:6.2f} s  (median of {', '.join(f'{t:.2f}' for t in times[1])})")
    print(f"  two workers   {two:6.2f} s  (median of {', '.join(f'{t:.2f}' for t in times[2])})")
    print(f"  ratio         {one / two:6.2f}x faster with two (2.00 would be perfect scaling)")


if __name__ == "__main__":
    main()
