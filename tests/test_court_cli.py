"""``liandong court inbox|show|wait`` against a real network: Mosquitto (``mosquitto`` fixture),
the hub, and the bank as a unit client that answers the court's notice with a sealed execution
receipt. The court publishes with ``liandong publish`` and then reads its store only through
the new commands; ``wait`` connects as the court and receives the receipt the hub kept for it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from rich.cells import cell_len
from typer.testing import CliRunner

from broker.cli.court_inbox_cmd import WAIT_NOT_YET
from broker.cli.main import app
from broker.documents import codec
from broker.hub.service import Hub
from broker.signing import DocumentSigner
from broker.transport.store import UnitStore
from tests.network import BANK, COURT, HUB, Recorder, fresh, hub_config, unit_client, unit_config, wait_until

CERTS = Path(__file__).resolve().parents[1] / "certs-example"
BANK_SEAL = DocumentSigner.for_unit(CERTS / "units" / BANK)
WAIT = 30.0


def _court_yaml(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "court.yaml"
    config = unit_config(COURT, port=port, var=tmp_path / "units")
    path.write_text(yaml.safe_dump(config.model_dump(mode="json")), encoding="utf-8")
    return path


def _run(*args: str):
    """The command at 80 columns, as a terminal of that width would run it."""
    return CliRunner().invoke(app, list(args), env={**os.environ, "COLUMNS": "80"})


def _assert_fits_80(output: str) -> None:
    too_wide = [line for line in output.splitlines() if cell_len(line) > 80]
    assert not too_wide, too_wide


@pytest.fixture
def network(mosquitto, tmp_path):
    """The hub and the bank (recording what it receives); the court is only the CLI."""
    hub = Hub(hub_config(HUB, port=mosquitto.port, var=tmp_path / "hub"))
    hub.start()
    recorder = Recorder()
    bank = unit_client(unit_config(BANK, port=mosquitto.port, var=tmp_path / "units"), recorder)
    bank.start()
    yield hub, bank, recorder
    bank.stop()
    hub.stop()


def test_inbox_show_and_wait_follow_a_notice_to_its_execution_receipt(mosquitto, network, tmp_path):
    hub, bank, recorder = network
    config = _court_yaml(tmp_path, mosquitto.port)
    notice = fresh("AssistanceNotice")
    notice_id = str(notice.header.document_id)
    (tmp_path / "notice.xml").write_bytes(codec.to_bytes(notice))
    published = _run("publish", str(tmp_path / "notice.xml"), "--config", str(config), "--timeout", "30")
    assert published.exit_code == 0, published.output
    wait_until(lambda: recorder.of_type("AssistanceNotice"), WAIT, "the notice at the bank")

    # Not answered yet: a coded exit 3, the code and both languages on stderr, no traceback.
    early = _run("court", "wait", notice_id, "--config", str(config), "--timeout", "1")
    assert early.exit_code == WAIT_NOT_YET, early.output
    assert "COURT_RESULT_NOT_YET" in early.output and "执行回执" in early.output
    assert "Traceback" not in early.output

    # The bank answers while the court is offline; ``wait`` connects and receives it.
    receipt = fresh("ExecutionReceipt", in_reply_to=notice_id, recipient=COURT)
    receipt_id = str(receipt.header.document_id)
    bank.send(BANK_SEAL.sign(receipt))
    done = _run("court", "wait", notice_id, "--config", str(config), "--timeout", "30")
    assert done.exit_code == 0, done.output
    assert f"ExecutionReceipt {receipt_id}" in done.output and BANK in done.output
    with hub.ledger.transaction() as tx:
        assert tx.get_document(receipt_id) is not None  # it went through the hub, not around it

    # Once stored, --no-connect (beside a running court client) finds it without connecting.
    offline = _run("court", "wait", notice_id, "--config", str(config), "--timeout", "1", "--no-connect")
    assert offline.exit_code == 0 and receipt_id in offline.output
    shown_receipt = _run("court", "show", receipt_id, "--config", str(config))
    assert shown_receipt.exit_code == 0 and f"InReplyTo     {notice_id}" in shown_receipt.output

    listing = _run("court", "inbox", "--config", str(config))
    assert listing.exit_code == 0, listing.output
    _assert_fits_80(listing.output)
    assert notice_id in listing.output and receipt_id in listing.output
    assert "ServiceReceipt" in listing.output and "2 answer(s)" in listing.output
    received_only = _run("court", "inbox", "--config", str(config), "--received")
    assert notice_id not in received_only.output and receipt_id in received_only.output

    shown = _run("court", "show", notice_id, "--config", str(config))
    assert shown.exit_code == 0, shown.output
    _assert_fits_80(shown.output)
    assert "AssistanceNotice" in shown.output and "receipted" in shown.output
    assert str(notice.header.case_number) in shown.output
    assert "answers       2" in shown.output and receipt_id in shown.output
    assert "<ld:Document" not in shown.output and "陈国强" not in shown.output  # no body without --xml

    with_xml = _run("court", "show", notice_id, "--config", str(config), "--xml")
    assert with_xml.exit_code == 0
    sealed = UnitStore(tmp_path / "units" / f"{COURT}.db").get_sent(notice_id).raw.decode("utf-8")
    assert "Signature" in sealed and sealed in with_xml.output  # as stored, byte for byte, seal and all


def test_a_court_that_never_ran_gets_a_coded_error_not_an_empty_store(tmp_path):
    config = _court_yaml(tmp_path, 1)
    result = _run("court", "inbox", "--config", str(config))
    assert result.exit_code == 2
    assert "COURT_STORE_MISSING" in result.output and "法院本地库" in result.output
    assert not (tmp_path / "units" / f"{COURT}.db").exists()  # reading created nothing


def test_show_and_wait_of_an_unknown_id_exit_1_with_a_code(mosquitto, network, tmp_path):
    config = _court_yaml(tmp_path, mosquitto.port)
    (tmp_path / "q.xml").write_bytes(codec.to_bytes(fresh("QueryNotice")))
    assert _run("publish", str(tmp_path / "q.xml"), "--config", str(config)).exit_code == 0
    for command in ("show", "wait"):
        result = _run("court", command, "no-such-id", "--config", str(config))
        assert result.exit_code == 1, result.output
        assert "COURT_DOCUMENT_UNKNOWN" in result.output
