"""The demo's closing report: every signature received checked again, each case's story from
the ledger, and a summary table."""

from __future__ import annotations

import collections
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from broker.checking import DocumentChecker
from broker.demo.network import HOUSING_FUND, LocalNetwork
from broker.demo.scenario import CASE_A, CASE_B
from broker.documents.catalogue import DIRECTIONS
from broker.documents.document import CHINA_TZ
from broker.hub.ledger.schema import deadlines, documents, rejections


def verify_everything(net: LocalNetwork) -> tuple[int, int, collections.Counter[str]]:
    """Check the seal of every document any party of the demo received (courts, office,
    adapters), as a security reviewer would: returns (verified, total, types seen)."""
    from broker.signing import TrustStore

    trust = TrustStore.from_files([net.seals / "root-ca.pem"], [net.seals / "crl.pem"])
    checker = DocumentChecker(trust, net.registry)
    stores = [p.client.store for p in net.parties.values()]
    stores += [service.unit.store for service in net.adapters.values()]
    if net.desk is not None:  # the bank's store, now the desk's (its adapter stopped)
        stores.append(net.desk.runtime.store)
    opened = []
    if net.curl_unit is not None:  # the curl unit's gateway keeps its store in a file of the demo's folder
        from broker.transport.store import UnitStore

        opened.append(UnitStore(net.curl_unit.store))
        stores += opened
    verified = total = 0
    types: collections.Counter[str] = collections.Counter()
    for store in stores:
        for entry in store.inbox():
            total += 1
            checked = checker.check(entry.raw)
            # A document of the past (a receipt from before a clock jump) may now be older than the
            # hub's window; the seal itself is what is checked here.
            problems = [c for c in checked.codes if c != "SIG_TIME_SKEW"]
            if checked.verified is not None and not problems:
                verified += 1
                types[entry.doc_type] += 1
    for store in opened:
        store.close()
    return verified, total, types


def _short(net: LocalNetwork, code: str) -> str:
    if code == net.registry.hub.code:
        return "hub"
    unit = net.registry.unit(code)
    return unit.name.replace("股份有限公司", "")[:12] if unit else code


def print_stories(net: LocalNetwork, console: Console) -> None:
    assert net.hub is not None
    with net.hub.ledger.transaction() as tx:
        cases = {case: tx.documents_in_case(case) for case in (CASE_A, CASE_B)}
    for case, docs in cases.items():
        table = Table(title=f"案件 {case} — the case's documents in the ledger, in order", show_lines=False, expand=False)
        for column in ("time of service (CST)", "document", "from", "to", "state"):
            table.add_column(column)
        for d in docs:
            table.add_row(
                d.received_at.astimezone(CHINA_TZ).strftime("%H:%M:%S.%f")[:-3],
                d.doc_type,
                _short(net, d.sender),
                _short(net, d.recipient),
                d.state,
            )
        console.print(table)


def print_story_of(net: LocalNetwork, console: Console, document_id: str, title: str) -> None:
    assert net.hub is not None
    table = Table(title=title)
    for column in ("seq", "action", "document", "detail"):
        table.add_column(column)
    for entry in net.hub.ledger.story(document_id):
        detail = entry.detail
        shown = ", ".join(f"{k}={v}" for k, v in detail.items() if k in ("type", "codes", "by", "recipient"))
        table.add_row(str(entry.seq), entry.action, (entry.document_id or "")[:8], shown)
    console.print(table)


def summary(net: LocalNetwork) -> dict[str, Any]:
    assert net.hub is not None
    ledger = net.hub.ledger
    with ledger.engine.connect() as conn:
        types = collections.Counter(
            (row.doc_type, row.origin) for row in conn.execute(select(documents.c.doc_type, documents.c.origin))
        )
        rejected = conn.execute(select(rejections.c.id)).all()
        rows = conn.execute(select(deadlines)).all()
        curl_receipts = conn.execute(
            select(documents.c.document_id).where(
                documents.c.sender == HOUSING_FUND, documents.c.doc_type == "ExecutionReceipt"
            )
        ).all()
    on_time = sum(1 for r in rows if r.answered_at is not None and r.answered_at <= r.due_at)
    late = sum(1 for r in rows if r.answered_at is not None and r.answered_at > r.due_at)
    return {
        "types": types,
        "rejected": len(rejected),
        "deadlines": len(rows),
        "on_time": on_time,
        "late": late,
        "open": sum(1 for r in rows if r.state == "open"),
        "chain": ledger.verify(),
        "curl_receipts": len(curl_receipts),
    }


def print_summary(net: LocalNetwork, console: Console, verified: tuple[int, int, Any]) -> set[str]:
    facts = summary(net)
    table = Table(title="文书类型 — document types through the hub")
    table.add_column("document type")
    table.add_column("sent by units/courts", justify="right")
    table.add_column("issued by the hub", justify="right")
    seen: set[str] = set()
    for doc_type in sorted(DIRECTIONS):
        unit, hub = facts["types"].get((doc_type, "unit"), 0), facts["types"].get((doc_type, "hub"), 0)
        if unit or hub:
            seen.add(doc_type)
        table.add_row(doc_type, str(unit or "—"), str(hub or "—"))
    console.print(table)
    ok, total, _ = verified
    chain = facts["chain"]
    console.print(
        f"  document types used: {len(seen)} of {len(DIRECTIONS)}; rejected payloads: {facts['rejected']}; "
        f"deadlines watched: {facts['deadlines']} ({facts['on_time']} answered on time, {facts['late']} late, "
        f"{facts['open']} open)"
    )
    console.print(
        f"  housing fund centre (curl and jq through its gateway, no Python): "
        f"{facts['curl_receipts']} sealed receipts through the hub"
    )
    console.print(
        f"  seals checked again: {ok} of {total} documents received verify; "
        f"ledger: {chain.entries} audit entries, hash chain {'intact' if chain.ok else 'BROKEN'} (head {chain.head_hash[:16]}…)"
    )
    return seen
