"""Fuzzing the checker with Hypothesis (issue 11, item 1): whatever the bytes, ``check_many``
returns a result for each document and never raises, and no check raises inside it either (the
guard would turn that into ``CHECK_INTERNAL_ERROR``, which is asserted absent: a crash the guard
hides is still a bug to fix).

(a) Documents built from the model's field types at their extremes (date-times at the years 1 and
    9999 with ±14:00 offsets, NaN and infinite decimals, Unicode digits, long and odd strings) in
    the header and body fields of example documents, SEALED with the example seal so they reach
    every check.
(b) Signed examples (examples/signed/*.xml) mutated: byte flips, inserted and deleted bytes,
    element and attribute edits. A mutated document is never ``ok`` unless the mutation left the
    signed content's canonical form unchanged (whitespace outside the root, a quote style, ...).

Bounded and reproducible: ``derandomize=True``, no example database, a few seconds each.
"""

from __future__ import annotations

import base64
import copy
import re
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from broker.checking import DocumentChecker
from broker.documents.xmlmodel import NS
from broker.registry import load_registry
from broker.signing import TrustStore
from tests import hostile

ROOT = Path(__file__).resolve().parents[1]
CERTS = ROOT / "certs-example"
SIGNED = sorted((ROOT / "examples" / "signed").glob("*.xml"))
DS = "{http://www.w3.org/2000/09/xmldsig#}"
NSMAP = {"ld": NS}
SEALS = {p.name for p in (CERTS / "units").iterdir() if (p / "sign.key").exists()}
RECEIVED = datetime(2026, 11, 23, 10, 0, tzinfo=timezone(timedelta(hours=8)))

FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def checker() -> DocumentChecker:
    return DocumentChecker(
        TrustStore.from_files([CERTS / "root-ca.pem"], [CERTS / "crl.pem"]), load_registry(ROOT / "examples" / "network.yaml")
    )


def _never_crashes(checker: DocumentChecker, raws: list[bytes], *, received: datetime | None = RECEIVED) -> list:
    results = checker.check_many(raws, received_at=[received] * len(raws), today=RECEIVED.date())
    assert len(results) == len(raws)
    for result in results:
        assert "CHECK_INTERNAL_ERROR" not in result.codes, "a check raised (see the check.internal_error log)"
    return results


# --- (a) extreme values of the models' field types, sealed -----------------------------------------------

OFFSETS = [timezone(timedelta(hours=h, minutes=m)) for h, m in ((14, 0), (-14, 0), (13, 59), (-13, -59), (0, 0), (8, 0))]
_XML_TEXT = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from("\n\t")

EXTREME_DATETIMES = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59), timezones=st.sampled_from(OFFSETS))
    .map(lambda d: d.isoformat()),
    st.sampled_from(
        [
            hostile.YEAR_9999, hostile.YEAR_1, "9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00-14:00",
            "1899-12-31T23:59:59-14:00", "2200-01-01T00:00:00+14:00", "2026-02-30T00:00:00+08:00", "2026-03-04T09:30:00",
        ]
    ),
)  # fmt: skip
EXTREME_DATES = st.one_of(
    st.dates().map(lambda d: d.isoformat()), st.sampled_from(["0001-01-01", "9999-12-31", "2026-02-29", "-0001-01-01"])
)
EXTREME_DECIMALS = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["NaN", "sNaN", "-NaN", "Infinity", "-Infinity", "1E+999999", "1e-999999", "0.00", "-0", "１００.００"]),
)
UNICODE_DIGITS = st.text(alphabet=st.characters(categories=["Nd"]), min_size=1, max_size=24)
ODD_STRINGS = st.one_of(
    st.text(alphabet=_XML_TEXT, max_size=40),
    st.text(alphabet=_XML_TEXT, min_size=2000, max_size=6000),
    st.builds(lambda a, d, b: a + d + b, st.sampled_from(["91", "11", ""]), UNICODE_DIGITS, st.sampled_from(["MA5100003A", ""])),
)

