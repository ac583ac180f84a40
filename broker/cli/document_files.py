"""The files given to ``liandong validate`` and ``liandong verify``: read a batch at a time and
checked together, each file's failure a coded problem of that file, never a traceback.

Why batches: ``DocumentChecker.check_many`` runs each step over all the documents before the next,
the hub's workers' path, about a quarter faster per document than one at a time
(docs/performance.md); reading a batch at a time keeps memory bounded for any number of files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

from broker.checking import CheckedDocument, DocumentChecker, payload_digest
from broker.errors import Problem, problem

BATCH = 64
"""Files read and checked together, at most: 64 notices of ~6 KB took 2 to 10 % less CPU each
than 32, and about as much as 96 (issue 11)."""
BATCH_BYTES = 8 << 20
"""Bytes read into one batch, at most (a batch holds at least one file): large documents are
checked in smaller batches, so memory stays bounded (a parsed tree takes several times its bytes)."""


@dataclass
class DocumentFile:
    """One file as read: its bytes, or why it could not be read."""

    path: Path
    name: str
    """The path as printed: printable whatever bytes the file system gave."""
    raw: bytes | None = None
    problems: list[Problem] = field(default_factory=list)


def display_name(path: Path) -> str:
    """``path`` for a terminal and for JSON: bytes that are not UTF-8 (file systems allow them) shown
    as U+FFFD, control characters escaped, so a file name can neither fail the output's encoding
    nor break the one line per file."""
    text = str(path)
    if text.isprintable():
        return text
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def read_document(path: Path, max_bytes: int) -> DocumentFile:
    """Read ``path``; at most ``max_bytes`` + 1 bytes, so a huge file (or ``/dev/zero``) is refused
    as too large without being read whole."""
    document = DocumentFile(path, display_name(path))
    try:
        with open(path, "rb", buffering=0) as f:
            raw = _read_at_most(f, max_bytes + 1)
            size: int | str = len(raw)
            if len(raw) > max_bytes:
                stat = os.fstat(f.fileno())
                size = stat.st_size if stat.st_size > max_bytes else f"> {max_bytes}"
    except FileNotFoundError:
        document.problems.append(problem("FILE_NOT_FOUND"))
    except IsADirectoryError:
        document.problems.append(problem("FILE_IS_DIRECTORY"))
    except OSError as exc:
        document.problems.append(problem("FILE_UNREADABLE", detail=exc.strerror or type(exc).__name__))
    else:
        if len(raw) > max_bytes:
            document.problems.append(problem("XML_TOO_LARGE", size=size, limit=max_bytes))
        else:
            document.raw = raw
    return document


def _read_at_most(f: BinaryIO, limit: int) -> bytes:
    """Up to ``limit`` bytes of ``f``, an unbuffered file: a regular file in one read of its size
    (one byte more, to see it end) and an empty one to make sure; a pipe in chunks. Not
    ``read(limit)``, which allocates ``limit`` bytes (4 MiB) for every file."""
    size = os.fstat(f.fileno()).st_size
    want = min(size + 1, limit) if size else _CHUNK
    parts: list[bytes] = []
    total = 0
    while total < limit:
        chunk = f.read(min(want, limit - total))
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
        want = _CHUNK
    return b"".join(parts)


_CHUNK = 1 << 16


def batches(
    paths: Iterable[Path], max_bytes: int, size: int | None = None, size_bytes: int | None = None
) -> Iterator[list[DocumentFile]]:
    """The files of ``paths``, in order, read in batches of ``size`` files (:data:`BATCH`) or
    ``size_bytes`` bytes (:data:`BATCH_BYTES`), whichever comes first."""
    size = size or BATCH
    size_bytes = size_bytes or BATCH_BYTES
    batch: list[DocumentFile] = []
    held = 0
    for path in paths:
        document = read_document(path, max_bytes)
        batch.append(document)
        held += len(document.raw or b"")
        if len(batch) >= size or held >= size_bytes:
            yield batch
            batch, held = [], 0
    if batch:
        yield batch


def check_files(
    checker: DocumentChecker, files: list[DocumentFile], *, signed: bool
) -> list[CheckedDocument]:
    """Check a batch of files together; one result per file, in order.

    A file that could not be read carries its file problem. Should the checker raise (it must not,
    but the command must answer for every file whatever a checker does), the batch is checked
    again file by file and only the file that raises gets ``FILE_CHECK_FAILED``.
    """
    readable = [f.raw for f in files if f.raw is not None]
    try:
        checked = iter(checker.check_many(readable, signed=signed))
    except Exception:
        checked = iter([_check_alone(checker, raw, signed) for raw in readable])
    return [
        next(checked) if f.raw is not None else CheckedDocument(raw=b"", digest="", problems=list(f.problems))
        for f in files
    ]


def _check_alone(checker: DocumentChecker, raw: bytes, signed: bool) -> CheckedDocument:
    try:
        return checker.check_many([raw], signed=signed)[0]
    except Exception as exc:  # the type names the failure; its message could quote the document
        failed = problem("FILE_CHECK_FAILED", error=type(exc).__name__)
        return CheckedDocument(raw=raw, digest=payload_digest(raw), problems=[failed])
