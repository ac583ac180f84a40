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
- ``chain_heads`` holds, per chain, the seq and hash of its last entry, so removing entries at
  the tail is detected too. For protection against someone who can rewrite a whole chain *and*
  its head, record a head outside the database now and then (``ledger verify`` prints them all)
  and compare; in a ledger of several chains, the anchors' head binds them all (below).

Several chains (issue 16, :mod:`broker.hub.ledger.chains`)
-----------------------------------------------------------
Every row also has ``chain`` (its chain's name) and ``pos`` (its place across all chains,
rising along each chain; NULL for anchors). ``seq``, ``prev_hash`` and genesis are per chain. An
entry of chain ``main`` with ``pos`` = ``seq`` (every entry of a one-chain ledger, and of one
migrated) is hashed exactly as above; any other entry adds two keys to the hashed object::

    entry = {..., "chain": chain, "pos": pos}        # pos: an integer, or null for an anchor

An anchor (chain ``anchors``, action ``anchor``) has the detail ``{"heads": {chain: [seq, hash]}}``
listing every other chain's head when it was written; verify checks each against the entry
stored at that seq of that chain.

Verification (:func:`verify`) streams the entries in pos order and reports, by chain and seq: gaps,
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
from json import encoder
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, inspect, select

from broker.hub.ledger.countcheck import CountReplay, compare_counts
from broker.hub.ledger.records import ChainReport
from broker.hub.ledger.rowcheck import RowReplay, compare_rows
from broker.hub.ledger.schema import (
    ANCHOR_CHAIN,
    MAIN_CHAIN,
    audit,
    chain_heads,
    legacy_audit,
    legacy_chain_head,
)

GENESIS = "0" * 64
MAX_PROBLEMS = 1000  # a wholesale rewrite would otherwise report millions of lines
_STREAM = 2000
ANCHOR_HEADS = "heads"  # an anchor's detail: {"heads": {chain: [seq, hash], ...}}


def canonical_json(obj: Any) -> str:
    """The one serialization that is hashed (strict JSON: NaN and infinities are refused)."""
    if _ENCODE is None:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return "".join(_ENCODE(obj, 0))


def _c_encoder() -> Any:
    """json's C encoder with :func:`canonical_json`'s settings, built once. ``json.dumps`` with
    these arguments builds an encoder object and this C encoder on every call, a third of its time
    for the hub's small entries (several per document, on the pipeline thread). The output is
    ``json.dumps``'s, byte for byte (the same C code); only the check for circular references is
    left out (no entry is circular; one would end in RecursionError). None where there is no C
    encoder (not CPython): then ``json.dumps`` is used."""
    if encoder.c_make_encoder is None:
        return None
    return encoder.c_make_encoder(
        None, json.JSONEncoder().default, encoder.encode_basestring, None, ":", ",", True, False, False
    )


_ENCODE = _c_encoder()


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
    chain: str | None = None,
    pos: int | None = None,
) -> str:
    """The hash of one link, given the previous link's hash (see the module docstring).

    ``chain`` and ``pos`` are hashed when given (entries of a ledger of several chains); a
    one-chain ledger's entries (chain ``main``, pos = seq) hash without them, as they always did.
    """
    entry: dict[str, Any] = {
        "seq": seq,
        "at": at,
        "actor": actor,
        "client": client,
        "action": action,
        "document_id": document_id,
        "detail": detail,
    }
    if chain is not None:
        entry["chain"] = chain
        entry["pos"] = pos
    return hashlib.sha256((prev_hash + "\n" + canonical_json(entry)).encode("utf-8")).hexdigest()


def row_hash(row: Any) -> str:
    """The hash a stored audit row must carry: one-chain form when it is a one-chain entry
    (chain ``main`` and pos = seq, which binds pos through seq), else with chain and pos."""
    one_chain = row.chain == MAIN_CHAIN and row.pos == row.seq
    return entry_hash(
        row.prev_hash,
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        client=row.client,
        action=row.action,
        document_id=row.document_id,
        detail=row.detail,
        chain=None if one_chain else row.chain,
        pos=None if one_chain else row.pos,
    )


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
    """Check every chain, every anchor and the evidence they cover; ``conn`` should see one
    consistent snapshot. A ledger not yet migrated to chains (one ``chain_head`` row) is
    checked as the one chain it is."""
    if is_legacy(conn):
        return _verify(conn, _legacy_entries(conn), _legacy_heads(conn), several=False)
    heads = {r.chain: (r.seq, r.hash) for r in conn.execute(select(chain_heads))}
    entries = conn.execution_options(yield_per=_STREAM).execute(
        select(audit).where(audit.c.pos.is_not(None)).order_by(audit.c.pos)
    )
    several = any(c != MAIN_CHAIN for c in heads if c != ANCHOR_CHAIN)
    return _verify(conn, entries, heads, several=several)


