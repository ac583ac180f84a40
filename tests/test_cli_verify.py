"""``liandong verify`` and ``liandong validate`` on many files (issue 11, items 1 and 6): checked in
batches with the same verdicts as one by one, results printed as they come in the same format, a
VALID without ``--registry`` that says the direction rules were not checked, and a coded line, never
a traceback, for any file (missing, a directory, unreadable, empty, garbage, too large, a name that
is not UTF-8)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from broker.checking import DocumentChecker
from broker.cli import document_files
from broker.cli.main import app
from broker.parsing.hardened import ParseLimits
from broker.signing import TrustStore

ROOT = Path(__file__).resolve().parents[1]
SIGNED = ROOT / "examples" / "signed"
CERTS = ROOT / "certs-example"
REGISTRY = ROOT / "examples" / "network.yaml"
TRUST = ["--trust", str(CERTS / "root-ca.pem"), "--crl", str(CERTS / "crl.pem")]
NOTICE = SIGNED / "AssistanceNotice.xml"


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    # a command ends with its exit status, never with an exception of its own
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def verdicts(output: str) -> list[tuple[str, str]]:
    """(VALID or INVALID, file) per file from ``verify``'s lines."""
    found = []
    for line in output.splitlines():
        if line.startswith(("VALID ", "INVALID ")):
            status, rest = line.split(" ", 1)
            found.append((status, rest.removeprefix("(seal and content) ")))
    return found


def tampered(tmp_path: Path, name: str = "tampered.xml") -> Path:
    path = tmp_path / name
    path.write_bytes(NOTICE.read_bytes().replace(b"500000.00", b"5000000.00", 1))
    assert path.read_bytes() != NOTICE.read_bytes()
    return path


# --- item 1: an honest VALID -----------------------------------------------------------------------


def test_valid_without_a_registry_says_the_direction_rules_were_not_checked():
    result = run("verify", str(NOTICE), *TRUST)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"VALID (seal and content) {NOTICE}"
    assert lines[1].startswith("    direction rules not checked: no --registry")
    assert "未检查方向规则：未指定 --registry" in lines[1]
    record = json.loads(run("verify", str(NOTICE), *TRUST, "--json").output)[0]
    assert record["valid"] is True and record["registry_checked"] is False


def test_with_a_registry_valid_is_valid_and_the_json_says_the_registry_was_checked():
    result = run("verify", str(NOTICE), *TRUST, "--registry", str(REGISTRY))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == f"VALID {NOTICE}"
    assert "not checked" not in result.output
    record = json.loads(run("verify", str(NOTICE), *TRUST, "--registry", str(REGISTRY), "--json").output)[0]
    assert record["valid"] is True and record["registry_checked"] is True


def test_an_invalid_document_carries_no_registry_note(tmp_path):
    result = run("verify", str(tampered(tmp_path)), *TRUST)
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == f"INVALID {tmp_path / 'tampered.xml'}"
    assert "SIG_TAMPERED" in result.output and "not checked" not in result.output


# --- item 6: many files in batches, the same verdicts and output ----------------------------------


def _many(tmp_path: Path) -> tuple[list[Path], list[str]]:
    """More files than two batches, a tampered one in the middle of the second: the expected
    verdict of each from the checker one document at a time."""
    examples = sorted(SIGNED.glob("*.xml"))
    files = [examples[i % len(examples)] for i in range(2 * document_files.BATCH + 3)]
    files.insert(document_files.BATCH + 5, tampered(tmp_path))
    checker = DocumentChecker(TrustStore.from_files([CERTS / "root-ca.pem"], [CERTS / "crl.pem"]))
    expected = ["VALID" if checker.check(p.read_bytes()).ok else "INVALID" for p in files]
    assert len(files) > 2 * document_files.BATCH and expected.count("INVALID") == 1
    return files, expected


def test_many_files_get_the_verdicts_of_one_by_one_in_order(tmp_path):
    files, expected = _many(tmp_path)
    result = run("verify", *map(str, files), *TRUST)
    assert result.exit_code == 1
    assert verdicts(result.output) == list(zip(expected, map(str, files)))


def test_the_json_of_many_files_is_the_array_json_dumps_prints(tmp_path):
    files, expected = _many(tmp_path)
    result = run("verify", *map(str, files), *TRUST, "--json")
    assert result.exit_code == 1
    records = json.loads(result.output)
    found = [("VALID" if r["valid"] else "INVALID", r["file"]) for r in records]
    assert found == list(zip(expected, map(str, files)))
    # streamed batch by batch, yet the very text the whole array printed at once gives
    assert result.output == json.dumps(records, ensure_ascii=False, indent=2) + "\n"


