"""Several hubs on one broker and one PostgreSQL ledger (issue 6, "Scale-out"; docs/deployment.md).

Two hub processes with identities of their own (registry ``hub.instances``) share the documents
through an MQTT v5 shared subscription and write one ledger. What must hold: every document is
accepted once and handed to its recipient once, however many hubs saw it; both hubs work; and
when one dies, the other finishes its work (its deliveries are taken over, and what was stranded
in its MQTT session comes back through the senders' resend).
"""

from __future__ import annotations

import collections
import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select

from broker.hub.ledger import Ledger
from broker.hub.ledger.schema import audit, deliveries
from broker.mosquitto.config import render_acl
from broker.registry import load_registry
from broker.registry.model import HubEntry
from broker.sandbox import EXAMPLE_CERTS, EXAMPLE_REGISTRY
from broker.transport import topics
from broker.transport.mqtt import certificate_cn
from tests.network import (
    BANK,
    COURT,
    HUB,
    CourtClient,
    HubProcess,
    Recorder,
    fresh,
    hub_config,
    unit_client,
    unit_config,
    wait_until,
)
from tests.pg import pg_url  # noqa: F401

REGISTRY = load_registry(EXAMPLE_REGISTRY)
A, B = (REGISTRY.hub.instance_identity(i) for i in REGISTRY.hub.instances[:2])


# --- identities --------------------------------------------------------------------------------------


def test_hub_instances_have_identities_of_their_own():
    assert REGISTRY.hub.instances == ["a", "b"]
    assert REGISTRY.hub.identities == [HUB, f"{HUB}-a", f"{HUB}-b"]
    for name in REGISTRY.hub.instances:
        tls = EXAMPLE_CERTS / "units" / HUB / "instances" / name / "tls.pem"
        assert certificate_cn(tls) == f"{HUB}-{name}"
    acl = render_acl(REGISTRY)
    hub_block = acl.split(f"user {HUB}\n", 1)[1].split("\n\n", 1)[0]
    for identity in (A, B):
        assert f"user {identity}\n{hub_block}\n" in acl  # the hub's permissions, nothing more
    for bad in (["A"], ["-a"], ["a", "a"], ["x" * 17], ["a b"]):
        with pytest.raises(ValueError):
            HubEntry(code=HUB, name="hub", instances=bad)


def test_an_instance_config_connects_as_the_instance_with_a_short_shared_session(tmp_path):
    config = hub_config(HUB, port=1883, var=tmp_path, instance="a", broker={"shared_group": "hubs"})
    assert certificate_cn(config.broker.cert) == A and config.broker.client_id == A
    assert config.identity.cert == EXAMPLE_CERTS / "units" / HUB / "sign.pem"  # the hub's one seal
    assert config.broker.session_expiry_seconds == 60  # what a dead member strands is dropped soon
    alone = hub_config(HUB, port=1883, var=tmp_path)
    assert alone.broker.session_expiry_seconds == 7 * 24 * 3600 and certificate_cn(alone.broker.cert) == HUB


# --- the ledger: who publishes which delivery ------------------------------------------------------------


def _ledger_with_deliveries(url: str, schema: str | None, instance: str | None, n: int) -> list[int]:
    from tests.test_ledger import doc, receive  # the ledger tests' document factory

    ledger = Ledger(url, schema=schema, instance=instance)
    ledger.create_schema()
    ids = []
    with ledger.transaction() as tx:
        for _ in range(n):
            ids.extend(receive(tx, doc()))
    ledger.close()
    return ids


def test_deliveries_of_a_silent_or_stopped_instance_are_taken_over_once(pg_url):  # noqa: F811
    from datetime import datetime, timedelta, timezone

    url, schema = pg_url
    mine = _ledger_with_deliveries(url, schema, "hub-a", 3)
    anyones = _ledger_with_deliveries(url, schema, None, 1)
    a, b = Ledger(url, schema=schema, instance="hub-a"), Ledger(url, schema=schema, instance="hub-b")
    now = datetime.now(timezone.utc)
    try:
        with a.transaction() as tx:
            tx.instance_heartbeat("hub-a", now)
            tx.mark_acked(tx.get_delivery(mine[0]).recipient, [tx.get_delivery(mine[0]).document_id], now)
        with b.transaction() as tx:
            tx.instance_heartbeat("hub-b", now)
            live = tx.live_instances(now - timedelta(seconds=60))
            assert sorted(live) == ["hub-a", "hub-b"]
            assert tx.take_over_deliveries("hub-b", live) == {None: 1}  # a is alive: only the unowned one
            assert [d.id for d in tx.open_deliveries(owner="hub-b")] == anyones
        with b.transaction() as tx:  # a fell silent: no heartbeat since
            assert tx.live_instances(now + timedelta(seconds=1)) == []
            assert tx.take_over_deliveries("hub-b", ["hub-b"]) == {"hub-a": 2}  # the acked one stays
            assert tx.take_over_deliveries("hub-b", ["hub-b"]) == {}
            assert tx.get_delivery(mine[0]).owner == "hub-a"
        with a.transaction() as tx:  # a re-arms a delivery (a duplicate's receipt): it is a's again
            delivery = tx.get_delivery(mine[1])
            assert tx.rearm_delivery(delivery.document_id, delivery.recipient) == mine[1]
            assert tx.get_delivery(mine[1]).owner == "hub-a"
            tx.instance_heartbeat("hub-a", now, running=False)  # and a stops
        with b.transaction() as tx:
            assert "hub-a" not in tx.live_instances(now - timedelta(seconds=60))
            assert tx.take_over_deliveries("hub-b", tx.live_instances(now - timedelta(seconds=60))) == {
                "hub-a": 1
            }
        assert a.verify().ok
    finally:
        a.close()
        b.close()


