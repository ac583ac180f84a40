"""A unit's answers through the gateway besides the result — an extension notice, a review
suggestion, a lead report — each sealed and sent once; the result's variants; and the states
``overdue`` and ``released`` of the status and case views (issue 12).

One network for the module (a real Mosquitto, the hub, a court's, a bank's and a police
bureau's gateway as ``liandong gateway run`` processes), driven over plain HTTP with the
standard library and the fixtures of ``tests/fixtures/gateway`` only, as tests/test_gateway.py
does. The court's gateway runs its deadline clock 40 days ahead (``deadlines.clock_start``), so
what it sent and nobody answered is overdue without waiting.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from broker.hub.service import Hub
from broker.mosquitto import BrokerSettings, MosquittoProcess, free_port
from tests.network import BANK, COURT, COURT2, HUB, POLICE, hub_config
from tests.test_gateway import FIXTURES, TOKENS, GatewayProcess, Http, wait_for

ANSWERS = FIXTURES / "answers"
EXAMPLES = FIXTURES.parents[2] / "examples" / "unsigned"
CHINA = timezone(timedelta(hours=8))
TOKENS.setdefault("police-system", ("police-system-secret-0123456789ab", ["read", "answer"]))


def fixture(name: str) -> dict:
    return json.loads((ANSWERS / name).read_text(encoding="utf-8"))


def notice(measures: int = 1) -> dict:
    """The freeze fixture with a new id, the current time and ``measures`` freezes M1, M2, ..."""
    doc = json.loads((FIXTURES / "freeze.json").read_text(encoding="utf-8"))
    document_id = str(uuid.uuid4())
    doc["Id"] = f"ld-{document_id}"
    doc["Header"].update(DocumentId=document_id, IssuedAt=datetime.now(CHINA).isoformat(timespec="seconds"))
    first = doc["Body"]["Measures"][0]
    doc["Body"]["Measures"] = [dict(copy.deepcopy(first), MeasureId=f"M{n}") for n in range(1, measures + 1)]
    return doc


def example_xml(name: str, **replace: str) -> tuple[str, bytes]:
    """An unsigned example document with a new id, the current time and no stated deadline (and
    ``replace``: an old text for a new one)."""
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    document_id = str(uuid.uuid4())
    text = re.sub(r'Id="ld-[^"]+"', f'Id="ld-{document_id}"', text, count=1)
    text = re.sub(r"<ld:DocumentId>[^<]+</ld:DocumentId>", f"<ld:DocumentId>{document_id}</ld:DocumentId>", text, count=1)
    now = datetime.now(CHINA).isoformat(timespec="seconds")
    text = re.sub(r"<ld:IssuedAt>[^<]+</ld:IssuedAt>", f"<ld:IssuedAt>{now}</ld:IssuedAt>", text, count=1)
    text = re.sub(r"<ld:Deadline>[^<]+</ld:Deadline>", "", text, count=1)  # the example's is long past
    for old, new in replace.items():
        text = text.replace(old, new)
    return document_id, text.encode("utf-8")


def documented_script(marker: str) -> str:
    """The ``sh`` blocks between ``<!-- {marker}: begin -->`` and ``end`` in docs/gateway.md."""
    text = (FIXTURES.parents[2] / "docs" / "gateway.md").read_text(encoding="utf-8")
    section = text.split(f"<!-- {marker}: begin -->")[1].split(f"<!-- {marker}: end -->")[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    assert blocks, marker
    return "set -euo pipefail\n" + "\n".join(blocks)


class Net:
    def __init__(self, court: GatewayProcess, bank: GatewayProcess, police: GatewayProcess, broker_port: int):
        self.broker_port = broker_port
        self.court, self.bank, self.police = court.client("court-cms"), bank.client("bank-core"), police.client("police-system")
        self.gateways = (court, bank, police)

    def publish(self, doc: dict | tuple[str, bytes]) -> str:
        if isinstance(doc, dict):
            posted = self.court.post_json("/v1/documents", doc)
        else:
            posted = self.court.call("POST", "/v1/documents", doc[1], "application/xml")
        assert posted.status == 202, posted.body
        return posted.json()["document_id"]

    def arrived(self, unit: Http, document_id: str) -> dict:
        return wait_for(
            lambda: unit.get(f"/v1/documents/{document_id}"), lambda r: r.status == 200, "the document to arrive"
        ).json()

    def court_state(self, document_id: str, state: str) -> dict:
        return wait_for(
            lambda: self.court.get(f"/v1/documents/{document_id}").json(),
            lambda s: s["state"] == state,
            f"the court to see {state}",
        )


@pytest.fixture(scope="module")
def net(registry, certs, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("answers")
    broker = MosquittoProcess(registry, BrokerSettings.from_certs(certs, port=free_port(), data_dir=tmp / "broker"))
    broker.start()
    hub = Hub(hub_config(HUB, port=broker.port, var=tmp / "hub"))
    hub.start()
    court = GatewayProcess(COURT, broker.port, tmp / "court", ["court-cms"])
    # the court's deadline clock 40 days ahead: what is unanswered is overdue
    config = yaml.safe_load(court.config.read_text(encoding="utf-8"))
    config["deadlines"] = {"clock_start": (datetime.now(CHINA) + timedelta(days=40)).isoformat()}
    court.config.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    bank = GatewayProcess(BANK, broker.port, tmp / "bank", ["bank-core"])
    police = GatewayProcess(POLICE, broker.port, tmp / "police", ["police-system"])
    try:
        for gateway in (court, bank, police):
            gateway.start()
        yield Net(court, bank, police, broker.port)
    finally:
        for gateway in (court, bank, police):
            gateway.stop()
        hub.stop()
        broker.stop()


def test_result_extension_and_review_each_once(net):
    """The result of four freezes (limit freeze with requested and frozen amounts, rotating with
    the earlier freezes, executed, not executed with the reason), a query's results, an extension
    and a review suggestion: each sealed and sent once, each seen by the court."""
    freeze_id = net.publish(notice(measures=4))
    query_id = net.publish(example_xml("QueryNotice.xml"))
    net.arrived(net.bank, freeze_id), net.arrived(net.bank, query_id)

    sent = {}
    for document_id, path, body in (
        (freeze_id, "result", fixture("result-freezes.json")),
        (query_id, "result", fixture("result-query.json")),
        (query_id, "extension", fixture("extension.json")),
        (freeze_id, "review", fixture("review.json")),
    ):
        first = net.bank.post_json(f"/v1/inbox/{document_id}/{path}", body)
        assert first.status == 202 and first.json()["new"] is True, first.body
        again = net.bank.post_json(f"/v1/inbox/{document_id}/{path}", body)
        assert again.status == 202 and again.json() == dict(first.json(), new=False)
        changed = dict(body, **{"Reason" if path == "extension" else "Grounds" if path == "review" else "Remark": "另一份"})
        conflict = net.bank.post_json(f"/v1/inbox/{document_id}/{path}", changed)
        assert conflict.status == 409 and conflict.codes == ["GW_ANSWER_CONFLICT"], conflict.body
        sent[(document_id, path)] = first.json()["receipt_id"]
    assert net.gateways[1].published() == 4  # one each, nothing twice

    freeze = wait_for(
        lambda: net.court.get(f"/v1/documents/{freeze_id}").json(),
        lambda s: {a["type"] for a in s["answers"]} == {"ExecutionReceipt", "ReviewSuggestion"},
        "the freeze's answers",
    )
    assert freeze["state"] == "answered"
    by_type = {a["type"]: a for a in freeze["answers"]}
    assert by_type["ExecutionReceipt"]["document_id"] == sent[(freeze_id, "result")]
    assert [(r["item"], r["status"]) for r in by_type["ExecutionReceipt"]["results"]] == [
        ("M1", "PartiallyExecuted"),
        ("M2", "Rotating"),
        ("M3", "Executed"),
        ("M4", "NotExecuted"),
    ]
    assert by_type["ReviewSuggestion"]["items"] == ["M4"]
    receipt = net.court.get(by_type["ExecutionReceipt"]["xml_url"]).body.decode()
    for expected in ("<ld:RequestedAmount", "<ld:ActualAmount", "<ld:PriorMeasure>", "<ld:QueuePosition>3<", "销户"):
        assert expected in receipt, expected  # every variant's details reached the court, sealed
    query = wait_for(
        lambda: net.court.get(f"/v1/documents/{query_id}").json(),
        lambda s: {a["type"] for a in s["answers"]} == {"ExecutionReceipt", "ExtensionNotice"},
        "the query's answers",
    )
    extension = next(a for a in query["answers"] if a["type"] == "ExtensionNotice")
    assert extension["items"] == ["Q2"] and extension["reason"] and extension["proposed_deadline"]
    assert [r["status"] for r in next(a for a in query["answers"] if a["type"] == "ExecutionReceipt")["results"]] == ["Found"] * 3
    # the bank's own view: what it answered
    mine = net.bank.get(f"/v1/documents/{freeze_id}").json()
    assert mine["state"] == "answered" and {a["type"] for a in mine["answers"]} == {"ExecutionReceipt", "ReviewSuggestion"}


def test_answers_that_cannot_be_sent_are_refused_and_nothing_is_sent(net):
    freeze_id = net.publish(notice())
    net.arrived(net.bank, freeze_id)
    before = net.gateways[1].published()
    refused = {
        "review that refuses": net.bank.post_json(
            f"/v1/inbox/{freeze_id}/review", dict(fixture("review.json"), ItemId=["M1"], MeasureCarriedOut=False)
        ),
        "unknown item": net.bank.post_json(f"/v1/inbox/{freeze_id}/extension", fixture("extension.json")),
        "extension without reason": net.bank.post_json(
            f"/v1/inbox/{freeze_id}/extension", {"ProposedDeadline": "2027-01-08T17:30:00+08:00", "ItemId": ["M1"]}
        ),
        "wrong type": net.bank.post_json(f"/v1/inbox/{freeze_id}/review", {"Grounds": 3}),
    }
    assert refused["review that refuses"].codes == ["RULE_REVIEW_REFUSES"]
    assert refused["unknown item"].codes == ["GW_ITEM_UNKNOWN"]
    assert refused["unknown item"].json()["problems"][0]["path"] == "$.ItemId[0]"
    assert refused["extension without reason"].codes == ["RULE_EXTENSION_REASON"]
    assert "GW_FIELD_INVALID" in refused["wrong type"].codes
    assert all(r.status == 422 for r in refused.values()), {k: r.body for k, r in refused.items()}
    # a lead report answers an assistance notice, not a query
    query_id = net.publish(example_xml("QueryNotice.xml"))
    net.arrived(net.bank, query_id)
    lead = net.bank.post_json(f"/v1/inbox/{query_id}/lead", fixture("lead.json"))
    assert lead.status == 422 and lead.codes == ["GW_ANSWER_NOT_FOR"]
    assert net.gateways[1].published() == before


def test_a_lead_report_is_sent_once_and_reaches_the_court(net):
    document_id, raw = example_xml("AssistanceNotice-PublicSecurity.xml")
    net.publish((document_id, raw))
    net.arrived(net.police, document_id)
    lead = fixture("lead.json")
    lead["Regarding"]["DocumentId"] = document_id
    lead["Sighting"]["SeenAt"] = datetime.now(CHINA).isoformat(timespec="seconds")
    first = net.police.post_json(f"/v1/inbox/{document_id}/lead", lead)
    assert first.status == 202, first.body
    assert net.police.post_json(f"/v1/inbox/{document_id}/lead", lead).json() == dict(first.json(), new=False)
    other = copy.deepcopy(lead)
    other["Sighting"]["Location"] = "云浮市新兴县汽车站"
    assert net.police.post_json(f"/v1/inbox/{document_id}/lead", other).codes == ["GW_ANSWER_CONFLICT"]
    status = wait_for(
        lambda: net.court.get(f"/v1/documents/{document_id}").json(),
        lambda s: s["answers"],
        "the lead report at the court",
    )
    (answer,) = status["answers"]
    assert answer["type"] == "LeadReport" and answer["document_id"] == first.json()["receipt_id"]
    assert answer["regarding"] == "S4" and answer["sighting"] == "PersonSighting"
    assert "陈国强" not in json.dumps(status, ensure_ascii=False)  # the person is in the sealed XML only
    assert "陈国强" in net.court.get(answer["xml_url"]).body.decode()


def test_overdue_then_released_in_the_status_and_the_case_view(net):
    """Nobody answers a freeze: 40 days later by the court's clock it is overdue (its deadline
    from the policy, in working days or hours); a release notice for its measure is served: released,
    for the court and for the bank."""
    doc = notice()
    doc["Header"]["CaseNumber"] = "（2026）粤53执9001号"
    freeze_id = net.publish(doc)
    overdue = net.court_state(freeze_id, "overdue")
    assert overdue["deadline"]["overdue"] is True and overdue["deadline"]["source"]
    assert datetime.fromisoformat(overdue["deadline"]["due_at"]) > datetime.fromisoformat(overdue["service"]["received_at"])
    case_url = "/v1/cases/" + urllib.request.quote(doc["Header"]["CaseNumber"])
    assert [d["state"] for d in net.court.get(case_url).json()["documents"]] == ["overdue"]
    net.arrived(net.bank, freeze_id)
    assert net.bank.get(f"/v1/documents/{freeze_id}").json()["state"] == "received"  # the bank's clock is real

    release_id = net.publish(
        example_xml(
            "ReleaseNotice.xml",
            **{
                "59dee37c-b47d-582c-a9a0-6fe53483669c": freeze_id,
                "（2026）粤53执123号<": "（2026）粤53执9001号<",
                '<ld:Amount Currency="CNY">100000.00</ld:Amount>': "",
            },
        )
    )
    released = net.court_state(freeze_id, "released")
    assert released["releases"] == [
        {"document_id": release_id, "release": "R1", "measure": "M1", "xml_url": f"/v1/documents/{release_id}/xml"}
    ]
    states = {d["document_id"]: d["state"] for d in net.court.get(case_url).json()["documents"]}
    assert states[freeze_id] == "released"
    wait_for(
        lambda: net.bank.get(f"/v1/documents/{freeze_id}").json()["state"], lambda s: s == "released", "the bank to see it released"
    )


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("jq") is None, reason="needs curl and jq")
def test_the_documented_answers_run_as_written(net, tmp_path):
    query_id = net.publish(example_xml("QueryNotice.xml"))
    net.arrived(net.bank, query_id)
    env = {
        "PATH": "/usr/bin:/bin",
        "COURT": net.gateways[0].base,
        "COURT_TOKEN": TOKENS["court-cms"][0],
        "BANK": net.gateways[1].base,
        "BANK_TOKEN": TOKENS["bank-core"][0],
        "ID": query_id,
    }
    done = subprocess.run(
        ["bash", "-c", documented_script("answers")], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    shown = json.loads(done.stdout[done.stdout.rindex('{\n  "state"') :])
    assert {a["type"] for a in shown["answers"]} == {"ExtensionNotice", "ReviewSuggestion"}
    assert shown["deadline"]["due_at"] and shown["state"] in ("answered", "overdue")


# --- TLS client certificates instead of tokens ------------------------------------------------------


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def throwaway_pki(folder: Path) -> None:
    """A CA made for this test, the gateway's server certificate for 127.0.0.1, two client
    certificates from it, and one from a second CA the gateway does not trust."""
    folder.mkdir()
    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{ca}.key", "-out", f"{ca}.pem",
                "-days", "2", "-subj", f"/O=Test/CN={ca}", cwd=folder)  # fmt: skip
    for name, ca, extra in (
        ("server", "ca", ["-addext", "subjectAltName=IP:127.0.0.1"]),
        ("court-cms", "ca", []),
        ("stranger", "ca", []),
        ("forged", "other-ca", []),
    ):
        subject = f"/O=Test Court/CN={name}"
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", subject, *extra, cwd=folder)  # fmt: skip
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key", "-CAcreateserial",
                "-out", f"{name}.pem", "-days", "2", "-copy_extensions", "copy", cwd=folder)  # fmt: skip


def curl(base: str, pki: Path, path: str, cert: str | None = None, *args: str) -> tuple[int, int, dict | None]:
    """(curl's exit code, HTTP status, JSON body) of a call over TLS with ``cert`` (or none)."""
    command = ["curl", "-sS", "--cacert", str(pki / "ca.pem"), "-o", "-", "-w", "\n%{http_code}", base + path, *args]
    if cert is not None:
        command += ["--cert", str(pki / f"{cert}.pem"), "--key", str(pki / f"{cert}.key")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    body, _, status = done.stdout.rpartition("\n")
    return done.returncode, int(status or 0), json.loads(body) if body.startswith("{") else None


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("openssl") is None, reason="needs curl and openssl")
def test_a_client_certificate_instead_of_a_token(net, tmp_path):
    """A gateway on HTTPS with a client CA: a known certificate gets its scopes, an unknown one
    a 401 with its code, one from another CA no connection at all; a token still works."""
    pki = tmp_path / "pki"
    throwaway_pki(pki)
    gateway = GatewayProcess(
        COURT2,
        net.broker_port,
        tmp_path / "court2",
        ["court-viewer"],
        http={
            "tls": {
                "cert": str(pki / "server.pem"),
                "key": str(pki / "server.key"),
                "client_ca": str(pki / "ca.pem"),
                # as `openssl x509 -noout -subject -nameopt RFC2253` prints it
                "clients": [{"name": "court-cms-cert", "subject": "CN=court-cms,O=Test Court", "scopes": ["read"]}],
            }
        },
    )
    base = f"https://127.0.0.1:{gateway.port}"
    gateway.start(probe=lambda: curl(base, pki, "/healthz")[1] == 200)
    try:
        code, status, body = curl(base, pki, "/v1/inbox", "court-cms")
        assert (code, status) == (0, 200) and body["items"] == []
        code, status, body = curl(base, pki, "/v1/documents", "court-cms", "-X", "POST", "-H",
                                  "Content-Type: application/json", "-d", "{}")  # fmt: skip
        assert status == 403 and [p["code"] for p in body["problems"]] == ["GW_SCOPE_MISSING"]
        code, status, body = curl(base, pki, "/v1/inbox", "stranger")
        assert status == 401 and [p["code"] for p in body["problems"]] == ["GW_CLIENT_CERT_UNKNOWN"]
        code, status, body = curl(base, pki, "/v1/inbox")
        assert status == 401 and [p["code"] for p in body["problems"]] == ["GW_TOKEN_MISSING"]
        code, status, _ = curl(base, pki, "/v1/inbox", "forged")
        assert code != 0 and status == 0  # the handshake fails: no HTTP answer at all
        documented = subprocess.run(
            ["bash", "-c", documented_script("tls")], cwd=pki, env={"PATH": "/usr/bin:/bin", "GATEWAY": base},
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert documented.returncode == 0 and json.loads(documented.stdout)["items"] == [], documented.stderr
        token = TOKENS["court-viewer"][0]
        code, status, _ = curl(base, pki, "/v1/inbox", None, "-H", f"Authorization: Bearer {token}")
        assert status == 200
        audit = [json.loads(line) for line in (tmp_path / "court2" / "audit.jsonl").read_text().splitlines()]
        assert {"court-cms-cert", "court-viewer"} <= {a.get("who") for a in audit}
    finally:
        gateway.stop()


# --- "Kind": members of a choice that share a shape ----------------------------------------------------


def test_kind_tells_a_rotating_freeze_from_a_freeze_and_the_openapi_document_says_so(net):
    from openapi_spec_validator import validate

    doc = notice(measures=3)
    doc["Body"]["Measures"][1]["Kind"] = "BankRotatingFreeze"  # the same fields as a BankFreeze
    doc["Body"]["Measures"][2]["Kind"] = "BankFreeze"
    document_id = net.publish(doc)
    page = wait_for(
        lambda: net.bank.get("/v1/inbox").json()["items"],
        lambda items: any(i["document_id"] == document_id for i in items),
        "the notice at the bank",
    )
    item = next(i for i in page if i["document_id"] == document_id)
    assert set(item["answer_urls"]) == {"result", "extension", "review", "lead"}  # an assistance notice
    assert [i["kind"] for i in item["items"]] == ["BankFreeze", "BankRotatingFreeze", "BankFreeze"]
    assert [m["Kind"] for m in item["document"]["Body"]["Measures"]] == ["BankFreeze", "BankRotatingFreeze", "BankFreeze"]
    assert "<ld:BankRotatingFreeze MeasureId=\"M2\">" in net.bank.get(item["xml_url"]).body.decode()
    # the JSON handed out is a valid submission as it is: what a court's system would store and resend
    resent = copy.deepcopy(item["document"])
    resent_id = str(uuid.uuid4())
    resent["Id"], resent["Header"]["DocumentId"] = f"ld-{resent_id}", resent_id
    resent["Header"]["IssuedAt"] = datetime.now(CHINA).isoformat(timespec="seconds")
    assert net.publish(resent) == resent_id

    wrong = notice()
    wrong["Body"]["Measures"][0]["Kind"] = "BankFrozen"
    refused = net.court.post_json("/v1/documents", wrong)
    assert refused.status == 422 and refused.codes == ["GW_KIND_UNKNOWN"]
    assert refused.json()["problems"][0]["path"] == "$.Body.Measures[0].Kind"

    spec = net.court.get("/openapi.json").json()
    validate(spec)
    schemas = spec["components"]["schemas"]
    assert schemas["BankRotatingFreeze"]["properties"]["Kind"]["const"] == "BankRotatingFreeze"
    assert schemas["PropertyPreSeize"]["properties"]["Kind"]["const"] == "PropertyPreSeize"
    measures = schemas["AssistanceNotice"]["properties"]["Measures"]["items"]
    assert measures["discriminator"]["propertyName"] == "Kind"
    assert measures["discriminator"]["mapping"]["BankRotatingFreeze"] == "#/components/schemas/BankRotatingFreeze"
