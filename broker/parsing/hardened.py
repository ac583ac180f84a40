"""Hardened XML parsing: the only way liandong turns bytes from the network into a tree.

What it refuses, each with its own error code (docs/signature-profile.md, "Parsing"):

- more than ``max_bytes`` (checked before anything is parsed), empty input, non-UTF-8 input;
- any ``<!DOCTYPE``: a plain DTD, an external entity (XXE) and internal entity declarations
  (entity-expansion bombs) are told apart by a scan of the declaration's text, which is
  never parsed;
- processing instructions (they would be signed content nobody reads);
- nesting deeper than ``max_depth`` or more than ``max_elements`` elements.

The lxml parser itself runs with entity resolution, DTD loading and network access off.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from lxml import etree

from broker.errors import LiandongError, problem

DEFAULT_MAX_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_DEPTH = 24
DEFAULT_MAX_ELEMENTS = 100_000

_DECLARATION = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_LEADING_SPACE = re.compile(rb"(?:\xef\xbb\xbf)?[ \t\r\n]*")
_DECLARATION_SPAN = 256
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
_EXTERNAL_ENTITY = re.compile(rb"<!ENTITY\s+(?:%\s*)?[^\s>]+\s+(?:SYSTEM|PUBLIC)\b", re.IGNORECASE)


class ParseError(LiandongError):
    """The input is not an acceptable XML document; ``codes`` says why."""


@dataclass(frozen=True)
class ParseLimits:
    max_bytes: int = DEFAULT_MAX_BYTES
    max_depth: int = DEFAULT_MAX_DEPTH
    max_elements: int = DEFAULT_MAX_ELEMENTS


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        remove_comments=True,  # never signed under exc-c14n; dropping them keeps text values whole
        collect_ids=False,
    )


# lxml parsers are not safe to share between threads; the hub parses on several threads.
_local = threading.local()


def _thread_parser() -> etree.XMLParser:
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = _parser()
    return parser


_COUNT = etree.XPath("count(//*)")
_PI = etree.XPath("boolean(//processing-instruction())")


def _too_deep(depth: int) -> etree.XPath:
    return etree.XPath("boolean(/" + "/*" * (depth + 1) + ")")


def _suspect(depth: int) -> etree.XPath:
    # One pass for both: most documents have neither, and each XPath walks the whole tree.
    return etree.XPath("boolean(//processing-instruction() | /" + "/*" * (depth + 1) + ")")


_DEPTH_CHECKS: dict[int, tuple[etree.XPath, etree.XPath]] = {}
_MIN_ELEMENT_BYTES = 4  # "<a/>": input of n bytes cannot hold more than n/4 elements


def _fail(code: str, **params: object) -> ParseError:
    return ParseError([problem(code, **params)])


def classify_doctype(data: bytes) -> str:
    """Which DOCTYPE problem ``data`` has: the most specific code wins."""
    if _EXTERNAL_ENTITY.search(data):
        return "XML_EXTERNAL_ENTITY"
    if _ENTITY.search(data):
        return "XML_ENTITY_DECLARATION"
    return "XML_DTD_FORBIDDEN"


def has_doctype(data: bytes) -> bool:
    """Whether a ``<!DOCTYPE`` stands in the prolog, the one place XML allows it (before the root
    element, among the XML declaration, comments and processing instructions). Only the prolog is
    scanned: a search of the whole input cost half as much as parsing it."""
    i, size = data.find(b"<"), len(data)
    while 0 <= i < size - 1:
        if data.startswith(b"<!--", i):
            end = data.find(b"-->", i + 4)
            i = -1 if end < 0 else data.find(b"<", end + 3)
        elif data.startswith(b"<?", i):
            end = data.find(b"?>", i + 2)
            i = -1 if end < 0 else data.find(b"<", end + 2)
        else:
            # the root element's start tag, or a declaration; anything else after "<!" in the
            # prolog is not well-formed and the parser refuses it
            return data[i : i + 9].upper() == b"<!DOCTYPE"
    return False


def parse_canonical(data: bytes) -> etree._Element:
    """Parse the canonical form (C14N) of a tree that :func:`parse` made, as a verifier parses what
    it digested: with the same parser, without :func:`parse`'s checks, which that tree passed
    (C14N writes no DTD, no more elements and no deeper nesting than it was given). Never for
    bytes from the network."""
    return etree.fromstring(data, parser=_thread_parser())


def parse(data: bytes, limits: ParseLimits = ParseLimits()) -> etree._Element:
    """Parse untrusted bytes into an element tree or raise :class:`ParseError`."""
    size = len(data)
    if size > limits.max_bytes:
        raise _fail("XML_TOO_LARGE", size=size, limit=limits.max_bytes)
    if size == 0 or not data.strip():
        raise _fail("XML_EMPTY")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        # XML never contains NUL; UTF-16 without a byte-order mark does.
        raise _fail("XML_NOT_UTF8")
    # The declaration comes first; one after leading whitespace is malformed XML, but one that
    # names another encoding is refused as such, however much whitespace comes before it.
    start = _LEADING_SPACE.match(data).end()  # type: ignore[union-attr]
    m = _DECLARATION.match(data, start, start + _DECLARATION_SPAN)
    if m and m.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        raise _fail("XML_NOT_UTF8")
    if has_doctype(data):
        raise _fail(classify_doctype(data))
    try:
        root = etree.fromstring(data, parser=_thread_parser())
    except etree.XMLSyntaxError as exc:
        # libxml2 refuses bytes that are not UTF-8 too; say so with the precise code. (Checked
        # only on failure: decoding every document first cost as much as a tenth of parsing it.)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise _fail("XML_NOT_UTF8") from None
        raise _fail("XML_MALFORMED", detail=str(exc.msg or exc)[:200]) from None
    tree = root.getroottree()
    if tree.docinfo.internalDTD is not None or tree.docinfo.externalDTD is not None:
        raise _fail("XML_DTD_FORBIDDEN")  # unreachable after the scan; kept as a backstop
    checks = _DEPTH_CHECKS.get(limits.max_depth)
    if checks is None:
        checks = _DEPTH_CHECKS[limits.max_depth] = (_suspect(limits.max_depth), _too_deep(limits.max_depth))
    if checks[0](root):
        if _PI(root):  # "//" starts at the document node, so PIs beside the root count too
            raise _fail("XML_PROCESSING_INSTRUCTION")
        raise _fail("XML_TOO_DEEP", limit=limits.max_depth)
    if size > limits.max_elements * _MIN_ELEMENT_BYTES and _COUNT(root) > limits.max_elements:
        raise _fail("XML_TOO_MANY_NODES", limit=limits.max_elements)
    return root

