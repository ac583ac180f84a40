"""An all-SM2 network end to end (issue 15, "every user of the network works with either suite
unchanged"): a real Mosquitto, the hub sealing with SM2 and a registry accepting only SM2
(``signature_suites: [sm2]``, docs/signature-profile.md 4.5 and 4.7).

- a court's client and the reference bank adapter (the SDK) exchange a freeze and its receipt,
  both sealed SM2-SM3;
- a court whose seal is still RSA is refused by the hub over MQTT with SIG_SUITE_NOT_ALLOWED;
- a court's and a bank's gateway (``liandong gateway run``, plain HTTP) do the freeze round trip,
  and everything they hand out verifies with ``liandong verify --registry`` against the SM2 root.

One network for the module (the tests run in file order and use the court and the bank in turn),
so the whole module costs one Mosquitto, one hub and two gateway processes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from adapters.bank import BankAdapter, BankSettings
from adapters.sdk import AdapterService, ExecutionSettings, config_model
from broker.configuration import SealFiles, UnitConfig
from broker.documents.xmlmodel import DS_NS
from broker.hub.service import Hub
from broker.mosquitto import BrokerSettings, MosquittoProcess, free_port
from broker.parsing.hardened import parse
from broker.registry import load_registry
from broker.sandbox import (
    EXAMPLE_CERTS,
    EXAMPLE_REGISTRY,
    EXAMPLE_SM2_CERTS,
    hub_config,
    registry_with_suites,
    unit_config,
)
from broker.signing.suites import SM2_SM3, SM3
from tests.network import BANK, COURT, HUB, CourtClient, Recorder, fresh, wait_until
from tests.test_gateway import FIXTURES, GatewayProcess, fresh_json, wait_for

ROOT = Path(__file__).resolve().parents[1]
WAIT = 30.0
DS = "{" + DS_NS + "}"


class Sm2Network:
    """The module's network: broker port, the SM2-only registry file, a folder per component."""

    def __init__(self, port: int, registry: Path, var: Path):
        self.port, self.registry, self.var = port, registry, var

    def unit(self, code: str, name: str) -> UnitConfig:
        """``code``'s configuration on this network: SM2 seal, SM2 trust, TLS as ever."""
        return unit_config(
            code,
            port=self.port,
            var=self.var / name,
            registry=self.registry,
            seals=EXAMPLE_SM2_CERTS,
            resend_after_seconds=2,
        )

    def gateway(self, code: str, name: str, tokens: list[str]) -> GatewayProcess:
        """A gateway process for ``code`` whose configuration is this network's (test_gateway's
        GatewayProcess writes the RSA network's; only its unit sections are replaced)."""
        gateway = GatewayProcess(code, self.port, self.var / name, tokens)
        config = yaml.safe_load(gateway.config.read_text(encoding="utf-8"))
        config.update(self.unit(code, name).model_dump(mode="json"))
        gateway.config.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        gateway.store = Path(config["store"])
        return gateway


@pytest.fixture(scope="module")
def sm2_network(tmp_path_factory):
    var = tmp_path_factory.mktemp("sm2-network")
    registry = registry_with_suites(var / "registry", ["sm2"])
    settings = BrokerSettings.from_certs(EXAMPLE_CERTS, port=free_port(), data_dir=var / "broker")
    broker = MosquittoProcess(load_registry(EXAMPLE_REGISTRY), settings)
    broker.start()
    hub = Hub(hub_config(HUB, port=broker.port, var=var / "hub", registry=registry, seals=EXAMPLE_SM2_CERTS))
    try:
        hub.start()
        yield Sm2Network(broker.port, registry, var)
    finally:
        hub.stop()
        broker.stop()


def methods(raw: bytes) -> tuple[str, str]:
    """(SignatureMethod, DigestMethod) of a sealed document."""
    info = parse(raw).find(f"{DS}Signature/{DS}SignedInfo")
    return info.find(f"{DS}SignatureMethod").get("Algorithm"), info.find(
        f"{DS}Reference/{DS}DigestMethod"
    ).get("Algorithm")


def test_the_bank_adapter_answers_an_sm2_notice_with_an_sm2_receipt(sm2_network):
    config = config_model(BankAdapter)(
        unit=sm2_network.unit(BANK, "bank-adapter"),
        adapter=BankSettings(demo=True),
        execution=ExecutionSettings(idle_poll_seconds=0.2),
    )
    recorder = Recorder()
    notice = fresh("AssistanceNotice")
    with (
        CourtClient(sm2_network.unit(COURT, "court-client"), handler=recorder) as court,
        AdapterService(BankAdapter, config) as service,
    ):
        answer = court.publish(notice, timeout=WAIT)
        assert answer.accepted, answer.errors
        assert methods(answer.notice.raw) == (SM2_SM3, SM3)  # the hub's service receipt
        notice_id = str(notice.header.document_id)
        [receipt] = recorder.wait_for(
            lambda r: [x for x in r.of_type("ExecutionReceipt") if x.in_reply_to == notice_id],
            WAIT,
            "the receipt",
        )
        assert receipt.sender == BANK
        assert methods(receipt.raw) == (SM2_SM3, SM3)
        # the bank's receipt is served before the adapter stops (nothing left for the gateway below)
        wait_until(
            lambda: (
                (sent := service.store.get_sent(receipt.document_id)) is not None
                and sent.state == "receipted"
            ),
            WAIT,
            "the hub's service receipt for the bank's receipt",
        )


