"""The gateway (issue 12), end to end: a real Mosquitto and hub, a court's and a bank's gateway
each running as ``liandong gateway run`` in its own process on its own free port, driven over
plain HTTP.

The client code — :class:`Http` and everything a test sends — uses the standard library and the
JSON/XML fixtures of ``tests/fixtures/gateway`` only, as a Java or .NET system would: no liandong
import. liandong's own code only sets the network up (the hub, the configuration files) and reads
the court's store to show that nothing was published.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from broker.hub.service import Hub
from broker.mosquitto import free_port
from tests.network import BANK, COURT, COURT2, HUB, POLICE, CourtClient, fresh, hub_config, unit_config

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "gateway"
CERTS = ROOT / "certs-example"
WAIT = 60.0
XMLSEC = shutil.which("xmlsec1")
UNKNOWN_UNIT = "91445300MA51999990"  # a well-formed code of no member of the example network

TOKENS = {  # token name -> (secret, scopes); the configuration keeps only the hash
    "court-cms": ("court-cms-secret-0123456789abcdef", ["publish", "read"]),
    "court-viewer": ("court-viewer-secret-0123456789ab", ["read"]),
    "bank-core": ("bank-core-secret-0123456789abcdef", ["read", "answer"]),
    "bank-viewer": ("bank-viewer-secret-0123456789abc", ["read"]),
}


# --- the client side: standard library only ---------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)

    @property
    def codes(self) -> list[str]:
        return [p["code"] for p in self.json()["problems"]]


class Http:
    """A plain HTTP client for one gateway."""

    def __init__(self, base: str, token: str | None):
        self.base, self.token = base, token

    def call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        content_type: str | None = None,
        **headers: str,
    ) -> Reply:
        request = urllib.request.Request(self.base + path, data=body, method=method)
        if self.token is not None:
            request.add_header("Authorization", f"Bearer {self.token}")
        if content_type:
            request.add_header("Content-Type", content_type)
        for name, value in headers.items():
            request.add_header(name.replace("_", "-"), value)
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                return Reply(r.status, dict(r.headers), r.read())
        except urllib.error.HTTPError as e:
            return Reply(e.code, dict(e.headers), e.read())

    def get(self, path: str) -> Reply:
        return self.call("GET", path)

    def post_json(self, path: str, data: object, **headers: str) -> Reply:
        return self.call(
            "POST", path, json.dumps(data, ensure_ascii=False).encode(), "application/json", **headers
        )


def fresh_json(name: str = "freeze.json", **header: str) -> dict:
    """A fixture with a new document id and the current time (as a court's system makes them)."""
    doc = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    document_id = str(uuid.uuid4())
    doc["Id"] = f"ld-{document_id}"
    doc["Header"].update(
        DocumentId=document_id,
        IssuedAt=datetime.now(timezone(timedelta(hours=8))).isoformat(timespec="seconds"),
        **header,
    )
    return doc


def fresh_xml() -> tuple[str, bytes]:
    """The unsigned XML fixture with a new document id and the current time."""
    text = (FIXTURES / "freeze.xml").read_text(encoding="utf-8")
    document_id = str(uuid.uuid4())
    text = re.sub(r'Id="ld-[^"]+"', f'Id="ld-{document_id}"', text, count=1)
    text = re.sub(
        r"<ld:DocumentId>[^<]+</ld:DocumentId>",
        f"<ld:DocumentId>{document_id}</ld:DocumentId>",
        text,
        count=1,
    )
    now = datetime.now(timezone(timedelta(hours=8))).isoformat(timespec="seconds")
    text = re.sub(r"<ld:IssuedAt>[^<]+</ld:IssuedAt>", f"<ld:IssuedAt>{now}</ld:IssuedAt>", text, count=1)
    return document_id, text.encode("utf-8")


def wait_for(get, predicate, what: str, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while True:
        value = get()
        if predicate(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last: {value}")
        time.sleep(0.1)


# --- the network: set up with liandong's own code ---------------------------------------------------


class GatewayProcess:
    """``liandong gateway run`` in a child process."""

    def __init__(
        self, unit: str, broker_port: int, directory: Path, tokens: list[str], http: dict | None = None
    ):
        directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.directory = directory
        config = unit_config(unit, port=broker_port, var=directory).model_dump(mode="json")
        config["http"] = {
            "port": self.port,
            "audit_log": str(directory / "audit.jsonl"),
            "state": str(directory / "gateway.db"),
            "tokens": [
                {
                    "name": n,
                    "sha256": hashlib.sha256(TOKENS[n][0].encode()).hexdigest(),
                    "scopes": TOKENS[n][1],
                }
                for n in tokens
            ],
            **(http or {}),
        }
        self.config = directory / "gateway.yaml"
        self.config.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        self.store = Path(config["store"])
        self.log = directory / "gateway.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, token_name: str | None) -> Http:
        return Http(self.base, TOKENS[token_name][0] if token_name else None)

    def start(self, probe=None) -> GatewayProcess:
        """Start, and wait until ``probe()`` (default: ``/healthz`` over plain HTTP) is true."""
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "broker.cli.main", "gateway", "run", "--config", str(self.config)],
                stdout=log,
                stderr=log,
                cwd=ROOT,
            )
        anonymous = Http(self.base, None)

        def up() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"gateway exited {self.proc.returncode}: {self.log.read_text()[-3000:]}")
            try:
                return probe() if probe is not None else anonymous.get("/healthz").status == 200
            except OSError:
                return False

        wait_for(lambda: up(), bool, "the gateway to listen")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        """SIGKILL: no chance to close anything."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=30)

    def published(self) -> int:
        """How many documents this gateway's unit has sent (its store's ``sent`` table)."""
        with sqlite3.connect(self.store) as db:
            return db.execute("SELECT count(*) FROM sent").fetchone()[0]


@dataclass
class Network:
    court: GatewayProcess
    bank: GatewayProcess


@pytest.fixture
def network(mosquitto, tmp_path):
    hub = Hub(hub_config(HUB, port=mosquitto.port, var=tmp_path / "hub"))
    hub.start()
    court = GatewayProcess(COURT, mosquitto.port, tmp_path / "court", ["court-cms", "court-viewer"])
    bank = GatewayProcess(BANK, mosquitto.port, tmp_path / "bank", ["bank-core", "bank-viewer"])
    try:
        court.start()
        bank.start()
        yield Network(court, bank)
    finally:
        court.stop()
        bank.stop()
        hub.stop()


def verify(tmp_path: Path, documents: dict[str, bytes]) -> str:
    """``liandong verify`` and ``xmlsec1`` (when installed) of every XML the gateways handed out."""
    folder = tmp_path / "handed-out"
    folder.mkdir(exist_ok=True)
    files = []
    for name, raw in documents.items():
        files.append(folder / f"{name}.xml")
        files[-1].write_bytes(raw)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "broker.cli.main",
            "verify",
            *map(str, files),
            "--trust",
            str(CERTS / "root-ca.pem"),
            "--crl",
            str(CERTS / "crl.pem"),
            "--registry",
            str(ROOT / "examples" / "network.yaml"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("VALID") == len(files) and "INVALID" not in done.stdout, done.stdout
    if XMLSEC is not None:  # a second opinion from an implementation we did not write
        for file in files:
            checked = subprocess.run(
                [
                    XMLSEC,
                    "--verify",
                    "--enabled-key-data",
                    "x509",
                    "--id-attr:Id",
                    "urn:liandong:v1:Document",
                    "--trusted-pem",
                    str(CERTS / "root-ca.pem"),
                    "--untrusted-pem",
                    str(CERTS / "issuing-ca.pem"),
                    str(file),
                ],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert checked.returncode == 0, (file.name, checked.stderr)
    return done.stdout


# --- the round trip ---------------------------------------------------------------------------------


def test_freeze_round_trip_through_two_gateways(network, tmp_path):
    court, bank = network.court.client("court-cms"), network.bank.client("bank-core")

    # the court's system POSTs a freeze as JSON
    notice = fresh_json()
    posted = court.post_json("/v1/documents", notice, Idempotency_Key="case-123-freeze-1")
    assert posted.status == 202, posted.body
    document_id = posted.json()["document_id"]
    assert document_id == notice["Header"]["DocumentId"]
    assert posted.json()["status_url"] == f"/v1/documents/{document_id}"

    # the bank's system reads its inbox
    page = wait_for(
        lambda: bank.get("/v1/inbox?cursor=0").json(), lambda p: p["items"], "the freeze in the bank's inbox"
    )
    (item,) = page["items"]
    assert item["document_id"] == document_id and item["type"] == "AssistanceNotice"
    assert item["document"]["Body"]["Measures"][0]["MeasureId"] == "M1"
    assert item["items"] == [{"item": "M1", "kind": "BankFreeze"}]
    assert bank.get(f"/v1/inbox?cursor={page['next_cursor']}").json()["items"] == []

    # ... and POSTs the result: a limit freeze, requested and frozen amounts
    result = json.loads((FIXTURES / "result.json").read_text(encoding="utf-8"))
    answered = bank.post_json(item["result_url"], result)
    assert answered.status == 202, answered.body
    receipt_id = answered.json()["receipt_id"]
    again = bank.post_json(item["result_url"], result)
    assert again.status == 202 and again.json()["receipt_id"] == receipt_id and again.json()["new"] is False
    other = dict(result, Remark="另一份答复")
    conflict = bank.post_json(item["result_url"], other)
    assert conflict.status == 409 and conflict.codes == ["GW_ANSWER_CONFLICT"]

    # the court sees it served (with the legal time of service) and answered with the receipt
    status = wait_for(
        lambda: court.get(f"/v1/documents/{document_id}").json(),
        lambda s: s["state"] == "answered",
        "the court to see the receipt",
    )
    assert status["service"]["received_at"] and status["service"]["document_id"]
    (receipt,) = status["answers"]
    assert receipt["document_id"] == receipt_id and receipt["type"] == "ExecutionReceipt"
    assert receipt["results"] == [{"item": "M1", "kind": "MeasureResult", "status": "PartiallyExecuted"}]
    case = court.get("/v1/cases/" + urllib.request.quote(notice["Header"]["CaseNumber"])).json()
    assert [d["document_id"] for d in case["documents"]][:1] == [document_id]
    assert receipt_id in [d["document_id"] for d in case["documents"]]

    # the same Idempotency-Key and body: the same document, not a second publication
    repeated = court.post_json("/v1/documents", notice, Idempotency_Key="case-123-freeze-1")
    assert (
        repeated.status == 202
        and repeated.json()["document_id"] == document_id
        and repeated.json()["new"] is False
    )
    assert court.post_json("/v1/documents", fresh_json(), Idempotency_Key="case-123-freeze-1").codes == [
        "GW_IDEMPOTENCY_CONFLICT"
    ]
    assert network.court.published() == 1
    assert len(bank.get("/v1/inbox").json()["items"]) == 1

    # every XML handed out is sealed and verifies
    handed_out = {
        "notice-court": court.get(status["xml_url"]).body,
        "notice-bank": bank.get(item["xml_url"]).body,
        "service-receipt": court.get(status["service"]["xml_url"]).body,
        "receipt-court": court.get(receipt["xml_url"]).body,
        "receipt-bank": bank.get(answered.json()["xml_url"]).body,
    }
    assert handed_out["notice-court"] == handed_out["notice-bank"]
    assert handed_out["receipt-court"] == handed_out["receipt-bank"]
    verify(tmp_path, handed_out)


def test_unsigned_xml_is_sealed_and_served(network):
    court = network.court.client("court-cms")
    document_id, raw = fresh_xml()
    posted = court.call("POST", "/v1/documents", raw, "application/xml")
    assert posted.status == 202, posted.body
    assert posted.json()["document_id"] == document_id
    status = wait_for(
        lambda: court.get(f"/v1/documents/{document_id}").json(),
        lambda s: s["state"] == "served",
        "the service receipt",
    )
    assert status["service"]["received_at"]
    sealed = court.get(f"/v1/documents/{document_id}/xml")
    assert sealed.headers["content-type"].startswith("application/xml")
    assert b"http://www.w3.org/2000/09/xmldsig#" in sealed.body and document_id.encode() in sealed.body
    # the 文书 beside the XML (issue 13): the page and the PDF, the seal verified by the gateway
    page = court.get(f"/v1/documents/{document_id}/html")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert "协助执行通知书" in page.body.decode() and "seal verifies" in page.body.decode()
    pdf = court.get(f"/v1/documents/{document_id}/pdf")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.body.startswith(b"%PDF-")


def read_sse(
    base: str, token: str, path: str, until, timeout: float = WAIT, **headers: str
) -> list[tuple[str, str, dict]]:
    """(id, event, data) of Server-Sent Events read over a plain HTTP connection until
    ``until(events)`` is true."""
    import http.client
    from urllib.parse import urlsplit

    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    conn.request(
        "GET", path, headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream", **headers}
    )
    reply = conn.getresponse()
    assert reply.status == 200 and reply.getheader("content-type").startswith("text/event-stream")
    found: list[tuple[str, str, dict]] = []
    fields: dict[str, str] = {}
    try:
        while not until(found):
            line = reply.readline().decode("utf-8").rstrip("\n")
            if line == "" and "data" in fields:
                found.append((fields.get("id", ""), fields.get("event", ""), json.loads(fields["data"])))
                fields = {}
            elif line and not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = value
    finally:
        conn.close()
    return found


def test_events_by_polling_and_by_server_sent_events(network):
    court, bank = network.court.client("court-cms"), network.bank.client("bank-core")
    document_id = court.post_json("/v1/documents", fresh_json()).json()["document_id"]

    # the bank: one "received" event, by SSE as it arrives and by polling
    streamed = read_sse(network.bank.base, TOKENS["bank-core"][0], "/v1/events/stream", lambda e: e)
    (first,) = streamed
    assert first[1] == "received" and first[2]["document_id"] == document_id and first[2]["id"] == document_id
    polled = bank.get("/v1/events?cursor=0").json()
    assert [e["id"] for e in polled["events"]] == [document_id]
    assert bank.get(f"/v1/events?cursor={polled['next_cursor']}").json()["events"] == []

    result = json.loads((FIXTURES / "result.json").read_text(encoding="utf-8"))
    receipt_id = bank.post_json(f"/v1/inbox/{document_id}/result", result).json()["receipt_id"]

    # the court: "served" then "answered", both about its document; resumed with Last-Event-ID
    kinds = lambda events: [e[1] for e in events]
    streamed = read_sse(
        network.court.base, TOKENS["court-cms"][0], "/v1/events/stream", lambda e: "answered" in kinds(e)
    )
    assert kinds(streamed) == ["served", "answered"]
    assert {e[2]["document_id"] for e in streamed} == {document_id}
    assert streamed[1][2]["arrived"]["document_id"] == receipt_id
    polled = court.get("/v1/events").json()["events"]
    assert [(e["type"], e["id"]) for e in polled] == [(e[1], e[2]["id"]) for e in streamed]
    resumed = court.call("GET", "/v1/events?cursor=" + streamed[0][0]).json()["events"]
    assert [e["type"] for e in resumed] == ["answered"]
    again = read_sse(
        network.court.base,
        TOKENS["court-cms"][0],
        "/v1/events/stream",
        lambda e: e,
        **{"Last-Event-ID": streamed[0][0]},
    )
    assert [(e[1], e[2]["id"]) for e in again] == [("answered", receipt_id)]


def test_a_killed_gateway_keeps_its_word_after_a_restart(network):
    """SIGKILL and restart both gateways: an Idempotency-Key still gives the same document, the
    same answer the same receipt, the inbox cursor goes on where it was; nothing twice."""
    court, bank = network.court.client("court-cms"), network.bank.client("bank-core")
    notice = fresh_json()
    posted = court.post_json("/v1/documents", notice, Idempotency_Key="restart-1")
    document_id = posted.json()["document_id"]
    page = wait_for(lambda: bank.get("/v1/inbox").json(), lambda p: p["items"], "the freeze at the bank")
    result = json.loads((FIXTURES / "result.json").read_text(encoding="utf-8"))
    receipt_id = bank.post_json(f"/v1/inbox/{document_id}/result", result).json()["receipt_id"]

    for gateway in (network.court, network.bank):
        gateway.kill()
        gateway.start()

    again = court.post_json("/v1/documents", notice, Idempotency_Key="restart-1")
    assert again.status == 202 and again.json() == dict(posted.json(), new=False)
    answered = bank.post_json(f"/v1/inbox/{document_id}/result", result)
    assert (
        answered.status == 202
        and answered.json()["receipt_id"] == receipt_id
        and answered.json()["new"] is False
    )
    assert bank.get(f"/v1/inbox?cursor={page['next_cursor']}").json()["items"] == []
    wait_for(
        lambda: court.get(f"/v1/documents/{document_id}").json()["state"],
        lambda s: s == "answered",
        "the receipt",
    )
    assert network.court.published() == 1 and network.bank.published() == 1


def test_requests_in_flight_are_published_together_and_each_once(network):
    """POSTs at once — each document twice, one Idempotency-Key twice — are decided one at a time
    and the new documents recorded together (broker/gateway/publishing.py): every document is
    published once, with one attempt, each pair answered with the same id and one ``new``."""
    court = network.court.client("court-cms")
    notices = [fresh_json() for _ in range(12)]
    keyed = fresh_json()
    bodies = [(n, None) for n in notices for _ in range(2)] + [(keyed, "together-1")] * 2
    with ThreadPoolExecutor(16) as pool:
        replies = list(
            pool.map(
                lambda item: court.post_json("/v1/documents", item[0], **({"Idempotency_Key": item[1]} if item[1] else {})),
                bodies,
            )
        )
    assert all(r.status == 202 for r in replies), [r.body for r in replies if r.status != 202]
    for i in range(0, len(replies), 2):
        first, second = replies[i].json(), replies[i + 1].json()
        assert first["document_id"] == second["document_id"] == bodies[i][0]["Header"]["DocumentId"]
        assert sorted([first["new"], second["new"]]) == [False, True]
    assert network.court.published() == 13
    with sqlite3.connect(network.court.store) as db:
        assert {row[0] for row in db.execute("SELECT attempts FROM sent")} == {1}


def _processes() -> dict[int, tuple[str, int]]:
    """Every process's state and parent (``/proc``)."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit():
                state, parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
                found[int(entry.name)] = (state, int(parent))
        except (OSError, IndexError, ValueError):
            continue
    return found


