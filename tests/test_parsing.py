"""Hardened parsing (``broker/parsing/hardened.py``): each refusal has its own code and the
dangerous inputs are refused fast; XSD problems (``broker/parsing/schema.py``) carry a path and no
personal data."""

from __future__ import annotations

import codecs
import copy

import pytest
from lxml import etree

from broker.errors import CATALOGUE
from broker.parsing import schema
from broker.parsing import hardened
from broker.parsing.hardened import DEFAULT_MAX_BYTES, ParseError, ParseLimits, has_doctype, parse
from tests.helpers import EXAMPLES_DIR, SIGNED_DIR, example_bytes, nodes


@pytest.fixture
def parser_never_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refusals that must come before any XML parsing: make parsing fail the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the input reached the XML parser")

    monkeypatch.setattr(hardened, "_thread_parser", refuse)

UTF8_DECL = b'<?xml version="1.0" encoding="UTF-8"?>'


def _decl(encoding: str, quote: str = '"') -> bytes:
    return f"<?xml version={quote}1.0{quote} encoding={quote}{encoding}{quote}?>".encode()


def _nested(depth: int) -> bytes:
    return b"<a>" * depth + b"</a>" * depth


def _siblings(count: int) -> bytes:
    """A root with ``count - 1`` children: ``count`` elements in all."""
    return b"<r>" + b"<c/>" * (count - 1) + b"</r>"


LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1)) * 10) for i in range(1, 10))
    + b"]><lolz>&lol9;</lolz>"
)

