"""``liandong court inbox|show|wait``: what a court sent and received, read from its local store.

``liandong publish`` returns at the hub's service receipt; the execution receipt comes days later.
These commands read the court's store (the ``store`` of the court's configuration) without
sqlite3: ``inbox`` lists, ``show`` prints one document with the answers to it, ``wait`` waits for
the execution receipt of a document. Output fits 80 columns (two lines per document: a document
id alone takes 36), measured in terminal cells since case numbers are in Chinese.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.cells import cell_len

from broker.cli.court_connection import connect_court
from broker.cli.output import fail
from broker.errors import LiandongError

if TYPE_CHECKING:
    from broker.court.inbox import CourtInbox, Entry

WIDTH = 80
WAIT_NOT_YET = 3
"""Exit status of ``court wait`` when the execution receipt did not come in time (1 is a
broker or configuration failure, 2 a usage error): a script can tell "not yet" apart."""

ConfigOption = Annotated[
    Path, typer.Option("--config", help="the court's unit configuration (YAML)", exists=True)
]

# The header fields shown by ``show`` (the officers are left out: their names are personal data).
_HEADER = ("DocumentType", "Sender", "Recipient", "IssuedAt", "CaseNumber", "InReplyTo")


def _line(text: str) -> None:
    typer.echo(_fit(text))


def _fit(text: str, width: int = WIDTH) -> str:
    """``text`` cut to ``width`` terminal cells (a Chinese character takes two), with "…"."""
    if cell_len(text) <= width:
        return text
    while cell_len(text) > width - 1:
        text = text[:-1]
    return text + "…"


def _open(config: Path) -> CourtInbox:
    from broker.configuration import load_unit_config
    from broker.court.inbox import CourtInbox

    try:
        return CourtInbox(load_unit_config(config).store)
    except LiandongError as exc:
        fail(exc)


def _when(at: str) -> str:
    """An ISO time as 'YYYY-MM-DD HH:MM:SS' in China time (the network's)."""
    from broker.deadlines.calendar import CHINA_TZ

    try:
        t = datetime.fromisoformat(at)
    except ValueError:  # not ours to judge: show it as stored
        return at
    return (t.astimezone(CHINA_TZ) if t.tzinfo else t).strftime("%Y-%m-%d %H:%M:%S")


def _entry_lines(entry: Entry, answers: int | None = None, indent: str = "") -> list[str]:
    first = f"{indent}{_when(entry.at)}  {entry.direction:<8}  {entry.doc_type:<24} {entry.state}"
    if entry.direction == "received":
        second = f"{indent}  {entry.document_id}  from {entry.party}"
    else:
        second = f"{indent}  {entry.document_id}  {answers or 0} answer(s)"
    return [first, second]


def inbox(
    config: ConfigOption,
    received: Annotated[bool, typer.Option("--received", help="only what the court received")] = False,
    sent: Annotated[bool, typer.Option("--sent", help="only what the court sent")] = False,
    limit: Annotated[int, typer.Option(help="at most this many documents, newest first")] = 50,
) -> None:
    """List the court's documents, newest first: time, direction, type, state, id."""
    with _open(config) as store:
        both = not received and not sent
        entries = store.entries(received=received or both, sent=sent or both, limit=limit)
        _line(f"{len(entries)} document(s), newest first  (store {store.path.name})")
        for entry in entries:
            answers = len(store.answers(entry.document_id)) if entry.direction == "sent" else None
            for text in _entry_lines(entry, answers):
                _line(text)


def show(
    document_id: Annotated[str, typer.Argument(help="the document id")],
    config: ConfigOption,
    xml: Annotated[bool, typer.Option("--xml", help="also print the sealed XML as stored")] = False,
) -> None:
    """One document: its header, its state, the answers to it, and with --xml the sealed XML."""
    from broker.documents.xmlmodel import NS
    from broker.parsing.hardened import parse

    with _open(config) as store:
        detail = store.detail(document_id)
    if detail is None:
        fail(LiandongError.of("COURT_DOCUMENT_UNKNOWN", document_id=document_id), 1)
    entry = detail.entry
    _line(f"document      {entry.document_id}")
    _line(f"direction     {entry.direction}   state {entry.state}   at {_when(entry.at)}")
    header = parse(detail.raw).find(f"{{{NS}}}Header")
    for name in _HEADER:
        value = header.findtext(f"{{{NS}}}{name}") if header is not None else None
        if value:
            _line(f"{name:<14}{value}")
    _line(f"answers       {len(detail.answers)}")
    for answer in detail.answers:
        for text in _entry_lines(answer, indent="  "):
            _line(text)
    if xml:
        # The XML goes out as stored: cutting it to 80 columns would break the seal.
        typer.echo(detail.raw.decode("utf-8"))


def wait(
    document_id: Annotated[str, typer.Argument(help="the id of a document the court sent")],
    config: ConfigOption,
    timeout: Annotated[float, typer.Option(help="seconds to wait for the execution receipt")] = 60.0,
    connect: Annotated[
        bool,
        typer.Option(
            "--connect/--no-connect",
            help="connect as the court to receive (default); --no-connect when the court's own "
            "client is running and filling the store",
        ),
    ] = True,
) -> None:
    """Wait for the execution receipt of a sent document: exit 0 when it came, 3 when not in time."""
    from broker.court.inbox import CourtInbox

    store_path = _store_path(config)
    if _look(CourtInbox, store_path, document_id)[1] == _UNKNOWN:  # a typo: waiting would not help
        fail(LiandongError.of("COURT_DOCUMENT_UNKNOWN", document_id=document_id), 1)
    court = connect_court(config) if connect else None
    try:
        deadline = time.monotonic() + timeout
        while True:
            found, state = _look(CourtInbox, store_path, document_id)
            if found is not None or time.monotonic() >= deadline:
                break
            time.sleep(0.2)
    finally:
        if court is not None:
            court.stop()
    if found is None:
        fail(
            LiandongError.of("COURT_RESULT_NOT_YET", document_id=document_id, seconds=f"{timeout:g}", state=state),
            WAIT_NOT_YET,
        )
    _line(f"result        {found.doc_type} {found.document_id}")
    _line(f"from          {found.party}   at {_when(found.at)}   state {found.state}")


def _store_path(config: Path) -> Path:
    from broker.configuration import load_unit_config

    try:
        return load_unit_config(config).store
    except LiandongError as exc:
        fail(exc)


_UNKNOWN = "unknown to this court"


def _look(inbox_type: type[CourtInbox], path: Path, document_id: str) -> tuple[Entry | None, str]:
    """The execution receipt if it arrived, and a word for where the document stands."""
    if not path.is_file():
        return None, "no store yet"
    with inbox_type(path) as store:
        detail = store.detail(document_id)
        if detail is None:
            return None, _UNKNOWN
        return store.result(document_id), f"{detail.entry.state}, {len(detail.answers)} answer(s)"


def register(app: typer.Typer) -> None:
    court_app = typer.Typer(
        no_args_is_help=True,
        help="A court's documents from its local store: list, show one, wait for the execution receipt.",
    )
    court_app.command()(inbox)
    court_app.command()(show)
    court_app.command()(wait)
    app.add_typer(court_app, name="court")


__all__ = ["inbox", "register", "show", "wait"]