def _children(pid: int, command: str = "") -> set[int]:
    """The running (not zombie) processes whose parent is ``pid`` and whose command line has
    ``command`` in it."""
    found = set()
    for p, (state, parent) in _processes().items():
        if parent == pid and state != "Z":
            try:
                if command in Path(f"/proc/{p}/cmdline").read_text(errors="replace"):
                    found.add(p)
            except OSError:
                continue
    return found


def _running(pids: set[int]) -> set[int]:
    return {p for p, (state, _) in _processes().items() if p in pids and state != "Z"}


def test_a_dead_worker_loses_nothing_and_a_killed_gateway_leaves_none(network):
    """The court's gateway checks and seals in a worker process (http.workers, default 1): one
    killed outright is replaced, the next document is still checked, sealed and published once;
    a gateway killed outright leaves no worker behind."""
    court = network.court.client("court-cms")
    gateway = network.court.proc
    assert gateway is not None
    workers = _children(gateway.pid, "spawn_main")  # (beside them, multiprocessing's resource tracker)
    assert len(workers) == 1, workers  # the default: one worker
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: _children(gateway.pid) & workers, lambda left: not left, "the killed worker to go")

    notice = fresh_json()
    posted = court.post_json("/v1/documents", notice)
    assert posted.status == 202, posted.body
    document_id = posted.json()["document_id"]
    wait_for(lambda: court.get(f"/v1/documents/{document_id}").json()["state"], lambda s: s == "served", "the receipt")
    # and a body with problems is still answered with its codes, from the new worker
    refused = court.post_json("/v1/documents", fresh_json(Recipient=UNKNOWN_UNIT))
    assert refused.status == 422 and refused.codes, refused.body
    assert network.court.published() == 1

    replacements = _children(gateway.pid, "spawn_main")
    assert len(replacements) == 1 and not replacements & workers, (workers, replacements)
    children = _children(gateway.pid)
    network.court.kill()
    wait_for(lambda: _running(children), lambda left: not left, "the orphaned worker to end", 10)


