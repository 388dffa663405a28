"""How the CLI and the server show seedbed's log: readable lines on standard error, or
one JSON object a line (``--log-json``) for a log collector."""

import json
import logging
import sys

LEVELS = ("debug", "info", "warning", "error")
# What a log record carries besides the standard attributes: the request log's fields.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class _ToStandardError(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record comes, not to the stream that
    was standard error when the handler was made (a test runner swaps it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({key: value for key, value in record.__dict__.items() if key not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def show_logs(
    level: str = "info",
    as_json: bool = False,
    timestamps: bool = True,
    loggers: tuple[str, ...] = ("seedbed",),
) -> None:
    """Send the log records of ``loggers`` at ``level`` and above to standard error."""
    handler = _ToStandardError()
    if as_json:
        handler.setFormatter(JsonLines())
    elif timestamps:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(message)s"))
    for name in loggers:
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
