"""The systemd units of deploy/systemd: ``systemd-analyze verify`` on each, their hardening, their
command lines against the real CLI, and docs/deployment.md showing them as shipped.

``systemd-analyze verify`` runs here without systemd as PID 1 (a container): it loads the unit
files and checks every directive, but exits 0 even for a directive it cannot parse ("...,
ignoring"), so a unit passes only with an exit 0 *and* nothing printed. It also insists that
the ExecStart program exists: the units name the production path /opt/liandong/venv/bin/liandong,
which this machine lacks, so the copies it verifies name this virtualenv's ``liandong`` instead
(that one substitution, nothing else). Where systemd-analyze is absent the verify tests are
skipped, saying so; the directive and command-line tests below run everywhere.
"""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from broker.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
UNITS = ROOT / "deploy" / "systemd"
DEPLOYMENT = ROOT / "docs" / "deployment.md"
INSTALLED = "/opt/liandong/venv/bin/liandong"
HERE = str(Path(sys.executable).parent / "liandong")
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
UNIT_FILES = sorted(p for p in UNITS.iterdir() if p.suffix in (".service", ".timer"))
SERVICES = [p for p in UNIT_FILES if p.suffix == ".service"]
LONG_RUNNING = [p for p in SERVICES if p.name != "liandong-ledger-verify.service"]

needs_systemd = pytest.mark.skipif(
    SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed here: only the directive checks ran"
)


def _verify(unit: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``systemd-analyze verify`` of a copy of ``unit`` (a template as an instance ``@check``)."""
    copy = tmp_path / unit.name
    copy.write_text(unit.read_text(encoding="utf-8").replace(INSTALLED, HERE), encoding="utf-8")
    name = unit.name.replace("@.", "@check.")
    return subprocess.run(
        [SYSTEMD_ANALYZE, "verify", f"./{name}"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )


def _sections(unit: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True, delimiters=("=",))
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(unit.read_text(encoding="utf-8"))
    return parser


def test_every_component_has_its_unit():
    names = {p.name for p in UNIT_FILES}
    assert {
        "liandong-broker.service",
        "liandong-hub.service",
        "liandong-adapter@.service",
        "liandong-gateway@.service",
        "liandong-ledger-verify.service",
        "liandong-ledger-verify.timer",
    } <= names


@needs_systemd
@pytest.mark.parametrize("unit", UNIT_FILES, ids=lambda p: p.name)
def test_systemd_analyze_verify_passes_without_a_word(unit, tmp_path):
    for other in UNIT_FILES:  # the timer's service must be there beside it
        if other != unit:
            (tmp_path / other.name).write_text(other.read_text(encoding="utf-8").replace(INSTALLED, HERE))
    result = _verify(unit, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == "", result.stdout + result.stderr


@needs_systemd
def test_the_verify_check_catches_a_directive_systemd_ignores(tmp_path):
    # What the check above relies on: systemd-analyze says "ignoring" yet exits 0.
    broken = tmp_path / "broken" / "liandong-hub.service"
    broken.parent.mkdir()
    text = (UNITS / "liandong-hub.service").read_text(encoding="utf-8")
    broken.write_text(text.replace("ProtectSystem=strict", "ProtectSystem=stricter"), encoding="utf-8")
    result = _verify(broken, tmp_path)
    assert "stricter" in result.stderr


@pytest.mark.parametrize("unit", LONG_RUNNING, ids=lambda p: p.name)
def test_long_running_services_are_hardened_and_restart_on_failure(unit):
    service = _sections(unit)["Service"]
    assert service["User"] not in ("", "root") and service["Group"] == service["User"]
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["PrivateTmp"] == "yes" and service["ProtectHome"] == "yes"
    assert service["Restart"] == "on-failure"
    # the one writable place is the component's own data folder, which systemd creates for its user
    assert service["ReadWritePaths"] == f"/var/lib/{service['StateDirectory']}"
    assert _sections(unit)["Install"]["WantedBy"] == "multi-user.target"


def test_the_ledger_check_is_hardened_too_and_runs_hourly():
    service = _sections(UNITS / "liandong-ledger-verify.service")["Service"]
    assert service["Type"] == "oneshot" and service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict" and service["PrivateTmp"] == "yes"
    assert _sections(UNITS / "liandong-ledger-verify.timer")["Timer"]["OnCalendar"] == "hourly"


@pytest.mark.parametrize("unit", [p for p in SERVICES if "broker" not in p.name], ids=lambda p: p.name)
def test_each_command_line_is_one_the_cli_accepts(unit):
    argv = shlex.split(_sections(unit)["Service"]["ExecStart"].replace("%i", "bank"))
    assert argv[0] == INSTALLED
    result = CliRunner().invoke(app, [*argv[1:], "--help"])  # --help: the command and its options exist
    assert result.exit_code == 0, result.output
    for option in (a for a in argv[1:] if a.startswith("--")):
        assert option in result.output


def test_templates_keep_each_instance_apart():
    for name in ("liandong-adapter@.service", "liandong-gateway@.service"):
        service = _sections(UNITS / name)["Service"]
        assert "%i" in service["ExecStart"] and service["StateDirectory"].endswith("/%i")


def test_deployment_md_shows_the_units_as_shipped():
    text = DEPLOYMENT.read_text(encoding="utf-8")
    blocks = re.findall(r"```ini\n(# /etc/systemd/system/(\S+)\n.*?)```", text, re.S)
    shown = {name: block for block, name in blocks}
    assert {p.name for p in UNIT_FILES} <= shown.keys()
    for unit in UNIT_FILES:
        assert shown[unit.name] == unit.read_text(encoding="utf-8"), unit.name
