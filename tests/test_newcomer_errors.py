"""Errors a newcomer met (issue 14, item 3): each shows its code and a message in Chinese and
English instead of a traceback, a hidden cause or a misleading code."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree

from broker.checking import DocumentChecker
from broker.demo.workdir import MARKER, prepare
from broker.errors import CATALOGUE, LiandongError
from broker.hub.broker_wait import BrokerWait
from broker.hub.ledger import Ledger
from broker.mosquitto import BrokerSettings, MosquittoProcess
from broker.mosquitto.runner import free_port
from broker.parsing import schema
from broker.restamp import restamp
from broker.sandbox import EXAMPLE_CERTS, EXAMPLE_REGISTRY, hub_config
from broker.signing import DocumentSigner, TrustStore
from tests.network import BANK, HUB, UNSIGNED, wait_until

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def liandong(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "broker.cli.main", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env or ENV, timeout=timeout, check=False)


def both_languages(code: str, text: str) -> None:
    """``text`` has the code, and the longest fixed part of its English and of its Chinese message."""
    spec = CATALOGUE[code]
    assert code in text
    for message in (spec.en, spec.zh):
        fixed = max(re.split(r"\{[^}]*\}", message), key=len).strip()
        assert fixed and fixed in text, (fixed, text)


# --- the hub with Mosquitto down ------------------------------------------------------------------


def test_the_hub_waits_for_a_broker_that_is_down_with_a_coded_line_then_serves(tmp_path):
    port = free_port()
    config = hub_config(HUB, port=port, var=tmp_path / "hub")
    path = tmp_path / "hub.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json", by_alias=True)), encoding="utf-8")
    log = tmp_path / "hub.log"
    with open(log, "wb") as sink:
        hub = subprocess.Popen([sys.executable, "-m", "broker.cli.main", "hub", "run", "--config", str(path)],
                               stdout=sink, stderr=sink, cwd=ROOT, env={**ENV, "PYTHONUNBUFFERED": "1"})
    text = lambda: log.read_text(encoding="utf-8", errors="replace")  # noqa: E731
    broker = None
    try:
        wait_until(lambda: "still trying" in text() or hub.poll() is not None, 60, "the hub's BROKER_UNREACHABLE line")
        assert hub.poll() is None, text()  # it keeps trying instead of exiting
        line = next(l for l in text().splitlines() if l.startswith("BROKER_UNREACHABLE"))
        both_languages("BROKER_UNREACHABLE", line)
        assert f"127.0.0.1:{port}" in line and "继续重试" in line
        assert "Traceback" not in text()
        # the broker comes: the hub connects by itself and serves
        broker = MosquittoProcess(load_example_registry(), BrokerSettings.from_certs(EXAMPLE_CERTS, port=port, data_dir=tmp_path / "broker"))
        broker.start()
        wait_until(lambda: '"hub.started"' in text() or hub.poll() is not None, 90, "the hub to connect")
        assert hub.poll() is None and '"hub.broker_reached"' in text(), text()
        hub.send_signal(signal.SIGTERM)
        assert hub.wait(timeout=60) == 0, text()
        assert "Traceback" not in text()
    finally:
        if hub.poll() is None:
            hub.kill()
            hub.wait()
        if broker is not None:
            broker.stop()


def test_a_signal_ends_the_hub_while_it_waits_for_the_broker(tmp_path):
    config = hub_config(HUB, port=free_port(), var=tmp_path / "hub")
    path = tmp_path / "hub.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json", by_alias=True)), encoding="utf-8")
    log = tmp_path / "hub.log"
    with open(log, "wb") as sink:
        hub = subprocess.Popen([sys.executable, "-m", "broker.cli.main", "hub", "run", "--config", str(path)],
                               stdout=sink, stderr=sink, cwd=ROOT, env={**ENV, "PYTHONUNBUFFERED": "1"})
    try:
        wait_until(lambda: '"hub.outbox_loaded"' in log.read_text(errors="replace") or hub.poll() is not None, 60, "the hub to start waiting")
        hub.send_signal(signal.SIGTERM)
        assert hub.wait(timeout=60) == 0
        assert "Traceback" not in log.read_text(errors="replace")
    finally:
        if hub.poll() is None:
            hub.kill()
            hub.wait()


def test_the_broker_wait_reports_at_growing_intervals():
    said: list[str] = []
    connected, stopping = threading.Event(), threading.Event()
    wait = BrokerWait("127.0.0.1:1", stopping, say=said.append, first=0.05, longest=0.2)
    threading.Timer(0.6, connected.set).start()
    assert wait.wait(connected) is True
    assert 2 <= wait.reports == len(said)
    assert "next report in 0.1 s" in said[0] and "next report in 0.2 s" in said[-1]  # doubled, then capped
    stopping.set()
    assert BrokerWait("x:1", stopping, say=said.append, first=0.05).wait(threading.Event()) is False


def load_example_registry():
    from broker.registry import load_registry

    return load_registry(EXAMPLE_REGISTRY)


# --- broker config: every problem, not only the first -------------------------------------------------


def test_broker_config_reports_registry_errors_and_missing_certificates_together(tmp_path):
    bad = tmp_path / "network.yaml"
    bad.write_text("network: x\nhub:\n  code: 12100000MB0000009G\n  name: hub\nunits: []\n", encoding="utf-8")
    done = liandong("broker", "config", "--registry", str(bad), "-o", str(tmp_path / "out"), "--certs", str(tmp_path / "none"))
    assert done.returncode == 2
    both_languages("REG_INVALID", done.stderr)
    both_languages("BROKER_CERT_FILES_MISSING", done.stderr)
    assert "office" in done.stderr and "chain.pem" in done.stderr
    assert not (tmp_path / "out").exists()
    # certificates present: the registry's error alone, as before
    alone = liandong("broker", "config", "--registry", str(bad), "-o", str(tmp_path / "out"))
    assert alone.returncode == 2 and "REG_INVALID" in alone.stderr and "BROKER_CERT_FILES_MISSING" not in alone.stderr


# --- a self-signed certificate that copies a unit's subject --------------------------------------------


def self_signed_copy_of(unit: str, not_before: datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A certificate with the unit's signing-certificate subject and extensions, signed by itself."""
    original = x509.load_pem_x509_certificate((EXAMPLE_CERTS / "units" / unit / "sign.pem").read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(original.subject)
        .issuer_name(original.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=365))
    )
    for ext in original.extensions:
        if not isinstance(ext.value, x509.AuthorityKeyIdentifier | x509.SubjectKeyIdentifier):
            builder = builder.add_extension(ext.value, ext.critical)
    return key, builder.sign(key, hashes.SHA256())


