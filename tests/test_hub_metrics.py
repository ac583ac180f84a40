"""The hub's /metrics (Prometheus) and /readyz over a real Mosquitto (issue 12, "Operations"):
counters that match what the hub did, read over HTTP and parsed with prometheus_client's own
parser; /readyz naming the broker when it is gone and a seal that expires within the threshold."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from prometheus_client.parser import text_string_to_metric_families

from broker.hub.ledger import DocumentRecord, Ledger
from broker.hub.ledger.store import DeadlineRecord
from broker.hub.readiness import seal_check
from broker.hub.service import Hub
from broker.mosquitto import free_port
from tests import hostile
from tests.pg import pg_url  # noqa: F401
from tests.network import BANK, COURT, HUB, CourtClient, Recorder, fresh, hub_config, unit_client, unit_config, wait_until

CERTS = Path(__file__).resolve().parents[1] / "certs-example"
N = 3


def _get(port: int, path: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            return answer.status, answer.headers["Content-Type"], answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def _ready(port: int) -> tuple[int, dict]:
    status, _, body = _get(port, "/readyz")
    return status, json.loads(body)


def _samples(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics: (name, sorted labels) -> value, parsed by prometheus_client."""
    status, content_type, body = _get(port, "/metrics")
    assert status == 200 and content_type.startswith("text/plain"), (status, content_type)
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body.decode("utf-8"))
        for s in family.samples
    }


