"""``liandong validate``, ``sign`` and ``verify``: working with document files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from broker.checking import CheckedDocument, DocumentChecker
from broker.cli.output import err, fail, out
from broker.errors import LiandongError
from broker.registry import Registry, load_registry
from broker.signing import DocumentSigner, TrustStore


Files = Annotated[list[Path], typer.Argument(help="document files", exists=True, dir_okay=False)]
RegistryOpt = Annotated[
    Optional[Path], typer.Option("--registry", help="member registry: enables unit-kind and direction rules")
]


def _registry(path: Path | None) -> Registry | None:
    return load_registry(path) if path else None


def _problem_lines(checked: CheckedDocument) -> list[str]:
    return [f"    [red]{p.code}[/red] {p.message_en} / {p.message_zh}" for p in checked.problems]


def validate(files: Files, registry: RegistryOpt = None) -> None:
    """Check files against the XSD and the business rules; one line per file. Exit 0 when all are valid."""
    try:
        checker = DocumentChecker(None, _registry(registry))
    except LiandongError as exc:
        fail(exc)
    bad = 0
    for path in files:
        checked = checker.check(path.read_bytes(), signed=False)
        if checked.ok:
            out.print(f"[green]valid[/green]   {path}")
        else:
            bad += 1
            out.print(f"[red]invalid[/red] {path}: {', '.join(checked.codes)}")
            for line in _problem_lines(checked):
                out.print(line)
    raise typer.Exit(1 if bad else 0)


def sign(
    file: Annotated[Path, typer.Argument(help="unsigned document", exists=True, dir_okay=False)],
    key: Annotated[Path, typer.Option(help="signing key (PEM)", exists=True)],
    cert: Annotated[Path, typer.Option(help="signing certificate (PEM; may contain the chain)", exists=True)],
    chain: Annotated[Optional[Path], typer.Option(help="intermediate certificates (PEM)", exists=True)] = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="where to write (default: stdout)")] = None,
    check: Annotated[bool, typer.Option(help="refuse to sign a document that fails the XSD or the rules")] = True,
) -> None:
    """Seal a document with a unit's key (enveloped XML-DSig, docs/signature-profile.md)."""
    raw = file.read_bytes()
    if check:
        checked = DocumentChecker(None).check(raw, signed=False)
        if not checked.ok:
            err.print(f"[red]not signed[/red]: {file} is invalid: {', '.join(checked.codes)}")
            for line in _problem_lines(checked):
                err.print(line)
            raise typer.Exit(1)
    try:
        signed = DocumentSigner.from_files(key, cert, chain).sign(raw)
    except LiandongError as exc:
        fail(exc)
    if output:
        output.write_bytes(signed)
        err.print(f"signed {file} -> {output}")
    else:
        typer.echo(signed.decode("utf-8"), nl=False)


def _verify_record(path: Path, checked: CheckedDocument) -> dict[str, object]:
    v = checked.verified
    h = checked.header
    return {
        "file": str(path),
        "valid": checked.ok,
        "document_id": str(h.document_id) if h else None,
        "document_type": h.document_type.value if h else None,
        "sender": h.sender if h else None,
        "recipient": h.recipient if h else None,
        "signed_at": v.signed_at.isoformat() if v else None,
        "signer": None
        if v is None
        else {
            "unit_code": v.signer.unit_code,
            "subject": v.signer.subject,
            "issuer": v.signer.issuer,
            "serial": v.signer.serial,
            "fingerprint_sha256": v.signer.fingerprint,
            "not_before": v.signer.not_before.isoformat(),
            "not_after": v.signer.not_after.isoformat(),
            "algorithm": v.signer.algorithm,
            "chain": list(v.signer.chain),
        },
        "digest": v.digest if v else None,
        "payload_sha256": checked.digest,
        "errors": [p.model_dump() for p in checked.problems],
    }


def verify(
    files: Files,
    trust: Annotated[list[Path], typer.Option(help="trust anchor certificates (PEM), repeatable", exists=True)],
    crl: Annotated[Optional[list[Path]], typer.Option(help="certificate revocation lists (PEM), repeatable", exists=True)] = None,
    registry: RegistryOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Verify seals: XSD, rules, a trusted chain at the signing time, not revoked, signed by the sender.

    Exit 0 only when every file passes."""
    try:
        checker = DocumentChecker(TrustStore.from_files(trust, crl or []), _registry(registry))
    except LiandongError as exc:
        fail(exc)
    records = []
    for path in files:
        checked = checker.check(path.read_bytes())
        record = _verify_record(path, checked)
        records.append(record)
        if as_json:
            continue
        status = "[green]VALID[/green]" if checked.ok else "[red]INVALID[/red]"
        out.print(f"{status} {path}")
        if checked.header:
            h = checked.header
            out.print(f"    document  {h.document_type.value} {h.document_id}  {h.sender} -> {h.recipient}")
        if checked.verified:
            s = checked.verified.signer
            out.print(f"    signed by unit {s.unit_code} at {checked.verified.signed_at.isoformat()}")
            out.print(f"    signer    {s.subject}")
            out.print(f"    serial    {s.serial}  sha256 {s.fingerprint}")
            out.print(f"    chain     {' <- '.join(s.chain)}")
            out.print(f"    algorithm {s.algorithm}  digest {checked.verified.digest}")
        for line in _problem_lines(checked):
            out.print(line)
    if as_json:
        typer.echo(json.dumps(records, ensure_ascii=False, indent=2))
    raise typer.Exit(0 if all(r["valid"] for r in records) else 1)


def register(app: typer.Typer) -> None:
    app.command()(validate)
    app.command()(sign)
    app.command()(verify)
