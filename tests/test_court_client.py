"""The court client over a real Mosquitto (``mosquitto`` fixture): what it refuses, how it hands
documents to a handler that fails, and how it reports a broker or a file it cannot reach.

Documents reach the court the way the hub delivers them: published on the court's ``in`` topic
by a client holding the hub's certificate (``mqtt_connect``), sealed by the bank's example key.
``liandong publish`` is also run against a real hub (section 4).
"""

from __future__ import annotations

import itertools
import re
from datetime import datetime
from decimal import Decimal
import json
import logging
import threading
import time
from pathlib import Path
from uuid import uuid4

import pytest
import yaml
from typer.testing import CliRunner

from broker.checking import payload_digest
from broker.cli.main import app
from broker.configuration import UnitConfig, load_unit_config
from broker.court import CourtClient
from broker.documents import codec
from broker.errors import LiandongError
from broker.hub.service import Hub
from broker.logs import JsonFormatter
from broker.mosquitto import free_port
from broker.signing import DocumentSigner
from broker.transport import topics
from broker.transport.messages import decode_acks, decode_status
from broker.transport.store import InboxEntry, UnitStore
from tests.helpers import replace
from tests.network import (
    BANK,
    COURT,
    COURT2,
    HUB,
    UNSIGNED,
    Recorder,
    fresh,
    hub_config,
    unit_config,
    wait_until,
)

CERTS = Path(__file__).resolve().parents[1] / "certs-example"
BANK_SEAL = DocumentSigner.for_unit(CERTS / "units" / BANK)
WAIT = 30.0

# What a careless handler's exception may quote: it must never reach a log at INFO or above.
DEBTOR_NAME, DEBTOR_ID = "陈国强", "445302198004121232"


def court_config(tmp_path: Path, port: int, **fields: object) -> UnitConfig:
    """The Yunfu court of the example network, its store under ``tmp_path``, with ``fields`` set."""
    config = unit_config(COURT, port=port, var=tmp_path / "units")
    return UnitConfig.model_validate({**config.model_dump(), **fields})


def _write_config(tmp_path: Path, config: UnitConfig, name: str = "court.yaml") -> Path:
    """``config`` as a YAML file under ``tmp_path``, for load_unit_config and the CLI."""
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config.model_dump(mode="json")), encoding="utf-8")
    return path


def bank_receipt(recipient: str = COURT) -> tuple[str, bytes]:
    """A receipt of result sealed by the bank, addressed to ``recipient``: (its id, the bytes)."""
    doc = fresh("ExecutionReceipt", in_reply_to=uuid4(), recipient=recipient)
    return str(doc.header.document_id), BANK_SEAL.sign(doc)


@pytest.fixture
def hub_link(mqtt_connect):
    """A client with the hub's certificate: delivers to the court's ``in`` topic (``deliver``) and
    collects the court's acknowledgements (``is_acked``), as the hub does."""
    acked: set[str] = set()
    lock = threading.Lock()
    online = threading.Event()

    def on_message(client, userdata, msg):
        if msg.topic == topics.status(COURT):
            if decode_status(msg.payload).state == "online":
                online.set()
            return
        with lock:
            acked.update(decode_acks(msg.payload))

    def before_connect(client):
        client.on_message = on_message

    client = mqtt_connect(HUB, before_connect=before_connect)
    client.subscribe([(topics.acks(COURT), 1), (topics.status(COURT), 1)])

    def deliver(raw: bytes) -> None:
        # The court says "online" after subscribing to its inbox: from then on the broker keeps
        # what arrives for it (before, a first session has no subscription to keep it for).
        assert online.wait(WAIT), "the court did not come online"
        client.publish(topics.inbox(COURT), raw, qos=1).wait_for_publish(WAIT)

    def is_acked(document_id: str) -> bool:
        with lock:
            return document_id in acked

    client.deliver, client.is_acked = deliver, is_acked
    return client