def test_a_self_signed_copy_of_a_units_certificate_is_untrusted_not_not_yet_valid():
    trust = TrustStore.from_files([EXAMPLE_CERTS / "root-ca.pem"], [EXAMPLE_CERTS / "crl.pem"])
    now = datetime.now(timezone.utc)
    key, cert = self_signed_copy_of(BANK, not_before=now + timedelta(days=1))  # made "tomorrow": dates wrong too
    with pytest.raises(LiandongError) as caught:
        trust.validate(cert, [], now)
    assert caught.value.codes == ["CERT_UNTRUSTED"]
    both_languages("CERT_UNTRUSTED", f"{caught.value.codes[0]} {caught.value.problems[0].message_en} {caught.value.problems[0].message_zh}")
    assert "self-signed" in caught.value.problems[0].message_en
    # end to end: a receipt sealed with it, checked as the hub checks
    document = restamp(UNSIGNED / "ExecutionReceipt.xml")
    raw = DocumentSigner(key, cert).sign(document)
    codes = DocumentChecker(trust, load_example_registry()).check(raw).codes
    assert "CERT_UNTRUSTED" in codes and "CERT_NOT_YET_VALID" not in codes


def test_a_unit_certificate_not_yet_valid_is_still_reported_so():
    trust = TrustStore.from_files([EXAMPLE_CERTS / "root-ca.pem"], [EXAMPLE_CERTS / "crl.pem"])
    cert = x509.load_pem_x509_certificate((EXAMPLE_CERTS / "units" / BANK / "sign.pem").read_bytes())
    with pytest.raises(LiandongError) as caught:
        trust.validate(cert, [], datetime(2023, 6, 1, tzinfo=timezone.utc))  # before the PKI's 2024
    assert "CERT_NOT_YET_VALID" in caught.value.codes