def test_a_document_the_hub_rejects_shows_rejected_with_every_code(network, mosquitto, tmp_path):
    """The gateway checks what it can; the hub alone knows every document id on the network. Another
    court (a Python client, set up with liandong's own code) has used an id; the court's system
    then posts another document with that id through its gateway: published, and rejected."""
    taken = fresh("QueryNotice", sender=COURT2, case_number="（2026）鄂1022执45号")
    with CourtClient(unit_config(COURT2, port=mosquitto.port, var=tmp_path / "court2")) as other:
        assert other.publish(taken, timeout=WAIT).accepted

    court = network.court.client("court-cms")
    notice = fresh_json()
    notice["Id"], notice["Header"]["DocumentId"] = taken.id, str(taken.header.document_id)
    posted = court.post_json("/v1/documents", notice)
    assert posted.status == 202, posted.body
    status = wait_for(
        lambda: court.get(f"/v1/documents/{notice['Header']['DocumentId']}").json(),
        lambda s: s["state"] != "published",
        "the hub's answer",
    )
    assert status["state"] == "rejected" and status["service"] is None
    assert [p["code"] for p in status["rejection"]["problems"]] == ["HUB_DUPLICATE_CONFLICT"]
    assert all(p["message_zh"] and p["message_en"] for p in status["rejection"]["problems"])
    assert court.get(status["rejection"]["xml_url"]).status == 200


