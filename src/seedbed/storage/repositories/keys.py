"""SQL for API keys."""

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from seedbed.domain.keys import ApiKey
from seedbed.storage.tables import api_key_workspaces, api_keys


class KeyRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def insert(self, key: ApiKey, secret_hash: str) -> None:
        self.connection.execute(
            api_keys.insert().values(
                id=key.id,
                name=key.name,
                secret_hash=secret_hash,
                hint=key.hint,
                created_at=key.created_at,
            )
        )
        self.connection.execute(
            api_key_workspaces.insert(),
            [{"key_id": key.id, "workspace": workspace} for workspace in key.workspaces],
        )

    def _workspaces(self, key_ids: list[str]) -> dict[str, list[str]]:
        rows = self.connection.execute(
            sa.select(api_key_workspaces)
            .where(api_key_workspaces.c.key_id.in_(key_ids))
            .order_by(api_key_workspaces.c.workspace)
        ).all()
        found: dict[str, list[str]] = {}
        for row in rows:
            found.setdefault(row.key_id, []).append(row.workspace)
        return found

    def _to_keys(self, rows) -> list[ApiKey]:
        workspaces = self._workspaces([row.id for row in rows])
        return [
            ApiKey(
                id=row.id,
                name=row.name,
                workspaces=workspaces.get(row.id, []),
                created_at=row.created_at,
                revoked_at=row.revoked_at,
                hint=row.hint,
            )
            for row in rows
        ]

    def by_secret_hash(self, secret_hash: str) -> ApiKey | None:
        rows = self.connection.execute(
            sa.select(api_keys).where(
                api_keys.c.secret_hash == secret_hash, api_keys.c.revoked_at.is_(None)
            )
        ).all()
        keys = self._to_keys(rows)
        return keys[0] if keys else None

    def all(self) -> list[ApiKey]:
        return self._to_keys(
            self.connection.execute(sa.select(api_keys).order_by(api_keys.c.created_at)).all()
        )

    def revoke(self, key_id: str, when: dt.datetime) -> int:
        return self.connection.execute(
            api_keys.update()
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=when)
        ).rowcount
