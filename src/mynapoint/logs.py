"""Structured logs: one JSON object per line on stderr.

What is logged is chosen, never dumped: no request bodies, no headers, no query
strings. A PIN, key, token, security code or My Number never reaches a log line.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

# Attributes every LogRecord has; anything else was passed with `extra=` on purpose.
# uvicorn adds an ANSI-coloured copy of its message; the plain one is enough.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


# A path segment that may identify someone or something: a run of 5 or more digits (a 決済
# サービスID is 16), or a long token of letters and digits (job, grant and application IDs).
_DIGITS = re.compile(r"[0-9]{5,}")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,}")
_KEPT = 4
STATIC_PREFIX = "/static/"
# The ASGI scope key under which the web layer keeps the matched route's template
# (web/limits_body.py sets it before any route runs).
ROUTE_TEMPLATE = "mynapoint.route_template"


def mask_identifier(text: str) -> str:
    """All but the last 4 characters as '*': 1234567890123456 -> ************3456."""
    return "*" * max(len(text) - _KEPT, 0) + text[-_KEPT:]


def logged_path(path: str, route_template: str | None = None) -> str:
    """What the access log writes for a request path: the route's template when the request
    matched a route (/api/v1/applications/{application_id}), else the path with every
    identifier-like part masked. Static files are logged as they are."""
    if route_template:
        return route_template
    if path.startswith(STATIC_PREFIX):
        return path
    masked = _DIGITS.sub(lambda found: mask_identifier(found.group()), path)
    return _TOKEN.sub(lambda found: mask_identifier(found.group()), masked)


# One encoder for every line: json.dumps with options builds a new one per call, which was a
# third of an access log line's formatting (issue 13).
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            # Which worker process of `mynapoint serve --workers N` wrote the line.
            "pid": record.process,
        }
        entry.update(
            (key, value)
            for key, value in record.__dict__.items()
            if key not in _STANDARD and not key.startswith("_")
        )
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return _ENCODER.encode(entry)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # Our own access log replaces uvicorn's, which would print query strings.
    logging.getLogger("uvicorn.access").disabled = True
