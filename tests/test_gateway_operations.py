"""The gateway's operations endpoints over real HTTP (issue 12, "Operations"): ``/readyz`` names
a lost broker, a store that cannot be written and a seal near expiry, each with its code;
Prometheus ``/metrics`` counts requests by route and status, documents published and answered,
events waiting for the webhook and its failures."""

from __future__ import annotations

import json
import sqlite3

import pytest
from prometheus_client.parser import text_string_to_metric_families

from broker.hub.service import Hub
from broker.mosquitto import free_port
from tests.network import BANK, COURT, HUB, hub_config
from tests.test_gateway import FIXTURES, GatewayProcess, fresh_json, wait_for


def samples(gateway: GatewayProcess) -> list:
    reply = gateway.client(None).get("/metrics")
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/plain")
    return [s for f in text_string_to_metric_families(reply.body.decode("utf-8")) for s in f.samples]


def value(found: list, name: str, **labels: str) -> float | None:
    for s in found:
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return None


@pytest.fixture
def gateways(mosquitto, tmp_path):
    """A hub; a court's gateway whose webhook points where nothing listens and whose seal
    "expires soon" (a threshold longer than the certificate's life); a bank's gateway."""
    hub = Hub(hub_config(HUB, port=mosquitto.port, var=tmp_path / "hub"))
    hub.start()
    webhook = {"url": f"http://127.0.0.1:{free_port()}/events", "secret": "s" * 16, "backoff_seconds": 0.1}
    court = GatewayProcess(
        COURT,
        mosquitto.port,
        tmp_path / "court",
        ["court-cms"],
        {"webhook": webhook, "seal_expiry_warning_days": 100_000},
    )
    bank = GatewayProcess(BANK, mosquitto.port, tmp_path / "bank", ["bank-core"])
    try:
        court.start()
        bank.start()
        yield court, bank
    finally:
        court.stop()
        bank.stop()
        hub.stop()


def test_readyz_and_metrics(gateways, mosquitto):
    court, bank = gateways
    anonymous = bank.client(None)

    # the bank's gateway is ready: every check named and passing
    ready = anonymous.get("/readyz")
    assert ready.status == 200, ready.body
    body = ready.json()
    assert body["status"] == "ready" and body["failing"] == []
    assert [c["name"] for c in body["checks"]] == ["broker", "store", "state", "seal"]

    # the court's seal expires within its (absurd) threshold: not ready, with the code
    seal = court.client(None).get("/readyz")
    assert seal.status == 503 and seal.json()["failing"] == ["seal"]
    (check,) = [c for c in seal.json()["checks"] if not c["ok"]]
    assert check["code"] == "GW_SEAL_EXPIRING" and check["message_zh"].startswith("本单位电子印章证书")

    # traffic: a freeze published and answered, a 404, a 401
    cms, core = court.client("court-cms"), bank.client("bank-core")
    document_id = cms.post_json("/v1/documents", fresh_json()).json()["document_id"]
    wait_for(lambda: core.get("/v1/inbox").json()["items"], bool, "the freeze at the bank")
    result = json.loads((FIXTURES / "result.json").read_text(encoding="utf-8"))
    assert core.post_json(f"/v1/inbox/{document_id}/result", result).status == 202
    assert core.get("/v1/documents/nothing-here").status == 404
    assert bank.client(None).get("/v1/inbox").status == 401
    assert anonymous.get("/no/such/route").status == 404

    found = samples(bank)
    assert value(found, "liandong_gateway_documents_answered_total") == 1
    assert value(found, "liandong_gateway_documents_published_total") == 0
    assert value(found, "liandong_gateway_http_requests_total", route="/v1/inbox/{document_id}/result", status="202") == 1
    assert value(found, "liandong_gateway_http_requests_total", route="/v1/documents/{document_id}", status="404") == 1
    assert value(found, "liandong_gateway_http_requests_total", route="/v1/inbox", status="401") == 1
    assert value(found, "liandong_gateway_http_requests_total", route="unmatched", status="404") == 1
    assert value(found, "liandong_gateway_broker_connected") == 1
    assert value(found, "liandong_gateway_events_pending") is None  # no webhook configured
    text = bank.client(None).get("/metrics").body.decode()
    assert document_id not in text  # bounded labels: route templates, never an id

    # the court's webhook receiver is down: its events wait and its failures count
    found = wait_for(
        lambda: samples(court),
        lambda f: (value(f, "liandong_gateway_events_pending") or 0) >= 1
        and (value(f, "liandong_gateway_webhook_failures_total") or 0) >= 2,
        "pending events and webhook failures",
    )
    assert value(found, "liandong_gateway_documents_published_total") == 1

    # a writer holding the state's lock: the state is not writable
    with sqlite3.connect(bank.directory / "gateway.db", isolation_level=None) as db:
        db.execute("BEGIN IMMEDIATE")
        locked = anonymous.get("/readyz")
        db.execute("ROLLBACK")
    assert locked.status == 503 and locked.json()["failing"] == ["state"], locked.body
    (check,) = [c for c in locked.json()["checks"] if not c["ok"]]
    assert check["code"] == "GW_STORE_NOT_WRITABLE" and "locked" in check["detail"]
    assert anonymous.get("/readyz").status == 200

    # the broker gone: not ready, naming the broker; alive all the same
    mosquitto.stop()
    wait_for(lambda: anonymous.get("/readyz").status, lambda s: s == 503, "/readyz to say not ready")
    body = anonymous.get("/readyz").json()
    assert body["failing"] == ["broker"], body
    assert body["checks"][0]["code"] == "GW_BROKER_DISCONNECTED"
    assert value(samples(bank), "liandong_gateway_broker_connected") == 0
    assert anonymous.get("/healthz").status == 200