# --- XSD errors name the element ----------------------------------------------------------------------


def test_an_xsd_error_on_a_one_line_document_names_the_element_path_not_line_2():
    raw = (UNSIGNED / "QueryNotice.xml").read_bytes().replace(b"BankDeposits", b"Nonsense", 1)
    assert raw.count(b"\n") <= 1  # the declaration, then the document on one line
    (found,) = schema.problems(etree.fromstring(raw))
    assert found.code == "SCHEMA_INVALID"
    assert "/Document/QueryNotice/Query[1]/Kind" in found.message_en and "line" not in found.message_en
    assert "/Document/QueryNotice/Query[1]/Kind" in found.message_zh
    both_languages("SCHEMA_INVALID", f"{found.code} {found.message_en} {found.message_zh}")
    # a document written over many lines also gets the line
    pretty = etree.tostring(etree.fromstring(raw), pretty_print=True)
    (multi,) = schema.problems(etree.fromstring(pretty))
    assert "/Document/QueryNotice/Query[1]/Kind (line " in multi.message_en


# --- ledger show at 80 columns --------------------------------------------------------------------------


def test_ledger_show_is_readable_at_80_columns(tmp_path):
    from tests.test_ledger import fill

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = Ledger(url)
    ledger.create_schema()
    request, _ = fill(ledger, 2)
    ledger.close()
    done = liandong("ledger", "show", request.document_id, "--url", url, env={**ENV, "COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, done.stdout
    assert not any(c in done.stdout for c in "┃│")  # no table squeezed into narrow columns
    assert request.document_id in done.stdout  # whole, on one line
    assert any("received" in line and "by C110105" in line for line in lines)
    assert "doc_type=InvestigationRequest" in done.stdout  # key=value pairs are not broken
    wide = liandong("ledger", "show", request.document_id, "--url", url, env={**ENV, "COLUMNS": "200"})
    assert "┃" in wide.stdout  # the table where it fits


# --- the demo's working folder ----------------------------------------------------------------------------


def test_a_reused_demo_folder_starts_clean(tmp_path):
    work = tmp_path / "demo"
    assert prepare(work) is False and (work / MARKER).exists()
    (work / "hub").mkdir()
    (work / "hub" / "ledger.db").write_bytes(b"an earlier run's ledger")
    assert prepare(work) is True
    assert sorted(p.name for p in work.iterdir()) == [MARKER]


def test_the_demo_refuses_a_folder_it_did_not_make(tmp_path):
    work = tmp_path / "mine"
    work.mkdir()
    (work / "notes.txt").write_text("someone's file", encoding="utf-8")
    done = liandong("demo", "--workdir", str(work), env={**ENV, "COLUMNS": "200"})
    assert done.returncode == 2
    both_languages("DEMO_WORKDIR_NOT_EMPTY", done.stdout + done.stderr)
    assert (work / "notes.txt").read_text(encoding="utf-8") == "someone's file"
    with pytest.raises(LiandongError) as caught:
        prepare(work)
    assert caught.value.codes == ["DEMO_WORKDIR_NOT_EMPTY"]


# --- the docs agree with the wheel ----------------------------------------------------------------------


def test_the_docs_say_what_tests_test_wheel_shows_a_wheel_carries():
    from tests.test_wheel import DATA

    shipped = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["data-files"]
    assert sorted(f for files in shipped.values() for f in files) == sorted(DATA)
    deployment = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    adapters = (ROOT / "docs" / "adapters.md").read_text(encoding="utf-8")
    for doc in (deployment, adapters):
        assert "/share/liandong/" in doc
    assert "tests/test_wheel.py" in deployment
    assert "does not contain" not in deployment
