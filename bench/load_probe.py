"""``seedbed serve`` with a probe in it, for ``bench/load.py --probe``: where each request's
time goes.

Run as ``python bench/load_probe.py serve ...`` (the arguments of ``seedbed serve``). Each
request is split into the time it waited for its turn (the server lets so many requests
work at once), for a pooled connection (with its ping), in SQL statements (from sending
one to having its rows) and in commits and rollbacks; the rest is Python: validation,
the services, serialising, and waiting for a thread or the GIL. ``GET /bench-probe``
returns the records and the statements' times since the last call.
``SEEDBED_BENCH_PROFILE=file`` also profiles every thread, in CPU time (``GET /bench-probe?profile=
true`` writes it); ``SEEDBED_BENCH_CONCURRENT_REQUESTS`` tries another limit of requests
at work. Nothing of this is in seedbed: the probe wraps the app and the engine from outside.
"""

import asyncio
import contextvars
import cProfile
import os
import pstats
import resource
import threading
import time

import sqlalchemy as sa

import seedbed.api.app as app_module
from seedbed.api import concurrency

PROFILE_VARIABLE = "SEEDBED_BENCH_PROFILE"  # a file for a cProfile of the whole server
_record: contextvars.ContextVar[dict | None] = contextvars.ContextVar("probe", default=None)
_records: list[dict] = []
_statements: dict[str, list[float]] = {}  # the start of a statement -> [count, seconds]


def _add(key: str, seconds: float) -> None:
    record = _record.get()
    if record is not None:
        record[key] = record.get(key, 0.0) + seconds


class _TimedSemaphore:
    def __init__(self, semaphore: asyncio.Semaphore) -> None:
        self.semaphore = semaphore

    async def acquire(self) -> bool:
        started = time.perf_counter()
        try:
            return await self.semaphore.acquire()
        finally:
            _add("turn", time.perf_counter() - started)

    def release(self) -> None:
        self.semaphore.release()


def _timed_turns() -> None:
    original = concurrency.ConcurrentRequestLimit._semaphore

    def semaphore(self):
        return _TimedSemaphore(original(self))

    concurrency.ConcurrentRequestLimit._semaphore = semaphore


def _timed(call, key: str):
    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            _add(key, time.perf_counter() - started)

    return timed


def _timed_engine(engine: sa.engine.Engine) -> None:
    engine.pool.connect = _timed(engine.pool.connect, "pool")
    dialect = engine.dialect
    for name in ("do_commit", "do_rollback"):
        setattr(dialect, name, _timed(getattr(dialect, name), "commit"))

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _before(connection, cursor, statement, parameters, context, executemany) -> None:
        connection.info["probe_started"] = time.perf_counter()

    @sa.event.listens_for(engine, "after_cursor_execute")
    def _after(connection, cursor, statement, parameters, context, executemany) -> None:
        started = connection.info.pop("probe_started", None)
        if started is not None:
            seconds = time.perf_counter() - started
            _add("sql", seconds)
            _add("statements", 1)
            tally = _statements.setdefault(" ".join(statement.split())[:100], [0, 0.0])
            tally[0] += 1
            tally[1] += seconds


class _Probe:
    """Outermost: one record per request, its route and its total time."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] == "/bench-probe":
            await self.app(scope, receive, send)
            return
        record = {"method": scope["method"], "path": scope["path"]}
        token = _record.set(record)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            record["total"] = time.perf_counter() - started
            _record.reset(token)
            _records.append(record)


def _probed_create_app(original):
    def create_app(settings=None, database=None, providers=None):
        app = original(settings, database, providers)
        _timed_engine(app.state.database.engine)

        @app.get("/bench-probe", include_in_schema=False)
        def probe(profile: bool = False) -> dict:
            if profile and os.environ.get(PROFILE_VARIABLE):
                _write_profiles(os.environ[PROFILE_VARIABLE])
            usage = resource.getrusage(resource.RUSAGE_SELF)
            taken, statements = list(_records), dict(_statements)
            _records.clear()
            _statements.clear()
            return {
                "cpu": usage.ru_utime + usage.ru_stime,
                "pid": os.getpid(),
                "records": taken,
                "statements": statements,
            }

        app.add_middleware(_Probe)
        return app

    return create_app


_profiles: list[cProfile.Profile] = []


def _profile_every_thread() -> None:
    """cProfile in every thread (the event loop's and the thread pool's), from start-up;
    it slows the server, so it is for reading where the CPU goes, not for timing."""

    def start(*_args) -> None:
        profile = cProfile.Profile(time.thread_time)  # CPU time: waiting costs nothing
        _profiles.append(profile)
        profile.enable()  # replaces this hook in the thread

    threading.setprofile(start)
    start()


def _write_profiles(path: str) -> None:
    """All threads' profiles as one pstats file (uvicorn ends on a signal, so not at exit)."""
    stats = None
    for profile in _profiles:
        profile.create_stats()
        if profile.stats:
            stats = pstats.Stats(profile) if stats is None else stats.add(profile)
    if stats is not None:
        stats.dump_stats(path)


def main() -> None:
    if os.environ.get(PROFILE_VARIABLE):
        _profile_every_thread()
    _timed_turns()
    if os.environ.get("SEEDBED_BENCH_CONCURRENT_REQUESTS"):  # to try other limits
        app_module.CONCURRENT_REQUESTS = int(os.environ["SEEDBED_BENCH_CONCURRENT_REQUESTS"])
    app_module.create_app = _probed_create_app(app_module.create_app)
    from seedbed.cli.main import app

    app(prog_name="seedbed")


if __name__ == "__main__":
    main()