REFUSALS: dict[str, tuple[bytes, str]] = {
    "empty": (b"", "XML_EMPTY"),
    "only-whitespace": (b" \r\n\t ", "XML_EMPTY"),
    "utf16-le-bom": (codecs.BOM_UTF16_LE + "<a/>".encode("utf-16-le"), "XML_NOT_UTF8"),
    "utf16-be-bom": (codecs.BOM_UTF16_BE + "<a/>".encode("utf-16-be"), "XML_NOT_UTF8"),
    "utf32-bom": ("<a/>".encode("utf-32"), "XML_NOT_UTF8"),
    "declared-utf16": (_decl("UTF-16") + b"<a/>", "XML_NOT_UTF8"),
    "declared-latin1": (_decl("ISO-8859-1") + b"<a>caf\xe9</a>", "XML_NOT_UTF8"),
    "declared-latin1-single-quotes": (_decl("latin-1", "'") + b"<a/>", "XML_NOT_UTF8"),
    "declared-gbk": (_decl("GBK") + "<a>执行</a>".encode("gbk"), "XML_NOT_UTF8"),
    "declared-gb18030-after-bom": (codecs.BOM_UTF8 + _decl("GB18030") + b"<a/>", "XML_NOT_UTF8"),
    "invalid-utf8-bytes": (b"<a>\xff\xfe\xfd</a>", "XML_NOT_UTF8"),
    "truncated-utf8-sequence": (UTF8_DECL + b"<a>\xe6\x89</a>", "XML_NOT_UTF8"),
    "overlong-utf8": (b"<a>\xc0\xaf</a>", "XML_NOT_UTF8"),
    "doctype": (b"<!DOCTYPE a><a/>", "XML_DTD_FORBIDDEN"),
    "doctype-lower-case": (b"<!doctype a><a/>", "XML_DTD_FORBIDDEN"),
    "doctype-element-declarations": (b"<!DOCTYPE a [<!ELEMENT a (#PCDATA)>]><a/>", "XML_DTD_FORBIDDEN"),
    "doctype-external-subset": (b'<!DOCTYPE a SYSTEM "http://example.com/a.dtd"><a/>', "XML_DTD_FORBIDDEN"),
    "external-entity-system": (
        b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
        "XML_EXTERNAL_ENTITY",
    ),
    "external-entity-public": (
        b'<!DOCTYPE a [<!ENTITY x PUBLIC "-//X//EN" "http://example.com/x">]><a>&x;</a>',
        "XML_EXTERNAL_ENTITY",
    ),
    "external-parameter-entity": (
        b'<!DOCTYPE a [<!ENTITY % p SYSTEM "http://example.com/p.dtd"> %p;]><a/>',
        "XML_EXTERNAL_ENTITY",
    ),
    "external-parameter-entity-no-space": (
        b'<!DOCTYPE a [<!ENTITY %p PUBLIC "-//X//EN" "http://example.com/p.dtd">]><a/>',
        "XML_EXTERNAL_ENTITY",
    ),
    "internal-entity": (b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', "XML_ENTITY_DECLARATION"),
    "internal-parameter-entity": (
        b'<!DOCTYPE a [<!ENTITY % p "<!ELEMENT a ANY>"> %p;]><a/>',
        "XML_ENTITY_DECLARATION",
    ),
    "billion-laughs": (LAUGHS, "XML_ENTITY_DECLARATION"),
    "processing-instruction-inside-root": (b"<a><?php echo 1; ?></a>", "XML_PROCESSING_INSTRUCTION"),
    "processing-instruction-before-root": (
        UTF8_DECL + b'<?xml-stylesheet type="text/xsl" href="x.xsl"?><a/>',
        "XML_PROCESSING_INSTRUCTION",
    ),
    "processing-instruction-after-root": (b"<a/><?x y?>", "XML_PROCESSING_INSTRUCTION"),
    "malformed-unclosed": (b"<a><b></a>", "XML_MALFORMED"),
    "malformed-two-roots": (b"<a/><b/>", "XML_MALFORMED"),
    "malformed-text-only": (b"just text", "XML_MALFORMED"),
    "malformed-undefined-entity": (b"<a>&nbsp;</a>", "XML_MALFORMED"),
    "malformed-declaration-not-first": (b"  " + UTF8_DECL + b"<a/>", "XML_MALFORMED"),
}


def codes_of(data: bytes, limits: ParseLimits = ParseLimits()) -> list[str]:
    with pytest.raises(ParseError) as caught:
        parse(data, limits)
    return caught.value.codes


@pytest.mark.parametrize(("data", "code"), REFUSALS.values(), ids=REFUSALS.keys())
def test_refusal_has_its_own_code(data: bytes, code: str) -> None:
    assert codes_of(data) == [code]


def test_every_parse_code_is_exercised() -> None:
    # the limits have their own tests below
    exercised = {code for _, code in REFUSALS.values()} | {"XML_TOO_LARGE", "XML_TOO_DEEP", "XML_TOO_MANY_NODES"}
    assert exercised == {code for code in CATALOGUE if code.startswith("XML_")}


def test_utf16_without_bom_is_not_utf8() -> None:
    # ASCII content: every UTF-16LE code unit is then also valid UTF-8 (a byte and a NUL)
    data = '<?xml version="1.0" encoding="UTF-16"?><a>liandong</a>'.encode("utf-16-le")
    assert codes_of(data) == ["XML_NOT_UTF8"]


# --- limits ----------------------------------------------------------------------------------------------


def test_oversize_refused_before_parsing(parser_never_runs: None) -> None:
    data = b"<a>" + b"x" * (10 * 1024 * 1024) + b"</a>"
    assert len(data) > DEFAULT_MAX_BYTES
    with pytest.raises(ParseError) as caught:
        parse(data)
    assert caught.value.codes == ["XML_TOO_LARGE"]
    assert str(len(data)) in caught.value.problems[0].message_en


def test_oversize_wins_over_other_problems() -> None:
    # even a DTD bomb is not looked at when it is too large
    assert codes_of(LAUGHS, ParseLimits(max_bytes=len(LAUGHS) - 1)) == ["XML_TOO_LARGE"]


def test_size_limit_is_inclusive() -> None:
    data = _nested(2)
    assert parse(data, ParseLimits(max_bytes=len(data))).tag == "a"


def test_a_doctype_never_reaches_the_parser(parser_never_runs: None) -> None:
    # a billion laughs is refused from a scan of its bytes: no entity is ever declared to libxml2
    assert codes_of(LAUGHS) == ["XML_ENTITY_DECLARATION"]
    assert codes_of(b"<!-- a comment --><!doctype a><a/>") == ["XML_DTD_FORBIDDEN"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"<a/>", False),
        (UTF8_DECL + b"\n<a/>", False),
        (UTF8_DECL + b"<!DOCTYPE a><a/>", True),
        (UTF8_DECL + b"<!-- <!DOCTYPE a> in a comment --><a/>", False),
        (UTF8_DECL + b"<!-- note --><!DocType a><a/>", True),
        (b"<a><![CDATA[<!DOCTYPE a>]]></a>", False),  # text, after the root element started
        (b"<a>&lt;!DOCTYPE</a>", False),
        (b"<!--unclosed", False),  # not well-formed: the parser says so
    ],
)
def test_only_the_prolog_can_hold_a_doctype(data: bytes, expected: bool) -> None:
    assert has_doctype(data) is expected


