"""Configuration files name files (keys, certificates, the registry): a missing one is a clear
error naming the setting, not an OSError from deep inside the TLS or signing code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from broker.errors import LiandongError
from broker.hub.config import load_hub_config

ROOT = Path(__file__).resolve().parents[1]
HUB_YAML = ROOT / "examples" / "config" / "hub.yaml"


def _hub_yaml_without_key(tmp_path: Path) -> Path:
    data = yaml.safe_load(HUB_YAML.read_text(encoding="utf-8"))
    base = HUB_YAML.parent
    data["registry"] = str((base / data["registry"]).resolve())
    for section in ("broker", "identity"):
        for name, value in list(data[section].items()):
            if name in ("ca", "cert", "key", "chain") and value:
                data[section][name] = str((base / value).resolve())
    data["trust"]["anchors"] = [str((base / a).resolve()) for a in data["trust"]["anchors"]]
    data["trust"]["crls"] = [str((base / c).resolve()) for c in data["trust"].get("crls", [])]
    data["identity"]["key"] = str(tmp_path / "gone" / "seal.key")
    data["trust"]["crls"].append(str(tmp_path / "no-crl.pem"))
    path = tmp_path / "hub.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_every_missing_file_of_a_hub_config_is_named(tmp_path):
    assert load_hub_config(HUB_YAML)  # the example itself is complete
    with pytest.raises(LiandongError) as info:
        load_hub_config(_hub_yaml_without_key(tmp_path))
    assert info.value.codes == ["HUB_CONFIG_INVALID", "HUB_CONFIG_INVALID"]
    text = str(info.value)
    assert "identity.key" in text and "trust.crls[1]" in text and "No such file" in text


def test_hub_run_says_which_file_is_missing_without_a_traceback(tmp_path):
    path = _hub_yaml_without_key(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "broker.cli.main", "hub", "run", "--config", str(path)],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert proc.returncode != 0
    assert "HUB_CONFIG_INVALID" in proc.stderr + proc.stdout and "identity.key" in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr


def test_an_adapter_config_names_its_missing_seal_key(tmp_path):
    from adapters.bank import BankAdapter
    from adapters.sdk.settings import load_adapter_config

    source = ROOT / "examples" / "config" / "bank.yaml"
    text = source.read_text(encoding="utf-8").replace("../../", str(ROOT) + "/").replace("../network.yaml", str(ROOT / "examples" / "network.yaml"))
    text = text.replace("91445300MA5100003A/sign.key", "91445300MA5100003A/lost.key")
    path = tmp_path / "bank.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_adapter_config(BankAdapter, source)
    with pytest.raises(LiandongError) as info:
        load_adapter_config(BankAdapter, path)
    assert set(info.value.codes) == {"UNIT_CONFIG_INVALID"} and "unit.seal.key" in str(info.value), str(info.value)
    assert len(info.value.codes) == 1, str(info.value)