def _value(samples: dict, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def test_metrics_count_what_the_hub_did_and_readyz_names_a_lost_broker(mosquitto, tmp_path):
    port = free_port()
    units = tmp_path / "units"
    bank = unit_client(unit_config(BANK, port=mosquitto.port, var=units), Recorder())
    hub = Hub(hub_config(HUB, port=mosquitto.port, var=tmp_path / "hub", workers=1, health_port=port))
    hub.start()
    bank.start()
    try:
        status, body = _ready(port)
        assert (status, body["status"], body["failing"]) == (200, "ready", []), body
        assert {c["name"] for c in body["checks"]} == {"broker", "ledger", "seal"}

        with CourtClient(unit_config(COURT, port=mosquitto.port, var=units)) as court:
            ids = []
            for _ in range(N):
                notice = fresh()
                assert court.publish(notice, timeout=30).accepted
                ids.append(str(notice.header.document_id))
            # The court's genuine notice published by the bank: rejected, ROUTE_SENDER_MISMATCH.
            answer = bank.wait_answer(bank.send(court.seal(fresh())), 30)
            assert answer.doc_type == "RejectionNotice"
            # every notice, every receipt and the rejection notice confirmed by the broker
            wait_until(
                lambda: (_value(_samples(port), "liandong_hub_deliveries_published_total") or 0) >= 2 * N + 1,
                30,
                "the deliveries' PUBACKs counted",
            )
            wait_until(
                lambda: (_value(_samples(port), "liandong_hub_deliveries_acked_total") or 0) >= N,
                30,
                "the bank's acks counted",
            )

        samples = _samples(port)
        assert _value(samples, "liandong_hub_documents_accepted_total", type="AssistanceNotice", sender_kind="Court") == N
        assert _value(samples, "liandong_hub_rejections_total", code="ROUTE_SENDER_MISMATCH") == 1
        assert _value(samples, "liandong_hub_documents_rejected_total") == 1
        assert _value(samples, "liandong_hub_duplicates_total") == 0
        assert _value(samples, "liandong_hub_flood_episodes_total") == 0
        # histograms: one observation per committed batch (at least one), every bucket present
        for name in ("liandong_hub_commit_latency_seconds", "liandong_hub_check_batch_seconds"):
            count = _value(samples, f"{name}_count")
            assert count is not None and 1 <= count <= N + 1, (name, count)
            assert _value(samples, f"{name}_sum") > 0
            assert _value(samples, f"{name}_bucket", le="+Inf") == count
        # where a batch's time went apart from its check: each stage observed once per batch (or step)
        for stage in ("queued", "waiting", "writing", "publishing"):
            count = _value(samples, "liandong_hub_batch_stage_seconds_count", stage=stage)
            assert count is not None and 1 <= count <= N + 1, (stage, count)
        assert _value(samples, "liandong_hub_batch_stage_seconds_sum", stage="writing") > 0
        assert _value(samples, "liandong_hub_broker_connected") == 1
        assert _value(samples, "liandong_hub_storage_outage") == 0
        assert _value(samples, "liandong_hub_ledger_entries") >= 2 * N + 1  # accepted, delivered, rejected...
        assert _value(samples, "liandong_hub_deadlines_overdue") == 0
        assert _value(samples, "liandong_hub_intake_queued") == 0
        assert _value(samples, "liandong_hub_seal_expiry_seconds") > 365 * 86400
        # bounded labels: no document id (nor any other identifier of a document) in a label
        text = _get(port, "/metrics")[2].decode("utf-8")
        assert not [i for i in ids if i in text]
        assert _get(port, "/healthz")[0] == 200 and _get(port, "/nothing")[0] == 404

        mosquitto.stop()
        wait_until(lambda: _ready(port)[0] == 503, 30, "/readyz to say not ready")
        status, body = _ready(port)
        assert body["status"] == "not_ready" and body["failing"] == ["broker"], body
        broker = next(c for c in body["checks"] if c["name"] == "broker")
        assert broker["code"] == "HUB_BROKER_DISCONNECTED"
        assert broker["message_zh"] == "枢纽未连接消息服务器，暂不能收发文书" and "broker" in broker["message_en"]
        assert _value(_samples(port), "liandong_hub_broker_connected") == 0
        assert _get(port, "/healthz")[0] == 200  # alive, merely not ready
    finally:
        bank.stop()
        hub.stop()


def _hub_seal_expiring_in(days: int, directory: Path) -> Path:
    """The hub's own seal certificate issued again by the example issuing CA, same subject, key
    and extensions, but expiring in ``days`` days."""
    seal = x509.load_pem_x509_certificate((CERTS / "units" / HUB / "sign.pem").read_bytes())
    ca, ca_key = hostile._issuing_ca()
    now = datetime.now(timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(seal.subject)
        .issuer_name(ca.subject)
        .public_key(seal.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
    )
    for extension in seal.extensions:
        builder = builder.add_extension(extension.value, critical=extension.critical)
    path = directory / "sign.pem"
    path.write_bytes(builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    return path


def test_readyz_names_a_seal_that_expires_within_the_threshold(mosquitto, tmp_path):
    port = free_port()
    seal = CERTS / "units" / HUB
    identity = {"key": seal / "sign.key", "cert": _hub_seal_expiring_in(10, tmp_path), "chain": seal / "chain.pem"}
    hub = Hub(hub_config(HUB, port=mosquitto.port, var=tmp_path / "hub", health_port=port, identity=identity))
    hub.start()
    try:
        status, body = _ready(port)
        assert (status, body["failing"]) == (503, ["seal"]), body
        check = next(c for c in body["checks"] if c["name"] == "seal")
        assert check["code"] == "HUB_SEAL_EXPIRING" and check["days_left"] in (9, 10), check
        assert "30" in check["message_zh"] and "renew" in check["message_en"]
        assert 9 * 86400 < _value(_samples(port), "liandong_hub_seal_expiry_seconds") <= 10 * 86400
        # the ledger's storage refusing work (as the storage guard says it): named too
        hub.health.degrade("HUB_STORAGE_FULL", datetime.now(timezone.utc))
        status, body = _ready(port)
        assert (status, body["failing"]) == (503, ["ledger", "seal"]), body
        ledger = next(c for c in body["checks"] if c["name"] == "ledger")
        assert (ledger["code"], ledger["message_zh"]) == ("HUB_STORAGE_FULL", "账本存储空间已满，暂停受理")
        assert _value(_samples(port), "liandong_hub_storage_outage") == 1
    finally:
        hub.stop()


def test_the_seal_check_and_its_threshold():
    cert = x509.load_pem_x509_certificate((CERTS / "units" / HUB / "sign.pem").read_bytes())
    after = cert.not_valid_after_utc
    assert seal_check(cert, after - timedelta(days=31), 30).ok
    assert seal_check(cert, after - timedelta(days=29), 30).code == "HUB_SEAL_EXPIRING"
    assert seal_check(cert, after - timedelta(days=29), 7).ok  # the threshold is configurable
    assert seal_check(cert, after + timedelta(seconds=1), 30).code == "HUB_SEAL_NOT_VALID"
    assert seal_check(cert, cert.not_valid_before_utc - timedelta(days=1), 30).code == "HUB_SEAL_NOT_VALID"


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    url, schema = (
        (f"sqlite:///{tmp_path / 'ledger.db'}", None) if request.param == "sqlite" else request.getfixturevalue("pg_url")
    )
    led = Ledger(url, schema=schema)
    led.create_schema()
    try:
        yield led
    finally:
        led.close()


def test_the_overdue_count_is_open_deadlines_past_their_due_time(ledger: Ledger):
    """What ``liandong_hub_deadlines_overdue`` reads: open and past due, answered ones not."""
    now = datetime(2026, 12, 7, 17, 0, tzinfo=timezone(timedelta(hours=8)))

    def row(document_id: str, due: datetime, state: str = "open") -> DeadlineRecord:
        return DeadlineRecord(
            document_id=document_id, doc_type="AssistanceNotice", court=COURT, unit=BANK, unit_kind="Bank",
            case_number=None, served_at=due - timedelta(days=3), due_at=due, original_due_at=due, rule="test",
            remind_at=None, state=state,
        )  # fmt: skip

    with ledger.transaction() as tx:
        for document_id, due, state in [
            ("a", now - timedelta(days=1), "open"),
            ("b", now - timedelta(minutes=1), "open"),
            ("c", now + timedelta(minutes=1), "open"),
            ("d", now - timedelta(days=2), "answered"),
        ]:
            served = due - timedelta(days=3)
            tx.add_document(
                DocumentRecord(
                    document_id=document_id, doc_type="AssistanceNotice", sender=COURT, recipient=BANK,
                    issued_at=served, received_at=served, raw=b"<AssistanceNotice/>", origin="unit",
                    client_unit=COURT, state="accepted",
                )  # fmt: skip
            )
            tx.audit("accepted", actor=COURT, client=COURT, document_id=document_id, at=served)
            tx.add_deadline(row(document_id, due, state))
    assert ledger.count_overdue(now) == 2
    assert ledger.count_overdue(now + timedelta(days=1)) == 3
    assert ledger.count_overdue(now - timedelta(days=30)) == 0
