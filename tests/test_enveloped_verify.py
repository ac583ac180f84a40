"""Seals checked directly (broker/signing/enveloped_verify.py) give signxml's answers (issue 16).

The verifier no longer calls signxml; signxml (as the verifier called it before,
broker/signing/signxml_verify.py) is the cross-check here: every signed example and a corpus of
mutations of RSA and ECDSA seals get the same accept or refuse, with the same code, from both,
and an accepted document the same verified content. signxml knows no SM2: SM2 seals of every
example are checked by xmllint (exclusive C14N) and the OpenSSL 3 command line (SM3, SM2 with the
GM/T 0009 signer ID) instead, and SM2 mutations get the codes RSA's get.
"""

from __future__ import annotations

import base64
import copy
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from lxml import etree
from signxml import XMLSigner, methods
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod

from broker.documents.xmlmodel import DS_NS, NS
from broker.parsing.hardened import ParseError, parse
from broker.registry import load_registry
from broker.signing import DocumentSigner, DocumentVerifier, TrustStore, load_private_key
from broker.signing.enveloped import algorithms_for, canonical
from broker.signing.keys import load_certificates
from broker.signing.signxml_verify import SignxmlDocumentVerifier
from broker.signing.suites import SM2_SM3

ROOT = Path(__file__).resolve().parents[1]
CERTS = ROOT / "certs-example"
SM2_CERTS = CERTS / "sm2"
UNSIGNED = ROOT / "examples" / "unsigned"
SIGNED = sorted((ROOT / "examples" / "signed").rglob("*.xml"))
COURT = "11445300MB0000001W"
BANK = "91445300MA5100003A"
MARKET = "11445300MB0000006C"  # an ECDSA P-256 seal
OFFICE = "12100000MB0000009G"  # another
LD = "{" + NS + "}"
DS = "{" + DS_NS + "}"
ECDSA_SHA256 = SignatureMethod.ECDSA_SHA256.value
RSA_SHA256 = SignatureMethod.RSA_SHA256.value
OPENSSL = shutil.which("openssl")
XMLLINT = shutil.which("xmllint")


@pytest.fixture(scope="module")
def registry():
    return load_registry(ROOT / "examples" / "network.yaml")


@pytest.fixture(scope="module")
def verifiers(registry) -> tuple[DocumentVerifier, DocumentVerifier]:
    """The verifier, and the same with signxml checking RSA and ECDSA seals (as before)."""
    trust = TrustStore.from_files([CERTS / "root-ca.pem"], [CERTS / "crl.pem"])
    return DocumentVerifier(trust, registry), SignxmlDocumentVerifier(trust, registry)


@pytest.fixture(scope="module")
def sm2_verifier(registry) -> DocumentVerifier:
    return DocumentVerifier(TrustStore.from_files([SM2_CERTS / "root-ca.pem"], [SM2_CERTS / "crl.pem"]), registry)


def outcome(verifier: DocumentVerifier, raw: bytes) -> tuple[list[str], bytes | None]:
    """The codes for ``raw`` (a refusal of the parser included) and the verified content's
    canonical form (None when refused)."""
    try:
        root = parse(raw)
    except ParseError as exc:
        return exc.codes, None
    before = etree.tostring(root)
    verified, problems = verifier.problems(raw, root)
    assert etree.tostring(root) == before, "the input tree was changed"
    return [p.code for p in problems], None if verified is None else canonical(verified.root)


def both(verifiers: tuple[DocumentVerifier, DocumentVerifier], raw: bytes) -> tuple[list[str], bytes | None]:
    """The direct path's outcome, once it is checked to be signxml's."""
    direct, by_signxml = (outcome(v, raw) for v in verifiers)
    assert direct == by_signxml
    return direct


def sender(raw: bytes) -> str:
    return etree.fromstring(raw).findtext(f"{LD}Header/{LD}Sender")


def serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# --- every signed example ----------------------------------------------------------------------


def test_every_signed_example_verifies_directly_and_with_signxml_alike(verifiers):
    methods_seen = set()
    for path in SIGNED:
        raw = path.read_bytes()
        codes, content = both(verifiers, raw)
        assert codes == [] and content is not None, (path.name, codes)
        methods_seen.add(etree.fromstring(raw).find(f"{DS}Signature/{DS}SignedInfo/{DS}SignatureMethod").get("Algorithm"))
    assert len(SIGNED) >= 55 and methods_seen == {RSA_SHA256, ECDSA_SHA256}


