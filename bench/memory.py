"""Peak memory of ``seedbed serve`` (and of the CLI) while reading out a large dataset.

For each engine and each size (default 100,000 and 1,000,000 items) it loads one
dataset over HTTP (``PUT /v1/private/datasets/items``, gzip batches of 1,000 from 4
clients in one ``batch_group_id``, generated batch by batch so the loader stays small),
stops that server, starts a fresh ``seedbed serve`` on the database and measures its
resident set size (RSS):

- at rest: after start-up and one small request;
- while ``POST /v1/private/datasets/items/stream`` pages through every item, as the
  Opik client does (NDJSON, ``steam_limit`` 2,000, ``last_retrieved_id``);
- while the CSV export is made and downloaded (``POST …/datasets/{id}/export``, then
  ``GET …/datasets/export-jobs/{job_id}/download``, read as a stream);

and, as its own subprocess, ``seedbed datasets export NAME`` (JSONL to a file) against
``seedbed datasets list`` on the same database as the CLI's resting size (each reports
its own VmHWM as it exits); then the round trips through the columnar formats, each
command in its own subprocess: ``export --format parquet`` and ``import`` of that file
into a new dataset, the same with ``--format hf`` (a Hugging Face save_to_disk folder).

RSS comes from psutil when installed, else ``/proc/<pid>/status`` (VmRSS sampled every
50 ms in a thread; VmHWM, the kernel's own peak, reset before each step through
``/proc/<pid>/clear_refs``).

``--trace`` then runs the export download and the CLI export once more in this
process, under tracemalloc, at the smaller size, and prints the seedbed lines that hold
the memory at the peak: where it grows with the dataset.

Usage: python bench/memory.py [--sizes 100000,1000000] [--engines sqlite,postgresql] [--trace]
"""

import argparse
import contextlib
import gzip
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Self

import httpx
from datasets import make_item, stream_all
from harness import engine_database, running_server

from seedbed.storage import migrate
from seedbed.storage.database import Database

try:
    import psutil
except ImportError:  # the /proc fallback below is enough on Linux
    psutil = None

BATCH = 1000
SAMPLE_SECONDS = 0.05
DATASET = "bench"
MB = 1024 * 1024


# -- measuring a process -------------------------------------------------------------------


def _status_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def rss_bytes(pid: int) -> int:
    if psutil is not None:
        return psutil.Process(pid).memory_info().rss
    return _status_kb(pid, "VmRSS") * 1024


def reset_kernel_peak(pid: int) -> bool:
    """Set VmHWM back to the current RSS (Linux ≥ 4.0); False where that is refused."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as clear:
            clear.write("5")
        return True
    except OSError:
        return False


class PeakRss:
    """The highest RSS of ``pid`` while the block runs."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._done = threading.Event()

    def _sample(self) -> None:
        while not self._done.is_set():
            with contextlib.suppress(OSError, ProcessLookupError):
                self.peak = max(self.peak, rss_bytes(self.pid))
            self._done.wait(SAMPLE_SECONDS)

    def __enter__(self) -> Self:
        self._kernel = reset_kernel_peak(self.pid)
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._done.set()
        self._thread.join()
        if self._kernel:
            self.peak = max(self.peak, _status_kb(self.pid, "VmHWM") * 1024)


def server_pid(base: str) -> int:
    """The pid of the ``seedbed serve`` child that ``harness.running_server`` started."""
    port = base.rsplit(":", 1)[1]
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            if parent == os.getpid() and b"serve" in argv and port.encode() in argv:
                return int(entry)
    raise SystemExit(f"no seedbed serve child on port {port}")


# ``python -m seedbed …`` that reports its own VmHWM on exit. The kernel's per-process
# peak (``ru_maxrss`` from wait4 or getrusage) is no use here: exec carries over the
# peak of the memory it replaced, and a child spawned from this (large) process starts
# with this process's RSS as its peak. VmHWM is the new program's own.
CLI_REPORTING_PEAK = """
import atexit, sys
def report():
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    sys.stderr.write(f"\\nVMHWM_KB {peak}\\n")
atexit.register(report)
sys.argv = ["seedbed", *sys.argv[1:]]
from seedbed.cli.main import app
app()
"""


def cli_peak(args: list[str], stdout) -> tuple[int, float]:
    """Peak RSS (bytes) and wall time of one ``seedbed`` CLI run."""
    env = {**os.environ, "SEEDBED_HOME": tempfile.mkdtemp()}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CLI_REPORTING_PEAK, *args],
        check=False,
        stdout=stdout,
        stderr=subprocess.PIPE,
        env=env,
    )
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"seedbed {' '.join(args)} failed: {done.stderr.decode()}")
    peak_kb = int(done.stderr.decode().rsplit("VMHWM_KB", 1)[1].split()[0])
    return peak_kb * 1024, seconds


