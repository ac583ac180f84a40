"""The XML ⇄ model codec (``broker/documents/codec.py``) on its own: decode errors with code and
path, amounts written with two decimals, base64 content, comments and signatures skipped.

(That every example validates and re-encodes to the same canonical bytes is in test_schema.py.)
"""

from __future__ import annotations

import base64
import copy
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

import pytest
from lxml import etree
from pydantic import ValidationError

from broker.documents import codec
from broker.documents.bodies import CredentialScan
from broker.documents.common import Money
from broker.documents.document import Document
from broker.documents.xmlmodel import DS_NS
from tests.helpers import LD, example_names, load_doc, load_tree, nodes, setting

Edit = Callable[[etree._Element], None]


def _first(root: etree._Element, xpath: str) -> etree._Element:
    return nodes(root, xpath)[0]


def _append(xpath: str, tag: str, text: str = "x") -> Edit:
    def edit(root: etree._Element) -> None:
        etree.SubElement(_first(root, xpath), tag).text = text

    return edit


def _set_attribute(xpath: str, name: str, value: str) -> Edit:
    return lambda root: _first(root, xpath).set(name, value)


def _set_text(xpath: str, text: str) -> Edit:
    def edit(root: etree._Element) -> None:
        _first(root, xpath).text = text

    return edit


def _repeat(xpath: str) -> Edit:
    def edit(root: etree._Element) -> None:
        elem = _first(root, xpath)
        elem.addnext(copy.deepcopy(elem))

    return edit


def _remove(xpath: str) -> Edit:
    def edit(root: etree._Element) -> None:
        elem = _first(root, xpath)
        elem.getparent().remove(elem)

    return edit


HEADER = "/ld:Document/ld:Header"
FREEZE = "/ld:Document/ld:AssistanceNotice/ld:BankFreeze"

SCAN_1 = "/ld:Document/ld:OfficerCredentials/ld:Officer[1]/ld:Scan"


@dataclass(frozen=True)
class DecodeCase:
    edit: Edit
    path: str  # the path the problem carries
    words: str  # words of its message
    hidden: str | None = None  # the offending value, which the message must not show
    example: str = "AssistanceNotice"


