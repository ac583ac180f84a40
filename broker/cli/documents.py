"""``liandong validate``, ``sign`` and ``verify``: working with document files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from broker.checking import CheckedDocument, DocumentChecker
from broker.cli.batch_output import BatchWriter
from broker.cli.checker_files import load_checker
from broker.cli.document_files import DocumentFile, batches, check_files, display_name
from broker.cli.output import err, fail, out
from broker.errors import LiandongError
from broker.signing import DocumentSigner


# Plain strings, made paths by the commands: typer checks nothing about them (exists=True would stop
# the whole command at the first missing file; each file that cannot be read gets its own coded
# line), and typer 0.29 builds a pydantic validator for every Path argument: 56 to 75 µs of CPU a
# file as declared before (Path, exists=True), a tenth of checking it, against 0.9 µs as a string.
Files = Annotated[list[str], typer.Argument(help="document files")]
RegistryOpt = Annotated[
    Optional[Path], typer.Option("--registry", help="member registry: enables unit-kind and direction rules")
]


def _problem_lines(checked: CheckedDocument, writer: BatchWriter) -> list[str]:
    return [f"    {writer.style('red', p.code)} {p.message_en} / {p.message_zh}" for p in checked.problems]


def validate(files: Files, registry: RegistryOpt = None) -> None:
    """Check files against the XSD and the business rules; one line per file. Exit 0 when all are valid."""
    try:
        checker = load_checker(None, [], registry)
    except LiandongError as exc:
        fail(exc)
    writer = BatchWriter(out)
    bad = 0
    for batch in batches(map(Path, files), checker.limits.max_bytes):
        lines: list[str] = []
        for file, checked in zip(batch, check_files(checker, batch, signed=False)):
            if checked.ok:
                lines.append(f"{writer.style('green', 'valid')}   {file.name}")
            else:
                bad += 1
                lines.append(f"{writer.style('red', 'invalid')} {file.name}: {', '.join(checked.codes)}")
                lines += _problem_lines(checked, writer)
        writer.write(lines)
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
            writer = BatchWriter(err)
            codes = ", ".join(checked.codes)
            lines = [f"{writer.style('red', 'not signed')}: {display_name(file)} is invalid: {codes}"]
            writer.write(lines + _problem_lines(checked, writer))
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


NOT_CHECKED_EN = (
    "direction rules not checked: no --registry"
    " (who may send which type to whom, unit kinds, registered seals)"
)
NOT_CHECKED_ZH = "未检查方向规则：未指定 --registry（何种单位可向谁发送何种文书、单位类别、登记的印章证书）"
"""Said of every valid document verified without a registry: its seal and content are valid, but
nothing says its sender may send it, nor to that recipient (docs/security.md section 2)."""


def _verify_record(file: DocumentFile, checked: CheckedDocument, registry_checked: bool) -> dict[str, object]:
    v = checked.verified
    h = checked.header
    return {
        "file": file.name,
        "valid": checked.ok,
        "registry_checked": registry_checked,
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
        "payload_sha256": checked.digest or None,
        "errors": [p.model_dump() for p in checked.problems],
    }


def _verify_lines(
    file: DocumentFile, checked: CheckedDocument, registry_checked: bool, w: BatchWriter
) -> list[str]:
    """What ``verify`` prints for one file."""
    if not checked.ok:
        lines = [f"{w.style('red', 'INVALID')} {file.name}"]
    elif registry_checked:
        lines = [f"{w.style('green', 'VALID')} {file.name}"]
    else:
        lines = [
            f"{w.style('green', 'VALID')} {w.style('yellow', '(seal and content)')} {file.name}",
            f"    {w.style('yellow', NOT_CHECKED_EN)} / {w.style('yellow', NOT_CHECKED_ZH)}",
        ]
    if checked.header:
        h = checked.header
        lines.append(f"    document  {h.document_type.value} {h.document_id}  {h.sender} -> {h.recipient}")
    if checked.verified:
        s = checked.verified.signer
        lines += [
            f"    signed by unit {s.unit_code} at {checked.verified.signed_at.isoformat()}",
            f"    signer    {s.subject}",
            f"    serial    {s.serial}  sha256 {s.fingerprint}",
            f"    chain     {' <- '.join(s.chain)}",
            f"    algorithm {s.algorithm}  digest {checked.verified.digest}",
        ]
    return lines + _problem_lines(checked, w)


def _json_items(records: list[dict[str, object]], first: bool) -> str:
    """``records`` as the next items of the JSON array that ``json.dumps(all, indent=2)`` prints,
    so the output can be written as the files are checked and still be that same text."""
    items = ("  " + json.dumps(r, ensure_ascii=False, indent=2).replace("\n", "\n  ") for r in records)
    return ("[\n" if first else ",\n") + ",\n".join(items)


def verify(
    files: Files,
    trust: Annotated[list[Path], typer.Option(help="trust anchor certificates (PEM), repeatable", exists=True)],
    crl: Annotated[Optional[list[Path]], typer.Option(help="certificate revocation lists (PEM), repeatable", exists=True)] = None,
    registry: RegistryOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Verify seals: XSD, rules, a trusted chain at the signing time, not revoked, signed by the sender.

    Without --registry the direction rules are not checked, and a valid document says so.

    Exit 0 only when every file passes."""
    try:
        checker = load_checker(trust, crl or [], registry)
    except LiandongError as exc:
        fail(exc)
    registry_checked = registry is not None
    writer = BatchWriter(out)
    all_valid = True
    first = True
    # A batch of files is read, checked together and printed before the next is read.
    for batch in batches(map(Path, files), checker.limits.max_bytes):
        checked = check_files(checker, batch, signed=True)
        all_valid = all_valid and all(c.ok for c in checked)
        if as_json:
            records = [_verify_record(f, c, registry_checked) for f, c in zip(batch, checked)]
            writer.write_raw(_json_items(records, first))
            first = False
        else:
            lines = [_verify_lines(f, c, registry_checked, writer) for f, c in zip(batch, checked)]
            writer.write([line for per_file in lines for line in per_file])
    if as_json:
        writer.write_raw("[]\n" if first else "\n]\n")
    raise typer.Exit(0 if all_valid else 1)


def register(app: typer.Typer) -> None:
    app.command()(validate)
    app.command()(sign)
    app.command()(verify)