# -- the dataset and the reads -------------------------------------------------------------


def load_over_http(base: str, count: int) -> float:
    """``count`` items into one dataset, one version; returns the seconds it took."""
    group = str(uuid.uuid4())
    headers = {"content-type": "application/json", "content-encoding": "gzip"}
    with httpx.Client(base_url=f"{base}/api/v1/private", timeout=600) as client:
        client.post("/datasets", json={"name": DATASET}).raise_for_status()

        def send(start: int) -> None:
            items = [make_item(number) for number in range(start, min(start + BATCH, count))]
            body = gzip.compress(
                json.dumps(
                    {"dataset_name": DATASET, "batch_group_id": group, "items": items}
                ).encode()
            )
            client.put("/datasets/items", content=body, headers=headers).raise_for_status()

        started = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(send, range(0, count, BATCH)))
        return time.perf_counter() - started


def download_csv(client: httpx.Client, dataset_id: str) -> int:
    """Start an export and download it as a stream; returns the CSV's line count."""
    job = client.post(f"/datasets/{dataset_id}/export").raise_for_status().json()
    lines = 0
    with client.stream("GET", f"/datasets/export-jobs/{job['id']}/download") as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            lines += chunk.count(b"\n")
    return lines


def measure(url: str, count: int) -> dict:
    """Load ``count`` items, then the server's and the CLI's RSS on reading them out."""
    database = Database(url)
    migrate.upgrade(database)
    database.dispose()
    with running_server(url) as base:
        load_seconds = load_over_http(base, count)
    result = {"items": count, "load_s": load_seconds}
    with (
        running_server(url) as base,
        httpx.Client(base_url=f"{base}/api/v1/private", timeout=1800) as client,
    ):
        pid = server_pid(base)
        dataset_id = (
            client.post("/datasets/retrieve", json={"dataset_name": DATASET})
            .raise_for_status()
            .json()["id"]
        )
        time.sleep(1)
        result["rest"] = rss_bytes(pid)
        for step, read in (
            ("stream", lambda: stream_all(client, DATASET)),
            ("download", lambda: download_csv(client, dataset_id)),
        ):
            started = time.perf_counter()
            with PeakRss(pid) as peak:
                rows = read()
            result[step] = (peak.peak, time.perf_counter() - started)
            assert rows >= count, f"{step}: {rows} rows for {count} items"
            result[f"after_{step}"] = rss_bytes(pid)
    result["cli_rest"], _ = cli_peak(
        ["datasets", "list", "--database-url", url], subprocess.DEVNULL
    )
    with tempfile.TemporaryFile() as out:
        result["cli_export"] = cli_peak(["datasets", "export", DATASET, "--database-url", url], out)
        out.seek(0)
        assert sum(1 for _ in out) == count
    result.update(columnar_round_trips(url, count))
    return result


def columnar_round_trips(url: str, count: int) -> dict:
    """``seedbed datasets export --format parquet|hf`` of the dataset, then ``seedbed
    datasets import`` of that file (folder) into a new dataset: each CLI run's peak."""
    measured = {}
    with tempfile.TemporaryDirectory() as folder:
        for file_format, target in (("parquet", "bench.parquet"), ("hf", "bench-hf")):
            path = str(Path(folder) / target)
            measured[f"cli_export_{file_format}"] = cli_peak(
                ["datasets", "export", DATASET, "--format", file_format, "-o", path]
                + ["--database-url", url],
                subprocess.DEVNULL,
            )
            with tempfile.TemporaryFile() as out:
                measured[f"cli_import_{file_format}"] = cli_peak(
                    ["datasets", "import", path, "-d", f"{DATASET}-{file_format}", "--json"]
                    + ["--database-url", url],
                    out,
                )
                out.seek(0)
                assert json.loads(out.read())["added"] == count, f"{file_format} round trip"
    return measured


# -- where the memory goes -----------------------------------------------------------------


def seedbed_frame(trace: tracemalloc.Trace) -> str:
    """The seedbed line nearest to an allocation (the code that asked for it)."""
    for frame in reversed(trace.traceback):  # most recent frame last
        if "/seedbed/" in frame.filename:
            path = frame.filename.split("/src/", 1)[-1]
            return f"{path}:{frame.lineno}"
    return "(outside seedbed)"


