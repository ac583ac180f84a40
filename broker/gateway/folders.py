"""Folders, for the smallest units (as eDelivery/Domibus's file-system plugin does): no program
at all, only files (docs/gateway.md section 9).

- **outgoing**: a file dropped there is checked, sealed and sent through the same code as the
  HTTP API (:func:`broker.gateway.submit.submit` for a document, :func:`broker.gateway.answer.answer`
  for an answer), then moved to ``outgoing/sent/`` with ``<name>.sent.json`` beside it (the ids),
  or to ``outgoing/failed/`` with ``<name>.error.json`` beside it (each problem's code, Chinese
  and English message, path: the body the HTTP API would have answered). What a file is, by
  its name: ``<document id>.<kind>.json`` is an answer to that inbox document, ``kind`` being
  the endpoint of ``POST /v1/inbox/{id}/<kind>`` (``result``, ``extension``, ``review``,
  ``lead``); any other ``*.json`` is a document as JSON, any other ``*.xml`` an unsigned document.
- **incoming**: each document that arrives (verified by the transport) is written there as
  ``<document id>.xml`` (the sealed XML, byte for byte), ``<document id>.pdf`` when
  :mod:`broker.render` is installed (:func:`pdf_of`), and ``<document id>.json`` last (the event
  and the document as JSON, as ``/v1/inbox`` gives them): when the JSON is there, the rest is.

**Never lost, never sent twice.** A file leaves ``outgoing`` only after what it asked for is
done (or refused), and only by a rename. A gateway stopped between sending and moving finds the
file again at its next look and hands it to the same code again, whose idempotency answers
without a second sending: a document's id is not published twice (``submit``), an inbox item is
answered once (``answer`` records the receipt before sending it). A failure that is not the
file's fault (the broker unreachable, 5xx over HTTP) leaves the file where it is for the next
look.

**Never half-written.** Each file the gateway writes goes to a temporary name in the same
folder (a dot name, which readers skip), is fsynced and renamed (atomic in one filesystem), and
the folder is fsynced so the rename survives a power cut. What the organisation drops should
arrive the same way (write ``.name.tmp``, then rename); for writers that cannot, a file changed
within ``settle_seconds`` is left for the next look.

The incoming cursor (the last arrival written) is kept in ``incoming/.cursor``, written the same
way after the files: a gateway stopped between the files and the cursor writes the same files
again, with the same content.

Polling, not inotify: one ``scandir`` a second costs nothing, works on network filesystems
(where inotify sees no remote writes), and needs no dependency.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter

from broker.documents.bodies import ExecutionReceipt, ExtensionNotice, LeadReport, ReviewSuggestion
from broker.errors import LiandongError, Problem
from broker.gateway.config import FoldersSide
from broker.gateway.events import event_of
from broker.gateway.inbox import Arrival, InboxReader
from broker.gateway.problems import GatewayError
from broker.gateway.status import _CASE, document_json, items_of
from broker.logs import event
from broker.parsing.hardened import parse

if TYPE_CHECKING:
    from broker.gateway.runtime import GatewayRuntime

log = logging.getLogger("liandong.gateway.folders")

SENT, FAILED = "sent", "failed"
CURSOR = ".cursor"
ANSWER_FILE = re.compile(
    r"^(?P<id>[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})"
    r"\.(?P<kind>result|extension|review|lead)\.json$"
)
"""``<document id>.<kind>.json``: an answer, named as its endpoint ``/v1/inbox/{id}/<kind>``
(:data:`broker.gateway.answer.PATHS`)."""
_PARTIAL = (".tmp", ".part", ".partial", ".crdownload")
"""Names a writer still at work uses: never picked up."""
_MODELS = {m.xml_tag: m for m in (ExecutionReceipt, ExtensionNotice, ReviewSuggestion, LeadReport)}


# --- writing without a half-written file ever visible -------------------------------------------


def write_atomically(path: Path, data: bytes) -> None:
    """``data`` at ``path``, all or nothing: a temporary dot name in the same folder, fsync,
    rename over ``path``, fsync of the folder (the rename itself durable)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


def _free_name(folder: Path, name: str) -> Path:
    """``folder/name``, or ``folder/name.2``, ``.3``, ... when a file of that name was moved
    there before (a name may be used again): nothing in sent/ or failed/ is overwritten."""
    target, n = folder / name, 1
    while target.exists() or (target.parent / (target.name + ".sent.json")).exists() or (
        target.parent / (target.name + ".error.json")
    ).exists():
        n += 1
        target = folder / f"{name}.{n}"
    return target


# --- the PDF hook ---------------------------------------------------------------------------


