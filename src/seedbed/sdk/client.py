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
    NotFound,
    SeedbedClientError,
    ServerUnreachable,
    api_error,
)
from seedbed.sdk.frames import Records, seed_rows

_PREFIX = "/seedbed/v1"
# Datasets and experiments are read through the Opik-compatible API the server speaks.
_OPIK = "/api/v1/private"
_PAGE_SIZE = 500
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
        if fields.get("seeds") is not None:  # a list of dicts, or a pandas DataFrame
            fields["seeds"] = seed_rows(fields["seeds"])
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

    def dataset_items(self, dataset_name: str) -> Records:
        """Every item of the dataset, in the order they were added: its data fields plus
        ``id`` and ``tags``. ``.to_pandas()`` makes a DataFrame of them."""
        dataset_id = self._dataset_id(dataset_name)
        rows = Records()
        for item in self._opik_pages(f"/datasets/{dataset_id}/items"):
            rows.append({**item["data"], "id": item["id"], "tags": item.get("tags") or []})
        rows.reverse()  # the API lists newest first
        return rows

    def experiment_results(self, experiment_name: str) -> Records:
        """One row per item the experiment ran: the item's data, the task's ``output``,
        each feedback score as ``score.<name>``, and the item and trace ids."""
        experiment = self._experiment_named(experiment_name)
        rows = Records()
        for row in self._opik_pages(
            f"/datasets/{experiment['dataset_id']}/items/experiments/items",
            experiment_ids=json.dumps([experiment["id"]]),
        ):
            for run in row.get("experiment_items", []):
                scores = {
                    f"score.{score['name']}": score["value"]
                    for score in run.get("feedback_scores") or []
                }
                rows.append(
                    {
                        **row["data"],
                        "output": run.get("output"),
                        **scores,
                        "dataset_item_id": row["id"],
                        "trace_id": run.get("trace_id"),
                    }
                )
        return rows

    def _experiment_named(self, name: str) -> dict[str, Any]:
        """The newest experiment of that name."""
        for found in self._opik_pages("/experiments", name=name):
            if found["name"] == name:
                return found
        raise NotFound(404, f"experiment {name!r} not found")

    def _dataset_id(self, name: str) -> str:
        return self._opik_request("POST", "/datasets/retrieve", json={"dataset_name": name})["id"]

    def _opik_request(self, method: str, path: str, **arguments: Any) -> Any:
        with _speaking_to_server(self.base_url):
            return self._checked(self._http.request(method, f"{_OPIK}{path}", **arguments))

    def _opik_pages(self, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        page = 1
        while content := self._opik_request(
            "GET", path, params={**params, "page": page, "size": _PAGE_SIZE}
        )["content"]:
            yield from content
            page += 1

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
