"""``Client`` and ``AsyncClient`` share the request building (``_BaseClient``); the HTTP
transport is httpx's, so tests and embedders can swap it (``transport=``)."""

import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

_PREFIX = "/seedbed/v1"
_FINISHED = ("completed", "failed", "cancelled")


class JobFailed(Exception):
    """The job ended without delivering what was asked; ``job`` holds its final state."""

    def __init__(self, job: dict[str, Any]) -> None:
        super().__init__(f"job {job['id']} {job['status']}: {job.get('detail') or ''}")
        self.job = job


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
            raise httpx.HTTPStatusError(
                f"{response.status_code} from {response.request.url}: {response.text}",
                request=response.request,
                response=response,
            )
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

    def start_job(self, count: int, **fields: Any) -> dict[str, Any]:
        """Fields as in ``POST /seedbed/v1/jobs``: one of ``seeds``, ``dataset_id``,
        ``dataset_name``; ``model``, ``instructions``, ``data_types``, ``save``,
        ``target_dataset_name``, ``budget``, …"""
        return self._checked(
            self._http.post(f"{_PREFIX}/jobs", json=self._job_body(count, **fields))
        )

    def get_job(self, job_id: str) -> dict[str, Any]:
        return self._checked(self._http.get(f"{_PREFIX}/jobs/{job_id}"))

    def list_jobs(self, page: int = 1, size: int = 20) -> list[dict[str, Any]]:
        return self._checked(
            self._http.get(f"{_PREFIX}/jobs", params={"page": page, "size": size})
        )["content"]

    def cancel_job(self, job_id: str) -> dict[str, Any]:
        return self._checked(self._http.post(f"{_PREFIX}/jobs/{job_id}/cancel"))

    def job_items(self, job_id: str, after: int = 0, limit: int = 10_000) -> list[dict[str, Any]]:
        response = self._http.get(
            f"{_PREFIX}/jobs/{job_id}/items", params={"after": after, "limit": limit}
        )
        return self._checked(response)["content"]

    def events(self, job_id: str) -> Iterator[dict[str, Any]]:
        """The job's state each time it changes, until it ends."""
        with self._http.stream("GET", f"{_PREFIX}/jobs/{job_id}/events", timeout=None) as response:
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
                raise TimeoutError(f"job {job_id} still {job['status']} after {timeout} s")
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

    async def start_job(self, count: int, **fields: Any) -> dict[str, Any]:
        return self._checked(
            await self._http.post(f"{_PREFIX}/jobs", json=self._job_body(count, **fields))
        )

    async def get_job(self, job_id: str) -> dict[str, Any]:
        return self._checked(await self._http.get(f"{_PREFIX}/jobs/{job_id}"))

    async def cancel_job(self, job_id: str) -> dict[str, Any]:
        return self._checked(await self._http.post(f"{_PREFIX}/jobs/{job_id}/cancel"))

    async def job_items(
        self, job_id: str, after: int = 0, limit: int = 10_000
    ) -> list[dict[str, Any]]:
        response = await self._http.get(
            f"{_PREFIX}/jobs/{job_id}/items", params={"after": after, "limit": limit}
        )
        return self._checked(response)["content"]

    async def events(self, job_id: str) -> AsyncIterator[dict[str, Any]]:
        async with self._http.stream(
            "GET", f"{_PREFIX}/jobs/{job_id}/events", timeout=None
        ) as response:
            if response.is_error:
                await response.aread()
                self._checked(response)
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    yield json.loads(line.removeprefix("data: "))
