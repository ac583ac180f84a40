"""XSD validation against ``schemas/liandong-v1.xsd`` with libxml2 (lxml).

Why lxml and not xmlschema on the hot path: on the same document lxml validated about 100
times faster here (docs/performance.md). xmlschema is still used in the test suite as a second,
independent XSD 1.0 processor, so the schema is known to work outside libxml2.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

from lxml import etree

from broker.documents.xmlmodel import NS
from broker.errors import LiandongError, Problem, problem
from broker.resources import data_dir

SCHEMA_FILE = "liandong-v1.xsd"
MAX_REPORTED = 5

# libxml2 quotes offending values ("The value '1101...' is not accepted"); those can be ID
# numbers or names, which must not reach logs or notices (docs/contributing.md), so they are cut out.
_VALUE = re.compile(r"(The value )'.*'(?= is not accepted)|'.*'( is not a valid value)")


class SchemaError(LiandongError):
    """The document does not match the XSD."""


def schema_path() -> Path:
    """The XSD file: ``$LIANDONG_SCHEMA_DIR`` if set, else ``schemas/`` (:mod:`broker.resources`)."""
    base = os.environ.get("LIANDONG_SCHEMA_DIR")
    directory = Path(base) if base else data_dir("schemas")
    return directory / SCHEMA_FILE


_local = threading.local()


def _schema() -> etree.XMLSchema:
    # An XMLSchema keeps its error log on the object, so each thread gets its own instance.
    schema = getattr(_local, "schema", None)
    if schema is None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        schema = _local.schema = etree.XMLSchema(_root_id_as_ncname(etree.parse(str(schema_path()), parser)))
    return schema


_XS = "{http://www.w3.org/2001/XMLSchema}"


def _root_id_as_ncname(xsd: etree._ElementTree) -> etree._ElementTree:
    """The schema as validation reads it: the root's ``Id`` attribute of type ``xs:NCName``
    instead of ``xs:ID``, if that is the schema's only ``xs:ID``.

    Why: libxml2 registers every ``xs:ID`` value it validates in the document's ID table and
    interns the value in the document's string dictionary, and lxml gives every document parsed
    in a thread that thread's one dictionary, which lives as long as the thread and never forgets
    a string. Each document's ``Id`` is new (``ld-`` and its UUID), so a process that validates
    documents grew by some 60 bytes for each, for ever: about 19 MiB per hub worker in the
    30-minute soak (issue 16, docs/performance.md "Soak"). The verdict is the same: ``xs:ID`` is
    ``xs:NCName`` plus uniqueness among the document's IDs, and with one ID attribute, on the
    root, there is nothing to be unique against (nor any ``xs:IDREF`` to resolve). Nothing reads
    the ID table (the seal's reference is checked against the root's ``Id`` by value,
    :mod:`broker.signing.verifier`). A schema with another ``xs:ID`` keeps them all as they are.
    The file itself, the contract, is not changed."""
    ids = [a for a in xsd.iter(_XS + "attribute") if a.get("type") == "xs:ID"]
    if len(ids) != 1 or ids[0].get("name") != "Id":
        return xsd
    owner = ids[0].getparent()
    if owner is None or owner.tag != _XS + "complexType" or owner.get("name") != "DocumentType":
        return xsd
    ids[0].set("type", "xs:NCName")
    return xsd


def problems(root: etree._Element) -> list[Problem]:
    """The schema problems of ``root`` (empty when valid), at most :data:`MAX_REPORTED`."""
    if etree.QName(root).namespace != NS or etree.QName(root).localname != "Document":
        return [problem("SCHEMA_UNKNOWN_ROOT", tag=etree.QName(root).localname)]
    schema = _schema()
    if schema.validate(root):
        return []
    found = []
    lines = _spans_lines(root)
    for entry in list(schema.error_log)[:MAX_REPORTED]:
        message = _VALUE.sub(lambda m: (m.group(1) or "") + "<value>" + (m.group(2) or ""), entry.message.replace("{" + NS + "}", "ld:"))
        found.append(problem("SCHEMA_INVALID", path=entry.path, detail=f"{_where(entry, lines)}: {message}"))
    return found


def _spans_lines(root: etree._Element) -> bool:
    """Whether the document's elements are on more than one line of its source: a document
    on one line (as sent over MQTT, or re-serialised) has no line worth naming."""
    first = root.sourceline
    return first is not None and any(e.sourceline not in (None, first) for e in root.iter())


def _where(entry: etree._LogEntry, lines: bool) -> str:
    """The element path (``/Document/QueryNotice/Query[1]/Kind``), and the line when it tells more."""
    path = (entry.path or "").replace("ld:", "") or "/Document"
    return f"{path} (line {entry.line})" if lines and entry.line else path


def validate(root: etree._Element) -> None:
    """Raise :class:`SchemaError` unless ``root`` is a valid liandong document."""
    found = problems(root)
    if found:
        raise SchemaError(found)