def test_a_batch_ends_at_its_count_or_its_bytes(tmp_path):
    files = [NOTICE] * 7
    size = NOTICE.stat().st_size
    assert [len(b) for b in document_files.batches(files, 1 << 22, size=3)] == [3, 3, 1]
    by_bytes = document_files.batches(files, 1 << 22, size=5, size_bytes=2 * size)
    assert [len(b) for b in by_bytes] == [2, 2, 2, 1]
    # a file larger than a batch's bytes is a batch of its own; unread files hold no bytes
    missing = tmp_path / "missing.xml"
    mixed = [missing, missing, NOTICE, missing]
    assert [len(b) for b in document_files.batches(mixed, 1 << 22, size=9, size_bytes=size // 2)] == [3, 1]


def test_results_are_printed_before_the_next_batch_is_read(tmp_path, monkeypatch):
    files, _ = _many(tmp_path)
    seen: list[int] = []  # lines printed when each file is read
    output: list[str] = []
    real = document_files.read_document

    def reading(path, max_bytes):
        seen.append(sum(text.count("\n") for text in output))
        return real(path, max_bytes)

    monkeypatch.setattr(document_files, "read_document", reading)
    from broker.cli import batch_output

    write = batch_output.BatchWriter.write

    def recording(self, lines):
        output.append("\n".join(lines) + "\n")
        write(self, lines)

    monkeypatch.setattr(batch_output.BatchWriter, "write", recording)
    run("verify", *map(str, files), *TRUST)
    # nothing printed before the first file was read; the first batch's lines before the second batch
    assert seen[0] == 0 and seen[document_files.BATCH] > 0


def test_colours_only_on_a_colour_terminal(tmp_path):
    from rich.console import Console

    from broker.cli.batch_output import BatchWriter

    with open(tmp_path / "out.txt", "w") as f:
        terminal = BatchWriter(Console(file=f, force_terminal=True, color_system="standard"))
        assert terminal.style("green", "VALID") == "\x1b[32mVALID\x1b[0m"
        terminal.write([terminal.style("red", "INVALID") + " [red]x.xml"])
        assert BatchWriter(Console(file=f, force_terminal=True, no_color=True)).style("red", "x") == "x"
        assert BatchWriter(Console(file=f)).style("red", "x") == "x"  # a file: no colour
    assert (tmp_path / "out.txt").read_text() == "\x1b[31mINVALID\x1b[0m [red]x.xml\n"  # no markup read


# --- item 1: a coded line per file, never a traceback ---------------------------------------------


def hostile_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """File → (path, the code its line carries)."""
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"")
    garbage = tmp_path / "garbage.xml"
    garbage.write_bytes(bytes(range(256)) * 8)
    text_garbage = tmp_path / "text.xml"
    text_garbage.write_bytes(b"<Document><unclosed>")
    directory = tmp_path / "a-directory.xml"
    directory.mkdir()
    large = tmp_path / "large.xml"
    with open(large, "wb") as f:
        f.truncate(ParseLimits().max_bytes + 10)  # sparse: read no further than the limit
    return {
        "empty": (empty, "XML_EMPTY"),
        "garbage": (garbage, "XML_NOT_UTF8"),
        "text": (text_garbage, "XML_MALFORMED"),
        "directory": (directory, "FILE_IS_DIRECTORY"),
        "missing": (tmp_path / "missing.xml", "FILE_NOT_FOUND"),
        # under a file: no directory there (ENOTDIR), as an unreadable file also is, even for root
        "unreadable": (empty / "child.xml", "FILE_UNREADABLE"),
        "large": (large, "XML_TOO_LARGE"),
    }


def test_every_hostile_file_gets_a_coded_line_and_the_others_are_checked(tmp_path):
    hostile = hostile_files(tmp_path)
    paths = [NOTICE, *(p for p, _ in hostile.values()), NOTICE]
    result = run("verify", *map(str, paths), *TRUST)
    assert result.exit_code == 1
    invalid = [("INVALID", str(p)) for p, _ in hostile.values()]
    assert verdicts(result.output) == [("VALID", str(NOTICE)), *invalid, ("VALID", str(NOTICE))]
    records = json.loads(run("verify", *map(str, paths), *TRUST, "--json").output)
    first_codes = [r["errors"][0]["code"] if r["errors"] else None for r in records]
    assert first_codes == [None, *(code for _, code in hostile.values()), None]
    unread = [r for r in records if r["errors"] and r["errors"][0]["code"].startswith("FILE_")]
    assert unread and all(r["payload_sha256"] is None and r["errors"][0]["message_zh"] for r in unread)
    for path, code in hostile.values():
        assert f"    {code} " in result.output
    assert "Not a directory" in result.output  # the reason of FILE_UNREADABLE


def test_a_document_through_a_pipe_is_read_whole(tmp_path):
    """A pipe has no size: read in chunks to its end (``liandong verify <(curl ...)``)."""
    read, write = os.pipe()
    try:
        os.write(write, NOTICE.read_bytes())
        os.close(write)
        result = run("verify", f"/dev/fd/{read}", *TRUST)
    finally:
        os.close(read)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"VALID (seal and content) /dev/fd/{read}\n")


