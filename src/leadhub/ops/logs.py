"""Structured logs: one JSON object a line, with the request id, for log collectors."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any


class JsonFormatter(logging.Formatter):
    """time, level, logger, request_id, message (and the traceback, when there is one)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def use_json(logger: logging.Logger) -> None:
    """Switch the logger's handlers (those carrying the request id) to JSON lines."""
    for handler in logger.handlers:
        if any(type(f).__name__ == "RequestIdFilter" for f in handler.filters):
            handler.setFormatter(JsonFormatter())
