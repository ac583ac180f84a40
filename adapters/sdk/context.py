"""What a handler gets besides its item: the :class:`Context`, and a logger that cannot leak.

Logs go to operators, monitoring and often to third-party log stores; documents carry ID
numbers, names, accounts and addresses. :class:`SafeLogger` therefore keeps a field only when
its value cannot carry personal data: numbers, booleans, enums, UUIDs, times, and short code-like
strings without long digit runs (document ids, unit codes, error codes, states). Anything else —
free text, Chinese text, account or ID numbers, models — is replaced by ``"<redacted>"``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any
from uuid import UUID

from broker.documents.common import Officer
from broker.documents.document import Document
from broker.documents.identifiers import resident_id_is_valid, uscc_is_valid
from broker.documents.xmlmodel import XmlModel

if TYPE_CHECKING:
    from adapters.sdk.runtime import Runtime

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


@dataclass
class Context:
    """Everything a handler needs about the document it is working on.

    - ``document``: the whole typed :class:`Document` (header, body, every item);
    - ``item_id``: the measure, query or release id (``None`` in a document handler);
    - ``idempotency_key``: ``"<document id>/<item id>"`` (``"<document id>"`` in a document
      handler) — pass it to the native system or to :meth:`IdempotentLedger.once` so that a
      handler called again after a crash returns the recorded outcome instead of acting twice;
    - ``received_at``: when the document reached this unit (stored before it was acknowledged).
      The legal time of service is when it reached the network (003 bank rules 16), recorded by
      the hub: at or before this time;
    - ``attempt``: 1 on the first call for this item, more after transient failures or
      ``NeedsMoreTime``;
    - ``log``: a :class:`SafeLogger` bound to the unit, the document and the item;
    - ``runtime``: the adapter's :class:`Runtime` (``ctx.runtime.now()``, ``ctx.runtime.data_dir``).
    """

    document: Document
    item_id: str | None
    received_at: datetime
    attempt: int
    runtime: Runtime
    log: SafeLogger
    _reviews: list[str] = field(default_factory=list, repr=False)
    _sent: int = field(default=0, repr=False)

    @property
    def document_id(self) -> str:
        return str(self.document.header.document_id)

    @property
    def doc_type(self) -> str:
        return self.document.type

    @property
    def court(self) -> str:
        """The sender's unit code: the court (or the linkage office) that issued the document."""
        return self.document.header.sender

    @property
    def case_number(self) -> str | None:
        return self.document.header.case_number

    @property
    def issued_at(self) -> datetime:
        return self.document.header.issued_at

    @property
    def deadline(self) -> datetime | None:
        return self.document.header.deadline

    @property
    def officers(self) -> list[Officer]:
        return list(self.document.header.officers)

    @property
    def idempotency_key(self) -> str:
        return f"{self.document_id}/{self.item_id}" if self.item_id else self.document_id

    def suggest_review(self, grounds: str) -> None:
        """Send the court a review suggestion (审查建议) about this item, with ``grounds``.

        The measure is still carried out (001 art. 20): the handler goes on and returns the
        result. The suggestion (``MeasureCarriedOut`` true) is sealed and sent once, when the
        result is recorded; if the item ends NotExecuted it is not sent (the receipt says why).
        """
        if not grounds or not grounds.strip():
            raise ValueError("a review suggestion needs grounds")
        self._reviews.append(grounds.strip())

    def send(
        self,
        body: XmlModel,
        *,
        recipient: str | None = None,
        in_reply_to: UUID | str | None = None,
        case_number: str | None = None,
        key: str | None = None,
    ) -> str:
        """Seal and send a document from inside a handler (a :class:`MeasureStatusNotice`, a
        :class:`LeadReport`); by default to this document's sender, in this case, answering
        this document when its type is a reply. Exactly once: the default ``key`` is derived
        from the idempotency key, so a handler called again after a crash does not send twice."""
        self._sent += 1
        from broker.documents.catalogue import REPLY_TYPES

        if in_reply_to is None and body.xml_tag in REPLY_TYPES:
            in_reply_to = self.document_id
        return self.runtime.send(
            body,
            recipient=recipient or self.court,
            in_reply_to=in_reply_to,
            case_number=case_number if case_number is not None else self.case_number,
            key=key or f"{self.idempotency_key}#{body.xml_tag}#{self._sent}",
        )
