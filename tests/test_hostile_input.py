"""Hostile input the checker must refuse with a code, never an exception (issue 11, item 1).

Each class of :mod:`tests.hostile` is a correctly sealed document (the example PKI, or a seal
certificate the example CA issued) that escaped ``DocumentChecker.check`` as an unhandled
exception, or was accepted, before this issue. Also the catch-all: an exception no one foresaw
becomes ``CHECK_INTERNAL_ERROR`` for its one document, logged with the digest, and the rest of
the batch is checked on its own.
"""

from __future__ import annotations

import json
import logging
import random
from datetime import datetime, timezone
from pathlib import Path

import pytest

from broker import rules
from broker.checking import DocumentChecker, payload_digest
from broker.documents.identifiers import parse_case_number, resident_id_is_valid, uscc_is_valid
from broker.errors import LiandongError
from broker.logs import JsonFormatter
from broker.parsing.hardened import parse
from broker.registry import load_registry
from broker.signing import TrustStore
from broker.signing.certificate_der import extensions, malformed_extension, public_key_curve
from broker.signing.trust import check_key_usage, check_signing_key
from tests import hostile
from tests.hostile import CLASSES, Hostile

ROOT = Path(__file__).resolve().parents[1]
CERTS = ROOT / "certs-example"


@pytest.fixture(scope="module")
def checker() -> DocumentChecker:
    return DocumentChecker(
        TrustStore.from_files([CERTS / "root-ca.pem"], [CERTS / "crl.pem"]), load_registry(ROOT / "examples" / "network.yaml")
    )


@pytest.fixture(scope="module")
def built() -> dict[str, bytes]:
    """Every hostile class, sealed once for the module."""
    return {h.name: h.build() for h in CLASSES}


def _now() -> datetime:
    return datetime.now(timezone.utc)


@pytest.mark.parametrize("case", CLASSES, ids=str)
def test_each_hostile_class_is_refused_with_its_own_code(checker: DocumentChecker, built: dict[str, bytes], case: Hostile) -> None:
    checked = checker.check(built[case.name], received_at=_now())
    assert case.code in checked.codes, checked.codes
    assert "CHECK_INTERNAL_ERROR" not in checked.codes
    assert not checked.ok and checked.root is None


def test_a_batch_of_every_hostile_class_and_a_valid_notice(checker: DocumentChecker, built: dict[str, bytes]) -> None:
    """Checked together each gets what it gets alone; the valid notice in the middle is ok."""
    valid = hostile.sealed(hostile.unsigned())
    raws = [*built.values()]
    middle = len(raws) // 2
    raws.insert(middle, valid)
    now = _now()
    together = checker.check_many(raws, received_at=[now] * len(raws))
    for raw, result in zip(raws, together):
        alone = checker.check(raw, received_at=now)
        assert result.codes == alone.codes
    assert together[middle].ok
    assert sum(r.ok for r in together) == 1


def test_the_messages_name_what_is_wrong(checker: DocumentChecker, built: dict[str, bytes]) -> None:
    def message(name: str, code: str) -> str:
        found = [p for p in checker.check(built[name], received_at=_now()).problems if p.code == code]
        assert found
        return found[0].message_en + " / " + found[0].message_zh

    assert "P-384" in message("curve P-384", "CERT_CURVE_UNSUPPORTED")
    assert "SM2" in message("curve SM2 (unknown to cryptography)", "CERT_KEY_INVALID")
    for extension in ("KeyUsage", "BasicConstraints", "ExtendedKeyUsage"):
        assert f" {extension} extension" in message(f"malformed {extension}", "CERT_EXTENSION_MALFORMED")
    assert " KeyUsage extension" in message("two KeyUsage extensions", "CERT_EXTENSION_MALFORMED")
    text = message("IssuedAt in year 9999", "DOC_TIME_OUT_OF_RANGE")
    assert "Header/IssuedAt" in text and "1800" in text and "2199" in text


# --- the layers, one by one -----------------------------------------------------------------------


def test_certificate_checks_raise_only_coded_errors() -> None:
    key = hostile.ec.generate_private_key(hostile.ec.SECP256R1())
    off_curve = hostile.off_curve_certificate(key)
    with pytest.raises(LiandongError) as caught:
        check_signing_key(off_curve)
    assert caught.value.codes == ["CERT_KEY_INVALID"]
    assert public_key_curve(off_curve) == "P-256 (secp256r1)"
    broken = hostile.seal_certificate(key.public_key(), replace={hostile.ExtensionOID.KEY_USAGE: b"\x04\x01x"})
    with pytest.raises(ValueError):
        broken.extensions  # noqa: B018 - what cryptography does on its own
    with pytest.raises(LiandongError) as caught:
        check_key_usage(broken)
    assert caught.value.codes == ["CERT_EXTENSION_MALFORMED"]
    assert malformed_extension(broken) == "KeyUsage"
    good = hostile.seal_certificate(key.public_key())
    assert [e.oid for e in extensions(good)][:3] == ["2.5.29.19", "2.5.29.15", "2.5.29.37"]
    assert extensions(good)[0].critical and not extensions(good)[2].critical
    check_signing_key(good)
    check_key_usage(good)


@pytest.mark.parametrize("encoding", ["GBK", "UTF-7", "ISO-8859-1", "gb2312"])
def test_a_declared_encoding_other_than_utf8_is_refused_after_any_leading_whitespace(encoding: str) -> None:
    for spaces in (b"", b" " * 300, b"\n\t " * 2000):
        with pytest.raises(LiandongError) as caught:
            parse(spaces + f"<?xml version='1.0' encoding='{encoding}'?><a/>".encode())
        assert caught.value.codes == ["XML_NOT_UTF8"], (encoding, len(spaces))
    # A UTF-8 declaration after whitespace is still malformed XML, not an encoding problem.
    with pytest.raises(LiandongError) as caught:
        parse(b" " * 300 + b"<?xml version='1.0' encoding='UTF-8'?><a/>")
    assert caught.value.codes == ["XML_MALFORMED"]