DECODE_ERRORS: dict[str, DecodeCase] = {
    "unexpected-element": DecodeCase(_append("ld:Header", LD + "Priority"), f"{HEADER}/ld:Priority", "unexpected element"),
    "element-of-other-namespace": DecodeCase(_append("ld:Header", "{urn:other}Note"), f"{HEADER}/ns0:Note", "unexpected element"),
    "signature-inside-header": DecodeCase(
        _append("ld:Header", f"{{{DS_NS}}}Signature"), f"{HEADER}/ns0:Signature", "unexpected element"
    ),
    "unexpected-attribute": DecodeCase(_set_attribute("ld:Header", "Priority", "high"), HEADER, "unexpected attribute Priority"),
    "unexpected-attribute-on-measure": DecodeCase(
        _set_attribute("//ld:BankFreeze", "Extra", "1"), FREEZE, "unexpected attribute Extra"
    ),
    "repeated-single-element": DecodeCase(_repeat("ld:Header/ld:Sender"), f"{HEADER}/ld:Sender[2]", "element repeated"),
    "repeated-body-field": DecodeCase(_repeat("//ld:BankFreeze/ld:Amount"), f"{FREEZE}/ld:Amount[2]", "element repeated"),
    "child-inside-scalar": DecodeCase(
        _append("ld:Header/ld:Sender", LD + "Code"), f"{HEADER}/ld:Sender", "unexpected child elements"
    ),
    "bad-decimal": DecodeCase(_set_text("//ld:BankFreeze/ld:Amount", "12,50"), f"{FREEZE}/ld:Amount", "decimal", "12,50"),
    "three-decimals": DecodeCase(
        _set_text("//ld:BankFreeze/ld:Amount", "1.234"), f"{FREEZE}/ld:Amount", "two decimals", "1.234"
    ),
    "bad-date": DecodeCase(
        _set_text("//ld:BankFreeze/ld:Period/ld:End", "2027-02-30"), f"{FREEZE}/ld:Period", "date", "2027-02-30"
    ),
    "bad-enum": DecodeCase(_set_text("//ld:BankFreeze//ld:Gender", "X"), f"{FREEZE}/ld:NaturalPerson", "gender"),
    "missing-required": DecodeCase(_remove("ld:Header/ld:Sender"), HEADER, "sender"),
    "bad-uuid": DecodeCase(
        _set_text("ld:Header/ld:InReplyTo", "not-a-uuid"), HEADER, "uuid", "not-a-uuid", example="ExecutionReceipt"
    ),
    "invalid-base64": DecodeCase(
        _set_text("(//ld:Scan)[1]", "iVBORw0K*&^"), SCAN_1, "invalid base64", example="OfficerCredentials"
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", DECODE_ERRORS.values(), ids=DECODE_ERRORS.keys())
def test_decode_error_has_code_and_path(case: DecodeCase) -> None:
    root = load_tree(case.example)
    case.edit(root)
    with pytest.raises(codec.DecodeError) as caught:
        codec.from_element(root)
    [problem] = caught.value.problems
    assert caught.value.codes == ["DOC_DECODE"]
    assert problem.path == case.path
    assert case.path in problem.message_en and case.path in problem.message_zh
    assert case.words.lower() in problem.message_en.lower(), problem.message_en
    if case.hidden is not None:
        assert case.hidden not in problem.message_en and case.hidden not in problem.message_zh


def test_root_must_be_document() -> None:
    body = copy.deepcopy(load_tree("AssistanceNotice")[1])
    with pytest.raises(codec.DecodeError) as caught:
        codec.from_element(body)
    assert caught.value.codes == ["DOC_DECODE"]
    assert caught.value.problems[0].path == "/ld:AssistanceNotice"


# --- encoding ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "written"),
    [("10.5", "10.50"), ("10", "10.00"), ("0.1", "0.10"), ("1100000", "1100000.00"), ("7.25", "7.25")],
)
def test_money_is_written_with_two_decimals(value: str, written: str) -> None:
    elem = codec.encode(Money.cny(value), "Amount")
    assert elem.text == written
    assert elem.get("Currency") == "CNY"


def test_money_decoded_with_one_decimal_is_written_with_two() -> None:
    root = load_tree("AssistanceNotice")
    _set_text("//ld:BankFreeze/ld:Amount", "7.5")(root)
    doc = codec.from_element(root)
    assert doc.body.measures[0].amount.value == Decimal("7.50")
    assert _first(codec.to_element(doc), "//ld:BankFreeze/ld:Amount").text == "7.50"


def test_money_refuses_three_decimals() -> None:
    with pytest.raises(ValidationError):
        Money.cny("0.001")


def test_foreign_currency_attribute_round_trips() -> None:
    elem = codec.encode(Money(value=Decimal("12000"), currency="USD"), "Amount")
    assert (elem.text, elem.get("Currency")) == ("12000.00", "USD")
    assert codec.decode(elem, Money) == Money(value=Decimal("12000.00"), currency="USD")


SCAN = bytes(range(256)) * 3 + "执行公务证".encode()


def _with_scan(content: bytes) -> Document:
    doc = load_doc("OfficerCredentials")
    return setting(body__officers__0__scan=CredentialScan(content=content, mime_type="image/png"))(doc)


def test_scan_is_base64_and_round_trips() -> None:
    doc = _with_scan(SCAN)
    data = codec.to_bytes(doc)
    scan = _first(etree.fromstring(data), "(//ld:Scan)[1]")
    assert base64.b64decode(scan.text, validate=True) == SCAN
    assert codec.from_element(etree.fromstring(data)).body.officers[0].scan.content == SCAN


def test_scan_with_line_breaks_decodes() -> None:
    # MIME-style base64 (76 characters a line) as other platforms write it
    root = codec.to_element(_with_scan(SCAN))
    scan = _first(root, "(//ld:Scan)[1]")
    scan.text = "\n" + base64.encodebytes(SCAN).decode("ascii")
    assert codec.from_element(root).body.officers[0].scan.content == SCAN


def test_token_fields_are_stripped_and_text_fields_kept() -> None:
    root = load_tree("AssistanceNotice")
    _set_text("//ld:BankFreeze/ld:NaturalPerson/ld:Name", "  陈国强 \n")(root)
    _set_text("ld:AssistanceNotice/ld:Remark", "  请立即办理。\n")(root)
    doc = codec.from_element(root)
    assert doc.body.measures[0].subject.name == "陈国强"
    assert doc.body.remark == "  请立即办理。\n"


@pytest.mark.parametrize("name", example_names())
def test_model_round_trip(name: str) -> None:
    doc = load_doc(name)
    assert codec.from_element(codec.to_element(doc)) == doc
    assert codec.from_element(etree.fromstring(codec.to_bytes(doc))) == doc


def test_to_bytes_has_utf8_declaration() -> None:
    data = codec.to_bytes(load_doc("AssistanceNotice"))
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert "陈国强".encode() in data


# --- what decoding skips ---------------------------------------------------------------------------------


def _comment_everywhere(root: etree._Element) -> None:
    """A comment before and after every element (not inside text-only elements)."""
    for elem in list(root.iter(etree.Element)):
        if len(elem):
            elem.insert(0, etree.Comment(" first "))
            elem.append(etree.Comment(" last "))


def test_comments_between_elements_are_ignored() -> None:
    root = load_tree("AssistanceNotice")
    _comment_everywhere(root)
    assert len(root.xpath("//comment()")) > 20
    assert codec.from_element(root) == load_doc("AssistanceNotice")


def test_comment_inside_text_is_ignored() -> None:
    root = load_tree("AssistanceNotice")
    sender = _first(root, "ld:Header/ld:Sender")
    sender.text = "1144"
    comment = etree.Comment(" x ")
    comment.tail = "5300MB0000001W"
    sender.append(comment)
    assert codec.from_element(root) == load_doc("AssistanceNotice")


def test_signature_at_the_end_of_document_is_skipped() -> None:
    root = load_tree("AssistanceNotice")
    signature = etree.SubElement(root, f"{{{DS_NS}}}Signature")
    etree.SubElement(signature, f"{{{DS_NS}}}SignedInfo")
    assert codec.from_element(root) == load_doc("AssistanceNotice")
