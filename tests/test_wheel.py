"""A wheel of the project carries its data files and entry points, and an install of it finds
them (broker/resources.py; docs/adapters.md §7): built from a copy of the source, installed without
dependencies into a fresh virtualenv that sees this one's packages, and run from another directory.

The build uses this virtualenv's setuptools (>= 77, a dev requirement) without pip's isolated build
environment, so it needs no package index.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

from broker import resources

ROOT = resources.SOURCE_ROOT
SOURCE = ["pyproject.toml", "README.md", "broker", "adapters", "schemas", "config"]
DATA = ["schemas/liandong-v1.xsd", "config/holidays.yaml", "config/deadlines.yaml"]
ADAPTERS = ["bank", "credit", "market", "police", "realestate"]

PROBE = """
import json, sys
import importlib.metadata as md
import broker
from broker import resources
from broker.deadlines import calendar, policy
from broker.parsing import schema
from broker.parsing.hardened import parse

valid = parse(open(sys.argv[1], "rb").read())
invalid = parse(open(sys.argv[1], "rb").read())
invalid.find("{urn:liandong:v1}Header").clear()
dist = md.distribution("liandong")
print(json.dumps({
    "broker": broker.__file__,
    "prefix": sys.prefix,
    "schemas": str(resources.data_dir("schemas")),
    "config": str(resources.data_dir("config")),
    "schema_path": str(schema.schema_path()),
    "valid": [p.code for p in schema.problems(valid)],
    "invalid": sorted({p.code for p in schema.problems(invalid)}),
    "holidays": calendar.WorkingCalendar.default()._override_file,
    "policy": str(policy.DEFAULT_POLICY_FILE),
    "policy_rules": len(policy.DeadlinePolicy.default().rules),
    "dist": str(dist.locate_file("")),
    "adapters": sorted(ep.name for ep in dist.entry_points if ep.group == "liandong.adapters"),
    "scripts": [ep.value for ep in dist.entry_points if ep.group == "console_scripts"],
}))
"""


def _run(*args: str | Path, **kw) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=120, **kw)
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return done


def test_a_wheel_installs_the_data_files_where_the_code_finds_them(tmp_path):
    source = tmp_path / "src"  # a copy: building writes build/ and *.egg-info beside the sources
    source.mkdir()
    for name in SOURCE:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index", "-w", dist, source)
    (wheel,) = (tmp_path / "dist").glob("liandong-*.whl")

    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        assert "broker/render/templates/document.html.j2" in names  # the 文书's template (package data)
        data = {n.split(".data/data/share/liandong/", 1)[1] for n in names if ".data/data/share/liandong/" in n}
        assert data == set(DATA)
        for name in DATA:
            member = next(n for n in names if n.endswith("share/liandong/" + name))
            assert z.read(member) == (ROOT / name).read_bytes()
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        text = z.read(entry_points).decode()
    assert "liandong = broker.cli.main:app" in text
    assert all(f"{name} = adapters.{name}:" in text for name in ADAPTERS)

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", wheel)
    # The dependencies: this virtualenv's packages, after the fresh one's own. A path in a .pth file
    # is added without running the .pth files in it, so the editable install of the checkout stays out.
    purelib = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    (purelib / "zz-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LIANDONG_SCHEMA_DIR")}
    document = ROOT / "examples" / "signed" / "AssistanceNotice.xml"
    found = json.loads(_run(python, "-c", PROBE, document, cwd=elsewhere, env=env).stdout)

    share = Path(found["prefix"]) / "share" / "liandong"
    assert Path(found["prefix"]) == venv and Path(found["broker"]).is_relative_to(purelib)  # the wheel's copy
    assert Path(found["schemas"]) == share / "schemas" and Path(found["config"]) == share / "config"
    assert Path(found["schema_path"]) == share / "schemas" / "liandong-v1.xsd"
    assert found["valid"] == [] and found["invalid"] == ["SCHEMA_INVALID"]  # the XSD is read and applied
    assert Path(found["holidays"]) == share / "config" / "holidays.yaml"
    assert Path(found["policy"]) == share / "config" / "deadlines.yaml" and found["policy_rules"] > 0
    assert Path(found["dist"]) == purelib and found["adapters"] == ADAPTERS
    assert found["scripts"] == ["broker.cli.main:app"]
    assert "broker" in _run(venv / "bin" / "liandong", "--help", cwd=elsewhere, env=env).stdout
