"""``Client`` and ``AsyncClient`` share the request building (``_BaseClient``); the HTTP
transport is httpx's, so tests and embedders can swap it (``transport=``). Failures are
the SDK's own errors (see :mod:`seedbed.sdk.errors`), never httpx's."""

import contextlib
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

from seedbed.sdk.errors import (
    JobFailed,
    JobTimedOut,
    SeedbedClientError,
    ServerUnreachable,
    api_error,
)

_PREFIX = "/seedbed/v1"
_FINISHED = ("completed", "failed", "cancelled")


@contextlib.contextmanager
def _speaking_to_server(base_url: str) -> Iterator[None]:
    """httpx's failures as the SDK's."""
    try:
        yield
    except httpx.TransportError as error:
        raise ServerUnreachable(f"no answer from {base_url}: {error}") from error
    except httpx.HTTPError as error:
        raise SeedbedClientError(str(error)) from error


class _BaseClient:
    def __init__(self, base_url: str, api_key: str | None, workspace: str | None) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        if workspace:
            self.headers["Comet-Workspace"] = workspace

    @staticmethod
    def _job_body(count: int, **fields: Any) -> dict[str, Any]:
        return {
            "count": count,
            **{key: value for key, value in fields.items() if value is not None},
        }

    @staticmethod
    def _checked(response: httpx.Response) -> Any:
        if response.is_error:
            raise api_error(response)
        return response.json()

    @staticmethod
    def _parse_events(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
        for line in lines:
            if line.startswith("data: "):
                yield json.loads(line.removeprefix("data: "))


class Client(_BaseClient):
    def __init__(
        self,
        base_url: str = "http://127.0.0.1:5174",
        *,
        api_key: str | None = None,
        workspace: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, api_key, workspace)
        self._http = httpx.Client(
            base_url=self.base_url, headers=self.headers, timeout=timeout, transport=transport
        )

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, path: str, **arguments: Any) -> Any:
        with _speaking_to_server(self.base_url):
            return self._checked(self._http.request(method, f"{_PREFIX}{path}", **arguments))

    def start_job(self, count: int, **fields: Any) -> dict[str, Any]:
        """Fields as in ``POST /seedbed/v1/jobs``: one of ``seeds``, ``dataset_id``,
        ``dataset_name``; ``model``, ``instructions``, ``data_types``, ``save``,
        ``target_dataset_name``, ``budget``, …"""
        return self._request("POST", "/jobs", json=self._job_body(count, **fields))

    def get_job(self, job_id: str) -> dict[str, Any]:
        return self._request("GET", f"/jobs/{job_id}")

    def list_jobs(self, page: int = 1, size: int = 20) -> list[dict[str, Any]]:
        return self._request("GET", "/jobs", params={"page": page, "size": size})["content"]

    def cancel_job(self, job_id: str) -> dict[str, Any]:
        return self._request("POST", f"/jobs/{job_id}/cancel")

    def job_items(self, job_id: str, after: int = 0, limit: int = 10_000) -> list[dict[str, Any]]:
        params = {"after": after, "limit": limit}
        return self._request("GET", f"/jobs/{job_id}/items", params=params)["content"]

    def events(self, job_id: str) -> Iterator[dict[str, Any]]:
        """The job's state each time it changes, until it ends."""
        with (
            _speaking_to_server(self.base_url),
            self._http.stream("GET", f"{_PREFIX}/jobs/{job_id}/events", timeout=None) as response,
        ):
            if response.is_error:
                response.read()
                self._checked(response)
            yield from self._parse_events(response.iter_lines())

    def wait(
        self, job_id: str, timeout: float | None = None, interval: float = 0.5
    ) -> dict[str, Any]:
        """The finished job; ``JobFailed`` unless it completed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while (job := self.get_job(job_id))["status"] not in _FINISHED:
            if deadline is not None and time.monotonic() > deadline:
                raise JobTimedOut(job, timeout)
            time.sleep(interval)
        if job["status"] != "completed":
            raise JobFailed(job)
        return job


class AsyncClient(_BaseClient):
    def __init__(
        self,
        base_url: str = "http://127.0.0.1:5174",
        *,
        api_key: str | None = None,
        workspace: str | None = None,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, api_key, workspace)
        self._http = httpx.AsyncClient(
            base_url=self.base_url, headers=self.headers, timeout=timeout, transport=transport
        )

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _request(self, method: str, path: str, **arguments: Any) -> Any:
        with _speaking_to_server(self.base_url):
            response = await self._http.request(method, f"{_PREFIX}{path}", **arguments)
            return self._checked(response)

    async def start_job(self, count: int, **fields: Any) -> dict[str, Any]:
        return await self._request("POST", "/jobs", json=self._job_body(count, **fields))

    async def get_job(self, job_id: str) -> dict[str, Any]:
        return await self._request("GET", f"/jobs/{job_id}")

    async def cancel_job(self, job_id: str) -> dict[str, Any]:
        return await self._request("POST", f"/jobs/{job_id}/cancel")

    async def job_items(
        self, job_id: str, after: int = 0, limit: int = 10_000
    ) -> list[dict[str, Any]]:
        params = {"after": after, "limit": limit}
        return (await self._request("GET", f"/jobs/{job_id}/items", params=params))["content"]

    async def events(self, job_id: str) -> AsyncIterator[dict[str, Any]]:
        with _speaking_to_server(self.base_url):
            async with self._http.stream(
                "GET", f"{_PREFIX}/jobs/{job_id}/events", timeout=None
            ) as response:
                if response.is_error:
                    await response.aread()
                    self._checked(response)
                async for line in response.aiter_lines():
                    if line.startswith("data: "):
                        yield json.loads(line.removeprefix("data: "))