def _run(*args: str | Path, input: bytes | None = None) -> bytes:
    return subprocess.run([str(a) for a in args], input=input, capture_output=True, check=True, timeout=30).stdout


def _xmllint_exc_c14n(xml: bytes, work: Path) -> Path:
    source, out = work / "in.xml", work / "out.c14n"
    source.write_bytes(xml)
    out.write_bytes(_run(XMLLINT, "--exc-c14n", source))
    return out


def _openssl_checks(raw: bytes, public_key: Path, work: Path) -> None:
    """The seal of ``raw`` as xmllint and OpenSSL see it: the SM3 digest of the document cut
    without its signature (by text), the SM2 signature of the SignedInfo cut out likewise."""
    text = re.compile(rb"<ds:(DigestValue|SignatureValue)>([^<]*)</ds:\1>")
    values = {m.group(1): base64.b64decode(m.group(2)) for m in text.finditer(raw)}
    content = _xmllint_exc_c14n(re.sub(rb"<ds:Signature .*</ds:Signature>", b"", raw, flags=re.DOTALL), work)
    assert _run(OPENSSL, "dgst", "-sm3", "-binary", content) == values[b"DigestValue"]
    info = re.search(rb"<ds:SignedInfo>.*?</ds:SignedInfo>", raw, re.DOTALL).group(0)
    info = info.replace(b"<ds:SignedInfo>", b'<ds:SignedInfo xmlns:ds="%s">' % DS_NS.encode(), 1)
    value = values[b"SignatureValue"]
    (work / "sig.der").write_bytes(encode_dss_signature(int.from_bytes(value[:32], "big"), int.from_bytes(value[32:], "big")))
    verified = _run(
        OPENSSL, "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pubin", "-inkey", public_key,
        "-in", _xmllint_exc_c14n(info, work), "-sigfile", work / "sig.der", "-pkeyopt", "distid:1234567812345678",
    )
    assert b"Signature Verified Successfully" in verified


def test_every_example_sealed_with_sm2_verifies_directly_and_with_openssl(sm2_verifier, tmp_path):
    """signxml knows no SM2: the cross-check is xmllint and OpenSSL, on every example."""
    if not (OPENSSL and XMLLINT):
        pytest.fail("openssl and xmllint (libxml2-utils) are not installed (./run installs them)")
    keys: dict[str, Path] = {}
    sealed = 0
    for path in sorted(UNSIGNED.rglob("*.xml")):
        unit = sender(path.read_bytes())
        if not (SM2_CERTS / "units" / unit / "sign.pem").exists():
            continue  # a coverage example's sender outside the example network has no SM2 seal
        raw = DocumentSigner.for_unit(SM2_CERTS / "units" / unit).sign(path.read_bytes())
        sealed += 1
        assert f'Algorithm="{SM2_SM3}"'.encode() in raw
        codes, content = outcome(sm2_verifier, raw)
        assert codes == [] and content is not None, (path.name, codes)
        if unit not in keys:
            keys[unit] = tmp_path / f"{unit}.pub"
            keys[unit].write_bytes(_run(OPENSSL, "x509", "-in", SM2_CERTS / "units" / unit / "sign.pem", "-pubkey", "-noout"))
        _openssl_checks(raw, keys[unit], tmp_path)
    assert sealed >= len(list(UNSIGNED.glob("*.xml")))  # every example but a few coverage ones


# --- the mutation corpus -----------------------------------------------------------------------

Mutation = Callable[[etree._Element], "etree._Element | None"]
"""Changes a signed tree in place, or returns the tree that replaces it."""


def _signature(root: etree._Element) -> etree._Element:
    return root.find(f"{DS}Signature")


def _content(root: etree._Element) -> list[etree._Element]:
    """The document's elements outside its signature."""
    signature = _signature(root)
    return [e for e in root.iter(f"{LD}*") if e is not root and signature not in e.iterancestors()]


def changed_text(root: etree._Element) -> None:
    leaf = next(e for e in _content(root) if len(e) == 0 and (e.text or "").strip())
    leaf.text = leaf.text + "1"


