"""``liandong verify`` on many files: the command against a bare signxml verification of the same files.

Run from the project root::

    .venv/bin/python -m bench.verify_cli            # 1,500 files, 7 rounds: about two minutes
    .venv/bin/python -m bench.verify_cli --quick    # 300 files, 3 rounds: noisier

What is measured, in one process (one core), on :data:`FILES` distinct ~5 KB signed notices written
to a temporary directory before any timing (``bench.verify_pipeline.build_document``: one
BankFreeze each, own id and time, sealed by the Yunfu court's example key):

(a) bare signxml: for each file, read it and ``XMLVerifier().verify(raw, x509_cert=<leaf>,
    expect_config=SignatureConfiguration(location="./", expect_references=1))``, the verifier
    settings of ``bench.verify_pipeline``'s (a): the least any verifier of these files must do;
(b) before: the command as it was before issue 11 (commit 93cdc51), kept below as
    :func:`verify_one_by_one`: each file read and checked alone (``DocumentChecker.check``), every
    line printed through rich;
(c) after: ``liandong verify`` (``broker.cli.main.app``), the files read, checked (``check_many``)
    and printed a batch at a time;
(c2) after, ``--json``.

(b), (c) and (c2) run in-process from the argument list ``verify FILE... --trust root-ca.pem --crl
crl.pem --registry network.yaml [--json]`` (the whole check, as the documentation runs it): typer
parses the arguments (``standalone_mode=False``), the command loads the trust store and the
registry and checks every file; stdout goes to a file in the temporary directory (as
``liandong verify ... > out.txt`` would). Python's start-up and imports are not in these figures:
they are measured apart, once, by running the command as a program (``python -m broker.cli.main``)
on all the files and alone on none (``--help``), and reported beside them, not subtracted from them.

A round runs each path once over all the files, in alternating order round by round, so drift of the
machine (noisy neighbours) hits all alike; a warm-up pass of each comes first. The rate of a path is
its median over the rounds; the figure that matters is (c)/(a), target >= 0.70 (issue 11 item 6),
beside it (b)/(a) and the median of the per-round ratios. The process CPU time of each pass is
recorded beside it: a share well below 1 means the machine was busy with other work; the same
ratios in files per CPU second of the process are reported too.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from time import perf_counter, process_time
from typing import Annotated, Any, Callable, Iterator, Optional

import typer
from cryptography import x509
from signxml import SignatureConfiguration, XMLVerifier

from bench.common import MachineMeter, machine_info, write_result
from bench.verify_pipeline import ANCHOR, CRL, REGISTRY, ROOT, UNIT, build_document
from broker.checking import CheckedDocument, DocumentChecker
from broker.cli import document_files
from broker.cli.main import app as liandong
from broker.cli.output import out as console
from broker.errors import LiandongError
from broker.registry import load_registry
from broker.signing import DocumentSigner, TrustStore

TARGET = 0.70
"""(c)/(a) that issue 11 item 6 asks for."""
FILES = 1500


# --- (b) the command before issue 11, as it was ---------------------------------------------------


def verify_one_by_one(
    files: Annotated[list[Path], typer.Argument(help="document files", exists=True, dir_okay=False)],
    trust: Annotated[
        list[Path], typer.Option(help="trust anchor certificates (PEM), repeatable", exists=True)
    ],
    crl: Annotated[
        Optional[list[Path]], typer.Option(help="certificate revocation lists (PEM), repeatable", exists=True)
    ] = None,
    registry: Annotated[
        Optional[Path],
        typer.Option("--registry", help="member registry: enables unit-kind and direction rules"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """``liandong verify`` of commit 93cdc51 (broker/cli/documents.py), unchanged but for the
    helpers' names: one file at a time, each line through rich."""
    try:
        members = load_registry(registry) if registry else None
        checker = DocumentChecker(TrustStore.from_files(trust, crl or []), members)
    except LiandongError as exc:
        raise typer.Exit(2) from exc
    records = []
    for path in files:
        checked = checker.check(path.read_bytes())
        record = _old_record(path, checked)
        records.append(record)
        if as_json:
            continue
        status = "[green]VALID[/green]" if checked.ok else "[red]INVALID[/red]"
        console.print(f"{status} {path}")
        if checked.header:
            h = checked.header
            console.print(f"    document  {h.document_type.value} {h.document_id}  {h.sender} -> {h.recipient}")
        if checked.verified:
            s = checked.verified.signer
            console.print(f"    signed by unit {s.unit_code} at {checked.verified.signed_at.isoformat()}")
            console.print(f"    signer    {s.subject}")
            console.print(f"    serial    {s.serial}  sha256 {s.fingerprint}")
            console.print(f"    chain     {' <- '.join(s.chain)}")
            console.print(f"    algorithm {s.algorithm}  digest {checked.verified.digest}")
        for p in checked.problems:
            console.print(f"    [red]{p.code}[/red] {p.message_en} / {p.message_zh}")
    if as_json:
        typer.echo(json.dumps(records, ensure_ascii=False, indent=2))
    raise typer.Exit(0 if all(r["valid"] for r in records) else 1)