def test_identifiers_take_only_ascii_digits() -> None:
    full = str.maketrans("0123456789", "０１２３４５６７８９")
    arabic = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
    uscc, resident = "91445300MA5100003A", "445302198004121232"
    assert uscc_is_valid(uscc) and resident_id_is_valid(resident)
    for digits in (full, arabic):
        assert not uscc_is_valid(uscc[:2] + uscc[2:8].translate(digits) + uscc[8:])  # was a KeyError
        assert not resident_id_is_valid(resident.translate(digits))  # int() read them: it was "valid"
        assert parse_case_number("（２０２６）粤53执123号".translate(digits)) is None
    assert parse_case_number("（2026）粤53执123号") is not None


def test_a_deadline_in_year_9999_is_refused_before_any_arithmetic(checker: DocumentChecker) -> None:
    root = hostile.set_text(hostile.unsigned("ItemEntrustment"), "/ld:Document/ld:Header/ld:Deadline", hostile.YEAR_9999)
    checked = checker.check(hostile.sealed(root), received_at=_now())
    assert "DOC_TIME_OUT_OF_RANGE" in checked.codes
    assert any(p.code == "DOC_TIME_OUT_OF_RANGE" and "Header/Deadline" in p.message_en for p in checked.problems)
    assert "CHECK_INTERNAL_ERROR" not in checked.codes


def test_the_body_time_rule_knows_every_date_and_time_element_of_the_xsd() -> None:
    from lxml import etree

    from broker.parsing.schema import schema_path
    from broker.rules.times import DATE_ELEMENTS, DATETIME_ELEMENTS

    xsd = etree.parse(str(schema_path()))
    typed = {
        kind: {e.get("name") for e in xsd.iter("{http://www.w3.org/2001/XMLSchema}element") if e.get("type") in types}
        for kind, types in (("date", {"xs:date"}), ("datetime", {"xs:dateTime", "ld:DateTimeWithOffset"}))
    }
    assert typed["date"] == set(DATE_ELEMENTS)
    assert typed["datetime"] == set(DATETIME_ELEMENTS)
    assert not set(DATE_ELEMENTS) & set(DATETIME_ELEMENTS)


def test_unsigned_drafts_with_hostile_values_get_codes_too(built: dict[str, bytes]) -> None:
    """``signed=False`` (drafts, ``liandong validate``) runs the rules on the input tree itself."""
    drafts = DocumentChecker(None)
    for case in CLASSES:
        if case.code.startswith(("CERT_", "XML_")):
            continue
        checked = drafts.check(built[case.name], signed=False, received_at=_now())
        assert case.code in checked.codes, (case.name, checked.codes)


# --- the catch-all ----------------------------------------------------------------------------------


class _Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict[str, object]] = []
        self.formatter = JsonFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def captured():
    handler = _Captured()
    logger = logging.getLogger("broker.check_guard")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def _notices(n: int) -> list[bytes]:
    return [hostile.sealed(hostile.unsigned()) for _ in range(n)]


@pytest.mark.parametrize("step", ["rules", "signature"])
def test_an_unforeseen_exception_costs_one_document_and_is_logged(checker: DocumentChecker, monkeypatch, captured, step: str) -> None:
    raws = _notices(4)
    culprit = payload_digest(raws[2])

    class Unforeseen(ArithmeticError):
        pass

    if step == "rules":
        original_rules = rules.check

        def rules_check(tree, registry=None, *, today=None):
            if tree.findtext("{urn:liandong:v1}Header/{urn:liandong:v1}DocumentId") in raws[2].decode():
                raise Unforeseen("secret 445302198004121232")
            return original_rules(tree, registry, today=today)

        monkeypatch.setattr(rules, "check", rules_check)
    else:
        original_many = checker.verifier.problems_many

        def problems_many(documents):
            # raises for the whole batch whenever the culprit is in it
            if any(payload_digest(raw) == culprit for raw, _, _ in documents):
                raise Unforeseen("secret 445302198004121232")
            return original_many(documents)

        monkeypatch.setattr(checker.verifier, "problems_many", problems_many)
    results = checker.check_many(raws, received_at=[_now()] * 4)
    assert [r.codes for r in results] == [[], [], ["CHECK_INTERNAL_ERROR"], []]
    assert results[2].root is None
    [line] = [entry for entry in captured.lines if entry["event"] == "check.internal_error"]
    assert line["digest"] == culprit and line["step"] == step and line["level"] == "error"
    assert line["error"] == "test_an_unforeseen_exception_costs_one_document_and_is_logged.<locals>.Unforeseen"
    assert "445302198004121232" not in json.dumps(line)  # the message never reaches the log


def test_check_many_never_raises_for_any_bytes(checker: DocumentChecker, built: dict[str, bytes]) -> None:
    rng = random.Random(11)
    valid = hostile.sealed(hostile.unsigned())
    raws = [b"", b"\x00", bytes(range(256)), b"<", valid[: len(valid) // 2], *built.values()]
    for _ in range(30):
        raw = bytearray(valid)
        for _ in range(rng.randint(1, 4)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        raws.append(bytes(raw))
    results = checker.check_many(raws, received_at=[_now()] * len(raws))
    assert len(results) == len(raws)
    assert all(not r.ok for r in results)
    assert all("CHECK_INTERNAL_ERROR" not in r.codes for r in results), [r.codes for r in results]