# (example, field path, kind of value)
FIELDS = [
    ("AssistanceNotice", "/ld:Document/ld:Header/ld:IssuedAt", "datetime"),
    ("AssistanceNotice", "/ld:Document/ld:Header/ld:Sender", "string"),
    ("AssistanceNotice", "/ld:Document/ld:Header/ld:Recipient", "string"),
    ("AssistanceNotice", "/ld:Document/ld:Header/ld:DocumentId", "string"),
    ("AssistanceNotice", "/ld:Document/ld:Header/ld:CaseNumber", "string"),
    ("AssistanceNotice", "(//ld:Amount)[1]", "decimal"),
    ("AssistanceNotice", "(//ld:Period/ld:Start)[1]", "date"),
    ("AssistanceNotice", "(//ld:Period/ld:End)[1]", "date"),
    ("AssistanceNotice", "(//ld:IdNumber)[1]", "string"),
    ("AssistanceNotice", "(//ld:UnitCode)[1]", "string"),
    ("AssistanceNotice", "(//ld:Officer/ld:Name)[1]", "string"),
    ("ItemEntrustment", "/ld:Document/ld:Header/ld:Deadline", "datetime"),
    ("ItemEntrustment", "/ld:Document/ld:Header/ld:IssuedAt", "datetime"),
    ("ExecutionReceipt", "(//ld:ActualAmount)[1]", "decimal"),
    ("ExecutionReceipt", "/ld:Document/ld:Header/ld:InReplyTo", "string"),
    ("DishonestListing", "(//ld:DecisionDate)[1]", "date"),
    ("DishonestListing", "(//ld:FiledOn)[1]", "date"),
    ("QueryNotice", "/ld:Document/ld:Header/ld:Deadline", "datetime"),
]
VALUES = {"datetime": EXTREME_DATETIMES, "date": EXTREME_DATES, "decimal": EXTREME_DECIMALS, "string": ODD_STRINGS}


@st.composite
def extreme_documents(draw) -> bytes:
    example = draw(st.sampled_from(sorted({e for e, _, _ in FIELDS})))
    root = hostile.unsigned(example)
    fields = [(path, kind) for e, path, kind in FIELDS if e == example]
    for path, kind in draw(st.lists(st.sampled_from(fields), min_size=1, max_size=4, unique=True)):
        found = root.xpath(path, namespaces=NSMAP)
        if found:
            found[0].text = draw(VALUES[kind])
    sender = root.findtext(f"{{{NS}}}Header/{{{NS}}}Sender") or ""
    unit = sender if sender in SEALS else hostile.COURT
    return hostile.sealed_whatever_the_sender(root, unit)


@pytest.fixture(scope="module")
def valid() -> bytes:
    return hostile.sealed(hostile.unsigned())


@FUZZ
@given(document=extreme_documents())
def test_extreme_values_in_sealed_documents_never_crash_the_checker(
    checker: DocumentChecker, valid: bytes, document: bytes
) -> None:
    # alone, and in a batch beside a valid notice that must stay ok
    _never_crashes(checker, [document], received=None)
    results = _never_crashes(checker, [document, valid], received=datetime.now(timezone.utc))
    assert results[1].ok, results[1].codes


# --- (b) mutated signed examples ----------------------------------------------------------------------------

TOKENS = [b"<", b">", b"&", b"&amp;", b"]]>", b"\x00", b"\xff", b"\xef\xbb\xbf", "０".encode(), "٩".encode(), b"NaN",
          b"9999", b" ", b"\n", b"<!--x-->", b"<?pi x?>", b"<!DOCTYPE d>", b"'", b'"', b"xmlns:x=\"urn:x\""]  # fmt: skip


@st.composite
def byte_mutations(draw, raw: bytes) -> bytes:
    data = bytearray(raw)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "token"]))
        i = draw(st.integers(0, len(data)))
        if kind == "flip" and i < len(data):
            data[i] ^= draw(st.integers(1, 255))
        elif kind == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[i : i + draw(st.integers(1, 16))]
        else:
            data[i:i] = draw(st.sampled_from(TOKENS))
    return bytes(data)


