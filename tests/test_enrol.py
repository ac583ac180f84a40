"""Enrolment of a unit (issue 14, item 2): ``liandong pki`` and the registry reloaded live.

The first test is the "Must show": a unit that did not exist is enrolled into a running network
(keys, requests, certificates, registry entry, ACL, hub reload), receives a sealed notice from a
court and answers it, with neither the hub nor the broker restarted. The others are each
command's refusals, with their codes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from typer.testing import CliRunner

from broker.checking import DocumentChecker
from broker.cli.main import app
from broker.documents.identifiers import make_uscc
from broker.errors import CATALOGUE
from broker.hub.registry_reload import RegistryWatch
from broker.mosquitto import BrokerSettings, MosquittoProcess, free_port
from broker.registry import load_registry
from broker.sandbox import EXAMPLE_SM2_CERTS, registry_with_suites
from broker.signing import DocumentSigner, TrustStore, issuing, sm2
from broker.signing.suites import SM2_SM3
from tests.network import (
    COURT,
    HUB,
    CourtClient,
    HubProcess,
    Recorder,
    fresh,
    hub_config,
    unit_client,
    unit_config,
    wait_until,
)

ROOT = Path(__file__).resolve().parents[1]
CERTS = ROOT / "certs-example"
REGISTRY = ROOT / "examples" / "network.yaml"
NEW = make_uscc("91445300MA5199001")  # a bank that joins the network
NEW_NAME = "云浮农村商业银行（测试）"
BANK = "91445300MA5100003A"

runner = CliRunner()


def liandong(*args: str) -> subprocess.CompletedProcess[str]:
    """The real command, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "broker.cli.main", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def cli(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture
def network_copy(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the example registry, and a PKI folder for the new unit's files that shares the
    example trust anchors (the network CA stays in certs-example/)."""
    registry = tmp_path / "network.yaml"
    shutil.copyfile(REGISTRY, registry)
    pki = tmp_path / "pki"
    pki.mkdir()
    for name in ("chain.pem", "root-ca.pem", "crl.pem"):
        (pki / name).symlink_to(CERTS / name)
    return registry, pki


# --- the Must show ---------------------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 0], ids=["worker-process", "in-process"])
def test_a_unit_enrolled_into_a_running_network_receives_a_notice_and_answers_it(
    network_copy, tmp_path, workers
):
    registry, pki = network_copy
    settings = BrokerSettings.from_certs(CERTS, port=free_port(), data_dir=tmp_path / "broker")
    broker = MosquittoProcess(load_registry(registry), settings).start()
    hub = HubProcess(
        hub_config(HUB, port=broker.port, var=tmp_path / "hub", registry=registry, workers=workers), tmp_path
    )
    try:
        hub.start()
        broker_pid, hub_pid = broker.pid, hub.proc.pid
        assert NEW not in broker.acl_path.read_text(encoding="utf-8")

        unit_dir = pki / "units" / NEW
        done = liandong(
            "pki", "enrol", "--registry", str(registry), "--ca", str(CERTS), "--code", NEW,
            "--name", NEW_NAME, "--kind", "Bank", "--region", "445300", "--out", str(unit_dir),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr + done.stdout
        for name in ("sign.key", "sign.csr", "sign.pem", "tls.key", "tls.csr", "tls.pem", "chain.pem"):
            assert (unit_dir / name).is_file(), name
        assert oct((unit_dir / "sign.key").stat().st_mode & 0o777) == "0o600"
        assert load_registry(registry).unit(NEW).name == NEW_NAME
        assert registry.read_text(encoding="utf-8").startswith("# Example member registry")  # comments kept

        broker.reload_registry(load_registry(registry))  # what SIGHUP to `liandong broker run` does
        assert f"user {NEW}" in broker.acl_path.read_text(encoding="utf-8")
        wait_until(lambda: '"registry.reloaded"' in hub.log(), 30, "the hub to reload the registry")

        recorder = Recorder()
        unit = unit_client(
            unit_config(NEW, port=broker.port, var=tmp_path / "units", certs=pki, registry=registry), recorder
        )
        court = CourtClient(unit_config(COURT, port=broker.port, var=tmp_path / "units", registry=registry))
        unit.start()
        court.start()
        try:
            notice = fresh(recipient=NEW)
            answer = court.publish(notice, timeout=60)
            assert answer.accepted, answer.errors
            notice_id = str(notice.header.document_id)
            recorder.wait_for(lambda r: r.counts[notice_id] >= 1, 60, "the new unit to receive the notice")
            assert recorder.of_type("AssistanceNotice")[0].document().header.sender == COURT

            seal = DocumentSigner.for_unit(unit_dir)
            receipt = seal.sign(fresh("ExecutionReceipt", in_reply_to=notice.header.document_id, sender=NEW))
            receipt_id = unit.send(receipt)
            served = unit.wait_answer(receipt_id, 60)
            assert served is not None and served.doc_type == "ServiceReceipt"
        finally:
            court.stop()
            unit.stop()

        # neither was restarted
        assert broker.pid == broker_pid and broker.running
        assert hub.proc.pid == hub_pid and hub.proc.poll() is None
        assert hub.log().count('"hub.started"') == 1

        # a registry that no longer loads is reported with its code; the hub keeps the one it has
        registry.write_text(registry.read_text(encoding="utf-8") + "\nnot_a_field: 1\n", encoding="utf-8")
        wait_until(lambda: "REG_RELOAD_FAILED" in hub.log(), 30, "the failed reload to be logged")
        os.kill(hub_pid, signal.SIGHUP)  # SIGHUP: tried again, refused again, still running
        wait_until(lambda: hub.log().count("REG_RELOAD_FAILED") >= 2, 30, "the SIGHUP reload to be logged")
        assert hub.proc.poll() is None and "Traceback" not in hub.log()
    finally:
        hub.stop()
        broker.stop()


# --- uscc --------------------------------------------------------------------------------------------


def test_uscc_completes_a_prefix_and_checks_a_code():
    assert cli("pki", "uscc", "91445300MA5199001").output.strip() == NEW
    assert cli("pki", "uscc", NEW).exit_code == 0
    wrong = NEW[:17] + ("0" if NEW[17] != "0" else "1")
    result = cli("pki", "uscc", wrong)
    assert (
        result.exit_code == 1
        and "PKI_CODE_INVALID" in result.output
        and f"check character {NEW[17]}" in result.output
    )
    for bad in ("hello", "91445300MA51990O1", "9144530"):
        result = cli("pki", "uscc", bad)
        assert result.exit_code == 1 and "PKI_USCC_FORM" in result.output, bad


# --- key --------------------------------------------------------------------------------------------


def test_key_makes_p256_keys_and_requests_naming_the_unit(tmp_path):
    result = cli("pki", "key", "--code", NEW, "--name", NEW_NAME, "--out", str(tmp_path / "u"))
    assert result.exit_code == 0, result.output
    csr = x509.load_pem_x509_csr((tmp_path / "u" / "sign.csr").read_bytes())
    assert csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)[0].value == NEW
    assert csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == NEW_NAME
    assert (
        isinstance(csr.public_key(), ec.EllipticCurvePublicKey) and csr.public_key().curve.name == "secp256r1"
    )
    tls = x509.load_pem_x509_csr((tmp_path / "u" / "tls.csr").read_bytes())
    assert tls.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == NEW

    again = cli("pki", "key", "--code", NEW, "--name", NEW_NAME, "--out", str(tmp_path / "u"))
    assert again.exit_code == 2 and "PKI_FILE_EXISTS" in again.output


def test_key_refuses_an_invalid_code_before_writing_anything(tmp_path):
    result = cli(
        "pki",
        "key",
        "--code",
        NEW[:17] + "0" if NEW[17] != "0" else NEW[:17] + "1",
        "--name",
        "x",
        "--out",
        str(tmp_path / "u"),
    )
    assert result.exit_code == 2 and "PKI_CODE_INVALID" in result.output
    assert not (tmp_path / "u").exists()


# --- issue ------------------------------------------------------------------------------------------


def _csr(tmp_path: Path, name: x509.Name, key=None) -> Path:
    key = key or ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "req.csr"
    path.write_bytes(
        issuing.pem(x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256()))
    )
    return path


def _name(code: str | None, org: str = NEW_NAME) -> x509.Name:
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
    ]
    if code is not None:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, code))
    return x509.Name([*attrs, x509.NameAttribute(NameOID.COMMON_NAME, "whatever the request says")])


def test_issue_signs_with_the_seal_profile(tmp_path):
    request = _csr(tmp_path, _name(NEW))
    out = tmp_path / "sign.pem"
    result = cli("pki", "issue", str(request), "--ca", str(CERTS), "--code", NEW, "-o", str(out))
    assert result.exit_code == 0, result.output
    cert = x509.load_pem_x509_certificate(out.read_bytes())
    assert cert.issuer == issuing.CertificateAuthority.load(CERTS).cert.subject
    assert (
        cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == f"{NEW_NAME} 电子印章"
    )  # the profile's, not the request's
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert (
        usage.critical
        and usage.value.digital_signature
        and usage.value.content_commitment
        and not usage.value.key_encipherment
    )
    assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        issuing.ID_KP_DOCUMENT_SIGNING
    ]
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    tls_request = _csr(
        tmp_path,
        x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, NEW_NAME),
                x509.NameAttribute(NameOID.COMMON_NAME, NEW),
            ]
        ),
    )
    result = cli(
        "pki",
        "issue",
        str(tls_request),
        "--ca",
        str(CERTS),
        "--usage",
        "tls",
        "-o",
        str(tmp_path / "tls.pem"),
    )
    assert result.exit_code == 0, result.output
    tls = x509.load_pem_x509_certificate((tmp_path / "tls.pem").read_bytes())
    assert list(tls.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH
    ]


@pytest.mark.parametrize(
    ("subject", "key", "code"),
    [
        (_name(NEW[:17] + ("0" if NEW[17] != "0" else "1")), None, "PKI_CODE_INVALID"),
        (_name(BANK), None, "PKI_CSR_CODE_MISMATCH"),
        (_name(None), None, "PKI_CSR_NO_CODE"),
        (_name(NEW), ec.generate_private_key(ec.SECP384R1()), "PKI_CSR_KEY"),
    ],
    ids=["bad-check-character", "other-unit", "no-code", "p384"],
)
def test_issue_refuses_a_request(tmp_path, subject, key, code):
    request = _csr(tmp_path, subject, key)
    out = tmp_path / "sign.pem"
    result = cli("pki", "issue", str(request), "--ca", str(CERTS), "--code", NEW, "-o", str(out))
    assert result.exit_code == 2 and code in result.output, result.output
    assert CATALOGUE[code].zh.split("{")[0][:4] in result.output  # the Chinese line too
    assert not out.exists()


def test_issue_refuses_garbage_and_a_missing_ca(tmp_path):
    junk = tmp_path / "junk.csr"
    junk.write_text("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n")
    result = cli("pki", "issue", str(junk), "--ca", str(CERTS), "-o", str(tmp_path / "x.pem"))
    assert result.exit_code == 2 and "PKI_CSR_INVALID" in result.output
    request = _csr(tmp_path, _name(NEW))
    result = cli("pki", "issue", str(request), "--ca", str(tmp_path), "-o", str(tmp_path / "x.pem"))
    assert result.exit_code == 2 and "PKI_CA_MISSING" in result.output and "issuing-ca.key" in result.output


# --- register ---------------------------------------------------------------------------------------


def _register(registry: Path, **over: str):
    args = {"code": NEW, "name": NEW_NAME, "kind": "Bank", "region": "445300", **over}
    return cli(
        "pki", "register", "--registry", str(registry), *[x for k, v in args.items() for x in (f"--{k}", v)]
    )


def test_register_adds_the_unit_and_keeps_the_comments(network_copy):
    registry, _ = network_copy
    before = registry.read_text(encoding="utf-8")
    result = _register(registry, kind="HousingFund")
    assert result.exit_code == 0, result.output
    after = registry.read_text(encoding="utf-8")
    assert after.startswith(before.rstrip("\n"))  # only appended after the last unit (the last key here)
    assert after.count("#") == before.count("#")
    assert load_registry(registry).kind_of(NEW).value == "HousingFund"


@pytest.mark.parametrize(
    ("over", "code"),
    [
        ({"code": BANK}, "REG_UNIT_DUPLICATE"),
        ({"code": HUB}, "REG_UNIT_DUPLICATE"),
        ({"kind": "Bakery"}, "REG_KIND_UNKNOWN"),
        ({"kind": "Hub"}, "REG_KIND_UNKNOWN"),
        ({"region": "4453"}, "REG_UNIT_INVALID"),
        ({"code": NEW[:17] + ("0" if NEW[17] != "0" else "1")}, "REG_UNIT_INVALID"),
        ({"kind": "LinkageOffice"}, "REG_INVALID"),  # a second office: the file as a whole refuses it
    ],
)
def test_register_refuses(network_copy, over, code):
    registry, _ = network_copy
    before = registry.read_bytes()
    result = _register(registry, **over)
    assert result.exit_code == 2 and code in result.output, result.output
    assert registry.read_bytes() == before  # untouched
    assert not list(registry.parent.glob(".network.yaml.*"))  # no temporary file left


# --- enrol --------------------------------------------------------------------------------------------


def test_enrol_refuses_before_writing_any_file(network_copy):
    registry, pki = network_copy
    before = registry.read_bytes()
    for over, code in ((["--code", BANK], "REG_UNIT_DUPLICATE"), (["--kind", "Bakery"], "REG_KIND_UNKNOWN")):
        args = {"--code": NEW, "--kind": "Bank"}
        args.update(dict(zip(over[::2], over[1::2])))
        result = cli(
            "pki", "enrol", "--registry", str(registry), "--ca", str(CERTS), "--name", NEW_NAME,
            "--region", "445300", "--out", str(pki / "units" / "x"), *[x for kv in args.items() for x in kv],
        )  # fmt: skip
        assert result.exit_code == 2 and code in result.output, result.output
        assert not (pki / "units").exists()
        assert registry.read_bytes() == before


def test_enrol_sm2_seal_from_the_sm2_ca_and_tls_from_the_tls_ca(network_copy):
    """``--suite sm2`` (issue 15, docs/signature-profile.md 4.7): the seal is an SM2 key certified
    by the SM2 CA and travels with that CA's chain; the broker login stays P-256 from the TLS CA.
    The new unit's seal verifies on an SM2-only network that has just listed it."""
    registry, pki = network_copy
    unit = pki / "units" / NEW
    result = cli(
        "pki", "enrol", "--registry", str(registry), "--ca", str(CERTS), "--seal-ca", str(EXAMPLE_SM2_CERTS),
        "--suite", "sm2", "--code", NEW, "--name", NEW_NAME, "--kind", "Bank", "--region", "445300", "--out", str(unit),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    seal = x509.load_pem_x509_certificate((unit / "sign.pem").read_bytes())
    assert sm2.is_sm2_certificate_key(seal) and seal.signature_algorithm_oid == sm2.SM2_WITH_SM3_OID
    assert seal.issuer == issuing.CertificateAuthority.load(EXAMPLE_SM2_CERTS).cert.subject
    assert (unit / "chain.pem").read_bytes() == (EXAMPLE_SM2_CERTS / "chain.pem").read_bytes()
    tls = x509.load_pem_x509_certificate((unit / "tls.pem").read_bytes())
    assert tls.issuer == issuing.CertificateAuthority.load(CERTS).cert.subject
    assert isinstance(tls.public_key(), ec.EllipticCurvePublicKey) and tls.public_key().curve.name == "secp256r1"
    assert list(tls.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH
    ]

    signer = DocumentSigner.from_files(unit / "sign.key", unit / "sign.pem", unit / "chain.pem")
    receipt = signer.sign(fresh("ExecutionReceipt", sender=NEW))
    assert SM2_SM3.encode() in receipt
    sm2_only = load_registry(registry_with_suites(pki / "sm2-net", ["sm2"], registry))
    trust = TrustStore.from_files([EXAMPLE_SM2_CERTS / "root-ca.pem"], [EXAMPLE_SM2_CERTS / "crl.pem"])
    checked = DocumentChecker(trust, sm2_only).check(receipt)
    assert checked.ok, checked.codes


def test_enrol_sm2_refuses_a_seal_ca_of_another_suite_before_writing_any_file(network_copy):
    registry, pki = network_copy
    before = registry.read_bytes()
    for extra in (["--suite", "sm2"], ["--seal-ca", str(EXAMPLE_SM2_CERTS)]):  # no SM2 CA; an SM2 CA, P-256 seal
        result = cli(
            "pki", "enrol", "--registry", str(registry), "--ca", str(CERTS), "--code", NEW, "--name", NEW_NAME,
            "--kind", "Bank", "--region", "445300", "--out", str(pki / "units" / "x"), *extra,
        )  # fmt: skip
        assert result.exit_code == 2 and "PKI_CA_SUITE" in result.output, result.output
        assert "印章 CA" in result.output
        assert not (pki / "units").exists()
        assert registry.read_bytes() == before


# --- the hub's registry watch ---------------------------------------------------------------------


def test_registry_watch_reloads_on_change_and_request_and_keeps_a_broken_file_out(network_copy, caplog):
    registry, _ = network_copy
    watch = RegistryWatch(registry, interval=0)
    assert not watch.due()
    watch.request()
    assert watch.due() and watch.reload() is not None and watch.generation == 1
    assert not watch.due()
    text = yaml.safe_load(registry.read_text(encoding="utf-8"))
    text["office"] = BANK  # not a LinkageOffice: the file does not load
    registry.write_text(yaml.safe_dump(text, allow_unicode=True), encoding="utf-8")
    assert watch.due()
    with caplog.at_level("ERROR", logger="liandong.hub"):
        assert watch.reload() is None
    record = next(r for r in caplog.records if r.getMessage() == "registry.reload_failed")
    assert record.fields["code"] == "REG_RELOAD_FAILED" and record.fields["causes"] == ["REG_INVALID"]
    assert json.dumps(record.fields, ensure_ascii=False)
    assert watch.generation == 1 and not watch.due()  # reported once, not every second


# --- the broker: `liandong broker run` regenerates its ACL on SIGHUP ------------------------------


def _wait(predicate, seconds: float) -> bool:
    try:
        wait_until(predicate, seconds, "")
        return True
    except AssertionError:
        return False


def test_broker_run_regenerates_its_acl_on_sighup_and_keeps_it_when_the_registry_is_broken(
    network_copy, tmp_path
):
    registry, _ = network_copy
    port, data = free_port(), tmp_path / "broker"
    proc = subprocess.Popen(
        [sys.executable, "-m", "broker.cli.main", "broker", "run", "--registry", str(registry),
         "--port", str(port), "--data", str(data), "--certs", str(CERTS)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    acl = data / "acl"
    try:
        assert _wait(lambda: _port_open(port), 30), "liandong broker run did not listen"
        assert f"user {NEW}" not in acl.read_text(encoding="utf-8")
        assert _register(registry).exit_code == 0
        proc.send_signal(signal.SIGHUP)
        assert _wait(lambda: f"user {NEW}" in acl.read_text(encoding="utf-8"), 30), (
            "the ACL was not regenerated"
        )

        registry.write_text("units: [", encoding="utf-8")  # broken
        proc.send_signal(signal.SIGHUP)
        time.sleep(1.0)  # no event to wait for: the ACL must stay as it is
        assert proc.poll() is None and _port_open(port)
        assert f"user {NEW}" in acl.read_text(encoding="utf-8")  # the ACL as it was
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            output = proc.communicate(timeout=30)[0].decode()
        except subprocess.TimeoutExpired:
            proc.kill()
            output = proc.communicate()[0].decode()
    assert "REG_RELOAD_FAILED" in output and "REG_INVALID" in output and "Traceback" not in output, output


def _port_open(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0
