"""The member registry (issue 3): one YAML file is the network's source of truth; a bad file
fails with REG_INVALID naming the file, the line and the problem, never with a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from broker.documents.catalogue import UnitKind
from broker.errors import LiandongError
from broker.registry import load_registry
from broker.sandbox import EXAMPLE_REGISTRY

TEXT = EXAMPLE_REGISTRY.read_text(encoding="utf-8")
BANK = "91445300MA5100003A"


def _line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the nth occurrence of ``needle``."""
    lines = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    return lines[nth - 1]


def _fails(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "network.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LiandongError) as info:
        load_registry(path)
    assert {p.code for p in info.value.problems} == {"REG_INVALID"}
    details = [p.message_en for p in info.value.problems]
    assert all(f"{path}:" in d for d in details), details
    return details


def _line(detail: str) -> int:
    m = re.search(r"network\.yaml:(\d+): ", detail)
    assert m, detail
    return int(m.group(1))


def test_the_example_registry_loads():
    registry = load_registry(EXAMPLE_REGISTRY)
    assert registry.kind_of(BANK) is UnitKind.BANK
    assert registry.kind_of(registry.hub.code) is UnitKind.HUB
    assert registry.unit(registry.office).kind is UnitKind.LINKAGE_OFFICE


def test_a_wrong_check_character_names_its_line(tmp_path):
    bad = TEXT.replace(f"code: {BANK}", "code: 91445300MA5100003B", 1)
    (detail,) = _fails(tmp_path, bad)
    assert _line(detail) == _line_of(bad, "91445300MA5100003B") and "units." in detail


def test_an_unknown_kind_and_an_unknown_field_name_their_lines(tmp_path):
    bad = TEXT.replace("kind: Bank", "kind: Banc", 1).replace(
        f"code: {BANK}", f"code: {BANK}\n    colour: blue", 1
    )
    details = _fails(tmp_path, bad)
    assert sorted(_line(d) for d in details) == sorted([_line_of(bad, "kind: Banc"), _line_of(bad, "colour: blue")])


def test_a_unit_cannot_be_of_kind_hub(tmp_path):
    """A unit of kind Hub would be trusted to seal service receipts (DOMAIN.md)."""
    bad = TEXT.replace("kind: Bank", "kind: Hub", 1)
    (detail,) = _fails(tmp_path, bad)
    assert _line(detail) == _line_of(bad, "kind: Hub") and "hub:" in detail


def test_only_the_office_may_be_of_kind_linkage_office(tmp_path):
    bad = TEXT.replace("kind: Bank", "kind: LinkageOffice", 1)
    (detail,) = _fails(tmp_path, bad)
    assert BANK in detail and "only the office" in detail and _line(detail) == _line_of(bad, "kind: LinkageOffice")


def test_a_duplicate_unit_code_is_refused(tmp_path):
    bad = TEXT.replace("code: 11421022MB0000002J", "code: 11445300MB0000001W", 1)
    (detail,) = _fails(tmp_path, bad)
    assert "11445300MB0000001W" in detail and "twice" in detail
    assert _line(detail) == _line_of(bad, "code: 11445300MB0000001W", 2)  # the second one


def test_broken_yaml_names_its_line(tmp_path):
    bad = TEXT.replace("    kind: Bank", "    kind: [Bank", 1)
    (detail,) = _fails(tmp_path, bad)
    assert _line(detail) >= _line_of(bad, "kind: [Bank")


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(LiandongError) as info:
        load_registry(tmp_path / "nowhere.yaml")
    assert info.value.codes == ["REG_INVALID"] and "nowhere.yaml" in str(info.value)