@st.composite
def tree_mutations(draw, raw: bytes) -> bytes:
    root = etree.fromstring(raw)
    elements = list(root.iter())
    for _ in range(draw(st.integers(1, 2))):
        elem = elements[draw(st.integers(0, len(elements) - 1))]
        kind = draw(st.sampled_from(["text", "remove", "duplicate", "attribute", "drop-attribute", "tail"]))
        if kind == "text":
            elem.text = draw(st.one_of(ODD_STRINGS, EXTREME_DECIMALS, EXTREME_DATETIMES, EXTREME_DATES))
        elif kind == "remove" and elem.getparent() is not None:
            elem.getparent().remove(elem)
        elif kind == "duplicate" and elem.getparent() is not None:
            elem.addnext(copy.deepcopy(elem))
        elif kind == "attribute":
            name = draw(st.sampled_from(["Id", "URI", "Algorithm", "Currency", "MeasureId", "{urn:x}y", "ID", "id"]))
            elem.set(name, draw(st.text(alphabet=_XML_TEXT, max_size=30)))
        elif kind == "drop-attribute" and elem.attrib:
            del elem.attrib[draw(st.sampled_from(sorted(elem.attrib)))]
        elif kind == "tail" and elem.getparent() is not None:
            elem.tail = draw(st.sampled_from([" ", "x", "\n", "０"]))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _canonical_content(raw: bytes) -> bytes | None:
    """The exc-c14n form of the document without its signature (what the seal covers), or None."""
    try:
        root = etree.fromstring(raw, etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True))
    except etree.XMLSyntaxError:
        return None
    for signature in root.findall(f"{DS}Signature"):
        root.remove(signature)
    return etree.tostring(root, method="c14n", exclusive=True)


@st.composite
def mutated_examples(draw) -> tuple[bytes, bytes]:
    raw = SIGNED[draw(st.integers(0, len(SIGNED) - 1))].read_bytes()
    mutate = draw(st.sampled_from([byte_mutations, tree_mutations]))
    return raw, draw(mutate(raw))


@FUZZ
@given(pair=mutated_examples())
def test_mutated_signed_documents_never_crash_and_are_never_ok_if_their_content_changed(checker: DocumentChecker, pair) -> None:
    original, mutated = pair
    [result] = _never_crashes(checker, [mutated], received=None)
    if result.ok and mutated != original:
        assert _canonical_content(mutated) == _canonical_content(original), "a changed document passed as sealed"


# --- (c) mutated seal certificates ------------------------------------------------------------------------

_CERTIFICATE = re.compile(rb"(<ds:X509Certificate>)(.*?)(</ds:X509Certificate>)", re.DOTALL)


@st.composite
def mutated_certificates(draw) -> bytes:
    """A signed example whose signer's or issuing CA's certificate (DER, in KeyInfo) has bytes
    flipped, inserted or deleted: cryptography parses certificates lazily, so a broken extension,
    key or version surfaces wherever a check first reads it."""
    raw = SIGNED[draw(st.integers(0, len(SIGNED) - 1))].read_bytes()
    found = list(_CERTIFICATE.finditer(raw))
    m = found[draw(st.integers(0, len(found) - 1))]
    der = bytearray(base64.b64decode(b"".join(m.group(2).split())))
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(der) - 1))
        kind = draw(st.sampled_from(["flip", "flip", "insert", "delete"]))
        if kind == "flip":
            der[i] ^= draw(st.integers(1, 255))
        elif kind == "insert":
            der.insert(i, draw(st.integers(0, 255)))
        else:
            del der[i]
    return raw[: m.start(2)] + base64.encodebytes(bytes(der)) + raw[m.end(2) :]


@FUZZ
@given(document=mutated_certificates())
def test_mutated_seal_certificates_never_crash_the_checker(checker: DocumentChecker, document: bytes) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cryptography's deprecation warnings about what it still parses
        [result] = _never_crashes(checker, [document], received=None)
    assert not result.ok


def test_the_signed_examples_are_ok_as_they_are(checker: DocumentChecker) -> None:
    """The premise of (b): every unmutated example passes, so a refusal is the mutation's doing."""
    results = _never_crashes(checker, [p.read_bytes() for p in SIGNED], received=None)
    assert [r.codes for r in results if not r.ok] == []
