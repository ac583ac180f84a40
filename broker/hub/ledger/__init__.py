"""The hub's ledger: evidence bytes, metadata, the delivery outbox and a hash-chained audit log.

SQLite by default (``sqlite:///ledger.db``), PostgreSQL by URL. ``schema`` holds the tables,
``chain`` the audit hash scheme and verification, ``store`` the :class:`Ledger` API.
"""

from broker.hub.ledger.chain import GENESIS, canonical_json, entry_hash
from broker.hub.ledger.records import AuditEntry, ChainReport, DeliveryRecord, DocumentRecord, RejectionRecord
from broker.hub.ledger.store import Ledger, LedgerError, LedgerTx

__all__ = [
    "GENESIS",
    "AuditEntry",
    "ChainReport",
    "DeliveryRecord",
    "DocumentRecord",
    "Ledger",
    "LedgerError",
    "LedgerTx",
    "RejectionRecord",
    "canonical_json",
    "entry_hash",
]