# --- bad input: a 4xx with a code and both messages, nothing published --------------------------------


def _refused(reply: Reply, status: int, *codes: str) -> None:
    assert reply.status == status, (reply.status, reply.body[:2000])
    body = reply.json()
    assert body["status"] == status
    assert body["problems"], body
    for p in body["problems"]:
        assert p["code"] and p["message_zh"] and p["message_en"], p
    for code in codes:
        assert code in reply.codes, reply.codes
    assert b"Traceback" not in reply.body


def test_bad_input_is_refused_with_a_code_and_nothing_is_published(network):
    court = network.court.client("court-cms")

    _refused(
        court.call("POST", "/v1/documents", b'{"Id": "ld-1", "Header": {', "application/json"),
        400,
        "GW_JSON_MALFORMED",
    )

    wrong_types = fresh_json()
    wrong_types["Header"]["IssuedAt"] = "yesterday"
    wrong_types["Body"]["Measures"][0]["Amount"]["Value"] = "a lot"
    reply = court.post_json("/v1/documents", wrong_types)
    _refused(reply, 422, "GW_FIELD_INVALID")
    paths = {p["path"] for p in reply.json()["problems"]}
    assert "$.Header.IssuedAt" in paths and "$.Body.Measures[0].Amount.Value" in paths, paths

    minor = court.post_json("/v1/documents", fresh_json("listing-minor.json"))
    _refused(minor, 422, "RULE_LISTING_MINOR")
    assert [p["path"] for p in minor.json()["problems"]] == ["$.Body.Subject"]
    _refused(court.post_json("/v1/documents", fresh_json(Recipient=UNKNOWN_UNIT)), 422, "RULE_UNKNOWN_UNIT")
    wrong_kind = court.post_json("/v1/documents", fresh_json(Recipient=POLICE))
    _refused(wrong_kind, 422, "RULE_MEASURE_UNIT_KIND")
    assert "$.Body.Measures[0]" in [p["path"] for p in wrong_kind.json()["problems"]]
    _refused(court.post_json("/v1/documents", fresh_json(Sender=BANK)), 422)

    big = b'{"pad": "' + b"x" * (20 * 1024 * 1024) + b'"}'
    _refused(court.call("POST", "/v1/documents", big, "application/json"), 413, "GW_BODY_TOO_LARGE")
    _refused(court.call("POST", "/v1/documents", b"hello", "text/plain"), 415, "GW_MEDIA_TYPE")
    _refused(court.call("POST", "/v1/documents", b"<ld:Document", "application/xml"), 422, "XML_MALFORMED")

    anonymous = network.court.client(None).post_json("/v1/documents", fresh_json())
    _refused(anonymous, 401, "GW_TOKEN_MISSING")
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    _refused(
        Http(network.court.base, "not-a-token").post_json("/v1/documents", fresh_json()),
        401,
        "GW_TOKEN_INVALID",
    )
    _refused(
        network.court.client("court-viewer").post_json("/v1/documents", fresh_json()), 403, "GW_SCOPE_MISSING"
    )
    # a token of the bank is no token at the court's gateway
    _refused(Http(network.court.base, TOKENS["bank-core"][0]).get("/v1/inbox"), 401, "GW_TOKEN_INVALID")

    _refused(court.get("/v1/inbox?cursor=-1"), 400, "GW_PARAMETER_INVALID")
    _refused(court.get("/v1/nothing-here"), 404, "GW_ROUTE_NOT_FOUND")
    _refused(court.get(f"/v1/documents/{uuid.uuid4()}"), 404, "GW_NOT_FOUND")

    assert network.court.published() == 0
    assert network.bank.client("bank-viewer").get("/v1/inbox").json()["items"] == []

    # every call is in the audit log: who, from where, what, the result; no body, no token
    lines = [json.loads(line) for line in (network.court.directory / "audit.jsonl").read_text().splitlines()]
    assert {"who", "from", "method", "path", "status", "at"} <= set(lines[-1])
    assert any(r["who"] == "court-viewer" and r["status"] == 403 for r in lines)
    assert any(r["who"] is None and r["status"] == 401 for r in lines)
    text = (network.court.directory / "audit.jsonl").read_text()
    assert TOKENS["court-cms"][0] not in text and "陈小强" not in text