def traced_peak(call: Callable[[], object]) -> tuple[int, list[tuple[str, int]]]:
    """tracemalloc's peak for ``call`` and, at the largest snapshot taken while it ran,
    the bytes held per seedbed line."""
    tracemalloc.start(40)
    best: list = [0, None]
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.2):
            current, _ = tracemalloc.get_traced_memory()
            if current > best[0] * 1.1:
                best[:] = [current, tracemalloc.take_snapshot()]

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        call()
    finally:
        done.set()
        watcher.join()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    held: dict[str, int] = {}
    for trace in best[1].traces if best[1] else []:
        key = seedbed_frame(trace)
        held[key] = held.get(key, 0) + trace.size
    return peak, sorted(held.items(), key=lambda entry: -entry[1])[:6]


def trace_culprits(url: str) -> None:
    """The CSV download (through the real app, in-process) and the CLI export command,
    each under tracemalloc, on the dataset already loaded in ``url``."""
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from seedbed.api.app import create_app
    from seedbed.cli.main import app as cli
    from seedbed.settings import Settings

    database = Database(url)
    app = create_app(Settings(database_url=url, home=Path(tempfile.mkdtemp())), database)
    client = TestClient(app, base_url="http://testserver/api/v1/private")
    dataset_id = client.post("/datasets/retrieve", json={"dataset_name": DATASET}).json()["id"]
    out = Path(tempfile.mkdtemp()) / "export.jsonl"
    steps = {
        "CSV export download (server)": lambda: download_csv(client, dataset_id),
        "seedbed datasets export (CLI)": lambda: CliRunner().invoke(
            cli,
            ["datasets", "export", DATASET, "--database-url", url, "-o", str(out)],
            catch_exceptions=False,
        ),
        "item stream, all pages (server)": lambda: stream_all(client, DATASET),
    }
    for name, call in steps.items():
        peak, held = traced_peak(call)
        print(
            f"\n{name}: tracemalloc peak {peak / MB:,.0f} MB; held at the largest snapshot, by seedbed line:"
        )
        for line, size in held:
            print(f"  {size / MB:>8,.1f} MB  {line}")
    database.dispose()


# -- the table -------------------------------------------------------------------------------


def print_table(results: dict[str, list[dict]]) -> None:
    def cell(value) -> str:
        if isinstance(value, tuple):
            return f"{value[0] / MB:,.0f} MB ({value[1]:,.1f} s)"
        return f"{value / MB:,.0f} MB"

    rows = [
        ("rest", "`seedbed serve` RSS at rest"),
        ("stream", "peak: `POST …/datasets/items/stream`, all pages of 2,000"),
        ("after_stream", "after the stream"),
        ("download", "peak: CSV export, `POST …/export` + `GET …/download`"),
        ("after_download", "after the download"),
        ("cli_rest", "CLI `seedbed datasets list` peak (its resting size)"),
        ("cli_export", "CLI `seedbed datasets export bench` (JSONL) peak"),
        ("cli_export_parquet", "CLI export `--format parquet` peak"),
        ("cli_import_parquet", "CLI import of that Parquet file peak"),
        ("cli_export_hf", "CLI export `--format hf` (save_to_disk folder) peak"),
        ("cli_import_hf", "CLI import of that folder peak"),
    ]
    for engine, found in results.items():
        sizes = [f"{r['items']:,} items" for r in found]
        print(
            f"\n{engine}: loaded over HTTP in " + ", ".join(f"{r['load_s']:.0f} s" for r in found)
        )
        print("| measurement | " + " | ".join(sizes) + " | growth |")
        print("|---|" + "---:|" * (len(sizes) + 1))
        for key, label in rows:
            values = [r[key] for r in found]
            peaks = [v[0] if isinstance(v, tuple) else v for v in values]
            growth = f"{peaks[-1] / peaks[0]:.2f}×" if len(peaks) > 1 else "–"
            print(f"| {label} | " + " | ".join(cell(v) for v in values) + f" | {growth} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument(
        "--trace", action="store_true", help="find the growing allocations (at the first size)"
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    results: dict[str, list[dict]] = {}
    for engine in args.engines.split(","):
        for number, size in enumerate(sizes):
            started = time.perf_counter()
            with engine_database(engine) as url:
                results.setdefault(engine, []).append(measure(url, size))
                if args.trace and number == 0:
                    print(f"\n== where the memory goes, {engine}, {size:,} items ==")
                    trace_culprits(url)
            print(f"{engine} {size:,}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    print_table(results)


if __name__ == "__main__":
    main()
