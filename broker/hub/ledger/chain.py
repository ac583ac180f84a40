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
and a head that does not match the last entry. On the way it replays the row operations that
entries carry (``detail["rows"]``, :mod:`broker.hub.ledger.coverage`): the chain covers every
evidence row and every column with legal meaning (documents, rejections, acknowledged
deliveries, deadlines). It then streams the stored rows (:mod:`broker.hub.ledger.rowcheck`) and
reports each column that differs from the chain, each row the chain recorded that is not stored,
and each stored row the chain never recorded; and checks that each document's stored ``raw``
still hashes to its ``digest``, and that the digest equals ``detail["digest"]`` of the
document's first audit entry. Finally it compares the stored ``rejection_counts`` (payloads
refused without a record each) with the ``rejections_counted`` entries, per sender and minute
(:mod:`broker.hub.ledger.countcheck`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Connection, select

from broker.hub.ledger.countcheck import CountReplay, compare_counts
from broker.hub.ledger.records import ChainReport
from broker.hub.ledger.rowcheck import RowReplay, compare_rows
from broker.hub.ledger.schema import audit, chain_head

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

    replay, counted = RowReplay(), CountReplay()
    try:
        entries, last_seq, prev_hash = _verify_entries(streaming, replay, counted, problems)
        _verify_head(head, last_seq, prev_hash, problems)
        counts = compare_rows(streaming, replay, problems.add)
        minutes = compare_counts(streaming, counted, problems.add)
    finally:
        replay.close()
    counts.stored["rejection_counts"], counts.named["rejection_counts"] = minutes.stored, minutes.named
    return ChainReport(
        entries=entries,
        documents=counts.stored.get("documents", 0),
        head_seq=head.seq if head else None,
        head_hash=head.hash if head else None,
        problems=problems.result(),
        stored=counts.stored,
        named=counts.named,
        predating=counts.predating,
        open_counts=minutes.open,
    )


def _verify_entries(
    conn: Connection, replay: RowReplay, counted: CountReplay, problems: _Problems
) -> tuple[int, int, str]:
    """Stream the entries in seq order: links, hashes, gaps; file their row operations and
    the minutes' rejection counts.
    Returns the number of entries, the last seq and the last hash."""
    entries = 0
    expected, prev_hash = 1, GENESIS
    for row in conn.execute(select(audit).order_by(audit.c.seq)):
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
        replay.entry(row.seq, row.document_id, row.detail)
        counted.entry(row.seq, row.at, row.action, row.client, row.detail)
        expected, prev_hash = row.seq + 1, row.hash
    return entries, expected - 1, prev_hash


def _verify_head(head: Any, last_seq: int, prev_hash: str, problems: _Problems) -> None:
    if head is None:
        problems.add("chain_head: the head row is missing")
    elif head.seq > last_seq:
        problems.add(f"{_span(last_seq + 1, head.seq)}: missing at the end (the head records seq {head.seq})")
    elif head.seq < last_seq:
        problems.add(f"{_span(head.seq + 1, last_seq)}: after the recorded head (written outside the ledger)")
    elif head.hash != prev_hash:
        problems.add(f"seq {last_seq}: the head's hash differs from the last entry's")
