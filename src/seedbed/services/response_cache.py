"""The response cache kept in seedbed's database, so a re-run (a resumed job, the same
expansion asked twice) replays replies instead of paying for them again."""

import asyncio

from seedbed.generation.cache import completion_from_record, completion_to_record
from seedbed.providers.base import Completion
from seedbed.storage.database import Database
from seedbed.storage.repositories.llm_responses import LlmResponseRepository


class DatabaseResponseCache:
    def __init__(self, database: Database, provider: str, model: str) -> None:
        self.database = database
        self.provider = provider
        self.model = model

    async def get(self, key: str) -> Completion | None:
        record = await asyncio.to_thread(self._read, key)
        return completion_from_record(record) if record else None

    async def put(self, key: str, completion: Completion) -> None:
        await asyncio.to_thread(self._write, key, completion_to_record(completion))

    def _read(self, key: str) -> dict | None:
        with self.database.reading() as connection:
            return LlmResponseRepository(connection).get(key)

    def _write(self, key: str, record: dict) -> None:
        with self.database.writing() as connection:
            LlmResponseRepository(connection).put(key, self.provider, self.model, record)
