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
        schema = _local.schema = etree.XMLSchema(etree.parse(str(schema_path()), parser))
    return schema


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