def test_the_hub_refuses_an_rsa_seal_over_mqtt(sm2_network):
    """A court that kept its RSA seal (it trusts the SM2 root, so it can read the hub's answer)."""
    rsa = EXAMPLE_CERTS / "units" / COURT
    config = sm2_network.unit(COURT, "court-rsa").model_copy(
        update={"seal": SealFiles(key=rsa / "sign.key", cert=rsa / "sign.pem", chain=rsa / "chain.pem")}
    )
    with CourtClient(config) as court:
        sealed = court.seal(fresh("AssistanceNotice"))
        assert methods(sealed)[0] == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
        answer = court.publish(sealed, timeout=WAIT)
    assert not answer.accepted
    assert [code for code, _, _ in answer.errors] == ["SIG_SUITE_NOT_ALLOWED"]
    assert methods(answer.notice.raw) == (SM2_SM3, SM3)  # the rejection itself is sealed SM2


def test_a_freeze_through_two_gateways_is_sealed_sm2_and_verifies(sm2_network):
    court_gw = sm2_network.gateway(COURT, "court-gateway", ["court-cms"])
    bank_gw = sm2_network.gateway(BANK, "bank-gateway", ["bank-core"])
    try:
        with ThreadPoolExecutor(2) as pool:  # the two processes start side by side
            list(pool.map(GatewayProcess.start, (court_gw, bank_gw)))
        court, bank = court_gw.client("court-cms"), bank_gw.client("bank-core")
        posted = court.post_json("/v1/documents", fresh_json())
        assert posted.status == 202, posted.body
        document_id = posted.json()["document_id"]
        item = wait_for(
            lambda: [
                i for i in bank.get("/v1/inbox?cursor=0").json()["items"] if i["document_id"] == document_id
            ],
            bool,
            "the freeze in the bank's inbox",
        )[0]
        answered = bank.post_json(
            item["result_url"], json.loads((FIXTURES / "result.json").read_text(encoding="utf-8"))
        )
        assert answered.status == 202, answered.body
        status = wait_for(
            lambda: court.get(f"/v1/documents/{document_id}").json(),
            lambda s: s["state"] == "answered",
            "the court to see the receipt",
        )
        [receipt] = status["answers"]
        page = court.get(f"/v1/documents/{document_id}/html")  # the 文书 with the gateway's own verdict
        assert page.status == 200 and "seal verifies" in page.body.decode(), page.body[-2000:]
        handed_out = {
            "notice": bank.get(item["xml_url"]).body,
            "service-receipt": court.get(status["service"]["xml_url"]).body,
            "receipt": court.get(receipt["xml_url"]).body,
        }
    finally:
        court_gw.stop()
        bank_gw.stop()
    for name, raw in handed_out.items():
        assert methods(raw) == (SM2_SM3, SM3), name
    folder = sm2_network.var / "handed-out"
    folder.mkdir()
    files = []
    for name, raw in handed_out.items():
        files.append(folder / f"{name}.xml")
        files[-1].write_bytes(raw)
    # one run of the verifier: the three verify; an RSA-sealed example is refused on this network
    rsa_notice = ROOT / "examples" / "signed" / "AssistanceNotice.xml"
    pki = EXAMPLE_SM2_CERTS
    done = subprocess.run(
        [sys.executable, "-m", "broker.cli.main", "verify", *map(str, files), str(rsa_notice)]
        + [
            "--trust",
            str(pki / "root-ca.pem"),
            "--crl",
            str(pki / "crl.pem"),
            "--registry",
            str(sm2_network.registry),
        ],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    report = done.stdout + done.stderr
    assert done.returncode == 1, report
    assert [
        line.split()[0] for line in done.stdout.splitlines() if line.split()[:1] in (["VALID"], ["INVALID"])
    ] == [
        "VALID",
        "VALID",
        "VALID",
        "INVALID",
    ], report
    refusal = done.stdout.split(f"INVALID {rsa_notice}")[1]
    assert [line.split()[0] for line in refusal.splitlines()[2:] if line.strip()] == [
        "SIG_SUITE_NOT_ALLOWED"
    ], report