def pdf_of(sealed: bytes) -> bytes | None:
    """The document's PDF for the incoming folder, when :mod:`broker.render` is installed
    (another part of issue 12 builds it); None without it. The hook: ``broker.render.render_pdf(
    xml: bytes) -> bytes``. A document the renderer cannot draw still gets its XML and JSON."""
    try:
        from broker.render import render_pdf  # type: ignore[attr-defined]
    except ImportError:
        return None
    try:
        return bytes(render_pdf(sealed))
    except Exception as exc:  # noqa: BLE001 - the evidence (XML) must not wait for a drawing
        event(log, "gateway.folder_pdf_failed", logging.WARNING, error=type(exc).__name__)
        return None


# --- outgoing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Done:
    """What a file asked for, done: the record written beside it in sent/."""

    record: dict[str, Any]


def handle(rt: GatewayRuntime, name: str, raw: bytes) -> Done:
    """Do what the file ``name`` with ``raw`` asks, through the HTTP API's own code; raises
    :class:`GatewayError`: a 4xx one sends the file to failed/, a 5xx one (not the file's
    fault: the broker unreachable) leaves it for the next look."""
    from broker.gateway import answer as answers  # late: answer imports the runtime
    from broker.gateway import submit

    if len(raw) > rt.config.http.max_body_bytes:
        raise GatewayError.of("GW_FOLDER_FILE_TOO_LARGE", limit=rt.config.http.max_body_bytes)
    lower = name.lower()
    try:
        if found := ANSWER_FILE.match(name):
            document_id = found["id"].lower()
            done = answers.answer(rt, document_id, _answer(found["kind"], raw))
            return Done(
                {"answers": document_id, "kind": found["kind"], "receipt_id": done.receipt_id, "new": done.new}
            )
        if lower.endswith(".json") or lower.endswith(".xml"):
            # no Idempotency-Key: the document's own id is the key (a name may be used again)
            sent = submit.submit(rt, raw, "json" if lower.endswith(".json") else "xml", None)
            return Done({"document_id": sent.document_id, "new": sent.new})
    except LiandongError as exc:
        raise GatewayError.from_liandong(exc) from None
    raise GatewayError.of("GW_FOLDER_FILE_TYPE", name=name)


def _answer(kind: str, raw: bytes) -> Any:
    """The answer in ``raw``, read as ``POST /v1/inbox/{id}/<kind>`` reads it (the same codes)."""
    from broker.gateway import answer as answers
    from broker.gateway.routes.answers import _parse  # the endpoint's own reading: one way to do it

    model = next(m for m, path in answers.PATHS.items() if path == kind)
    cls = _MODELS[model]
    return _parse(cls, TypeAdapter(cls), raw)


class Outgoing:
    """The outgoing folder: each file, oldest first, done and moved."""

    def __init__(self, rt: GatewayRuntime, folder: Path, settle_seconds: float):
        self.rt, self.folder, self.settle = rt, folder, settle_seconds
        for sub in (SENT, FAILED):
            (folder / sub).mkdir(parents=True, exist_ok=True)

    def waiting(self) -> list[Path]:
        """Files ready to be handled: not a folder, not a dot name or a writer's temporary name,
        unchanged for ``settle_seconds``; oldest first."""
        now = time.time()
        found = []
        with os.scandir(self.folder) as entries:
            for entry in entries:
                if entry.name.startswith(".") or entry.name.lower().endswith(_PARTIAL):
                    continue
                if not entry.is_file(follow_symlinks=False):
                    continue
                mtime = entry.stat(follow_symlinks=False).st_mtime
                if now - mtime >= self.settle:
                    found.append((mtime, entry.name))
        return [self.folder / name for _, name in sorted(found)]

    def look(self) -> int:
        """Handle every waiting file; how many left the folder."""
        moved = 0
        for path in self.waiting():
            limit = self.rt.config.http.max_body_bytes
            try:
                # never more than the limit into memory: a larger file is refused by its size
                with open(path, "rb") as f:
                    raw = f.read(limit + 1)
            except FileNotFoundError:  # taken back by its writer meanwhile
                continue
            digest = hashlib.sha256(raw).hexdigest()[:16]  # logged instead of the name (it may name a person)
            try:
                done = handle(self.rt, path.name, raw)
            except GatewayError as exc:
                if exc.status >= 500:
                    codes = [p.code for p in exc.problems]
                    event(log, "gateway.folder_retry", logging.WARNING, file_sha256=digest, codes=codes)
                    continue
                refused = {"status": exc.status, "problems": _dump(exc.problems)}
                self._move(path, FAILED, ".error.json", refused)
                event(
                    log,
                    "gateway.folder_failed",
                    logging.WARNING,
                    unit=self.rt.unit,
                    file_sha256=digest,
                    codes=[p.code for p in exc.problems],
                )
                moved += 1
                continue
            except Exception as exc:  # noqa: BLE001 - a bug: the file is kept in failed/, the worker goes on
                # logged by class only: the text may quote the document
                event(
                    log,
                    "gateway.folder_internal_error",
                    logging.ERROR,
                    unit=self.rt.unit,
                    file_sha256=digest,
                    error=type(exc).__name__,
                )
                found = GatewayError.of("GW_INTERNAL")
                self._move(path, FAILED, ".error.json", {"status": 500, "problems": _dump(found.problems)})
                moved += 1
                continue
            self._move(path, SENT, ".sent.json", {**done.record, "sent_at": _now()})
            event(log, "gateway.folder_sent", unit=self.rt.unit, file_sha256=digest, **done.record)
            moved += 1
        return moved

    def _move(self, path: Path, sub: str, suffix: str, record: dict[str, Any]) -> None:
        """The record beside it first, then the file itself: a stop between the two leaves the
        file where it was, to be handled (idempotently) again."""
        target = _free_name(self.folder / sub, path.name)
        write_atomically(target.parent / (target.name + suffix), _json({"file": path.name, **record}))
        os.replace(path, target)
        _fsync_dir(self.folder)