def test_a_unit_cannot_read_another_units_documents_or_answer_without_the_scope(network):
    court, bank_viewer = network.court.client("court-cms"), network.bank.client("bank-viewer")
    notice = fresh_json()
    document_id = court.post_json("/v1/documents", notice).json()["document_id"]
    wait_for(lambda: bank_viewer.get("/v1/inbox").json()["items"], bool, "the freeze at the bank")
    result = json.loads((FIXTURES / "result.json").read_text(encoding="utf-8"))
    _refused(bank_viewer.post_json(f"/v1/inbox/{document_id}/result", result), 403, "GW_SCOPE_MISSING")
    # the bank's gateway knows only the bank's documents: the court's service receipt is not there
    served = wait_for(
        lambda: court.get(f"/v1/documents/{document_id}").json(), lambda s: s["service"], "service"
    )
    receipt_id = served["service"]["document_id"]
    assert court.get(f"/v1/documents/{receipt_id}/xml").status == 200
    _refused(bank_viewer.get(f"/v1/documents/{receipt_id}"), 404, "GW_NOT_FOUND")
    _refused(bank_viewer.get(f"/v1/documents/{receipt_id}/xml"), 404, "GW_NOT_FOUND")
    for form in ("html", "pdf"):  # the 文书 follows the rules of the XML (served: test_unsigned_xml_is_sealed_and_served)
        _refused(bank_viewer.get(f"/v1/documents/{receipt_id}/{form}"), 404, "GW_NOT_FOUND")
    _refused(bank_viewer.get(f"/v1/inbox/{document_id}/result"), 405, "GW_METHOD_NOT_ALLOWED")
    _refused(
        network.bank.client("bank-core").post_json(f"/v1/inbox/{uuid.uuid4()}/result", result),
        404,
        "GW_NOT_FOUND",
    )
    # a result that breaks the rules: more frozen than requested
    bad = json.loads(json.dumps(result))
    bad["Results"][0]["ActualAmount"]["Value"] = "900000.00"
    too_much = network.bank.client("bank-core").post_json(f"/v1/inbox/{document_id}/result", bad)
    _refused(too_much, 422, "RULE_FREEZE_RESULT")
    assert [p["path"] for p in too_much.json()["problems"]] == ["$.Results[0]"]  # where the rule reports it
    assert network.bank.published() == 0


