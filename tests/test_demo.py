"""The README's main command, as a user runs it: ``liandong demo`` (issue 6)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from broker.documents.catalogue import DIRECTIONS

ROOT = Path(__file__).resolve().parents[1]


def test_liandong_demo_runs_the_whole_story_and_stops_cleanly(tmp_path: Path):
    workdir = tmp_path / "demo"  # its own folder: what it leaves running is told from other tests'
    proc = subprocess.run(
        [sys.executable, "-m", "broker.cli.main", "demo", "--workdir", str(workdir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,  # a hang fails here; how fast the demo runs is not a test's business
    )
    out = proc.stdout
    assert proc.returncode == 0, out[-4000:] + proc.stderr[-2000:]
    assert "demo passed" in out
    assert f"document types used: {len(DIRECTIONS)} of {len(DIRECTIONS)}" in out
    assert "hash chain intact" in out
    assert "✗" not in out
    # the manual desk (issue 13): the console's address, the demo accounts, the clerk's answer
    assert "/console/login" in out and "demo accounts" in out
    assert "the clerk's receipt" in out and "M1 PartiallyExecuted" in out
    # the housing fund centre, served only through its gateway by curl and jq, answered the
    # court's query and freeze and the release at case completion: three sealed receipts
    assert "housing fund centre (curl and jq through its gateway, no Python): 3 sealed receipts" in out
    # every process it started was stopped: no Mosquitto of the demo is left behind
    leftover = subprocess.run(["pgrep", "-f", str(workdir)], capture_output=True, text=True)
    assert leftover.stdout.strip() == ""
    script = subprocess.run(["pgrep", "-f", "broker/demo/housing_fund.sh"], capture_output=True, text=True)
    assert script.stdout.strip() == ""  # nor the curl unit's script
