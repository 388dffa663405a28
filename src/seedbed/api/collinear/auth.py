"""Who is calling Collinear's surface: its clients authenticate with
``Authorization: Bearer <key>`` or ``API-Key: <key>``; either takes a seedbed key."""

from fastapi import Request

from seedbed.api.auth import caller_for_credential
from seedbed.api.dependencies import DatabaseDep, SettingsDep
from seedbed.domain.keys import secret_from_header
from seedbed.services.context import Caller

PREFIX = "/api/v1/synth_data"
MISSING_KEY = "An API key is required: send 'Authorization: Bearer <key>' or 'API-Key: <key>'"


def collinear_caller(request: Request, settings: SettingsDep, database: DatabaseDep) -> Caller:
    """Collinear's clients send the key as ``Authorization: Bearer`` or ``API-Key``."""
    credential = secret_from_header(request.headers.get("authorization")) or secret_from_header(
        request.headers.get("api-key")
    )
    return caller_for_credential(
        settings,
        database,
        credential,
        missing=MISSING_KEY,
    )