_NOT_UTF8 = [b"\xff", b"\xc3\x28", b"\xe2\x82", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf"]
_PLACES = [b"<a>X</a>", b'<a b="X"/>', b"<a><!--X--></a>", b"<a><![CDATA[X]]></a>", b"<aX/>", b"<!--X--><a/>", b"<a/><!--X-->"]


@pytest.mark.parametrize("place", _PLACES)
@pytest.mark.parametrize("sequence", _NOT_UTF8, ids=lambda b: b.hex())
def test_bytes_that_are_not_utf8_are_refused_wherever_they_stand(place: bytes, sequence: bytes) -> None:
    # libxml2 refuses them; the parser then names the encoding, not just a malformed document
    assert codes_of(place.replace(b"X", sequence)) == ["XML_NOT_UTF8"]


@pytest.mark.parametrize(("depth", "refused"), [(3, False), (4, True), (40, True)])
def test_depth_limit(depth: int, refused: bool) -> None:
    limits = ParseLimits(max_depth=3)
    if refused:
        assert codes_of(_nested(depth), limits) == ["XML_TOO_DEEP"]
    else:
        assert parse(_nested(depth), limits).tag == "a"


@pytest.mark.parametrize(("count", "refused"), [(5, False), (6, True)])
def test_element_count_limit(count: int, refused: bool) -> None:
    limits = ParseLimits(max_elements=5)
    if refused:
        assert codes_of(_siblings(count), limits) == ["XML_TOO_MANY_NODES"]
    else:
        assert len(parse(_siblings(count), limits)) == count - 1


def test_limits_are_in_the_message() -> None:
    with pytest.raises(ParseError) as caught:
        parse(_nested(5), ParseLimits(max_depth=3))
    assert "3" in caught.value.problems[0].message_en
    assert caught.value.problems[0].message_zh != caught.value.problems[0].message_en


# --- what parses -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    sorted(EXAMPLES_DIR.glob("**/*.xml")) + sorted(SIGNED_DIR.glob("**/*.xml")),
    ids=lambda p: str(p.relative_to(EXAMPLES_DIR.parent)),
)
def test_examples_parse(path) -> None:
    root = parse(path.read_bytes())
    assert etree.QName(root).localname == "Document"


@pytest.mark.parametrize(
    "data",
    [b"<a/>", UTF8_DECL + b"<a/>", _decl("utf8") + b"<a/>", codecs.BOM_UTF8 + b"<a/>", b"<a><!-- c --></a>"],
    ids=["bare", "declared", "utf8-alias", "utf8-bom", "comment"],
)
def test_plain_utf8_parses(data: bytes) -> None:
    assert parse(data).tag == "a"


def test_escaped_declaration_in_text_is_content() -> None:
    root = parse("<a>&lt;!ENTITY x \"y\"&gt; 执行</a>".encode())
    assert root.text == '<!ENTITY x "y"> 执行'


