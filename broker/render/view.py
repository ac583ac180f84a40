"""What a template shows: the 文书 as plain data (title, header lines, sections of the body, the
seal block), built once by :func:`broker.render.reading.read` and used by the HTML and PDF alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from broker.errors import Problem


@dataclass(frozen=True)
class Row:
    label: str
    value: str


@dataclass
class Entry:
    """One numbered item of the body (a measure, a query, a result, a record) with its details."""

    title: str
    rows: list[Row] = field(default_factory=list)
    children: list[Entry] = field(default_factory=list)


@dataclass
class Section:
    heading: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)


SealStatus = Literal["verified", "failed", "unchecked", "unsigned"]


@dataclass(frozen=True)
class SealView:
    """The seal block: who sealed the document, when, with which certificate, and whether it holds.

    ``status``: ``verified`` (the verifier accepted it), ``failed`` (``problems`` say why),
    ``unchecked`` (sealed, but no trust root was given), ``unsigned`` (a draft)."""

    status: SealStatus
    problems: tuple[Problem, ...] = ()
    unit_code: str | None = None
    subject: str | None = None
    issuer: str | None = None
    serial: str | None = None
    fingerprint: str | None = None
    signed_at: str | None = None
    chain: tuple[str, ...] = ()
    claimed: bool = False
    """The certificate details come from the document's KeyInfo and were not verified."""


@dataclass
class Rendering:
    """Everything one 文书 shows, in words."""

    document_type: str
    title: str
    document_id: str
    case_number: str | None
    sender: str
    addressee: str
    header: list[Row]
    sections: list[Section]
    officers: list[Row]
    seal: SealView
    issuer_name: str
    issued_on: str