def test_openapi_document_is_valid_openapi_3(network):
    from openapi_spec_validator import validate

    reply = network.court.client(None).get("/openapi.json")
    assert reply.status == 200
    spec = reply.json()
    assert spec["openapi"].startswith("3.")
    validate(spec)
    assert "Document" in spec["components"]["schemas"] and "ExecutionReceipt" in spec["components"]["schemas"]
    # the interactive page works with no internet: every asset it names is the gateway's own
    page = network.court.client(None).get("/docs")
    assert page.status == 200 and b"swagger-ui" in page.body
    html = page.body.decode("utf-8")
    assert not re.findall(r"https?://", html), re.findall(r"https?://[^\"' ]+", html)
    assets = re.findall(r"""(?:src|href)=['"](/[^'"]+)['"]""", html)
    assert len(assets) >= 3 and all(a.startswith("/docs/assets/") for a in assets), assets
    for asset in assets:
        assert network.court.client(None).get(asset).status == 200, asset


def test_every_example_document_has_a_json_form_and_its_items_kinds():
    """What the inbox hands out as JSON, for every signed example: attachments (a PDF) in base64,
    and each measure's kind, which JSON alone cannot tell (BankFreeze, BankRotatingFreeze)."""
    from broker.gateway.status import document_json, items_of
    from broker.parsing.hardened import parse

    for path in sorted((ROOT / "examples" / "signed").glob("*.xml")):
        root = parse(path.read_bytes())
        assert json.loads(json.dumps(document_json(root)))["Header"]["DocumentId"], path.name
    kinds = [
        i["kind"]
        for i in items_of(parse((ROOT / "examples" / "signed" / "AssistanceNotice.xml").read_bytes()))
    ]
    assert kinds == ["BankFreeze", "BankRotatingFreeze", "BankContinuedFreeze", "BankDeduct", "BankDeduct"]


