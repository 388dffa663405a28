"""seedbed's generation beside distilabel's and DeepEval's: same stub LLM, same seeds, same
machine, one command.

    python bench/generation_peers.py                 # both fault settings, 6 to 12 minutes
    python bench/generation_peers.py --fault-rates 0 --tools seedbed,distilabel

The first run also installs the peers (about 3 minutes). Most of the time goes to DeepEval's
contexts path, which at 1,000 asked spends minutes drawing its progress bars; it is
measured at 100 asked as well.

Each tool is asked for 1,000 samples like the 10 customer-support seeds of
``bench/generation.py``, with a concurrency limit of 16, against a stub LLM in its own
process (200 ms latency, 20 % duplicate samples, random seed 1, and either 20 % faults or
none). Every tool run gets a fresh stub, so each sees the same random stream; the stub's
``GET /stats`` counts the LLM calls (failed ones included) and prompt + completion tokens.

- seedbed runs in this process through ``seedbed.expand`` (this virtualenv's seedbed,
  after one warm-up call against a stub of its own, as in ``bench/generation.py``).
- distilabel 1.5.3 and DeepEval 4.3.1 run ``bench/peers/*_run.py`` in their own
  virtualenvs under ``bench/.venvs/`` (created on first use, reused while the pins match;
  git-ignored). Their scripts' docstrings say how each maps "1,000 samples like these
  seeds" onto the tool's idiom. DeepEval runs two ways: seeds as plain goldens (its
  from-scratch path) and with each seed's answer as context (its contexts path: critic
  filtering, evolution, restyling and expected outputs).

Every tool is judged the same way: what it delivered is read into samples (a distilabel
generation with seedbed's reply parser), and a sample counts as unique when it has the
expected keys and seedbed's ``NearDuplicateFilter`` (loaded with the seeds first) finds no
exact or near duplicate of it among the seeds and the samples before it. The physical
limit is calls × latency ÷ concurrency: the wall time of a perfect scheduler making the
same calls.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generation import CONCURRENCY, COUNT, LATENCY_MS, SEEDS, expand_as_benchmarked, stub_process

import seedbed
from seedbed.generation.dedup import NearDuplicateFilter, sample_text
from seedbed.generation.parsing import parse_samples
from seedbed.providers.registry import ProviderRegistry
from seedbed.settings import Settings
from seedbed.testing.llm_stub_protocols import text_of

BENCH = Path(__file__).resolve().parent
VENVS = BENCH / ".venvs"
DUPLICATE_RATE = 0.2
STUB_SEED = 1
IGNORED_FIELDS = ("intent",)  # a category label, as seedbed's preserve_fields treats it
PEER_TIMEOUT_SECONDS = 420
# Peers must not call out: distilabel asks the Hugging Face Hub, DeepEval sends telemetry.
PEER_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "DEEPEVAL_TELEMETRY_OPT_OUT": "YES",
    "OPENAI_API_KEY": "bench",
    "TOKENIZERS_PARALLELISM": "false",
}


@dataclass(frozen=True)
class Peer:
    venv: str
    requirements: tuple[str, ...]
    script: str
    shape: str  # "seed" (the seeds' keys) or "golden" (DeepEval's input/expected_output)
    arguments: tuple[str, ...] = ()
    count: int | None = None  # asked of this peer instead of --count: it is slow at 1,000


PEERS = {
    "distilabel": Peer(
        "distilabel", ("distilabel[openai]==1.5.3", "requests"), "distilabel_run.py", "seed"
    ),
    "deepeval": Peer("deepeval", ("deepeval==4.3.1",), "deepeval_run.py", "golden"),
    "deepeval (answer as context)": Peer(
        "deepeval", ("deepeval==4.3.1",), "deepeval_run.py", "golden", ("--answer-as-context",)
    ),
    # Asking 1,000 makes DeepEval draw 1,000 progress bars; asking 100 shows the same
    # calls without that cost.
    "deepeval (answer as context) at 100": Peer(
        "deepeval",
        ("deepeval==4.3.1",),
        "deepeval_run.py",
        "golden",
        ("--answer-as-context",),
        count=100,
    ),
}
TOOLS = ("seedbed", *PEERS)


@dataclass
class Delivery:
    """What one tool handed back, before judging."""

    samples: list[Any]
    delivered: int  # items the tool returned: rows, goldens, samples
    wall_seconds: float | None
    error: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Row:
    tool: str
    fault_rate: float
    asked: int
    delivery: Delivery
    unique: int
    stats: dict[str, Any]


# --- the peers' virtualenvs ------------------------------------------------------------


def ensure_venv(peer: Peer) -> Path:
    """The peer's python, installing its pinned requirements unless they already are."""
    home = VENVS / peer.venv
    marker = home / "seedbed-bench-requirements.txt"
    wanted = "\n".join(peer.requirements) + "\n"
    if marker.exists() and marker.read_text() == wanted:
        return home / "bin" / "python"
    shutil.rmtree(home, ignore_errors=True)
    print(f"installing {' '.join(peer.requirements)} into {home} …", flush=True)
    started = time.perf_counter()
    log = VENVS / f"{peer.venv}-install.log"
    VENVS.mkdir(exist_ok=True)
    with log.open("w") as output:
        subprocess.run(
            [sys.executable, "-m", "venv", str(home)], check=True, stdout=output, stderr=output
        )
        subprocess.run(
            [str(home / "bin" / "pip"), "install", "--quiet", *peer.requirements],
            check=True,
            stdout=output,
            stderr=output,
        )
    marker.write_text(wanted)
    print(f"  done in {time.perf_counter() - started:.0f} s (pip's output: {log})", flush=True)
    return home / "bin" / "python"