# --- XSD problems -----------------------------------------------------------------------------------------


def _with_id_number(value: str) -> etree._Element:
    root = etree.fromstring(example_bytes("AssistanceNotice"))
    for elem in nodes(root, "//ld:IdNumber"):
        elem.text = value
    return root


def _leaks(value: str, text: str, window: int = 6) -> bool:
    """Whether ``text`` shows ``value`` or any ``window`` consecutive characters of it."""
    return any(value[i : i + window] in text for i in range(max(1, len(value) - window + 1)))


def test_valid_example_has_no_schema_problem() -> None:
    assert schema.problems(etree.fromstring(example_bytes("AssistanceNotice"))) == []


@pytest.mark.parametrize(
    "value",
    ["4453021980041212Z2", "44530219800412123", "4453021980041212321", "445302 98004121232"],
    ids=["letter", "17-digits", "19-digits", "blank"],
)
def test_schema_problem_hides_the_id_number(value: str) -> None:
    problems = schema.problems(_with_id_number(value))
    assert problems and {p.code for p in problems} == {"SCHEMA_INVALID"}
    assert any(p.path and p.path.endswith("/ld:NaturalPerson/ld:IdNumber") for p in problems), problems
    for p in problems:
        for text in (p.message_en, p.message_zh, p.path or ""):
            assert value not in text
            assert not _leaks(value, text), text


def test_schema_problem_hides_an_id_number_with_an_apostrophe() -> None:
    value = "4453'0219800412123"
    for p in schema.problems(_with_id_number(value)):
        assert not _leaks(value, p.message_en), p.message_en


def test_schema_unknown_root() -> None:
    root = etree.fromstring(example_bytes("AssistanceNotice"))
    problems = schema.problems(copy.deepcopy(root[1]))
    assert [p.code for p in problems] == ["SCHEMA_UNKNOWN_ROOT"]
    assert "AssistanceNotice" in problems[0].message_en


def test_schema_reports_at_most_five_problems() -> None:
    root = etree.fromstring(example_bytes("AssistanceNotice"))
    for elem in nodes(root, "//ld:Amount"):
        elem.text = "1.234"
    for elem in nodes(root, "//ld:Start"):
        elem.text = "tomorrow"
    problems = schema.problems(root)
    assert len(problems) == schema.MAX_REPORTED
    assert all(p.code == "SCHEMA_INVALID" and p.path for p in problems)


def test_schema_validation_keeps_no_document_id() -> None:
    """Validation leaves nothing of a document behind in the thread (issue 16, the soak): with
    the root's ``Id`` read as ``xs:ID``, libxml2 registered it in the document's ID table and
    interned it in the string dictionary lxml shares between every document of a thread, for
    good, some 60 bytes a document. The ID table stays empty now (``id()`` finds nothing)."""
    root = etree.fromstring(example_bytes("AssistanceNotice"))
    assert root.get("Id") and root.xpath("id($v)", v=root.get("Id")) == []
    assert schema.problems(root) == []
    assert root.xpath("id($v)", v=root.get("Id")) == []


@pytest.mark.parametrize(
    "value", ["1d-digit-first", "ld:colon", "ld space", ""], ids=["digit", "colon", "blank", "empty"]
)
def test_schema_refuses_an_id_that_is_no_xs_id(value: str) -> None:
    """The root's ``Id`` still has to be an ``xs:ID`` (an NCName): what the schema says."""
    root = etree.fromstring(example_bytes("AssistanceNotice"))
    root.set("Id", value)
    problems = schema.problems(root)
    assert problems and {p.code for p in problems} == {"SCHEMA_INVALID"}, problems


def test_schema_refuses_a_document_without_id() -> None:
    root = etree.fromstring(example_bytes("AssistanceNotice"))
    del root.attrib["Id"]
    assert {p.code for p in schema.problems(root)} == {"SCHEMA_INVALID"}
