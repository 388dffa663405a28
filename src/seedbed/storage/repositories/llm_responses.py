"""SQL for the LLM response cache."""

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from seedbed.storage.dialect import insert_ignoring_conflicts
from seedbed.storage.tables import llm_responses


class LlmResponseRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def get(self, request_key: str) -> dict[str, Any] | None:
        return self.connection.execute(
            sa.select(llm_responses.c.response).where(llm_responses.c.request_key == request_key)
        ).scalar_one_or_none()

    def put(self, request_key: str, provider: str, model: str, response: dict[str, Any]) -> None:
        """First reply wins: two runs that paid for the same request keep one answer."""
        row = {
            "request_key": request_key,
            "provider": provider,
            "model": model,
            "response": response,
            "created_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
        }
        self.connection.execute(
            insert_ignoring_conflicts(self.connection.dialect.name, llm_responses), [row]
        )