def installed_versions(python: Path, packages: tuple[str, ...]) -> str:
    code = (
        "import importlib.metadata as m, sys\n"
        "print(', '.join(f'{p} {m.version(p)}' for p in sys.argv[1:]))"
    )
    completed = subprocess.run(
        [str(python), "-c", code, *packages], check=False, capture_output=True, text=True
    )
    return completed.stdout.strip()


# --- the stub --------------------------------------------------------------------------


def stub_stats(base_url: str, reset: bool = False) -> dict[str, Any]:
    root = base_url.removesuffix("/v1")
    request = urllib.request.Request(
        f"{root}/stats/reset" if reset else f"{root}/stats", method="POST" if reset else "GET"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def settled_stats(base_url: str) -> dict[str, Any]:
    """The counters once calls a tool abandoned have finished, so that they count too."""
    deadline = time.monotonic() + 5
    stats = stub_stats(base_url)
    while stats["in_flight"] and time.monotonic() < deadline:
        time.sleep(0.05)
        stats = stub_stats(base_url)
    return stats


def calls_by_purpose(stats: dict[str, Any]) -> Counter[str]:
    """The calls the stub kept, by the opening words of their prompt: where a tool's calls go."""
    purposes: Counter[str] = Counter()
    for body in stats["calls"]:
        messages = (body.get("messages") if isinstance(body, dict) else None) or [{}]
        words = text_of(messages[0].get("content")).split()
        purposes[" ".join(words[:8]) + (" …" if len(words) > 8 else "")] += 1
    return purposes


# --- the tools -------------------------------------------------------------------------


def seedbed_registry(base_url: str, workdir: Path) -> ProviderRegistry:
    settings = Settings(
        home=tempfile.mkdtemp(dir=workdir), openai_base_url=base_url, openai_api_key="bench"
    )
    return ProviderRegistry(settings, load_plugins=False)


def warm_up_seedbed(workdir: Path) -> None:
    """One small run, against a stub of its own: the SDK builds its types on first use, and
    calls the warm-up abandons must not reach the measured stub."""
    process, base_url = stub_process()
    try:
        seedbed.expand(
            SEEDS, 1, model="openai/gpt-4o-mini", registry=seedbed_registry(base_url, workdir)
        )
    finally:
        process.terminate()
        process.wait()


def run_seedbed(base_url: str, count: int, workdir: Path) -> Delivery:
    registry = seedbed_registry(base_url, workdir)
    started = time.perf_counter()
    try:
        result = expand_as_benchmarked(registry, count)
    except Exception as error:  # noqa: BLE001  reported like a peer's crash
        return Delivery([], 0, time.perf_counter() - started, f"{type(error).__name__}: {error}")
    wall = time.perf_counter() - started
    stats = result.stats
    notes = [
        f"stopped: {result.stop_reason}; own count: {stats.calls} calls, rejected {dict(stats.rejected)}"
    ]
    return Delivery(result.items, len(result.items), wall, notes=notes)


def peer_runner(name: str, peer: Peer, python: Path) -> Callable[[str, int, Path], Delivery]:
    def run(base_url: str, count: int, workdir: Path) -> Delivery:
        slug = name.split()[0] + ("-context" if peer.arguments else "")
        seeds_file = workdir / "seeds.json"
        seeds_file.write_text(json.dumps(SEEDS, ensure_ascii=False))
        out = workdir / f"{slug}-{time.time_ns()}.jsonl"
        log = out.with_suffix(".log")
        command = [
            str(python), str(BENCH / "peers" / peer.script),
            "--base-url", base_url, "--seeds", str(seeds_file), "--count", str(count),
            "--concurrency", str(CONCURRENCY), "--out", str(out), *peer.arguments,
        ]  # fmt: skip
        environment = {
            key: value
            for key, value in os.environ.items()
            if key not in ("VIRTUAL_ENV", "PYTHONPATH")
        }
        with log.open("w") as stderr:
            # Its own session, so that a timeout ends the peer's worker processes too.
            process = subprocess.Popen(
                command, cwd=workdir, env={**environment, **PEER_ENVIRONMENT},
                stdout=subprocess.PIPE, stderr=stderr, text=True, start_new_session=True,
            )  # fmt: skip
            try:
                stdout, _ = process.communicate(timeout=PEER_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()
                return Delivery(
                    [],
                    0,
                    None,
                    f"timed out after {PEER_TIMEOUT_SECONDS} s, start-up included (log: {log})",
                )
        lines = stdout.strip().splitlines()
        if not lines:
            return Delivery(
                [], 0, None, f"no result line, exit code {process.returncode} (log: {log})"
            )
        report = json.loads(lines[-1])
        items = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
        notes = [
            f"the tool's own count: {report['delivered']} delivered, {report['unique']} exactly distinct"
        ]
        if report["error"]:
            notes.append(f"log: {log}")
        if peer.shape == "seed":
            return readable_samples(items, report, notes)
        return Delivery(items, report["delivered"], report["wall_seconds"], report["error"], notes)

    return run


def readable_samples(
    items: list[dict[str, Any]], report: dict[str, Any], notes: list[str]
) -> Delivery:
    """distilabel's generations, read into samples by the parser seedbed uses on its own replies."""
    samples, unreadable = [], 0
    for item in items:
        parsed = parse_samples(item["text"]).samples
        unreadable += not parsed
        samples.extend(parsed)
    if unreadable:
        notes.append(f"{unreadable} generations held no readable JSON")
    return Delivery(samples, report["delivered"], report["wall_seconds"], report["error"], notes)


# --- judging ---------------------------------------------------------------------------


def unique_count(samples: list[Any], shape: str) -> tuple[int, int]:
    """(unique, invalid): samples that are new by seedbed's near-duplicate definition, and
    samples that are not of the expected shape at all."""
    keys = set(SEEDS[0])
    judge = NearDuplicateFilter()
    for seed in SEEDS:
        judge.add(sample_text(seed, IGNORED_FIELDS))
    unique = invalid = 0
    for sample in samples:
        if shape == "golden":
            sample = {key: value for key, value in sample.items() if value is not None}
            valid = isinstance(sample.get("input"), str) and sample["input"].strip() != ""
        else:
            valid = isinstance(sample, dict) and set(sample) == keys
        if not valid:
            invalid += 1
        elif judge.add_if_new(sample_text(sample, IGNORED_FIELDS)) is None:
            unique += 1
    return unique, invalid


def measured(
    tool: str,
    runner: Callable[[str, int, Path], Delivery],
    fault_rate: float,
    count: int,
    workdir: Path,
) -> Row:
    process, base_url = stub_process(
        "--latency-ms", str(LATENCY_MS), "--fault-rate", str(fault_rate),
        "--duplicate-rate", str(DUPLICATE_RATE), "--seed", str(STUB_SEED),
    )  # fmt: skip
    try:
        delivery = runner(base_url, count, workdir)
        stats = settled_stats(base_url)
    finally:
        process.terminate()
        process.wait()
    shape = PEERS[tool].shape if tool in PEERS else "seed"
    unique, invalid = unique_count(delivery.samples, shape)
    if invalid:
        delivery.notes.append(f"{invalid} samples lacked the expected fields")
    return Row(tool, fault_rate, count, delivery, unique, stats)


# --- the report ------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    lines = [
        "| tool | asked | delivered | unique (near-dup filtered) | wall s | LLM calls | tokens per unique sample | wall ÷ physical limit |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        wall = row.delivery.wall_seconds
        calls = row.stats["requests"]
        tokens = row.stats["prompt_tokens"] + row.stats["completion_tokens"]
        limit = calls * LATENCY_MS / 1000 / CONCURRENCY
        delivered = f"{row.delivery.delivered}"
        if row.delivery.error:
            timed_out = row.delivery.error.startswith("timed out")
            delivered += " (timed out)" if timed_out else " (crashed)"
        lines.append(
            f"| {row.tool} | {row.asked:,} | {delivered} | {row.unique} | "
            f"{'–' if wall is None else f'{wall:.1f}'} | {calls:,} | "
            f"{f'{tokens / row.unique:,.0f}' if row.unique else f'∞ ({tokens:,} tokens)'} | "
            f"{f'{wall / limit:.2f}' if wall is not None and limit else '–'} |"
        )
    return "\n".join(lines)


def notes(rows: list[Row]) -> str:
    lines = []
    for row in rows:
        stats = row.stats
        failures = {
            kind: stats["by_kind"][kind]
            for kind in ("rate_limited", "server_error", "malformed")
            if stats["by_kind"][kind]
        }
        lines.append(
            f"- {row.tool}: statuses {stats['by_status']}, fault replies (per choice) {failures or 'none'}, "
            f"{stats['duplicates_injected']} duplicates injected, at most {stats['max_in_flight']} calls in flight"
        )
        purposes = calls_by_purpose(stats)
        lines.append(
            f"  - calls by prompt opening{' (the last 1,000)' if stats['requests'] > len(stats['calls']) else ''}: "
            + "; ".join(f"{count} × “{opening}”" for opening, count in purposes.most_common())
        )
        if row.delivery.error:
            lines.append(f"  - FAILED: {' '.join(row.delivery.error.split())}")
        lines.extend(f"  - {note}" for note in row.delivery.notes)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=COUNT, help="samples asked of each tool")
    parser.add_argument(
        "--fault-rates", default="0.2,0", help="stub fault rates to run, comma-separated"
    )
    parser.add_argument(
        "--tools", default=",".join(TOOLS), help=f"comma-separated, of: {', '.join(TOOLS)}"
    )
    options = parser.parse_args()
    tools = [tool.strip() for tool in options.tools.split(",")]
    unknown = set(tools) - set(TOOLS)
    if unknown:
        parser.error(f"unknown tools: {', '.join(sorted(unknown))}")
    fault_rates = [float(rate) for rate in options.fault_rates.split(",")]

    workdir = Path(tempfile.mkdtemp(prefix="seedbed-peers-"))
    if "seedbed" in tools:
        warm_up_seedbed(workdir)
    runners: dict[str, Callable[[str, int, Path], Delivery]] = {"seedbed": run_seedbed}
    versions = [f"seedbed {seedbed.__version__} (in-process, {sys.executable})"]
    for tool in tools:
        if tool in PEERS:
            peer = PEERS[tool]
            python = ensure_venv(peer)
            runners[tool] = peer_runner(tool, peer, python)
            package = peer.requirements[0].split("[")[0].split("=")[0]
            versions.append(
                f"bench/.venvs/{peer.venv}: {installed_versions(python, (package, 'openai'))}"
            )
    versions = list(dict.fromkeys(versions))  # the DeepEval runs share one virtualenv

    print("\n".join(versions))
    for fault_rate in fault_rates:
        rows = []
        for tool in tools:
            print(f"running {tool} at {fault_rate:.0%} faults …", file=sys.stderr, flush=True)
            count = PEERS[tool].count if tool in PEERS and PEERS[tool].count else options.count
            rows.append(measured(tool, runners[tool], fault_rate, count, workdir))
        print(
            f"\n### {fault_rate:.0%} faults, {DUPLICATE_RATE:.0%} duplicates, {LATENCY_MS} ms latency, "
            f"concurrency {CONCURRENCY}, {len(SEEDS)} seeds\n"
        )
        print(table(rows))
        print()
        print(notes(rows), flush=True)
    print(f"\nthe peers' outputs and logs: {workdir}")


if __name__ == "__main__":
    main()