def round_trip_script() -> str:
    """The ``sh`` blocks of docs/gateway.md's round trip, as written, in one script."""
    text = (ROOT / "docs" / "gateway.md").read_text(encoding="utf-8")
    section = text.split("<!-- round trip: begin -->")[1].split("<!-- round trip: end -->")[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 5, len(blocks)
    return "set -euo pipefail\n" + "\n".join(blocks)


@pytest.mark.skipif(
    not (shutil.which("curl") and shutil.which("jq")), reason="the documented round trip needs curl and jq"
)
def test_the_documented_curl_round_trip_runs_as_written(network, tmp_path):
    work = tmp_path / "curl"
    work.mkdir()
    env = {
        "PATH": "/usr/bin:/bin",
        "COURT": network.court.base,
        "COURT_TOKEN": TOKENS["court-cms"][0],
        "BANK": network.bank.base,
        "BANK_TOKEN": TOKENS["bank-core"][0],
    }
    done = subprocess.run(
        ["bash", "-c", round_trip_script()],
        cwd=work,
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"state": "answered"' in done.stdout and '"status": "PartiallyExecuted"' in done.stdout, (
        done.stdout
    )
    verify(
        tmp_path,
        {"notice": (work / "notice.xml").read_bytes(), "receipt": (work / "receipt.xml").read_bytes()},
    )
    assert network.court.published() == 1 and network.bank.published() == 1
