"""A full disk under the ledger (issue 11, item 7): the hub acknowledges nothing it could not
record, says so on /healthz and in its log (HUB_STORAGE_FULL), and once space is freed goes on by
itself: every notice served exactly once, the linkage office told."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select

from broker.hub.ledger.schema import documents
from broker.hub.service import Hub
from broker.mosquitto import free_port
from broker.registry import load_registry
from broker.sandbox import EXAMPLE_REGISTRY
from tests.network import (
    BANK,
    COURT,
    HUB,
    CourtClient,
    Recorder,
    fresh,
    hub_config,
    unit_client,
    unit_config,
    wait_until,
)

OFFICE = load_registry(EXAMPLE_REGISTRY).office
N = 300
DISK = 32 * 1024 * 1024
ROOM = 1024 * 1024
"""Free space left when the load starts: a few dozen notices' worth (each costs the ledger its
bytes, its receipt's, their audit entries and deliveries, in SQLite's write-ahead log)."""


@pytest.fixture
def small_disk(tmp_path: Path):
    """A tmpfs of 32 MiB, unmounted afterwards whatever happens."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK}", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"a small file system cannot be mounted here (mount -t tmpfs needs root): {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(disk: Path, leave: int) -> Path:
    """A file taking all but ``leave`` bytes of the file system."""
    filler = disk / "filler"
    stat = os.statvfs(disk)
    free = stat.f_bavail * stat.f_frsize
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, free - leave))
    return filler


def _health(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as answer:
        return answer.code, json.loads(answer.read())


def test_a_full_disk_stops_the_hub_and_freed_space_resumes_it(mosquitto, tmp_path, small_disk, caplog):
    caplog.set_level(logging.INFO, logger="liandong.hub")
    units = tmp_path / "units"  # the units' stores are not on the small disk
    bank_recorder, office_recorder = Recorder(), Recorder()
    bank = unit_client(unit_config(BANK, port=mosquitto.port, var=units), bank_recorder)
    office = unit_client(unit_config(OFFICE, port=mosquitto.port, var=units), office_recorder)
    port = free_port()
    hub = Hub(
        hub_config(
            HUB,
            port=mosquitto.port,
            var=small_disk / "hub",
            workers=1,
            health_port=port,
            delivery={"ack_timeout_seconds": 600},
        )
    )
    court = CourtClient(unit_config(COURT, port=mosquitto.port, var=units, resend_after_seconds=3600.0))
    hub.start()
    bank.start()
    office.start()
    try:
        with court:
            status, body = _health(port)
            assert (status, body["status"]) == (200, "ok"), body
            sealed = [court.seal(fresh()) for _ in range(N)]
            filler = _fill(small_disk, ROOM)
            ids = [court.unit.send(raw) for raw in sealed]  # one after another, as fast as the court can

            wait_until(lambda: _health(port)[0] == 503, 60, "/healthz to say the hub is degraded")
            status, body = _health(port)
            assert body["status"] == "degraded" and body["reason"] == "HUB_STORAGE_FULL", body
            assert body["message_zh"] == "账本存储空间已满，暂停受理"
            with hub.ledger.engine.connect() as conn:  # what it holds now is all it acknowledged
                held = conn.execute(select(func.count()).select_from(documents).where(documents.c.sender == COURT)).scalar_one()
            assert held < N, "the disk never filled"
            assert court.unit.store.sent(state="pending"), "every notice answered with the disk full"

            filler.unlink()  # space is back: no restart, no resend
            wait_until(
                lambda: len(court.unit.store.sent(state="receipted")) == N, 120, "every notice receipted"
            )
            bank_recorder.wait_for(lambda r: all(r.counts[i] >= 1 for i in ids), 60, "every notice at the bank")
            assert max(bank_recorder.counts[i] for i in ids) == 1, "a notice handed over twice"
            with hub.ledger.engine.connect() as conn:
                stored = conn.execute(select(documents.c.document_id).where(documents.c.sender == COURT)).scalars().all()
            assert sorted(stored) == sorted(ids)  # each once
            assert hub.stats.accepted == N
            assert [s.attempts for s in court.unit.store.sent()] == [1] * N  # the court resent nothing

            wait_until(lambda: _health(port)[0] == 200, 30, "/healthz to say ok again")
            alert = office_recorder.wait_for(lambda r: r.of_type("AnomalyNotice"), 60, "the office's anomaly notice")
            assert [a.root.findtext(".//{*}AnomalyNotice/{*}Kind") for a in alert] == ["HubStorageFull"]
            events = [r.getMessage() for r in caplog.records]
            assert events.count("hub.storage_full") == 1 and events.count("hub.storage_recovered") == 1
            full = next(r for r in caplog.records if r.getMessage() == "hub.storage_full")
            assert full.fields["code"] == "HUB_STORAGE_FULL"
            assert "hub.pipeline_error" not in events
        assert hub.ledger.verify().ok
    finally:
        office.stop()
        bank.stop()
        hub.stop()


# --- the parts, without a full disk -----------------------------------------------------------------


def test_storage_errors_are_told_apart():
    """A full disk on SQLite (through SQLAlchemy), on the file system and on PostgreSQL (SQLSTATE
    53100) is HUB_STORAGE_FULL; another write error is HUB_STORAGE_FAILED."""
    import errno
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from broker.hub.storage import FAILED, FULL, storage_code

    class PgDiskFull(Exception):
        sqlstate = "53100"

    sqlite_full = OperationalError("COMMIT", {}, sqlite3.OperationalError("database or disk is full"))
    assert storage_code(sqlite_full) == FULL
    assert storage_code(OSError(errno.ENOSPC, "No space left on device")) == FULL
    assert storage_code(OperationalError("COMMIT", {}, PgDiskFull("could not extend file"))) == FULL
    locked = OperationalError("BEGIN", {}, sqlite3.OperationalError("database is locked"))
    assert storage_code(locked) == FAILED


def test_healthz_answers_json_and_nothing_else():
    from datetime import datetime, timezone

    from broker.hub.health import HealthServer, HubHealth

    health = HubHealth(hub=HUB)
    server = HealthServer(health, "127.0.0.1", 0).start()
    try:
        assert _health(server.port)[0] == 200 and _health(server.port)[1]["hub"] == HUB
        health.degrade("HUB_STORAGE_FULL", datetime(2026, 12, 7, tzinfo=timezone.utc), held=3)
        status, body = _health(server.port)
        assert status == 503
        assert (body["status"], body["reason"], body["held"]) == ("degraded", "HUB_STORAGE_FULL", 3)
        assert body["message_en"] == "ledger storage is full: refusing work"
        health.recover()
        assert _health(server.port)[0] == 200
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"http://127.0.0.1:{server.port}/", timeout=5)
        assert missing.value.code == 404
    finally:
        server.stop()


def test_a_health_port_in_use_is_a_configuration_error():
    import socket

    from broker.errors import LiandongError
    from broker.hub.health import HealthServer, HubHealth

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(LiandongError) as refused:
            HealthServer(HubHealth(), "127.0.0.1", taken.getsockname()[1])
    assert refused.value.codes == ["HUB_CONFIG_INVALID"] and "health_port" in str(refused.value)
