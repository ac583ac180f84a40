"""The files that set up the checker of ``liandong validate`` and ``liandong verify`` (trust
anchors, revocation lists, the member registry): one that cannot be read or parsed is a coded
error naming it, never a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, TypeVar

from broker.checking import DocumentChecker
from broker.cli.document_files import display_name
from broker.errors import LiandongError
from broker.registry import Registry, load_registry
from broker.signing import TrustStore
from broker.signing.keys import load_certificates
from broker.signing.trust import load_crls

T = TypeVar("T")


def load_checker(trust: list[Path] | None, crls: list[Path], registry: Path | None) -> DocumentChecker:
    """The checker for ``trust`` (None: drafts only), ``crls`` and ``registry``; raises
    :class:`LiandongError` naming the file that cannot be read or parsed."""
    members: Registry | None = _load(load_registry, registry, "REG_INVALID") if registry else None
    if trust is None:
        return DocumentChecker(None, members)
    try:
        store = TrustStore.from_files(trust, crls)
    except (OSError, ValueError) as exc:
        # Which file: loaded again one by one, only now that one failed.
        for path in trust:
            _load(load_certificates, path, "FILE_ANCHOR_INVALID", named=True)
        for path in crls:
            _load(load_crls, path, "CRL_INVALID")
        names = ", ".join(display_name(p) for p in [*trust, *crls])
        raise LiandongError.of("FILE_ANCHOR_INVALID", file=names, detail=_reason(exc)) from None
    return DocumentChecker(store, members)


def _load(load: Callable[[Path], T], path: Path, code: str, *, named: bool = False) -> T:
    """``load(path)``; ``named``: the message of ``code`` names the file, so its detail need not."""
    try:
        return load(path)
    except (OSError, ValueError) as exc:  # a UnicodeDecodeError is a ValueError
        name, reason = display_name(path), _reason(exc)
        detail = reason if named or reason.startswith(str(path)) else f"{name}: {reason}"
        raise LiandongError.of(code, file=name, detail=detail) from None


def _reason(exc: Exception) -> str:
    """The first line of what went wrong, for a person: the OS's words for a file error."""
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return (text.strip().splitlines() or [type(exc).__name__])[0][:200]