def is_legacy(conn: Connection) -> bool:
    """True for a ledger written before chains (an ``audit`` table without a ``chain`` column)."""
    names = {c["name"] for c in inspect(conn).get_columns("audit", schema=_schema(conn))}
    return "chain" not in names


def _schema(conn: Connection) -> str | None:
    translate = conn.get_execution_options().get("schema_translate_map") or {}
    return translate.get(None)


def _legacy_entries(conn: Connection) -> Iterable[Any]:
    rows = conn.execution_options(yield_per=_STREAM).execute(select(legacy_audit).order_by(legacy_audit.c.seq))
    return (_LegacyRow(r) for r in rows)


class _LegacyRow:
    """A row of the one-chain layout, seen as an entry of chain ``main`` with pos = seq."""

    __slots__ = ("_row", "chain", "pos")

    def __init__(self, row: Any) -> None:
        self._row, self.chain, self.pos = row, MAIN_CHAIN, row.seq

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)


def _legacy_heads(conn: Connection) -> dict[str, tuple[int, str]]:
    head = conn.execute(select(legacy_chain_head.c.seq, legacy_chain_head.c.hash)).first()
    return {} if head is None else {MAIN_CHAIN: (head.seq, head.hash)}


def _verify(conn: Connection, entries: Iterable[Any], heads: dict[str, tuple[int, str]], *, several: bool) -> ChainReport:
    problems = _Problems()
    streaming = conn.execution_options(yield_per=_STREAM)
    replay, counted = RowReplay(), CountReplay()
    try:
        chains = _verify_entries(entries, replay, counted, problems)
        for line in _verify_heads(heads, chains):
            problems.add(line)
        anchors = _verify_anchors(streaming, chains, problems) if ANCHOR_CHAIN in heads else _Anchors()
        # row problems name the entry by pos: in a ledger of several chains that is not a seq
        rows_add = problems.add if not several else (lambda line: problems.add(_by_pos(line)))
        counts = compare_rows(streaming, replay, rows_add)
        minutes = compare_counts(streaming, counted, rows_add)
    finally:
        replay.close()
    counts.stored["rejection_counts"], counts.named["rejection_counts"] = minutes.stored, minutes.named
    main = heads.get(MAIN_CHAIN)
    return ChainReport(
        entries=sum(c.entries for c in chains.values()) + anchors.entries,
        documents=counts.stored.get("documents", 0),
        head_seq=main[0] if main else None,
        head_hash=main[1] if main else None,
        problems=problems.result(),
        stored=counts.stored,
        named=counts.named,
        predating=counts.predating,
        open_counts=minutes.open,
        heads=dict(sorted(heads.items())),
        anchors=anchors.entries,
        unanchored={n: c.last_seq - anchors.bound.get(n, 0) for n, c in sorted(chains.items())}
        if ANCHOR_CHAIN in heads
        else {},
    )


_SEQ_REF = re.compile(r"(^|\(|, )seq (\d+)")


def _by_pos(line: str) -> str:
    return _SEQ_REF.sub(lambda m: f"{m.group(1)}pos {m.group(2)}", line)


class _Chain:
    """One chain's state while its entries stream past."""

    __slots__ = ("entries", "last_pos", "last_seq", "prev_hash")

    def __init__(self) -> None:
        self.entries, self.last_seq, self.prev_hash, self.last_pos = 0, 0, GENESIS, 0


def _where(chain: str, seq: int | str) -> str:
    # a one-chain ledger's problems read as they always did
    return f"seq {seq}" if chain == MAIN_CHAIN else f"chain {chain} seq {seq}"


def _verify_entries(
    rows: Iterable[Any], replay: RowReplay, counted: CountReplay, problems: _Problems
) -> dict[str, _Chain]:
    """Stream the entries in pos order: each chain's links, hashes and gaps, pos rising along
    each chain; file their row operations and the minutes' rejection counts."""
    chains: dict[str, _Chain] = {}
    for row in rows:
        state = chains.get(row.chain)
        if state is None:
            state = chains[row.chain] = _Chain()
        _check_link(row, state, problems)
        replay.entry(row.pos, row.document_id, row.detail)
        counted.entry(row.pos, row.at, row.action, row.client, row.detail)
    return chains


