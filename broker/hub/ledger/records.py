"""Plain values the ledger hands in and out: never ORM objects, never bound to a session."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def require_aware(value: datetime | None, name: str) -> None:
    """Refuse naive datetimes: SQLite keeps no offset, so a guess would silently shift evidence times."""
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value.isoformat()}")


@dataclass(frozen=True, kw_only=True, slots=True)
class DocumentRecord:
    """A document the hub received from a unit (``origin='unit'``) or issued itself (``origin='hub'``).

    ``raw`` is the evidence: the exact bytes received or issued. Leave ``digest`` and ``size``
    empty and they are computed from ``raw``; records read back from the ledger carry the stored
    values (which :meth:`Ledger.verify` compares with ``raw``).
    """

    document_id: str
    doc_type: str
    sender: str
    recipient: str
    issued_at: datetime
    received_at: datetime
    raw: bytes
    origin: str
    client_unit: str
    state: str
    case_number: str | None = None
    in_reply_to: str | None = None
    deadline: datetime | None = None
    signer_fingerprint: str | None = None
    service_receipt_id: str | None = None
    digest: str = ""
    size: int = -1

    def __post_init__(self) -> None:
        for name in ("issued_at", "received_at", "deadline"):
            require_aware(getattr(self, name), name)
        if not self.digest:
            object.__setattr__(self, "digest", sha256_hex(self.raw))
        if self.size < 0:
            object.__setattr__(self, "size", len(self.raw))


@dataclass(frozen=True, kw_only=True, slots=True)
class RejectionRecord:
    """Something a unit sent that the hub refused: a document that failed checks, or garbage.

    Given ``raw``, ``digest`` and ``size`` are computed from it. ``raw`` may be dropped when stored
    (see :meth:`LedgerTx.add_rejection`); the digest and size are always kept.
    """

    received_at: datetime
    client_unit: str
    codes: list[str]
    raw: bytes | None = None
    document_id: str | None = None
    notice_id: str | None = None
    digest: str = ""
    size: int = -1
    id: int | None = None

    def __post_init__(self) -> None:
        require_aware(self.received_at, "received_at")
        if self.raw is not None:
            if not self.digest:
                object.__setattr__(self, "digest", sha256_hex(self.raw))
            if self.size < 0:
                object.__setattr__(self, "size", len(self.raw))
        elif not self.digest or self.size < 0:
            raise ValueError("a rejection without raw bytes needs its digest and size")


@dataclass(frozen=True, kw_only=True, slots=True)
class DeliveryRecord:
    """One outbox row: a document on its way to one recipient, with the bytes to (re)send."""

    id: int
    document_id: str
    recipient: str
    topic: str
    state: str  # 'pending' -> 'published' (broker acknowledged) -> 'acked' (recipient stored it)
    attempts: int
    first_sent_at: datetime | None
    last_sent_at: datetime | None
    published_at: datetime | None
    acked_at: datetime | None
    owner: str | None = None  # the hub instance that publishes it (None: any)
    doc_type: str | None = None
    raw: bytes | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class AuditEntry:
    """One link of the audit chain, exactly as stored (``at`` and ``detail_json`` are what is hashed)."""

    seq: int
    at: str
    actor: str
    client: str
    action: str
    document_id: str | None
    detail_json: str
    prev_hash: str
    hash: str
    chain: str = "main"  # the chain it belongs to (see broker.hub.ledger.chains)
    pos: int | None = None  # its position across chains (None: an anchor)

    @property
    def detail(self) -> dict[str, Any]:
        return json.loads(self.detail_json)

    @property
    def when(self) -> datetime:
        return datetime.fromisoformat(self.at)


@dataclass(frozen=True, kw_only=True, slots=True)
class ChainReport:
    """What :meth:`Ledger.verify` found. ``problems`` name the seq (or document) where each one is."""

    entries: int
    documents: int
    head_seq: int | None
    head_hash: str | None
    problems: list[str] = field(default_factory=list)
    # per table (documents, rejections, deliveries, deadlines): rows stored, rows the chain
    # records (for documents: names, with a digest or a row), rows older than the row coverage
    stored: dict[str, int] = field(default_factory=dict)
    named: dict[str, int] = field(default_factory=dict)
    predating: dict[str, int] = field(default_factory=dict)
    # rejection_counts of minutes still open at the copy (stored, not chained yet): not problems
    open_counts: list[str] = field(default_factory=list)
    # every chain's head (chain -> (seq, hash)), the anchor entries, and per chain the entries
    # written after the last anchor (empty when no anchor was ever written)
    heads: dict[str, tuple[int, str]] = field(default_factory=dict)
    anchors: int = 0
    unanchored: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems
