"""What ``bench/load.py --probe`` adds to a run: where the requests' time went (from the
probed server, ``load_probe.py``), what PostgreSQL's sessions were waiting on, and who
used the 2 cores (the server, the load generator, the stub LLM, PostgreSQL)."""

import os
import statistics
import threading
import time
from collections import Counter

import sqlalchemy as sa

PARTS = ("turn", "pool", "sql", "commit")
_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of one process so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def postgres_cpu() -> float:
    """CPU time of every PostgreSQL process on the machine (others' sessions included)."""
    total = 0.0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/comm") as comm:
                if comm.read().strip() != "postgres":
                    continue
            total += cpu_seconds(int(name))
        except OSError:
            continue
    return total


class PostgresSampler:
    """Samples, every ``interval`` seconds, what the server's sessions are doing
    (``pg_stat_activity``: active, idle in transaction, or waiting, and on what) and the
    locks they wait for (``pg_locks``, by kind)."""

    def __init__(self, url: str, application: str, interval: float = 0.2) -> None:
        self.url = url.split("?", 1)[0]
        self.application = application
        self.interval = interval
        self.states: Counter = Counter()
        self.waiting_locks: Counter = Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "PostgresSampler":
        self.engine = sa.create_engine(self.url, pool_size=1)
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()
        self.engine.dispose()

    def _run(self) -> None:
        activity = sa.text(
            "SELECT state, coalesce(wait_event_type || ':' || wait_event, 'cpu') AS waiting"
            " FROM pg_stat_activity WHERE application_name = :name"
        )
        locks = sa.text(
            "SELECT l.locktype, l.mode FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE NOT l.granted AND a.application_name = :name"
        )
        with self.engine.connect() as connection:
            while not self._stop.wait(self.interval):
                for row in connection.execute(activity, {"name": self.application}):
                    state = row.state if row.state != "active" else f"active/{row.waiting}"
                    self.states[state] += 1
                for row in connection.execute(locks, {"name": self.application}):
                    self.waiting_locks[f"{row.locktype} {row.mode}"] += 1
                connection.rollback()
                self.samples += 1

    def lines(self) -> list[str]:
        if not self.samples:
            return []
        per_sample = ", ".join(
            f"{state} {count / self.samples:.1f}" for state, count in self.states.most_common(8)
        )
        waits = ", ".join(
            f"{lock} {count / self.samples:.2f}" for lock, count in self.waiting_locks.most_common()
        )
        return [
            f"    PostgreSQL sessions, mean per sample: {per_sample}",
            f"    lock waits, mean per sample: {waits or 'none'}",
        ]


def _percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def breakdown(records: list[dict]) -> list[str]:
    """Per route: count, p50, p99 and the mean split of all its requests and of its
    slowest 1 %; then which routes the slowest 1 % of all requests were."""
    routes: dict[str, list[dict]] = {}
    for record in records:
        route = f"{record['method']} {_template(record['path'])}"
        routes.setdefault(route, []).append(record)
    everything = sorted(record["total"] for record in records)
    if not everything:
        return []
    threshold = _percentile(everything, 0.99)
    lines = [
        "    route                                 n    p50    p99 | mean ms: "
        + "  ".join(f"{part:>6}" for part in (*PARTS, "python"))
        + "  stmts"
    ]
    for route, found in sorted(routes.items()):
        totals = sorted(record["total"] for record in found)
        lines.append(
            f"    {route:36} {len(found):5} {statistics.median(totals) * 1000:6.0f}"
            f" {_percentile(totals, 0.99) * 1000:6.0f} | all      " + _split(found)
        )
        slow = [record for record in found if record["total"] >= threshold]
        if slow:
            lines.append(f"    {'':36} {len(slow):5} {'':13} | slowest  " + _split(slow))
    slowest = Counter(
        f"{record['method']} {_template(record['path'])}"
        for record in records
        if record["total"] >= threshold
    )
    lines.append(
        f"    the slowest 1 % (>= {threshold * 1000:.0f} ms): "
        + ", ".join(f"{route} {count}" for route, count in slowest.most_common())
    )
    return lines


def statements(found: dict[str, list[float]], top: int = 12) -> list[str]:
    """The statements that took the most time in all, all requests and the job together."""
    ranked = sorted(found.items(), key=lambda item: -item[1][1])[:top]
    return ["    statements by total time: count, total s, mean ms"] + [
        f"    {count:7.0f} {seconds:7.1f} {seconds / count * 1000:7.1f}  {text}"
        for text, (count, seconds) in ranked
    ]


def _split(records: list[dict]) -> str:
    means = {
        part: sum(record.get(part, 0.0) for record in records) / len(records) for part in PARTS
    }
    total = sum(record["total"] for record in records) / len(records)
    python = total - sum(means.values())
    statements = sum(record.get("statements", 0) for record in records) / len(records)
    return (
        "  ".join(f"{means[part] * 1000:6.1f}" for part in PARTS)
        + f"  {python * 1000:6.1f}  {statements:5.1f}"
    )


def _template(path: str) -> str:
    parts = path.split("/")
    return "/".join("{id}" if len(part) >= 32 and "-" in part else part for part in parts)


class CpuClock:
    """CPU seconds of the given processes (and of PostgreSQL's) over a stretch of wall time."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids

    def __enter__(self) -> "CpuClock":
        self.started = time.monotonic()
        self.before = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self.before["postgres (all)"] = postgres_cpu()
        self.before["load generator"] = time.process_time()
        return self

    def __exit__(self, *_exc) -> None:
        self.wall = time.monotonic() - self.started
        after = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        after["postgres (all)"] = postgres_cpu()
        after["load generator"] = time.process_time()
        self.used = {name: after[name] - self.before[name] for name in after}

    def line(self, requests: int) -> str:
        cores = ", ".join(
            f"{name} {seconds / self.wall:.2f}" for name, seconds in self.used.items()
        )
        per_request = sum(self.used.values()) / max(requests, 1) * 1000
        with open("/proc/loadavg") as loadavg:
            load = loadavg.read().split()[0]
        return (
            f"    cores used: {cores}; {per_request:.1f} ms CPU per request in all;"
            f" load average {load}"
        )
