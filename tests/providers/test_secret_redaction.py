"""A provider whose error answer echoes the API key it rejected: the key appears in no
API response, no job detail, no Galileo progress message and no server log line."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from seedbed.providers.redaction import REDACTED, redacted
from tests.conftest import running_server, wait_for_job

SECRET = "sk-test-SECRET123"
OTHER_SECRET = "sk-ant-OTHER-SECRET-456"
SEEDS = [
    {"question": "How do I reset my password?", "answer": "Use the link on the sign-in page."},
    {"question": "Can I pay by invoice?", "answer": "Yes, on the business plan."},
]


class _EchoingRejection(BaseHTTPRequestHandler):
    """An OpenAI-style endpoint that refuses every key, quoting it back."""

    def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
        self.rfile.read(int(self.headers.get("content-length") or 0))
        key = (self.headers.get("authorization") or "").removeprefix("Bearer ")
        body = json.dumps(
            {
                "error": {
                    "message": f"Incorrect API key provided: {key}. Check it at the console.",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                }
            }
        ).encode()
        self.send_response(401)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def echoing_endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoingRejection)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_redacted_hides_every_secret_and_the_longest_first():
    text = f"key {SECRET} and {SECRET}x, other {OTHER_SECRET}"
    assert redacted(text, [SECRET, None, "", OTHER_SECRET]) == (
        f"key {REDACTED} and {REDACTED}x, other {REDACTED}"
    )
    assert redacted(text, ["sk-test", SECRET]) == text.replace(SECRET, REDACTED)


def test_a_key_echoed_by_the_provider_is_never_shown_stored_or_logged(
    database, database_url, tmp_path, echoing_endpoint
):
    providers = {"echo": {"type": "openai", "base_url": echoing_endpoint, "api_key": SECRET}}
    env = {
        "SEEDBED_PROVIDERS": json.dumps(providers),
        "SEEDBED_OPENAI_API_KEY": SECRET,
        "SEEDBED_OPENAI_BASE_URL": echoing_endpoint,
        "SEEDBED_GENERATION_MAX_RETRIES": "0",
    }
    with running_server(database_url, tmp_path, **env) as base_url:
        api = f"{base_url}/v1/private"
        created = httpx.post(f"{api}/datasets", json={"name": "faq"}, timeout=30)
        assert created.status_code == 201, created.text
        dataset_id = created.headers["location"].rsplit("/", 1)[1]
        stored = httpx.put(
            f"{api}/datasets/items",
            json={"dataset_id": dataset_id, "items": [{"data": seed} for seed in SEEDS]},
            timeout=30,
        )
        assert stored.status_code == 204, stored.text
        answers = []
        for model in ("echo/any-model", "gpt-4o-mini"):
            expansion = httpx.post(
                f"{api}/datasets/{dataset_id}/expansions",
                json={"model": model, "sample_count": 2},
                timeout=60,
            )
            assert expansion.status_code >= 400, expansion.text
            answers.append(expansion.text)
        job = httpx.post(
            f"{base_url}/seedbed/v1/jobs",
            json={"count": 3, "model": "echo/any-model", "seeds": SEEDS},
            timeout=30,
        )
        assert job.status_code == 201, job.text
        failed = wait_for_job(
            base_url, job.json()["id"], lambda current: current["status"] == "failed", 120
        )
        answers.append(json.dumps(failed))
        extend = httpx.post(
            f"{base_url}/datasets/extend",
            json={
                "prompt_settings": {"model_alias": "echo/any-model"},
                "examples": ["How do I reset my password?", "Can I pay by invoice?"],
                "count": 2,
            },
            timeout=30,
        )
        assert extend.status_code == 200, extend.text
        extended = extend.json()["dataset_id"]
        for _ in range(600):
            progress = httpx.get(f"{base_url}/datasets/extend/{extended}", timeout=30).json()
            if progress["steps_completed"] == progress["steps_total"]:
                break
            httpx.get(f"{base_url}/is-alive/ping", timeout=30)
        answers.append(json.dumps(progress))
    log = next(tmp_path.glob("server-*.log")).read_text()

    assert "Incorrect API key provided" in failed["detail"], failed
    assert REDACTED in failed["detail"]
    assert progress["progress_message"].startswith("An unexpected error occurred"), progress
    assert REDACTED in progress["progress_message"]
    for text in [*answers, log]:
        assert SECRET not in text
    with database.reading() as connection:
        for table in ("generation_jobs", "generation_job_chunks"):
            rows = connection.exec_driver_sql(f"SELECT * FROM {table}").fetchall()
            assert rows and SECRET not in repr(rows)
