"""No poison document (issue 11, item 1, "Must show"): every hostile class of :mod:`tests.hostile`,
published by a court over a real Mosquitto to a hub that checks with a worker process, is refused
with its own code in the rejection notice the court receives, and a valid notice the court
publishes right behind it is served (its service receipt arrives). Among them the notice that
wedged the hub: ``IssuedAt`` ``9999-12-31T23:59:59-14:00``.

One Mosquitto, one hub and one court serve every class of the module (they are slow to start).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.checking import payload_digest
from broker.documents.xmlmodel import NS
from broker.hub.service import Hub
from broker.mosquitto import BrokerSettings, MosquittoProcess, free_port
from broker.registry import load_registry
from broker.transport import topics
from tests.hostile import CLASSES, YEAR_9999, Hostile
from tests.network import COURT, HUB, CourtClient, Recorder, fresh, hub_config, unit_config

ROOT = Path(__file__).resolve().parents[1]
LD = "{" + NS + "}"
TIMEOUT = 60  # for an answer; a wedged hub never answers


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    """(the hub, a started court client with a recorder) over one Mosquitto for the module."""
    base = tmp_path_factory.mktemp("poison")
    settings = BrokerSettings.from_certs(ROOT / "certs-example", port=free_port(), data_dir=base / "broker")
    broker = MosquittoProcess(load_registry(ROOT / "examples" / "network.yaml"), settings)
    broker.start()
    try:
        hub = Hub(hub_config(HUB, port=broker.port, var=base / "hub", workers=1))
        hub.start()
        try:
            recorder = Recorder()
            court = CourtClient(unit_config(COURT, port=broker.port, var=base / "units", resend_after_seconds=30), handler=recorder)
            with court:
                yield hub, court, recorder
        finally:
            hub.stop()
    finally:
        broker.stop()


def _rejection_of(recorder: Recorder, digest: str):
    return recorder.wait_for(
        lambda r: next(
            (x for x in r.of_type("RejectionNotice") if x.root.findtext(f"{LD}RejectionNotice/{LD}PayloadDigest") == digest),
            None,
        ),
        TIMEOUT,
        f"the rejection of {digest[:12]}",
    )


def test_the_poison_notice_is_among_the_classes() -> None:
    poison = [c for c in CLASSES if f"<ld:IssuedAt>{YEAR_9999}</ld:IssuedAt>" in c.build().decode()]
    assert [c.code for c in poison] == ["DOC_TIME_OUT_OF_RANGE"]


@pytest.mark.parametrize("case", CLASSES, ids=str)
def test_a_hostile_document_is_refused_with_its_code_and_the_next_is_served(network, case: Hostile) -> None:
    hub, court, recorder = network
    assert hub.config.workers == 1
    raw = case.build()
    # Published as it is (not through the court's own store, which would parse it first), then a
    # valid notice right behind it on the same session: MQTT keeps their order.
    court.unit.client.publish(topics.outbox(COURT), raw, qos=1)
    answer = court.publish(fresh(), timeout=TIMEOUT)
    assert answer.accepted, answer.errors
    assert answer.notice.doc_type == "ServiceReceipt"
    rejection = _rejection_of(recorder, payload_digest(raw))
    codes = [e.text for e in rejection.root.iter(f"{LD}Code")]
    assert case.code in codes, codes
    assert "CHECK_INTERNAL_ERROR" not in codes and "HUB_INTERNAL" not in codes


def test_the_hub_rejected_each_class_once_and_served_every_valid_notice(network) -> None:
    hub, court, recorder = network
    answer = court.publish(fresh(), timeout=TIMEOUT)
    assert answer.accepted, answer.errors
    assert hub.stats.rejected >= len(CLASSES)
    assert hub.stats.accepted >= len(CLASSES) + 1