def test_validate_gives_the_same_coded_lines(tmp_path):
    hostile = hostile_files(tmp_path)
    draft = ROOT / "examples" / "unsigned" / "AssistanceNotice.xml"
    result = run("validate", str(draft), *(str(p) for p, _ in hostile.values()))
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if not line.startswith("    ")]
    assert lines[0] == f"valid   {draft}"
    assert lines[1:] == [f"invalid {p}: {code}" for p, code in hostile.values()]


def test_a_file_name_that_is_not_utf8_nor_markup_is_printed_as_a_name(tmp_path):
    if sys.platform != "linux":
        pytest.skip("file names of any bytes are a Linux file system's")
    raw_name = os.fsencode(tmp_path) + b"/[red]odd-\xff\n.xml"
    with open(raw_name, "wb") as f:
        f.write(NOTICE.read_bytes())
    path = Path(os.fsdecode(raw_name))
    result = run("verify", str(path), *TRUST)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == f"VALID (seal and content) {tmp_path}/[red]odd-\ufffd\\n.xml"
    record = json.loads(run("verify", str(path), *TRUST, "--json").output)[0]
    assert record["file"] == f"{tmp_path}/[red]odd-\ufffd\\n.xml" and record["valid"]


@pytest.mark.parametrize(
    "option, code",
    [
        ("--trust", "FILE_ANCHOR_INVALID"),
        ("--crl", "CRL_INVALID"),
        ("--registry", "REG_INVALID"),
    ],
)
def test_a_trust_crl_or_registry_file_that_cannot_be_read_is_a_coded_usage_error(tmp_path, option, code):
    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(bytes(range(256)) * 8)
    bad_pem = tmp_path / "bad.pem"
    kind = {"--trust": "CERTIFICATE", "--crl": "X509 CRL", "--registry": "CERTIFICATE"}[option]
    bad_pem.write_text(f"-----BEGIN {kind}-----\nAAAA\n-----END {kind}-----\n")
    options = ["--trust", str(CERTS / "root-ca.pem")] if option != "--trust" else []
    for bad in (garbage, bad_pem, tmp_path, tmp_path / "missing.pem"):
        result = run("verify", str(NOTICE), *options, option, str(bad))
        assert result.exit_code == 2, (bad, result.output)
        if bad.exists() or option == "--registry":
            assert f"{code} " in result.output and str(bad) in result.output, result.output
        else:  # typer's own check of --trust and --crl (exists=True): a usage error
            assert "does not exist" in result.output
    if option == "--registry":
        draft = ROOT / "examples" / "unsigned" / "AssistanceNotice.xml"
        result = run("validate", str(draft), option, str(garbage))
        assert result.exit_code == 2 and f"{code} " in result.output


def test_a_checker_that_raises_costs_only_its_own_file_a_verdict(tmp_path, monkeypatch):
    """The checker must never raise (tests/test_hostile_input.py); should it, for one document,
    that file gets FILE_CHECK_FAILED and every other file of its batch its own verdict."""
    poison = tmp_path / "poison.xml"
    poison.write_bytes(NOTICE.read_bytes() + b"\n")  # another file, as valid
    check_many = DocumentChecker.check_many

    def raising(self, raws, **kwargs):
        if poison.read_bytes() in raws:
            raise OverflowError("date value out of range")
        return check_many(self, raws, **kwargs)

    monkeypatch.setattr(DocumentChecker, "check_many", raising)
    result = run("verify", str(NOTICE), str(poison), str(tampered(tmp_path)), *TRUST)
    assert result.exit_code == 1
    assert verdicts(result.output) == [
        ("VALID", str(NOTICE)),
        ("INVALID", str(poison)),
        ("INVALID", str(tmp_path / "tampered.xml")),
    ]
    assert "    FILE_CHECK_FAILED internal error while checking the file (OverflowError)" in result.output
    assert "SIG_TAMPERED" in result.output


def test_the_command_run_as_a_program_prints_no_traceback_for_hostile_files(tmp_path):
    hostile = hostile_files(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "broker.cli.main", "verify", *(str(p) for p, _ in hostile.values()), *TRUST],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    statuses = [line.split(" ", 1)[0] for line in proc.stdout.splitlines() if not line.startswith(" ")]
    assert statuses == ["INVALID"] * len(hostile)
