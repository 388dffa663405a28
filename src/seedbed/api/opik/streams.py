"""Opik's streamed answers (items, experiments, experiment items, traces, spans): one JSON
object per line, sent as ``application/octet-stream``, which is what the client reads."""

import json
from collections.abc import Iterable
from typing import Any

from fastapi.responses import Response


def json_lines(rows: Iterable[dict[str, Any]]) -> Response:
    return Response(
        "".join(json.dumps(row) + "\n" for row in rows), media_type="application/octet-stream"
    )