def _rendered(caplog: pytest.LogCaptureFixture, level: int = logging.INFO) -> str:
    """Every captured record at ``level`` or above, as the JSON lines operators read."""
    formatter = JsonFormatter()
    return "\n".join(formatter.format(r) for r in caplog.records if r.levelno >= level)


def _events(caplog: pytest.LogCaptureFixture, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == name]


# --- 1. a document addressed to someone else --------------------------------------------------------


def test_a_document_for_another_unit_is_refused_logged_and_acknowledged(mosquitto, hub_link, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    recorder = Recorder()
    with CourtClient(court_config(tmp_path, mosquitto.port), handler=recorder) as court:
        stray_id, stray = bank_receipt(recipient=COURT2)
        ours_id, ours = bank_receipt()
        hub_link.deliver(stray)
        hub_link.deliver(ours)
        recorder.wait_for(lambda r: r.counts[ours_id] == 1, WAIT, "the court's own document")
        wait_until(lambda: hub_link.is_acked(stray_id) and hub_link.is_acked(ours_id), WAIT, "both acknowledgements")

        assert recorder.counts[stray_id] == 0  # never handed over
        assert [e.document_id for e in court.unit.store.inbox(state="invalid")] == [stray_id]
    refused = [r for r in _events(caplog, "inbox.invalid") if r.fields["document_id"] == stray_id]
    assert len(refused) == 1 and refused[0].levelno == logging.ERROR
    assert refused[0].fields["codes"] == ["ROUTE_NOT_RECIPIENT"]


# --- 2. a handler that raises --------------------------------------------------------------------------


def test_a_raising_handler_is_retried_with_backoff_in_arrival_order(mosquitto, hub_link, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    first_id, first = bank_receipt()
    second_id, second = bank_receipt()
    calls: list[tuple[str, float]] = []
    failures_left = {first_id: 2}

    def handler(received):
        calls.append((received.document_id, time.monotonic()))
        if failures_left.get(received.document_id, 0) > 0:
            failures_left[received.document_id] -= 1
            raise ValueError(f"case system down while filing for {DEBTOR_NAME} {DEBTOR_ID}")

    config = court_config(tmp_path, mosquitto.port, handler_retry_initial_seconds=0.3, handler_retry_max_seconds=0.5)
    with CourtClient(config, handler=handler) as court:
        hub_link.deliver(first)
        hub_link.deliver(second)
        wait_until(lambda: len(calls) >= 4, WAIT, "two retries and the second document")
        # the second document waited behind the first: the handler sees them in arrival order
        assert [d for d, _ in calls] == [first_id, first_id, first_id, second_id]
        gaps = [b - a for (_, a), (_, b) in itertools.pairwise(calls[:3])]
        assert gaps[0] >= 0.3 * 0.9 and gaps[1] >= 0.5 * 0.9  # 0.3 s, then doubled but capped at 0.5 s
        wait_until(lambda: not court.unit.store.open_handovers(), WAIT, "the queue to empty")
        done = {h.document_id: h for h in court.unit.store.handovers()}
        assert done[first_id].state == done[second_id].state == "handled"
        assert done[first_id].attempts == 2 and done[first_id].detail == "ValueError"

    failed = _events(caplog, "unit.handler_failed")
    assert [(r.levelno, r.fields["document_id"], r.fields["error"], r.fields["attempt"]) for r in failed] == [
        (logging.ERROR, first_id, "ValueError", 1),
        (logging.ERROR, first_id, "ValueError", 2),
    ]
    assert failed[0].fields["doc_type"] == "ExecutionReceipt"
    logged = _rendered(caplog)
    assert DEBTOR_NAME not in logged and DEBTOR_ID not in logged


def test_a_document_the_handler_failed_on_is_handed_over_at_the_next_start(mosquitto, hub_link, tmp_path):
    config = court_config(tmp_path, mosquitto.port, handler_retry_initial_seconds=3600)  # no retry in this run
    document_id, raw = bank_receipt()

    def broken(received):
        raise RuntimeError("the case management system is down")

    with CourtClient(config, handler=broken) as court:
        hub_link.deliver(raw)
        wait_until(
            lambda: [h.document_id for h in court.unit.store.handovers(states=["retrying"])] == [document_id],
            WAIT,
            "the failure to be recorded",
        )
    recorder = Recorder()
    with CourtClient(config, handler=recorder) as court:
        recorder.wait_for(lambda r: r.counts[document_id] == 1, WAIT, "the document after the restart")
        wait_until(lambda: not court.unit.store.open_handovers(), WAIT, "the queue to empty")
    assert recorder.counts[document_id] == 1


def test_documents_an_older_client_left_failed_are_handed_over(mosquitto, tmp_path):
    """A store written before the handover queue existed: the handler's failures are inbox
    entries in state ``failed``; they are handed over at the first start."""
    config = court_config(tmp_path, mosquitto.port)
    document_id, raw = bank_receipt()
    old = UnitStore(config.store)
    old.record_received(
        InboxEntry(document_id, "ExecutionReceipt", BANK, None, payload_digest(raw), "2026-11-24T09:00:00+08:00", raw, "failed")
    )
    old.close()
    recorder = Recorder()
    with CourtClient(config, handler=recorder) as court:
        recorder.wait_for(lambda r: r.counts[document_id] == 1, WAIT, "the failed document")
        assert [e.document_id for e in court.unit.store.inbox(state="failed")] == []


def test_the_retry_bounds_are_read_from_the_court_configuration(tmp_path):
    path = _write_config(tmp_path, court_config(tmp_path, 1883, handler_retry_initial_seconds=2, handler_retry_max_seconds=60))
    loaded = load_unit_config(path)
    assert (loaded.handler_retry_initial_seconds, loaded.handler_retry_max_seconds) == (2, 60)
    without = yaml.safe_load(path.read_text(encoding="utf-8"))
    del without["handler_retry_initial_seconds"], without["handler_retry_max_seconds"]
    path.write_text(yaml.safe_dump(without), encoding="utf-8")
    defaults = load_unit_config(path)
    assert (defaults.handler_retry_initial_seconds, defaults.handler_retry_max_seconds) == (1.0, 300.0)


# --- 3. a broker or a file that cannot be reached ----------------------------------------------------


def test_an_unreachable_broker_raises_broker_unreachable(tmp_path):
    port = free_port()  # nothing listens there
    court = CourtClient(court_config(tmp_path, port))
    with pytest.raises(LiandongError) as caught:
        court.start(timeout=1)
    assert caught.value.codes == ["BROKER_UNREACHABLE"]
    assert f"127.0.0.1:{port}" in caught.value.problems[0].message_en
    assert f"127.0.0.1:{port}" in caught.value.problems[0].message_zh


def test_publish_to_an_unreachable_broker_prints_the_code_and_exits_1(tmp_path, monkeypatch):
    import broker.court.unit

    monkeypatch.setattr(broker.court.unit, "CONNECT_TIMEOUT", 1.0)  # instead of 30 s
    config = court_config(tmp_path, free_port())
    result = CliRunner().invoke(
        app, ["publish", str(UNSIGNED / "QueryNotice.xml"), "--config", str(_write_config(tmp_path, config))]
    )
    assert result.exit_code == 1, result.output
    assert not isinstance(result.exception, RuntimeError), result.exception
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("BROKER_UNREACHABLE "), result.output
    assert "Traceback" not in result.output
    store = UnitStore(config.store)
    assert store.sent() == []  # nothing stored, nothing sent
    store.close()


def test_publish_with_a_missing_key_file_names_the_field_and_exits_2(tmp_path):
    config = court_config(tmp_path, free_port())
    missing = tmp_path / "nowhere" / "tls.key"
    config = config.model_copy(update={"broker": config.broker.model_copy(update={"key": missing})})
    result = CliRunner().invoke(
        app, ["publish", str(UNSIGNED / "QueryNotice.xml"), "--config", str(_write_config(tmp_path, config))]
    )
    assert result.exit_code == 2, result.output
    assert not isinstance(result.exception, OSError), result.exception
    assert "UNIT_CONFIG_INVALID" in result.output and f"broker.key: {missing}" in result.output
    assert "Traceback" not in result.output


def test_every_missing_file_of_the_configuration_is_named(tmp_path):
    config = court_config(tmp_path, free_port())
    config = config.model_copy(
        update={
            "seal": config.seal.model_copy(update={"key": tmp_path / "sign.key"}),
            "trust": config.trust.model_copy(update={"anchors": [config.trust.anchors[0], tmp_path / "root.pem"]}),
        }
    )
    with pytest.raises(LiandongError) as caught:
        CourtClient(config)
    assert caught.value.codes == ["UNIT_CONFIG_INVALID", "UNIT_CONFIG_INVALID"]
    details = json.dumps([p.message_en for p in caught.value.problems], ensure_ascii=False)
    assert f"seal.key: {tmp_path / 'sign.key'}" in details and f"trust.anchors[1]: {tmp_path / 'root.pem'}" in details


# --- 4. liandong publish against a running hub ------------------------------------------------------


@pytest.fixture
def hub(mosquitto, tmp_path):
    h = Hub(hub_config(HUB, port=mosquitto.port, var=tmp_path / "hub"))
    h.start()
    yield h
    h.stop()


def _publish_cli(tmp_path: Path, port: int, document) -> tuple[object, str]:
    """``liandong publish`` of ``document`` (unsigned, as a court's system writes it): the result,
    and its output with rich's line wrapping undone."""
    path = tmp_path / "document.xml"
    path.write_bytes(codec.to_bytes(document))
    config = _write_config(tmp_path, court_config(tmp_path, port))
    result = CliRunner().invoke(app, ["publish", str(path), "--config", str(config), "--timeout", "30"])
    return result, " ".join(result.output.split())


def test_publish_prints_the_service_receipt_and_exits_0(mosquitto, hub, tmp_path):
    document = fresh("QueryNotice")
    document_id = str(document.header.document_id)
    result, output = _publish_cli(tmp_path, mosquitto.port, document)
    assert result.exit_code == 0, result.output
    with hub.ledger.transaction() as tx:
        record = tx.get_document(document_id)
    assert record is not None and record.sender == COURT and record.service_receipt_id
    assert f"served {document_id}" in output
    assert f"service receipt {record.service_receipt_id} sealed by the hub {HUB}" in output
    # the time of service the receipt attests: when the hub received the document
    stated = datetime.fromisoformat(re.search(r"reached the network at (\S+)", output).group(1))
    assert stated == record.received_at
    assert "Traceback" not in result.output


def test_publish_prints_a_rejection_with_its_codes_and_exits_1(mosquitto, hub, tmp_path):
    # addressed to a court, which does not execute assistance notices, and freezing nothing
    document = fresh("AssistanceNotice", recipient=COURT2)
    document = replace(document, ["body", "measures", "0", "amount", "value"], Decimal("0"))
    document_id = str(document.header.document_id)
    result, output = _publish_cli(tmp_path, mosquitto.port, document)
    assert result.exit_code == 1, result.output
    assert f"rejected {document_id}" in output
    (rejection,) = [e for e in hub.ledger.story(document_id) if e.action == "rejected"]
    codes = rejection.detail["codes"]
    assert {"RULE_DIRECTION", "RULE_AMOUNT_NOT_POSITIVE"} <= set(codes)
    assert re.findall(r"\b[A-Z]+(?:_[A-Z0-9]+)+\b", output) == codes  # every code, in the notice's order
    assert "amounts must be greater than zero" in output and "金额必须大于零" in output
    assert hub.stats.accepted == 0 and "Traceback" not in result.output
