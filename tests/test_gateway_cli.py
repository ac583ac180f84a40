"""``liandong gateway token`` and ``liandong gateway run`` with a configuration it cannot use."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import yaml
from typer.testing import CliRunner

from broker.cli.main import app
from broker.gateway.config import load_gateway_config
from broker.gateway.tokens import TokenBook
from broker.mosquitto import free_port
from tests.network import COURT, unit_config


def test_token_prints_a_secret_once_and_the_entry_that_keeps_only_its_hash(tmp_path: Path):
    result = CliRunner().invoke(
        app, ["gateway", "token", "court-cms", "--scope", "publish", "--scope", "read"]
    )
    assert result.exit_code == 0, result.output
    secret = re.search(r"token \(shown once\): (\S+)", result.output).group(1)
    entry = yaml.safe_load(result.output.split("configuration entry under http.tokens:")[1])[0]
    assert entry == {
        "name": "court-cms",
        "sha256": hashlib.sha256(secret.encode()).hexdigest(),
        "scopes": ["publish", "read"],
    }
    config = unit_config(COURT, port=free_port(), var=tmp_path).model_dump(mode="json")
    config["http"] = {"tokens": [entry]}
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    book = TokenBook(load_gateway_config(path).http.tokens)
    assert book.caller(secret).name == "court-cms" and book.caller(secret + "x") is None
    assert secret not in path.read_text()


def test_a_bad_scope_is_refused():
    result = CliRunner().invoke(app, ["gateway", "token", "x", "--scope", "everything"])
    assert result.exit_code == 2 and "scopes are among" in result.output


def test_run_with_an_unusable_configuration_exits_2_with_the_codes(tmp_path: Path):
    config = unit_config(COURT, port=free_port(), var=tmp_path).model_dump(mode="json")
    config["seal"]["key"] = str(tmp_path / "missing.key")
    config["http"] = {"tokens": [{"name": "a", "sha256": "0" * 64, "scopes": ["root"]}], "port": "eighty"}
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(app, ["gateway", "run", "--config", str(path)])
    assert result.exit_code == 2, result.output
    assert "UNIT_CONFIG_INVALID" in result.output and "Traceback" not in result.output
    assert "http.port" in result.output and "scopes" in result.output
