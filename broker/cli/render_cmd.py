"""``liandong render``: documents as readable 文书, HTML or PDF files (broker.render, docs/render.md).

One line per file: where its 文书 went and whether its seal verifies, or the coded reason it could
not be rendered (the FILE_* codes of ``liandong verify`` for files that cannot be read, the
parser's and the XSD's for input that is no document). A seal that does not verify is no failure
of the command: the 文书 is written, saying so on its face. Exit 0 when every file was rendered.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from broker.cli.batch_output import BatchWriter
from broker.cli.checker_files import load_checker
from broker.cli.document_files import display_name, read_document
from broker.cli.output import fail, out
from broker.errors import LiandongError, Problem, problem
from broker.registry import Registry
from broker.render import html_of, html_to_pdf, render
from broker.signing.verifier import DocumentVerifier


class Format(StrEnum):
    HTML = "html"
    PDF = "pdf"


_VERDICTS = {
    "verified": ("green", "seal verifies / 印章验证通过"),
    "failed": ("red", "SEAL DOES NOT VERIFY / 印章验证未通过"),
    "unchecked": ("yellow", "seal not checked: no --trust / 未提供信任根，印章未核验"),
    "unsigned": ("yellow", "not sealed / 未加盖电子印章"),
}


def _output_path(directory: Path, source: Path, suffix: str, taken: set[Path]) -> Path:
    """``directory/<stem>.<suffix>``; a second file of the same stem in one run gets ``-2``, ``-3``…"""
    candidate = directory / f"{source.stem}.{suffix}"
    n = 1
    while candidate in taken:
        n += 1
        candidate = directory / f"{source.stem}-{n}.{suffix}"
    taken.add(candidate)
    return candidate


def _render_one(
    path: Path, target: Path, fmt: Format, verifier: DocumentVerifier | None, registry: Registry | None, max_bytes: int
) -> tuple[str | None, list[Problem], tuple[Problem, ...]]:
    """Render ``path`` to ``target``: (the seal's status, [], why the seal fails) or (None, the problems, ())."""
    file = read_document(path, max_bytes)
    if file.raw is None:
        return None, file.problems, ()
    try:
        rendering = render(file.raw, trust=verifier, registry=registry)
        html = html_of(rendering)
        data = html_to_pdf(html) if fmt is Format.PDF else html.encode("utf-8")
    except LiandongError as exc:
        return None, exc.problems, ()
    try:
        target.write_bytes(data)
    except OSError as exc:
        return None, [problem("RENDER_OUTPUT", file=display_name(target), detail=exc.strerror or type(exc).__name__)], ()
    return rendering.seal.status, [], rendering.seal.problems


def render_files(
    files: Annotated[list[str], typer.Argument(help="document files")],
    fmt: Annotated[Format, typer.Option("--format", help="html or pdf")] = Format.HTML,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="directory for the files (default: the current one)")] = None,
    trust: Annotated[list[Path] | None, typer.Option(help="trust anchor certificates (PEM), repeatable: check the seals")] = None,
    crl: Annotated[list[Path] | None, typer.Option(help="certificate revocation lists (PEM), repeatable")] = None,
    registry: Annotated[Path | None, typer.Option("--registry", help="member registry: units' names and pinned seals")] = None,
) -> None:
    """Render documents as readable 文书 (HTML or PDF): title, numbers, body in words, officers, seal.

    With --trust each seal is verified and its verdict printed on the 文书; without, it says "not checked".

    Exit 0 when every file was rendered (a seal that does not verify is said on the 文书)."""
    if crl and not trust:
        fail(typer.BadParameter("--crl needs --trust"))
    try:
        checker = load_checker(trust or None, crl or [], registry)
    except LiandongError as exc:
        fail(exc)
    directory = output or Path.cwd()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(LiandongError.of("RENDER_OUTPUT", file=display_name(directory), detail=exc.strerror or type(exc).__name__))
    writer = BatchWriter(out)
    taken: set[Path] = set()
    all_rendered = True
    for name in files:
        path = Path(name)
        target = _output_path(directory, path, fmt.value, taken)
        status, problems, seal_problems = _render_one(path, target, fmt, checker.verifier, checker.registry, checker.limits.max_bytes)
        if status is None:
            all_rendered = False
            lines = [f"{writer.style('red', 'FAILED')} {display_name(path)}"]
            lines += [f"    {writer.style('red', p.code)} {p.message_en} / {p.message_zh}" for p in problems]
        else:
            colour, verdict = _VERDICTS[status]
            lines = [f"{writer.style('green', 'RENDERED')} {display_name(path)} -> {display_name(target)}  {writer.style(colour, verdict)}"]
            lines += [f"    {writer.style('red', p.code)} {p.message_en} / {p.message_zh}" for p in seal_problems]
        writer.write(lines)
    raise typer.Exit(0 if all_rendered else 1)


def register(app: typer.Typer) -> None:
    app.command("render")(render_files)
