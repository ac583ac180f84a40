"""The audit hash chain: how an entry is hashed, and how a whole ledger is verified.

Scheme (enough to re-implement the check without this code)
------------------------------------------------------------
Every audit row ``(seq, at, actor, client, action, document_id, detail, prev_hash, hash)`` is
one link::

    entry     = {"seq": seq, "at": at, "actor": actor, "client": client, "action": action,
                 "document_id": document_id, "detail": detail}
    hash      = sha256_hex(prev_hash + "\\n" + canonical_json(entry))      # UTF-8 bytes
    prev_hash = hash of entry seq - 1; for seq 1 it is "0" * 64 (genesis)

    canonical_json(obj) = json.dumps(obj, sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False)

- ``seq`` is an integer, consecutive from 1; ``document_id`` is a string or JSON null.
- ``at`` is the stored text (ISO-8601 with a UTC offset), hashed as is.
- ``detail`` is hashed as the stored *text*, i.e. a JSON string whose content is itself
  ``canonical_json(detail_dict)``; it is not re-parsed into a nested object. A verifier in any
  language therefore only serializes strings, integers and null, and never has to reproduce
  Python's float or nesting formatting. Python's ``json`` escapes ``"``, ``\\``, and control
  characters (``\\n \\r \\t \\b \\f``, others as ``\\u00XX``) and leaves all other characters,
  including Chinese, unescaped (``ensure_ascii=False``).
- ``chain_head`` (one row, id 1) holds the seq and hash of the last entry, so removing entries
  at the tail is detected too. For protection against someone who can rewrite the whole table
  *and* the head, record the head hash outside the database now and then (``ledger verify``
  prints it) and compare.

Verification (:func:`verify`) streams the entries in seq order and reports, by seq: gaps,
broken ``prev_hash`` links, entries that do not hash to their stored hash (edited or moved),
and a head that does not match the last entry. It then streams the documents and checks that
each stored ``raw`` still hashes to its ``digest``, and that the digest equals
``detail["digest"]`` of the document's first audit entry: the chain anchors the evidence bytes.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Connection, func, select

from broker.hub.ledger.records import ChainReport, sha256_hex
from broker.hub.ledger.schema import audit, chain_head, documents, rejections

GENESIS = "0" * 64
MAX_PROBLEMS = 1000  # a wholesale rewrite would otherwise report millions of lines
_STREAM = 2000


def canonical_json(obj: Any) -> str:
    """The one serialization that is hashed (strict JSON: NaN and infinities are refused)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def entry_hash(
    prev_hash: str,
    *,
    seq: int,
    at: str,
    actor: str,
    client: str,
    action: str,
    document_id: str | None,
    detail: str,
) -> str:
    """The hash of one link, given the previous link's hash (see the module docstring)."""
    entry = {
        "seq": seq,
        "at": at,
        "actor": actor,
        "client": client,
        "action": action,
        "document_id": document_id,
        "detail": detail,
    }
    return hashlib.sha256((prev_hash + "\n" + canonical_json(entry)).encode("utf-8")).hexdigest()


class _Problems:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.dropped = 0

    def add(self, line: str) -> None:
        if len(self.lines) < MAX_PROBLEMS:
            self.lines.append(line)
        else:
            self.dropped += 1

    def result(self) -> list[str]:
        return self.lines + ([f"... and {self.dropped} more problems"] if self.dropped else [])


def _span(first: int, last: int) -> str:
    return f"seq {first}" if first == last else f"seq {first}-{last}"


def verify(conn: Connection) -> ChainReport:
    """Check the chain and the evidence it anchors; ``conn`` should see one consistent snapshot."""
    problems = _Problems()
    head = conn.execute(select(chain_head.c.seq, chain_head.c.hash).where(chain_head.c.id == 1)).first()
    streaming = conn.execution_options(yield_per=_STREAM)

    entries = 0
    expected, prev_hash = 1, GENESIS
    rows = streaming.execute(select(audit).order_by(audit.c.seq))
    for row in rows:
        entries += 1
        if row.seq != expected:
            problems.add(f"{_span(expected, row.seq - 1)}: missing (the chain continues at seq {row.seq})")
        if row.prev_hash != prev_hash:
            problems.add(f"seq {row.seq}: prev_hash does not match the hash of the entry before it")
        recomputed = entry_hash(
            row.prev_hash,
            seq=row.seq,
            at=row.at,
            actor=row.actor,
            client=row.client,
            action=row.action,
            document_id=row.document_id,
            detail=row.detail,
        )
        if recomputed != row.hash:
            problems.add(f"seq {row.seq}: entry does not match its hash (edited, or moved from elsewhere)")
        expected, prev_hash = row.seq + 1, row.hash
    last_seq = expected - 1

    if head is None:
        problems.add("chain_head: the head row is missing")
    elif head.seq > last_seq:
        problems.add(f"{_span(last_seq + 1, head.seq)}: missing at the end (the head records seq {head.seq})")
    elif head.seq < last_seq:
        problems.add(f"{_span(head.seq + 1, last_seq)}: after the recorded head (written outside the ledger)")
    elif head.hash != prev_hash:
        problems.add(f"seq {last_seq}: the head's hash differs from the last entry's")

    checked = _verify_documents(streaming, problems)
    _verify_rejections(streaming, problems)
    return ChainReport(
        entries=entries,
        documents=checked,
        head_seq=head.seq if head else None,
        head_hash=head.hash if head else None,
        problems=problems.result(),
    )


def _verify_documents(conn: Connection, problems: _Problems) -> int:
    first_seq = (
        select(func.min(audit.c.seq))
        .where(audit.c.document_id == documents.c.document_id)
        .correlate(documents)
        .scalar_subquery()
    )
    first = audit.alias("first")
    query = (
        select(
            documents.c.document_id,
            documents.c.digest,
            documents.c.size,
            documents.c.raw,
            first.c.seq,
            first.c.detail,
        )
        .select_from(documents.outerjoin(first, first.c.seq == first_seq))
        .order_by(documents.c.document_id)
    )
    count = 0
    for doc_id, digest, size, raw, seq, detail in conn.execute(query):
        count += 1
        where = f"seq {seq}: document {doc_id}" if seq is not None else f"document {doc_id}"
        if sha256_hex(raw) != digest or len(raw) != size:
            problems.add(
                f"{where}: the stored bytes do not match the stored digest and size (evidence edited)"
            )
        if seq is None:
            problems.add(f"{where}: no audit entry records this document")
            continue
        try:
            recorded = json.loads(detail).get("digest")
        except (ValueError, AttributeError):
            recorded = None
        if recorded is None:
            problems.add(f"{where}: its first audit entry records no digest")
        elif recorded != digest:
            problems.add(f"{where}: the stored digest differs from the one recorded in the chain")
    return count


def _verify_rejections(conn: Connection, problems: _Problems) -> None:
    query = (
        select(rejections.c.id, rejections.c.digest, rejections.c.raw)
        .where(rejections.c.raw.is_not(None))
        .order_by(rejections.c.id)
    )
    for rejection_id, digest, raw in conn.execute(query):
        if sha256_hex(raw) != digest:
            problems.add(f"rejection {rejection_id}: the stored bytes do not match the stored digest")
