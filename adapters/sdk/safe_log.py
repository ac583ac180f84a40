"""A logger for handlers that cannot leak: :class:`SafeLogger`.

Logs go to operators, monitoring and often to third-party log stores; documents carry ID
numbers, names, accounts and addresses. :class:`SafeLogger` therefore keeps a field only when
its value cannot carry personal data: numbers, booleans, enums, UUIDs, times, and short code-like
strings without long digit runs (document ids, unit codes, error codes, states). Anything else —
free text, Chinese text, account or ID numbers, models — is replaced by ``"<redacted>"``.
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from broker.documents.identifiers import resident_id_is_valid, uscc_is_valid

REDACTED = "<redacted>"
_SAFE_TEXT = re.compile(r"^[A-Za-z0-9_.:/@+\-]{0,80}$")
_DIGIT_RUN = re.compile(r"\d{7,}")
_UUID_LIKE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?:/(.*))?$")
_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
_EVENT = re.compile(r"^[a-z][a-z0-9_.]{0,80}$")
_RESERVED = frozenset({"at", "level", "logger", "event", "exception"})


def _safe_text(text: str) -> bool:
    return bool(_SAFE_TEXT.match(text)) and not _DIGIT_RUN.search(text)


def safe_value(value: Any) -> Any:
    """``value`` if it cannot carry personal data, else :data:`REDACTED`."""
    if value is None or isinstance(value, (bool, int, float, Decimal)):
        return value
    if isinstance(value, Enum):
        return safe_value(value.value) if not isinstance(value.value, Enum) else REDACTED
    if isinstance(value, (UUID, datetime, date)):
        return str(value) if isinstance(value, UUID) else value.isoformat()
    if isinstance(value, str):
        uuid_like = _UUID_LIKE.match(value)
        if uuid_like and _safe_text(uuid_like.group(1) or ""):
            return value  # document ids and idempotency keys ("<document id>/<item id>")
        if _USCC.match(value) and uscc_is_valid(value) and not value.isdigit() and not resident_id_is_valid(value):
            return value  # unit codes (organisations), never an 18-digit ID number
        return value if _safe_text(value) else REDACTED
    if isinstance(value, (list, tuple, set, frozenset)) and len(value) <= 20:
        return [safe_value(v) for v in value]
    return REDACTED


class SafeLogger:
    """Structured logging (as :func:`broker.logs.event`: JSON lines) that drops personal data.

    ``ctx.log.info("native.freeze_done", amount_frozen=..., account_state="normal")``: the event
    name is a dotted lower-case identifier; every line also carries the unit, the document id and
    the item id of the context.
    """

    def __init__(self, logger: logging.Logger, **bound: Any):
        self._logger = logger
        self._bound = {k: safe_value(v) for k, v in bound.items()}

    def bind(self, **fields: Any) -> SafeLogger:
        return SafeLogger(self._logger, **{**self._bound, **fields})

    def log(self, level: int, name: str, /, **fields: Any) -> None:
        if not _EVENT.match(name):
            name = "adapter.event"  # an event name is not a place for data either
        if not self._logger.isEnabledFor(level):
            return
        merged = {**self._bound, **{k: safe_value(v) for k, v in fields.items()}}
        # the JSON line's own keys are not overwritten by fields of the same name
        safe = {(f"{k}_" if k in _RESERVED else k): v for k, v in merged.items()}
        self._logger.log(level, name, extra={"fields": safe})

    def debug(self, name: str, /, **fields: Any) -> None:
        self.log(logging.DEBUG, name, **fields)

    def info(self, name: str, /, **fields: Any) -> None:
        self.log(logging.INFO, name, **fields)

    def warning(self, name: str, /, **fields: Any) -> None:
        self.log(logging.WARNING, name, **fields)

    def error(self, name: str, /, **fields: Any) -> None:
        self.log(logging.ERROR, name, **fields)