def _dump(problems: list[Problem]) -> list[dict[str, Any]]:
    return [p.model_dump(mode="json") for p in problems]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


# --- incoming -------------------------------------------------------------------------------


class Incoming:
    """The incoming folder: every verified arrival written once, in arrival order."""

    def __init__(self, rt: GatewayRuntime, folder: Path, reader: InboxReader, pdf: bool = True):
        self.rt, self.folder, self.reader, self.pdf = rt, folder, reader, pdf
        folder.mkdir(parents=True, exist_ok=True)

    def cursor(self) -> int:
        try:
            return int((self.folder / CURSOR).read_text(encoding="ascii").strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0  # none yet, or unreadable: writing everything again is harmless (same files)

    def look(self) -> int:
        """Write what arrived since the cursor; how many documents."""
        cursor, written = self.cursor(), 0
        while arrivals := self.reader.arrivals(cursor, 100):
            for arrival in arrivals:
                self.write(arrival)
                cursor = arrival.cursor
                write_atomically(self.folder / CURSOR, f"{cursor}\n".encode("ascii"))
                written += 1
        return written

    def write(self, arrival: Arrival) -> None:
        entry = self.rt.store.get_received(arrival.document_id)
        if entry is None:  # cannot happen: the reader read it from the same store
            return
        root = parse(entry.raw)
        base = self.folder / arrival.document_id
        write_atomically(base.with_suffix(".xml"), entry.raw)
        pdf = pdf_of(entry.raw) if self.pdf else None
        if pdf is not None:
            write_atomically(base.with_suffix(".pdf"), pdf)
        view = {
            **event_of(arrival),
            "in_reply_to": entry.in_reply_to,
            "case_number": _CASE(root) or None,
            "items": items_of(root),
            "files": {"xml": base.name + ".xml", "pdf": base.name + ".pdf" if pdf else None},
            "document": document_json(root),
        }
        write_atomically(base.with_suffix(".json"), _json(view))  # last: its presence says the rest is there
        event(log, "gateway.folder_received", document_id=arrival.document_id, doc_type=arrival.doc_type)


# --- the worker -----------------------------------------------------------------------------


class FolderWorker:
    """A thread that looks at both folders every ``poll_seconds`` until stopped."""

    def __init__(self, rt: GatewayRuntime, config: FoldersSide):
        self.config = config
        self._reader: InboxReader | None = None
        self.outgoing = Outgoing(rt, config.outgoing, config.settle_seconds) if config.outgoing else None
        self.incoming: Incoming | None = None
        if config.incoming is not None:
            self._reader = InboxReader(rt.config.store)
            self.incoming = Incoming(rt, config.incoming, self._reader, config.pdf)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gateway-folders", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        if self._reader is not None:
            self._reader.close()

    def look(self) -> None:
        """One look at each folder (incoming first: a unit's answer may follow what it reads)."""
        for side in (self.incoming, self.outgoing):
            if side is None:
                continue
            try:
                side.look()
            except OSError as exc:  # the folder gone, a full disk: said, and tried again
                event(log, "gateway.folder_error", logging.ERROR, error=type(exc).__name__, errno=exc.errno)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.look()
            self._stop.wait(self.config.poll_seconds)


__all__ = ["FolderWorker", "Incoming", "Outgoing", "handle", "pdf_of", "write_atomically"]