def _check_link(row: Any, state: _Chain, problems: _Problems) -> None:
    expected = state.last_seq + 1
    if row.seq != expected:
        if row.seq > expected:
            span = _span(expected, row.seq - 1)
            problems.add(f"{_where(row.chain, span[4:])}: missing (the chain continues at seq {row.seq})")
        else:
            problems.add(f"{_where(row.chain, row.seq)}: out of order (pos {row.pos} after a later entry)")
    if row.prev_hash != state.prev_hash:
        problems.add(f"{_where(row.chain, row.seq)}: prev_hash does not match the hash of the entry before it")
    if row_hash(row) != row.hash:
        problems.add(f"{_where(row.chain, row.seq)}: entry does not match its hash (edited, or moved from elsewhere)")
    state.entries += 1
    state.last_seq, state.prev_hash, state.last_pos = row.seq, row.hash, row.pos or 0


def _verify_heads(heads: dict[str, tuple[int, str]], chains: dict[str, _Chain]) -> list[str]:
    lines = []
    if MAIN_CHAIN not in heads:
        lines.append("chain_head: the head row is missing")
    for name in sorted(set(chains) - set(heads) - {MAIN_CHAIN}):
        lines.append(f"chain {name}: entries without a head row (written outside the ledger)")
    for name, (seq, hash_) in sorted(heads.items()):
        if name == ANCHOR_CHAIN:
            continue  # checked with the anchors
        state = chains.get(name, _Chain())
        lines.extend(_head_problems(name, seq, hash_, state))
    return lines


def _head_problems(name: str, seq: int, hash_: str, state: _Chain) -> list[str]:
    last = state.last_seq
    if seq > last:
        return [f"{_where(name, _span(last + 1, seq)[4:])}: missing at the end (the head records seq {seq})"]
    if seq < last:
        return [f"{_where(name, _span(seq + 1, last)[4:])}: after the recorded head (written outside the ledger)"]
    if hash_ != state.prev_hash:
        return [f"{_where(name, last)}: the head's hash differs from the last entry's"]
    return []


class _Anchors:
    __slots__ = ("bound", "entries")

    def __init__(self) -> None:
        self.entries = 0
        self.bound: dict[str, int] = {}  # chain -> the highest seq an anchor binds


def _verify_anchors(conn: Connection, chains: dict[str, _Chain], problems: _Problems) -> _Anchors:
    """The anchor chain: its own links and head, and every head it recorded against the entry
    stored at that seq (a chain rewritten after it was anchored no longer matches)."""
    result, state = _Anchors(), _Chain()
    head = conn.execute(select(chain_heads).where(chain_heads.c.chain == ANCHOR_CHAIN)).first()
    anchor_rows = conn.execute(select(audit).where(audit.c.chain == ANCHOR_CHAIN).order_by(audit.c.seq))
    for row in anchor_rows:
        _check_link(row, state, problems)
        result.entries += 1
        recorded = _anchor_heads(row.detail)
        if recorded is None:
            problems.add(f"{_where(ANCHOR_CHAIN, row.seq)}: an anchor the verifier does not understand")
            continue
        for name, (seq, hash_) in sorted(recorded.items()):
            if seq < result.bound.get(name, 0):
                problems.add(f"{_where(ANCHOR_CHAIN, row.seq)}: chain {name} went back to seq {seq}")
            result.bound[name] = max(seq, result.bound.get(name, 0))
            stored = conn.execute(
                select(audit.c.hash).where(audit.c.chain == name, audit.c.seq == seq)
            ).scalar()
            if stored != hash_:
                what = "is missing" if stored is None else "has another hash (rewritten after the anchor)"
                problems.add(f"{_where(ANCHOR_CHAIN, row.seq)}: anchors {_where(name, seq)}, which {what}")
    if head is not None:
        for line in _head_problems(ANCHOR_CHAIN, head.seq, head.hash, state):
            problems.add(line)
    return result


def _anchor_heads(detail: str) -> dict[str, tuple[int, str]] | None:
    try:
        heads = json.loads(detail).get(ANCHOR_HEADS)
        return {str(n): (int(v[0]), str(v[1])) for n, v in heads.items()}
    except (ValueError, AttributeError, TypeError, IndexError, KeyError):
        return None