def test_a_ledger_from_before_several_hubs_gets_the_owner_column(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    ids = _ledger_with_deliveries(url, None, None, 2)
    with sqlite3.connect(tmp_path / "old.db") as db:  # as the ledger was before the column existed
        db.execute("DROP INDEX ix_deliveries_open")
        db.execute("DROP INDEX ix_deliveries_open_recipient")
        db.execute("ALTER TABLE deliveries DROP COLUMN owner")
    ledger = Ledger(url, instance="hub-a")
    try:
        ledger.create_schema()
        with ledger.transaction() as tx:
            assert tx.take_over_deliveries("hub-a", []) == {None: 2}
            assert [d.id for d in tx.open_deliveries(owner="hub-a")] == ids
    finally:
        ledger.close()


def _create_schema(url: str, schema: str) -> None:
    ledger = Ledger(url, schema=schema)
    try:
        ledger.create_schema()
    finally:
        ledger.close()


def test_hubs_starting_together_on_a_fresh_postgresql_schema_all_start(pg_url):  # noqa: F811
    """Without a lock, concurrent CREATE SCHEMA / CREATE TABLE collide and a hub dies at start."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import psycopg

    from tests.pg import _connect

    url, schema = pg_url
    fresh_schemas = [f"{schema}_{i}" for i in range(3)]
    try:
        with ProcessPoolExecutor(4, mp_context=multiprocessing.get_context("spawn")) as pool:
            for name in fresh_schemas:
                for future in [pool.submit(_create_schema, url, name) for _ in range(4)]:
                    future.result()
    finally:
        with _connect() as admin:
            for name in fresh_schemas:
                admin.execute(
                    psycopg.sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(psycopg.sql.Identifier(name))
                )


# --- two hubs on one broker and one ledger -------------------------------------------------------------------


def _hub(mosquitto, tmp_path: Path, pg_url, instance: str, **delivery) -> HubProcess:  # noqa: F811
    url, schema = pg_url
    config = hub_config(
        HUB,
        port=mosquitto.port,
        var=tmp_path / f"hub-{instance}",
        ledger_url=url,
        ledger_schema=schema,
        workers=0,
        instance=instance,
        # a killed hub's session (and what the broker queued in it) goes after 2 s
        broker={"shared_group": "hubs", "session_expiry_seconds": 2},
        delivery={"ack_timeout_seconds": 5, **delivery},
    )
    directory = tmp_path / f"hub-{instance}"
    directory.mkdir(parents=True, exist_ok=True)
    return HubProcess(config, directory)


def _court(mosquitto, tmp_path, resend: float) -> CourtClient:
    court = CourtClient(
        unit_config(COURT, port=mosquitto.port, var=tmp_path / "units", resend_after_seconds=resend),
        handler=Recorder(),
    )
    return court


def _bank(mosquitto, tmp_path):
    recorder = Recorder()
    client = unit_client(unit_config(BANK, port=mosquitto.port, var=tmp_path / "units"), recorder)
    client.recorder = recorder
    return client


class LedgerView:
    """What the test reads from the shared ledger (SQL, read-only)."""

    def __init__(self, pg_url):  # noqa: F811
        url, schema = pg_url
        self.ledger = Ledger(url, schema=schema)

    def rows(self, statement):
        with self.ledger.engine.connect() as conn:
            return list(conn.execute(statement))

    def audit(self, action: str) -> list[tuple[str, dict]]:
        return [
            (r.document_id, json.loads(r.detail))
            for r in self.rows(select(audit.c.document_id, audit.c.detail).where(audit.c.action == action))
        ]

    def open_by_owner(self) -> dict[str | None, int]:
        c = deliveries.c
        return dict(self.rows(select(c.owner, func.count()).where(c.state != "acked").group_by(c.owner)))

    def open_ids(self, owner: str) -> set[int]:
        c = deliveries.c
        return {r.id for r in self.rows(select(c.id).where(c.state != "acked", c.owner == owner))}

    def owners(self, ids: set[int]) -> collections.Counter[str | None]:
        c = deliveries.c
        return collections.Counter(r.owner for r in self.rows(select(c.owner).where(c.id.in_(sorted(ids)))))

    def check_each_document_once(self, ids: list[str]) -> collections.Counter[str]:
        """Every id accepted exactly once (one 'accepted' entry, whichever hub); returns the count per hub."""
        accepted = [(d, detail) for d, detail in self.audit("accepted") if d in set(ids)]
        per_id = collections.Counter(d for d, _ in accepted)
        assert set(per_id) == set(ids), f"{len(set(ids) - set(per_id))} documents not accepted"
        assert max(per_id.values()) == 1, [d for d, n in per_id.items() if n > 1][:5]
        report = self.ledger.verify()
        assert report.ok, report.problems
        return collections.Counter(detail["hub"] for _, detail in accepted)

    def close(self) -> None:
        self.ledger.close()


def _settled(court: CourtClient, n: int) -> int:
    return n - len(court.unit.store.sent(state="pending"))


def test_two_hubs_share_the_load_and_handle_each_document_once(mosquitto, tmp_path, pg_url):  # noqa: F811
    """1,000 documents through two hubs; 50 of them published twice in a row, so the copies go to
    the other hub (the broker hands a shared subscription's messages out in turn) and race."""
    hubs = [_hub(mosquitto, tmp_path, pg_url, name) for name in ("a", "b")]
    view = LedgerView(pg_url)
    bank = _bank(mosquitto, tmp_path)
    court = _court(mosquitto, tmp_path, resend=300)  # no resends: the only duplicates are ours
    try:
        for h in hubs:
            h.start()
        bank.start()
        with court:
            sealed = [court.seal(fresh()) for _ in range(1000)]
            ids = []
            for i, raw in enumerate(sealed):
                ids.append(court.unit.send(raw))
                if i % 20 == 0:
                    court.unit.client.publish(topics.outbox(COURT), raw, qos=1)  # the very same bytes
            wait_until(
                lambda: _settled(court, len(ids)) == len(ids), 120, "a service receipt for every document"
            )
            bank.recorder.wait_for(lambda r: all(r.counts[i] for i in ids), 120, "every document at the bank")
            wait_until(lambda: not view.open_by_owner(), 60, "every delivery acknowledged")

            assert not [s for s in court.unit.store.sent() if s.state != "receipted"]
            assert {i: n for i, n in bank.recorder.counts.items() if n != 1} == {}
            assert sorted(bank.recorder.counts) == sorted(ids)
            per_hub = view.check_each_document_once(ids)
            assert set(per_hub) == {A, B} and min(per_hub.values()) >= 100, per_hub  # both worked

            duplicates = [(d, detail["hub"]) for d, detail in view.audit("duplicate")]
            # Each copy was recognised as a duplicate (the court's client may add a few of its own:
            # it can resend a document in the instant between storing and publishing it).
            assert set(ids[::20]) <= {d for d, _ in duplicates} <= set(ids)
            accepted_by = {d: detail["hub"] for d, detail in view.audit("accepted")}
            crossed = sum(1 for d, hub in duplicates if hub != accepted_by[d])
            assert crossed > 0, "no copy reached the other hub"
    finally:
        bank.stop()
        for h in hubs:
            h.stop()
        view.close()


def test_a_hub_killed_mid_run_the_other_finishes_its_work(mosquitto, tmp_path, pg_url):  # noqa: F811
    """The bank is away while the court sends, so the deliveries stay open; hub b is killed with
    some of them its own. Hub a takes them over; what b had received but not committed stayed in
    b's MQTT session, which the broker drops when it expires, and the court resends it."""
    hubs = {name: _hub(mosquitto, tmp_path, pg_url, name, takeover_after_seconds=4) for name in ("a", "b")}
    view = LedgerView(pg_url)
    bank = _bank(mosquitto, tmp_path)
    court = _court(mosquitto, tmp_path, resend=3)
    try:
        for h in hubs.values():
            h.start()
        bank.start()
        bank.stop()  # the bank's session exists; it is now offline
        with court:
            sealed = [court.seal(fresh()) for _ in range(600)]
            ids = [court.unit.send(raw) for raw in sealed]
            wait_until(lambda: _settled(court, len(ids)) >= 150, 120, "150 service receipts")
            wait_until(lambda: view.open_ids(B), 30, "open deliveries of hub b")
            hubs["b"].kill()
            orphaned = view.open_ids(B)
            assert orphaned

            wait_until(lambda: B not in view.open_by_owner(), 60, "hub a to take over hub b's deliveries")
            wait_until(
                lambda: _settled(court, len(ids)) == len(ids), 120, "a service receipt for every document"
            )
            bank = _bank(mosquitto, tmp_path)
            bank.start()
            bank.recorder.wait_for(lambda r: all(r.counts[i] for i in ids), 120, "every document at the bank")
            wait_until(lambda: not view.open_by_owner(), 60, "every delivery acknowledged")

            assert not [s for s in court.unit.store.sent() if s.state != "receipted"]
            assert {i: n for i, n in bank.recorder.counts.items() if n != 1} == {}
            assert sorted(bank.recorder.counts) == sorted(ids)
            per_hub = view.check_each_document_once(ids)
            assert set(per_hub) == {A, B}, per_hub
            owners = view.owners(orphaned)
            assert set(owners) == {A} or (set(owners) <= {A, B} and owners[A] > 0), owners
            assert '"delivery.takeover"' in hubs["a"].log()
    finally:
        bank.stop()
        for h in hubs.values():
            h.stop()
        view.close()
