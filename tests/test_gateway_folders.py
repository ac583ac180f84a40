"""The gateway's folders (issue 12, broker/gateway/folders.py): a court's and a bank's gateway,
each ``liandong gateway run`` in its own process with an outgoing and an incoming folder, a real
Mosquitto and hub. The organisations' side only writes and reads files (JSON and XML fixtures),
as a unit with no program at all would.

One network for the module (each gateway starts in a second or two): the tests use their own
document ids and file names, so they do not see each other's files.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from broker.hub.service import Hub
from broker.mosquitto import BrokerSettings, MosquittoProcess, free_port
from broker.registry import load_registry
from tests.network import BANK, COURT, HUB, hub_config
from tests.test_gateway import FIXTURES, UNKNOWN_UNIT, GatewayProcess, fresh_json, verify, wait_for

ROOT = Path(__file__).resolve().parents[1]
RENDER = importlib.util.find_spec("broker.render") is not None
"""With broker.render installed, each arriving document also comes as a PDF."""


class FolderGateway(GatewayProcess):
    """A gateway with ``folders`` in its configuration: ``out/`` watched, ``in/`` written."""

    def __init__(self, unit: str, broker_port: int, directory: Path, tokens: list[str], pdf: bool = True):
        super().__init__(unit, broker_port, directory, tokens, http={"max_body_bytes": 64 * 1024})
        self.outgoing, self.incoming = directory / "out", directory / "in"
        config = yaml.safe_load(self.config.read_text(encoding="utf-8"))
        config["folders"] = {
            "outgoing": str(self.outgoing),
            "incoming": str(self.incoming),
            "poll_seconds": 0.1,
            "settle_seconds": 0,
            "pdf": pdf,
        }
        self.config.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")

    def drop(self, name: str, data: bytes) -> None:
        """As an organisation should: a temporary dot name, then a rename into the folder."""
        tmp = self.outgoing / f".{name}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, self.outgoing / name)

    def outcome(self, name: str) -> tuple[str, dict]:
        """Wait until ``name`` has left the outgoing folder: ("sent" | "failed", the record beside it)."""

        def where() -> tuple[str, dict] | None:
            if (self.outgoing / name).exists():
                return None
            for sub, suffix in (("sent", ".sent.json"), ("failed", ".error.json")):
                records = sorted(
                    (self.outgoing / sub).glob(f"{name}*{suffix}"), key=lambda p: p.stat().st_mtime
                )
                if records:
                    return sub, json.loads(records[-1].read_text(encoding="utf-8"))
            return None

        return wait_for(where, bool, f"{name} to leave {self.outgoing}")

    def arrived(self, predicate) -> dict:  # type: ignore[no-untyped-def]
        """Wait for a JSON view in the incoming folder that ``predicate`` accepts."""

        def find() -> dict | None:
            for path in sorted(self.incoming.glob("*.json")):
                view = json.loads(path.read_text(encoding="utf-8"))
                if predicate(view):
                    return view
            return None

        return wait_for(find, bool, f"a document in {self.incoming}")


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    var = tmp_path_factory.mktemp("folders")
    broker = MosquittoProcess(
        load_registry(ROOT / "examples" / "network.yaml"),
        BrokerSettings.from_certs(ROOT / "certs-example", port=free_port(), data_dir=var / "broker"),
    ).start()
    hub = Hub(hub_config(HUB, port=broker.port, var=var / "hub"))
    hub.start()
    # the court's folder without PDFs (drawing one costs about a second of CPU): the bank's has them
    court = FolderGateway(COURT, broker.port, var / "court", ["court-cms"], pdf=False)
    bank = FolderGateway(BANK, broker.port, var / "bank", ["bank-core"])
    try:
        court.start()
        bank.start()
        yield court, bank, var
    finally:
        court.stop()
        bank.stop()
        hub.stop()
        broker.stop()


def test_freeze_and_its_result_travel_as_files(folders):
    court, bank, var = folders
    notice = fresh_json()
    document_id = notice["Header"]["DocumentId"]
    court.drop("freeze-123.json", json.dumps(notice, ensure_ascii=False).encode())

    where, record = court.outcome("freeze-123.json")
    assert where == "sent", record
    assert record["document_id"] == document_id and record["new"] is True
    kept = (court.outgoing / "sent" / "freeze-123.json").read_bytes()
    assert kept == json.dumps(notice, ensure_ascii=False).encode()  # moved as it was

    # the bank's incoming folder: the sealed XML and the JSON view, written last
    view = bank.arrived(lambda v: v["id"] == document_id)
    assert view["type"] == "received" and view["arrived"]["type"] == "AssistanceNotice"
    assert view["items"] == [{"item": "M1", "kind": "BankFreeze"}]
    assert view["document"]["Body"]["Measures"][0]["MeasureId"] == "M1"
    assert view["files"]["xml"] == f"{document_id}.xml"
    if RENDER:
        assert view["files"]["pdf"] == f"{document_id}.pdf"
        assert (bank.incoming / f"{document_id}.pdf").read_bytes().startswith(b"%PDF-")
    else:
        assert view["files"]["pdf"] is None
    sealed = (bank.incoming / f"{document_id}.xml").read_bytes()

    # the bank asks for more time, then answers: files named after the document and the answer
    later = (datetime.now(timezone(timedelta(hours=8))) + timedelta(days=3)).isoformat(timespec="seconds")
    extension = {"Reason": "账户明细需人工核对，延后答复。", "ProposedDeadline": later}  # 002 四.7
    extension = json.dumps(extension, ensure_ascii=False).encode()
    bank.drop(f"{document_id}.extension.json", extension)
    where, asked = bank.outcome(f"{document_id}.extension.json")
    assert where == "sent" and asked["kind"] == "extension" and asked["new"] is True, asked
    result = (FIXTURES / "result.json").read_bytes()
    bank.drop(f"{document_id}.result.json", result)
    where, answered = bank.outcome(f"{document_id}.result.json")
    assert where == "sent" and answered["answers"] == document_id and answered["new"] is True, answered
    receipt_id = answered["receipt_id"]

    # the court's incoming folder: the hub's service receipt and the bank's receipt
    served = court.arrived(lambda v: v["type"] == "served" and v["document_id"] == document_id)
    got = court.arrived(lambda v: v["type"] == "answered" and v["id"] == receipt_id)
    assert got["document_id"] == document_id and got["arrived"]["type"] == "ExecutionReceipt"
    extended = court.arrived(lambda v: v["id"] == asked["receipt_id"])
    assert extended["arrived"]["type"] == "ExtensionNotice" and extended["document_id"] == document_id
    assert got["document"]["Body"]["Results"][0]["Status"] == "PartiallyExecuted"

    # the same result again (a unit's system that dropped it twice): the same receipt, not a second
    bank.drop(f"{document_id}.result.json", result)
    where, again = bank.outcome(f"{document_id}.result.json")
    assert where == "sent" and again["receipt_id"] == receipt_id and again["new"] is False
    assert (bank.outgoing / "sent" / f"{document_id}.result.json.2").exists()  # nothing overwritten

    # no temporary file is left visible, and every XML handed out verifies (liandong verify, xmlsec1)
    for folder in (court.incoming, bank.incoming):
        assert [p.name for p in folder.iterdir() if p.name.startswith(".") and p.name != ".cursor"] == []
    verify(
        var,
        {
            "notice": sealed,
            "service": (court.incoming / f"{served['id']}.xml").read_bytes(),
            "receipt": (court.incoming / f"{receipt_id}.xml").read_bytes(),
        },
    )


def test_bad_files_go_to_failed_with_the_error_beside_them(folders):
    court, _, _ = folders
    published = court.published()
    minor = fresh_json("listing-minor.json")
    cases = {
        "broken.json": (b'{"Header": {', "GW_JSON_MALFORMED"),
        "minor.json": (json.dumps(minor, ensure_ascii=False).encode(), "RULE_LISTING_MINOR"),
        "unknown.json": (
            json.dumps(fresh_json(Recipient=UNKNOWN_UNIT), ensure_ascii=False).encode(),
            "RULE_UNKNOWN_UNIT",
        ),
        "notes.txt": (b"please freeze", "GW_FOLDER_FILE_TYPE"),
        "big.json": (b"{" + b" " * (65 * 1024) + b"}", "GW_FOLDER_FILE_TOO_LARGE"),  # over http.max_body_bytes
        "00000000-0000-4000-8000-000000000000.result.json": (
            (FIXTURES / "result.json").read_bytes(),
            "GW_NOT_FOUND",  # a result for no document in the inbox
        ),
    }
    for name, (data, _) in cases.items():
        court.drop(name, data)
    for name, (_, code) in cases.items():
        where, record = court.outcome(name)
        assert where == "failed", (name, record)
        assert (court.outgoing / "failed" / name).exists()  # the file kept as it was
        codes = [p["code"] for p in record["problems"]]
        assert code in codes, (name, record)
        assert all(p["message_zh"] and p["message_en"] for p in record["problems"])
        assert 400 <= record["status"] < 500
    assert court.published() == published  # nothing was sent


def test_a_stop_between_sending_and_moving_does_not_send_twice(folders):
    court, bank, _ = folders
    notice = fresh_json()
    document_id = notice["Header"]["DocumentId"]
    data = json.dumps(notice, ensure_ascii=False).encode()
    court.drop("crash.json", data)
    where, record = court.outcome("crash.json")
    assert where == "sent" and record["new"] is True
    published = court.published()

    # SIGKILL, then the state a stop between sending and moving leaves: the document is in the
    # store (sent), the file still in the outgoing folder (its record already beside sent/)
    court.kill()
    shutil.move(court.outgoing / "sent" / "crash.json", court.outgoing / "crash.json")
    court.start()
    where, again = court.outcome("crash.json")
    assert where == "sent" and again["document_id"] == document_id and again["new"] is False, again
    assert court.published() == published
    # the bank got it once
    bank.arrived(lambda v: v["id"] == document_id)
    with_id = [p for p in bank.incoming.iterdir() if p.name.startswith(document_id)]
    assert sorted(p.suffix for p in with_id) == ([".json", ".pdf", ".xml"] if RENDER else [".json", ".xml"])