def _old_record(path: Path, checked: CheckedDocument) -> dict[str, object]:
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


# --- the files and the paths ----------------------------------------------------------------------


def write_documents(directory: Path, count: int) -> list[Path]:
    """``count`` distinct signed notices as files in ``directory``."""
    signer = DocumentSigner.for_unit(UNIT)
    paths = []
    for i in range(count):
        raw, _ = build_document(i + 1, signer)
        path = directory / f"notice-{i:05d}.xml"
        path.write_bytes(raw)
        paths.append(path)
    return paths


@contextlib.contextmanager
def stdout_to(path: Path) -> Iterator[None]:
    """sys.stdout to a fresh file (what ``> out.txt`` gives the command), restored afterwards."""
    saved = sys.stdout
    with open(path, "w", encoding="utf-8") as f:
        sys.stdout = f
        try:
            yield
        finally:
            sys.stdout = saved


def before_app() -> typer.Typer:
    """A ``liandong`` with only the command as it was, its arguments declared as they were."""
    app = typer.Typer(add_completion=False)

    @app.callback()
    def liandong() -> None:
        """liandong before issue 11 (verify only)."""

    app.command("verify")(verify_one_by_one)
    return app


def command(
    app: typer.Typer, files: list[Path], output: Path, *, as_json: bool = False
) -> Callable[[], None]:
    """One run of ``liandong verify FILES --trust --crl --registry [--json]``, its arguments parsed by
    typer as on the command line, stdout to ``output``; it must exit 0."""
    cli = typer.main.get_command(app)
    options = ["--trust", str(ANCHOR), "--crl", str(CRL), "--registry", str(REGISTRY)]
    args = ["verify", *map(str, files), *options] + (["--json"] if as_json else [])

    def run() -> None:
        with stdout_to(output):
            code = cli.main(args=args, prog_name="liandong", standalone_mode=False)
        if code not in (0, None):
            raise SystemExit(f"liandong verify exited {code}: see {output}")

    return run


@dataclass
class Measured:
    """One path over all the files: its rate (files/s) and CPU share per pass."""

    name: str
    label: str
    run: Callable[[], None]
    rates: list[float] = field(default_factory=list)
    cpu_shares: list[float] = field(default_factory=list)
    cpu_rates: list[float] = field(default_factory=list)
    """Files per second of the process's own CPU time: less sensitive to other processes taking
    the core than the wall-clock rate (not to their use of the caches)."""

    @property
    def median(self) -> float:
        return statistics.median(self.rates)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu_rates)

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "median_per_s": round(self.median, 1),
            "min_per_s": round(min(self.rates), 1),
            "max_per_s": round(max(self.rates), 1),
            "rates_per_s": [round(r, 1) for r in self.rates],
            "cpu_share_median": round(statistics.median(self.cpu_shares), 3),
            "median_per_cpu_s": round(self.cpu_median, 1),
            "per_cpu_s": [round(r, 1) for r in self.cpu_rates],
        }


