"""Structured logging: one JSON object per line, ``event`` plus fields.

Never pass personal data (ID numbers, names, document content) as fields at INFO or above;
document ids, types, unit codes, digests and error codes are what operators need.

An exception is logged as its type and its stack (file, line, function), without its message:
messages can quote input (a pydantic or lxml error repeats the offending value, an ID number or
a name). Running with ``--log-level DEBUG`` adds the messages, for a developer's machine.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import datetime, timezone
from typing import Any


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if fields:
            entry.update(fields)
        if record.exc_info and record.exc_info[1] is not None:
            if logging.getLogger().isEnabledFor(logging.DEBUG):
                entry["exception"] = self.formatException(record.exc_info)
            else:
                entry.update(_exception_without_messages(record.exc_info[1]))
        return json.dumps(entry, ensure_ascii=False, default=str)


def _exception_without_messages(exc: BaseException) -> dict[str, Any]:
    """The exception's type (and its causes' types) and where it was raised; no messages."""
    chain, seen = [], set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        chain.append(type(cur).__qualname__)
        cur = cur.__cause__ or cur.__context__
    frames = traceback.extract_tb(exc.__traceback__)
    return {
        "error": " <- ".join(chain),
        "stack": [f"{'/'.join(f.filename.split('/')[-3:])}:{f.lineno} {f.name}" for f in frames],
    }


def event(logger: logging.Logger, name: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log ``name`` with ``fields`` as structured data."""
    if logger.isEnabledFor(level):
        logger.log(level, name, extra={"fields": fields})


def configure(level: str | int = "INFO", stream: Any = None) -> None:
    """Send structured logs to stderr (or ``stream``); call once from a command's entry point."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("paho").setLevel(logging.WARNING)
