"""The configuration files and the worked example the documentation tells people to run
(docs/quickstart.md, docs/courts.md): ``examples/config/*.yaml`` and ``examples/court_example.py``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.sdk import load_adapter
from adapters.sdk.service import AdapterService
from adapters.sdk.settings import load_adapter_config
from broker.configuration import load_unit_config
from broker.hub.config import load_hub_config
from broker.hub.service import Hub
from broker.registry import load_registry

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "examples" / "config"
COURTS = ("court-yunfu", "court-gongan", "court-guangdong-high")
ADAPTERS = ("bank", "police", "realestate", "market", "credit")


def _files(model: object) -> list[Path]:
    """Every path in a loaded configuration (stores and databases are created, so left out)."""
    found: list[Path] = []

    def walk(value: object, name: str = "") -> None:
        if isinstance(value, Path):
            if name not in {"store", "database", "policy", "holidays"}:
                found.append(value)
        elif hasattr(type(value), "model_fields"):
            for field in type(value).model_fields:
                walk(getattr(value, field), field)
        elif isinstance(value, list):
            for item in value:
                walk(item, name)

    walk(model)
    return found


def test_every_example_configuration_loads_and_names_existing_files():
    names = sorted(p.stem for p in CONFIG.glob("*.yaml"))
    assert names == sorted(("hub", *COURTS, *ADAPTERS))
    configs = [load_hub_config(CONFIG / "hub.yaml")]
    configs += [load_unit_config(CONFIG / f"{name}.yaml") for name in COURTS]
    configs += [load_adapter_config(load_adapter(name), CONFIG / f"{name}.yaml") for name in ADAPTERS]
    for config in configs:
        files = _files(config)
        assert files and all(f.is_file() for f in files), [str(f) for f in files if not f.is_file()]
    registry = load_registry(configs[0].registry)
    assert [c.unit for c in configs[1 : 1 + len(COURTS)]] == [u.code for u in registry.courts()]
    # every unit's files are its own: the TLS and seal certificates of the unit the file names
    for config in configs[1:]:
        section = config if hasattr(config, "seal") else config.unit  # a court's file, or an adapter's unit:
        assert section.broker.cert.parent.name == section.seal.key.parent.name == section.unit


@pytest.fixture
def tree(tmp_path: Path, mosquitto) -> Path:
    """The example configuration in a scratch tree (paths relative to it, as in the source tree)
    with the port of the test's broker."""
    (tmp_path / "examples" / "config").mkdir(parents=True)
    (tmp_path / "examples" / "network.yaml").symlink_to(ROOT / "examples" / "network.yaml")
    (tmp_path / "certs-example").symlink_to(ROOT / "certs-example")
    for path in CONFIG.glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        assert "port: 8883" in text
        (tmp_path / "examples" / "config" / path.name).write_text(
            text.replace("port: 8883", f"port: {mosquitto.port}"), encoding="utf-8"
        )
    return tmp_path


def test_the_court_example_publishes_and_gets_the_banks_receipt(tree: Path):
    hub = Hub(load_hub_config(tree / "examples" / "config" / "hub.yaml"))
    hub.start()
    bank_cls = load_adapter("bank")
    bank = AdapterService(bank_cls, load_adapter_config(bank_cls, tree / "examples" / "config" / "bank.yaml"))
    bank.start()
    try:
        run = subprocess.run(
            [sys.executable, str(ROOT / "examples" / "court_example.py"), str(tree / "examples" / "config" / "court-yunfu.yaml")],
            capture_output=True,
            text=True,
            timeout=180,
            cwd=tree,
        )
    finally:
        bank.stop()
        hub.stop()
    assert run.returncode == 0, run.stdout + run.stderr
    assert "(the time of service)" in run.stdout
    assert "sealed by the bank:" in run.stdout and "M1: PartiallyExecuted, frozen 186432.57 of 500000.00 CNY" in run.stdout
    assert "accepted=False" in run.stdout and "RULE_MEASURE_UNIT_KIND" in run.stdout
    assert (tree / "var" / "hub" / "ledger.db").is_file() and (tree / "var" / "court-yunfu" / "unit.db").is_file()


# --- the reference pages name every configuration field and every logged event ------------------

DOCS = ROOT / "docs"


def _field_names(model: type) -> set[str]:
    """Every field name (its YAML key) of a pydantic model and of the models nested in it."""
    from pydantic import BaseModel

    names: set[str] = set()
    for name, field in model.model_fields.items():
        names.add(field.alias or name)
        for arg in (field.annotation, *getattr(field.annotation, "__args__", ())):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                names |= _field_names(arg)
    return names


@pytest.mark.parametrize(
    ("page", "model"),
    [
        ("hub.md", "broker.hub.config:HubConfig"),
        ("courts.md", "broker.configuration:UnitConfig"),
        ("registry.md", "broker.registry.model:Registry"),
    ],
)
def test_every_configuration_field_is_documented(page: str, model: str) -> None:
    import importlib

    module, _, name = model.partition(":")
    cls = getattr(importlib.import_module(module), name)
    text = (DOCS / page).read_text(encoding="utf-8")
    # named in backquotes, alone or as part of a dotted path: `port`, `broker.port`
    missing = sorted(f for f in _field_names(cls) if not re.search(rf"[`.]{re.escape(f)}[`.]", text))
    assert not missing, f"docs/{page} does not describe {missing} of {model}"


def test_every_hub_and_transport_event_is_in_the_monitoring_table() -> None:
    import ast

    events: set[str] = set()
    for path in (ROOT / "broker").rglob("*.py"):
        if "demo" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            args = node.args
            if name == "event" and len(args) >= 2 and isinstance(args[1], ast.Constant):
                events.add(args[1].value)
            elif name == "exception" and args and isinstance(args[0], ast.Constant) and "." in str(args[0].value):
                events.add(args[0].value)
    text = (DOCS / "deployment.md").read_text(encoding="utf-8")
    monitoring = text[text.index("## Monitoring") : text.index("## Upgrades")]
    missing = sorted(e for e in events if f"`{e}`" not in monitoring)
    assert not missing, f"docs/deployment.md, section Monitoring, does not list {missing}"