def _pass(path: Measured, count: int) -> None:
    gc.collect()
    cpu = process_time()
    start = perf_counter()
    path.run()
    wall = perf_counter() - start
    used = process_time() - cpu
    path.rates.append(count / wall)
    path.cpu_shares.append(used / wall)
    path.cpu_rates.append(count / used)


def _program_seconds(args: list[str], repeat: int) -> float:
    """Median wall time of running the command as a program (interpreter start-up and imports
    included), output to /dev/null."""
    times = []
    for _ in range(repeat):
        start = perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "broker.cli.main", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        times.append(perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"liandong {' '.join(args[:1])} exited {proc.returncode}")
    return statistics.median(times)


def run_measurements(count: int, rounds: int, program_repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-verify-cli-") as tmp:
        directory = Path(tmp)
        files = write_documents(directory, count)
        leaf = x509.load_pem_x509_certificate((UNIT / "sign.pem").read_bytes())
        config = SignatureConfiguration(location="./", expect_references=1)

        def bare() -> None:
            for file in files:
                XMLVerifier().verify(file.read_bytes(), x509_cert=leaf, expect_config=config)

        paths = [
            Measured("bare_signxml", "(a) bare signxml: read + XMLVerifier().verify", bare),
            Measured(
                "before",
                "(b) liandong verify before: one by one, rich",
                command(before_app(), files, directory / "b.txt"),
            ),
            Measured(
                "after",
                f"(c) liandong verify: batches of {document_files.BATCH}",
                command(liandong, files, directory / "c.txt"),
            ),
            Measured(
                "after_json",
                "(c2) liandong verify --json",
                command(liandong, files, directory / "c2.json", as_json=True),
            ),
        ]
        for path in paths:  # warm-up: imports, caches, the page cache
            path.run()
        meter = MachineMeter()
        meter.start()
        for i in range(rounds):
            for path in paths if i % 2 == 0 else reversed(paths):
                _pass(path, count)
        busy = meter.stop()
        common = ["--trust", str(ANCHOR), "--crl", str(CRL), "--registry", str(REGISTRY)]
        program = {
            "all_files_s": _program_seconds(["verify", *map(str, files), *common], program_repeat),
            "startup_s": _program_seconds(["--help"], program_repeat),
        }
        sizes = [f.stat().st_size for f in files]
    return {
        "files": count,
        "bytes_min_max": [min(sizes), max(sizes)],
        "rounds": rounds,
        "paths": paths,
        "program": program,
        "machine_during_rounds": busy,
    }


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    p = {path.name: path for path in result["paths"]}
    bare = p["bare_signxml"]

    def per_round(name: str) -> float:
        return statistics.median(a / b for a, b in zip(p[name].rates, bare.rates))

    def per_round_cpu(name: str) -> float:
        return statistics.median(a / b for a, b in zip(p[name].cpu_rates, bare.cpu_rates))

    program = result["program"]
    net = program["all_files_s"] - program["startup_s"]
    return {
        "target": TARGET,
        "ratio": p["after"].median / bare.median,
        "ratio_per_round_median": per_round("after"),
        "ratio_cpu": p["after"].cpu_median / bare.cpu_median,
        "ratio_cpu_per_round_median": per_round_cpu("after"),
        "ratio_before_cpu": p["before"].cpu_median / bare.cpu_median,
        "ratio_json": p["after_json"].median / bare.median,
        "ratio_before": p["before"].median / bare.median,
        "ratio_before_per_round_median": per_round("before"),
        "after_over_before": p["after"].median / p["before"].median,
        "meets_target": p["after"].median / bare.median >= TARGET,
        "program_files_per_s_with_startup": result["files"] / program["all_files_s"],
        "program_files_per_s_without_startup": result["files"] / net if net > 0 else None,
    }


def render(result: dict[str, Any], summary: dict[str, Any]) -> str:
    lines = [
        f"liandong verify on {result['files']:,} distinct signed files "
        f"({result['bytes_min_max'][0]:,}–{result['bytes_min_max'][1]:,} bytes),"
        f" {result['rounds']} rounds, one core",
        "",
        f"  {'path':<48} {'files/s':>9} {'min':>9} {'max':>9} {'cpu':>6} {'/cpu s':>9}",
    ]
    for path in result["paths"]:
        lines.append(
            f"  {path.label:<48} {path.median:>9,.0f} {min(path.rates):>9,.0f} {max(path.rates):>9,.0f}"
            f" {statistics.median(path.cpu_shares):>6.2f} {path.cpu_median:>9,.0f}"
        )
    s = summary
    verdict = "meets" if s["meets_target"] else "BELOW"
    program = result["program"]
    lines += [
        "",
        f"  (c)/(a) after: {100 * s['ratio']:.1f} % ({verdict} the {100 * TARGET:.0f} % target);"
        f" median of the per-round ratios {100 * s['ratio_per_round_median']:.1f} %",
        f"  (c2)/(a) after, --json: {100 * s['ratio_json']:.1f} %",
        f"  in files per CPU second of the process: after {100 * s['ratio_cpu']:.1f} %"
        f" (per round {100 * s['ratio_cpu_per_round_median']:.1f} %),"
        f" before {100 * s['ratio_before_cpu']:.1f} %",
        f"  (b)/(a) before: {100 * s['ratio_before']:.1f} %;"
        f" per round {100 * s['ratio_before_per_round_median']:.1f} %",
        f"  after / before: {s['after_over_before']:.2f}x",
        f"  as a program (python -m broker.cli.main): all files {program['all_files_s']:.2f} s,"
        f" start-up alone (--help) {program['startup_s']:.2f} s:"
        f" {s['program_files_per_s_with_startup']:,.0f} files/s with start-up",
        f"  the machine ({os.cpu_count()} cores) was"
        f" {100 * result['machine_during_rounds']['busy_share']:.0f} % busy during the rounds",
        "  (cpu: process time / wall time of the passes, 1.00 = the process had its core to itself;"
        " /cpu s: files per second of process time)",
    ]
    return "\n".join(lines)


def to_json(result: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any]:
    return {
        "benchmark": "verify_cli",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "files": {"count": result["files"], "bytes_min_max": result["bytes_min_max"], "distinct": True},
        "method": {
            "process": "single process, single thread (= per core); the commands called in-process",
            "timer": "time.perf_counter, one pass over all the files per path and round",
            "rate": "median over the rounds of files / pass time",
            "interleaved": "(a), (b), (c), (c2) alternate order round by round, after a warm-up pass each",
            "rounds": result["rounds"],
            "options": "--trust root-ca.pem --crl crl.pem --registry examples/network.yaml, stdout to a file",
            "startup": "not in the in-process rates; measured apart by running python -m broker.cli.main",
        },
        "results": {path.name: path.as_json() for path in result["paths"]},
        "program": {k: round(v, 3) for k, v in result["program"].items()},
        "machine_during_rounds": result["machine_during_rounds"],
        "summary": {k: (round(v, 4) if isinstance(v, float) else v) for k, v in summary.items()},
    }


def run(*, quick: bool = False, write: bool = True, out=sys.stdout) -> dict[str, Any]:
    """Run the benchmark, print the table, write the JSON; return the JSON record."""
    count, rounds, program_repeat = (300, 3, 1) if quick else (FILES, 7, 3)
    result = run_measurements(count, rounds, program_repeat)
    summary = summarise(result)
    print(render(result, summary), file=out)
    record = to_json(result, summary)
    if write:
        path = write_result("verify_cli", record)
        print(f"\n  results written to {path.relative_to(ROOT)}", file=out)
    return record


def main(argv: list[str] | None = None) -> None:
    doc = (__doc__ or "").split("\n")[0]
    parser = argparse.ArgumentParser(prog="python -m bench.verify_cli", description=doc)
    parser.add_argument("--quick", action="store_true", help="300 files, 3 rounds (noisier)")
    parser.add_argument("--no-write", action="store_true", help="do not write the JSON result file")
    args = parser.parse_args(argv)
    run(quick=args.quick, write=not args.no_write)


if __name__ == "__main__":
    main()