def added_element(root: etree._Element) -> None:
    etree.SubElement(root.find(f"{LD}Header"), f"{LD}Remark").text = "added"


def removed_element(root: etree._Element) -> None:
    body = root[1]
    body.remove(body[-1])


def changed_attribute(root: etree._Element) -> None:
    element = next((e for e in _content(root) if e.attrib), None)
    if element is None:  # a document whose only attribute is the root's Id: one is added
        root.find(f"{LD}Header").set("Kind", "x")
    else:
        name = next(iter(element.attrib))
        element.set(name, element.get(name) + "9")


def whitespace_in_signed_info(root: etree._Element) -> None:
    _signature(root)[0].text = "\n  "


def whitespace_after_signature(root: etree._Element) -> None:
    # outside SignedInfo but not outside what is digested: the enveloped-signature transform
    # removes the Signature element, not the text after it (XML-DSig; signxml, xmlsec1)
    _signature(root).tail = "\n"


def changed_digest_value(root: etree._Element) -> None:
    value = _signature(root).find(f"{DS}SignedInfo/{DS}Reference/{DS}DigestValue")
    value.text = ("B" if value.text[0] == "A" else "A") + value.text[1:]


def changed_signature_value(root: etree._Element) -> None:
    value = _signature(root).find(f"{DS}SignatureValue")
    raw = bytearray(base64.b64decode(value.text))
    raw[len(raw) // 2] ^= 1
    value.text = base64.b64encode(bytes(raw)).decode()


def truncated_signature_value(root: etree._Element) -> None:
    value = _signature(root).find(f"{DS}SignatureValue")
    value.text = base64.b64encode(base64.b64decode(value.text)[:-4]).decode()


def second_signature(root: etree._Element) -> None:
    root.append(copy.deepcopy(_signature(root)))


def wrapped_signature(root: etree._Element) -> None:
    """XSW: the signed document, signature and all, inside a forged one's Header."""
    original = copy.deepcopy(root)
    root.remove(_signature(root))
    root.find(f"{LD}Header").append(original)


def signature_moved_into_the_body(root: etree._Element) -> None:
    root[1].append(_signature(root))


def comment_inserted(root: etree._Element) -> None:
    leaf = next(e for e in _content(root) if len(e) == 0 and len(e.text or "") > 1)
    text, leaf.text = leaf.text, leaf.text[:1]
    comment = etree.Comment(" injected ")
    comment.tail = text[1:]
    leaf.append(comment)


def document_prefix_changed(root: etree._Element) -> etree._Element:
    """The same names in another prefix: the same infoset to a namespace-aware reader, other
    canonical bytes (exc-c14n keeps prefixes)."""
    return etree.fromstring(etree.tostring(root).replace(b"ld:", b"x:").replace(b"xmlns:ld=", b"xmlns:x="))


def signature_prefix_changed(root: etree._Element) -> None:
    signature = _signature(root)
    renamed = etree.fromstring(etree.tostring(signature).replace(b"ds:", b"dsig:").replace(b"xmlns:ds=", b"xmlns:dsig="))
    root.replace(signature, renamed)


def relative_namespace_uri(root: etree._Element) -> etree._Element:
    """A namespace declared with a relative URI, used nowhere: C14N 1.0 cannot canonicalize the
    document (libxml2 refuses it), whatever the signature."""
    return etree.fromstring(etree.tostring(root).replace(b"<ld:Document ", b'<ld:Document xmlns:r="relative" ', 1))


def _key(unit: str, sm2: bool = False):  # noqa: ANN202 - any of the three kinds of private key
    return load_private_key((SM2_CERTS if sm2 else CERTS) / "units" / unit / "sign.key")


def another_keys_signature(unit: str, sm2: bool = False) -> Mutation:
    """SignedInfo signed again with ``unit``'s key; KeyInfo still holds the sender's certificate."""

    def mutate(root: etree._Element) -> None:
        signature = _signature(root)
        value = algorithms_for(_key(unit, sm2)).sign(canonical(signature[0]))
        signature.find(f"{DS}SignatureValue").text = base64.b64encode(value).decode()

    return mutate


def another_certificate(unit: str, sm2: bool = False) -> Mutation:
    """KeyInfo holding ``unit``'s certificate chain instead of the sender's (a valid chain, the
    wrong key for this signature)."""

    def mutate(root: etree._Element) -> None:
        pems = load_certificates((SM2_CERTS if sm2 else CERTS) / "units" / unit / "sign.pem")
        pems += load_certificates((SM2_CERTS if sm2 else CERTS) / "issuing-ca.pem")
        x509_data = _signature(root).find(f"{DS}KeyInfo/{DS}X509Data")
        for element, cert in zip(x509_data, pems):
            der = cert.public_bytes(serialization.Encoding.DER)
            element.text = base64.b64encode(der).decode()

    return mutate


def signature_method(uri: str) -> Mutation:
    def mutate(root: etree._Element) -> None:
        _signature(root).find(f"{DS}SignedInfo/{DS}SignatureMethod").set("Algorithm", uri)

    return mutate


def der_signature_value(root: etree._Element) -> None:
    """An ECDSA value in DER, as X.509 writes it, where XML-DSig wants r || s."""
    value = _signature(root).find(f"{DS}SignatureValue")
    raw = base64.b64decode(value.text)
    size = len(raw) // 2
    value.text = base64.b64encode(encode_dss_signature(int.from_bytes(raw[:size], "big"), int.from_bytes(raw[size:], "big"))).decode()


COMMON: list[tuple[str, Mutation, list[str]]] = [
    ("nothing", lambda root: None, []),
    ("a changed text node", changed_text, ["SIG_TAMPERED"]),
    ("an added element", added_element, ["SIG_TAMPERED"]),
    ("a removed element", removed_element, ["SIG_TAMPERED"]),
    ("an attribute changed", changed_attribute, ["SIG_TAMPERED"]),
    ("whitespace added inside SignedInfo", whitespace_in_signed_info, ["SIG_INVALID"]),
    ("whitespace after the Signature", whitespace_after_signature, ["SIG_TAMPERED"]),
    ("a changed DigestValue", changed_digest_value, ["SIG_INVALID"]),
    ("a changed SignatureValue", changed_signature_value, ["SIG_INVALID"]),
    ("a truncated SignatureValue", truncated_signature_value, ["SIG_INVALID"]),
    ("a second Signature", second_signature, ["SIG_MULTIPLE"]),
    ("a wrapped signature", wrapped_signature, ["SIG_LOCATION"]),
    ("the signature moved into the body", signature_moved_into_the_body, ["SIG_LOCATION"]),
    ("a comment inserted", comment_inserted, []),
    ("the document's namespace prefix changed", document_prefix_changed, ["SIG_TAMPERED"]),
    ("the signature's namespace prefix changed", signature_prefix_changed, ["SIG_INVALID"]),
    ("a relative namespace URI", relative_namespace_uri, ["SIG_INVALID"]),
]
RSA_ONLY: list[tuple[str, Mutation, list[str]]] = [
    ("another unit's RSA signature", another_keys_signature(BANK), ["SIG_INVALID"]),
    ("another unit's certificate", another_certificate(BANK), ["SIG_INVALID"]),
    ("an RSA key under ECDSA-SHA256", signature_method(ECDSA_SHA256), ["SIG_INVALID"]),
]


def ecdsa_only(other: str) -> list[tuple[str, Mutation, list[str]]]:
    """The mutations of an ECDSA seal; ``other``: another unit with an ECDSA seal."""
    return [
        ("another unit's ECDSA signature", another_keys_signature(other), ["SIG_INVALID"]),
        ("another unit's certificate", another_certificate(other), ["SIG_INVALID"]),
        ("an ECDSA key under RSA-SHA256", signature_method(RSA_SHA256), ["SIG_INVALID"]),
        ("an ECDSA value in DER", der_signature_value, ["SIG_INVALID"]),
    ]


SM2_ONLY: list[tuple[str, Mutation, list[str]]] = [
    ("another unit's SM2 signature", another_keys_signature(BANK, sm2=True), ["SIG_INVALID"]),
    ("another unit's certificate", another_certificate(BANK, sm2=True), ["SIG_INVALID"]),
    ("an SM2 value in DER", der_signature_value, ["SIG_INVALID"]),
]


def mutated(raw: bytes, mutation: Mutation) -> bytes:
    root = etree.fromstring(raw)
    replaced = mutation(root)
    return serialize(root if replaced is None else replaced)


def _sealed(unit: str, name: str, sm2: bool = False) -> bytes:
    return DocumentSigner.for_unit((SM2_CERTS if sm2 else CERTS) / "units" / unit).sign((UNSIGNED / f"{name}.xml").read_bytes())


@pytest.mark.parametrize(
    "unit, name",
    [(COURT, "AssistanceNotice"), (COURT, "QueryNotice"), (MARKET, "ExecutionReceipt-MarketRegulation"), (OFFICE, "Reminder")],
)
def test_mutations_get_signxmls_answer_and_the_expected_code(verifiers, unit, name):
    raw = _sealed(unit, name)
    ecdsa = ECDSA_SHA256.encode() in raw
    for label, mutation, expected in COMMON + (ecdsa_only(OFFICE if unit == MARKET else MARKET) if ecdsa else RSA_ONLY):
        forged = mutated(raw, mutation)
        assert forged != raw or label == "nothing", label
        codes, content = both(verifiers, forged)
        assert codes == expected, (label, codes)
        assert (content is None) == bool(expected), label


def test_an_sm2_seals_mutations_get_the_codes_rsas_get(sm2_verifier):
    raw = _sealed(COURT, "AssistanceNotice", sm2=True)
    for label, mutation, expected in COMMON + SM2_ONLY:
        forged = mutated(raw, mutation)
        assert forged != raw or label == "nothing", label
        codes, content = outcome(sm2_verifier, forged)
        assert codes == expected, (label, codes)
        assert (content is None) == bool(expected), label


def test_an_sm2_key_under_rsa_and_an_rsa_key_under_sm2_are_refused(verifiers, sm2_verifier):
    rsa_under_sm2 = mutated(_sealed(COURT, "AssistanceNotice"), signature_method(SM2_SM3))
    # SM2's own digest with it, so that only the key's kind is wrong
    rsa_under_sm2 = rsa_under_sm2.replace(DigestAlgorithm.SHA256.value.encode(), b"http://www.w3.org/2000/09/xmldsig#sm3")
    assert outcome(verifiers[0], rsa_under_sm2)[0] == ["SIG_INVALID"]
    sm2_under_rsa = mutated(_sealed(COURT, "AssistanceNotice", sm2=True), signature_method(RSA_SHA256))
    sm2_under_rsa = sm2_under_rsa.replace(b"http://www.w3.org/2000/09/xmldsig#sm3", DigestAlgorithm.SHA256.value.encode())
    assert outcome(sm2_verifier, sm2_under_rsa)[0] == ["SIG_INVALID"]


def test_a_comment_keeps_the_seal_and_the_verified_text_whole(verifiers):
    raw = mutated(_sealed(COURT, "AssistanceNotice"), comment_inserted)
    codes, content = both(verifiers, raw)
    assert codes == [] and b"<!--" not in content and b"<!--" in raw


def test_an_inclusive_namespaces_prefix_list_as_signxml_writes_it_verifies(verifiers):
    """No liandong signer writes a PrefixList (docs/signature-profile.md 4.2), but another may:
    it is honoured for SignedInfo and for the reference, as signxml and xmlsec1 honour it."""
    root = etree.fromstring((UNSIGNED / "AssistanceNotice.xml").read_bytes())
    unit = CERTS / "units" / COURT
    pems = [c.public_bytes(serialization.Encoding.PEM).decode() for c in load_certificates(unit / "sign.pem")]
    pems += [c.public_bytes(serialization.Encoding.PEM).decode() for c in load_certificates(CERTS / "issuing-ca.pem")]
    signer = XMLSigner(
        method=methods.enveloped,
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    signed = serialize(signer.sign(root, key=load_private_key(unit / "sign.key"), cert=pems, inclusive_ns_prefixes=["ld"]))
    assert signed.count(b'PrefixList="ld"') == 1  # signxml writes it for SignedInfo only
    codes, content = both(verifiers, signed)
    assert codes == [] and content is not None
    # and the prefix list is signed: without it the same SignedInfo is other bytes
    assert both(verifiers, signed.replace(b'PrefixList="ld"', b'PrefixList="ds"', 1))[0] == ["SIG_INVALID"]


def test_the_ecdsa_value_is_r_and_s_of_the_keys_size(verifiers):
    raw = _sealed(MARKET, "ExecutionReceipt-MarketRegulation")
    value = base64.b64decode(re.search(rb"<ds:SignatureValue>([^<]*)<", raw).group(1))
    assert len(value) == 64
    # r || s with one byte too many (a leading zero: the same integers) is refused by length
    padded = value[:32] + b"\0" + value[32:]
    forged = re.sub(rb"<ds:SignatureValue>[^<]*<", b"<ds:SignatureValue>" + base64.b64encode(padded) + b"<", raw)
    assert both(verifiers, forged)[0] == ["SIG_INVALID"]


_EXC = "http://www.w3.org/2001/10/xml-exc-c14n#"
PREFIX_LIST_TEMPLATE = f"""<ds:Signature xmlns:ds="{DS_NS}">
  <ds:SignedInfo>
    <ds:CanonicalizationMethod Algorithm="{_EXC}"/>
    <ds:SignatureMethod Algorithm="{RSA_SHA256}"/>
    <ds:Reference URI="">
      <ds:Transforms>
        <ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>
        <ds:Transform Algorithm="{_EXC}"><ec:InclusiveNamespaces xmlns:ec="{_EXC}" PrefixList="x"/></ds:Transform>
      </ds:Transforms>
      <ds:DigestMethod Algorithm="{DigestAlgorithm.SHA256.value}"/>
      <ds:DigestValue/>
    </ds:Reference>
  </ds:SignedInfo>
  <ds:SignatureValue/>
  <ds:KeyInfo><ds:X509Data/></ds:KeyInfo>
</ds:Signature>"""


def test_a_reference_prefix_list_as_xmlsec1_writes_it_verifies(verifiers, tmp_path):
    """A namespace declared on the root but used nowhere is digested only when the transform's
    PrefixList names it: xmlsec1 (an implementation we did not write) signs so, both verify, and
    the same document digested without the prefix list would not."""
    xmlsec = shutil.which("xmlsec1")
    if xmlsec is None:
        pytest.fail("xmlsec1 is not installed (./run installs it)")
    raw = (UNSIGNED / "AssistanceNotice.xml").read_bytes().replace(b"<ld:Document ", b'<ld:Document xmlns:x="urn:unused" ', 1)
    root = etree.fromstring(raw)
    root.append(etree.fromstring(PREFIX_LIST_TEMPLATE))
    template, out = tmp_path / "template.xml", tmp_path / "signed.xml"
    template.write_bytes(serialize(root))
    d = CERTS / "units" / COURT
    subprocess.run(
        [xmlsec, "--sign", "--privkey-pem", f"{d / 'sign.key'},{d / 'sign.pem'},{CERTS / 'issuing-ca.pem'}",
         "--output", str(out), str(template)],
        capture_output=True, check=True, timeout=60,
    )
    signed = out.read_bytes()
    assert both(verifiers, signed)[0] == []
    for verifier in verifiers:  # what was digested held the declaration
        assert verifier.verify(signed, parse(signed)).root.nsmap["x"] == "urn:unused"
    # the document without the unused declaration is other canonical bytes: its digest differs
    assert both(verifiers, signed.replace(b' xmlns:x="urn:unused"', b"", 1))[0] == ["SIG_TAMPERED"]


def test_a_signature_value_with_stray_characters_is_refused_where_signxml_skipped_them(verifiers):
    """The one intended difference: SignatureValue is base64Binary; signxml's decoder skipped
    characters outside the alphabet (the value is not signed, so anyone on the way could add
    them), the direct path refuses them (whitespace, as in a line-wrapped value, is allowed)."""
    raw = _sealed(COURT, "AssistanceNotice")
    value = re.search(rb"<ds:SignatureValue>([^<]*)<", raw).group(1)
    stray = raw.replace(value, value[:10] + b"!" + value[10:], 1)
    direct, by_signxml = (outcome(v, stray)[0] for v in verifiers)
    assert direct == ["SIG_INVALID"] and by_signxml == []
    wrapped = raw.replace(value, b"\n".join(value[i : i + 64] for i in range(0, len(value), 64)), 1)
    assert both(verifiers, wrapped)[0] == []
