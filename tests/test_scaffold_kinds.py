"""`liandong adapter new NAME --kind KIND` for every unit kind: the scaffold's own tests pass.

Most kinds have no unit in examples/network.yaml; the harness makes a throw-away one
(adapters/sdk/throwaway_unit.py). The generated packages are tested by pytest in one
subprocess (one interpreter start instead of eighteen; about 30 s in all on this 2-core machine), and each kind's
outcome is read from its JUnit report.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.sdk.scaffold import scaffold_kinds
from adapters.sdk.testing import Harness
from adapters.sdk.throwaway_unit import make_throwaway_unit
from broker.cli.main import app
from broker.documents.catalogue import UnitKind
from broker.registry import load_registry
from broker.sandbox import EXAMPLE_CERTS, EXAMPLE_REGISTRY

ROOT = Path(__file__).resolve().parents[1]
KINDS = scaffold_kinds()


def test_every_member_kind_but_courts_and_the_office_can_be_scaffolded():
    assert set(KINDS) == set(UnitKind) - {UnitKind.COURT, UnitKind.HUB, UnitKind.LINKAGE_OFFICE}
    assert len(KINDS) == 18


def adapter_name(kind: UnitKind) -> str:
    return "k-" + kind.value.lower()


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, list[tuple[str, str]]]:
    """Scaffold every kind with the CLI, run all the packages' tests in one pytest subprocess,
    and return (test name, outcome) per adapter name."""
    base = tmp_path_factory.mktemp("scaffolds")
    roots = []
    for kind in KINDS:
        made = CliRunner().invoke(app, ["adapter", "new", adapter_name(kind), "--dir", str(base), "--kind", kind.value])
        assert made.exit_code == 0, made.output
        roots.append(base / f"liandong-adapter-{adapter_name(kind)}")
    report = base / "junit.xml"
    path = [str(ROOT), *map(str, roots), os.environ.get("PYTHONPATH", "")]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--import-mode=importlib", f"--rootdir={base}",
         f"--junitxml={report}", "-o", "junit_family=xunit1", *(str(r / "tests") for r in roots)],
        cwd=base,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, path))},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert report.exists(), run.stdout + run.stderr
    found: dict[str, list[tuple[str, str]]] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        where = case.get("file") or case.get("classname") or ""
        name = next((adapter_name(k) for k in KINDS if f"liandong-adapter-{adapter_name(k)}" in where
                     or f"liandong_adapter_{adapter_name(k).replace('-', '_')}" in where), None)
        outcome = "passed"
        for tag in ("failure", "error", "skipped"):
            if case.find(tag) is not None:
                outcome = tag
        found.setdefault(name or where, []).append((case.get("name", ""), outcome))
    found["_output"] = [(run.stdout[-3000:] + run.stderr[-3000:], str(run.returncode))]
    return found


@pytest.mark.parametrize("kind", KINDS, ids=[k.value for k in KINDS])
def test_the_scaffold_tests_pass_out_of_the_box(outcomes, kind):
    results = outcomes.get(adapter_name(kind))
    assert results, f"no tests ran for {kind.value}: {outcomes['_output']}"
    failed = [(name, outcome) for name, outcome in results if outcome in ("failure", "error")]
    assert not failed, f"{kind.value}: {failed}\n{outcomes['_output']}"
    assert sum(outcome == "passed" for _, outcome in results) >= 2


def test_the_whole_run_passes(outcomes):
    (output, code), = outcomes["_output"]
    assert code == "0", output


def test_a_throwaway_unit_is_in_a_registry_copy_with_its_acl_and_goes_away():
    unit = make_throwaway_unit(UnitKind.HOUSING_FUND, EXAMPLE_CERTS, EXAMPLE_REGISTRY)
    try:
        registry = load_registry(unit.registry)
        assert registry.kind_of(unit.code) is UnitKind.HOUSING_FUND
        assert unit.code not in {u.code for u in load_registry(EXAMPLE_REGISTRY).units}
        assert unit.code in unit.acl.read_text(encoding="utf-8")
        assert (unit.unit_dir / "sign.key").exists()
    finally:
        unit.remove()
    assert not unit.directory.exists()


def test_the_harness_removes_the_unit_it_made():
    from adapters.sdk import Adapter

    class Tax(Adapter):
        name = "tax"
        unit_kinds = {UnitKind.TAX}

    harness = Harness(Tax)
    made = harness.throwaway
    assert made is not None and harness.unit == made.code
    harness.close()
    assert not made.directory.exists()


def test_a_harness_that_fails_to_start_leaves_no_throwaway_unit_behind():
    import tempfile

    from adapters.sdk import Adapter

    class Broken(Adapter):
        name = "broken"
        unit_kinds = {UnitKind.INSURER}

        def start(self) -> None:
            raise RuntimeError("the native system is not configured")

    before = set(Path(tempfile.gettempdir()).glob("liandong-Insurer-*"))
    with pytest.raises(RuntimeError, match="not configured"):
        Harness(Broken)
    assert set(Path(tempfile.gettempdir()).glob("liandong-Insurer-*")) == before


def test_a_scaffold_of_a_kind_without_an_example_unit_passes_run_as_its_readme_says(tmp_path):
    """``cd liandong-adapter-NAME && python -m pytest``, the package's own pytest settings."""
    made = CliRunner().invoke(app, ["adapter", "new", "fund", "--dir", str(tmp_path), "--kind", "SocialInsurance"])
    assert made.exit_code == 0, made.output
    assert not any(u.kind is UnitKind.SOCIAL_INSURANCE for u in load_registry(EXAMPLE_REGISTRY).units)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path / "liandong-adapter-fund",
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))},
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 passed, 1 skipped" in run.stdout  # SocialInsurance answers one kind of query only
