"""Adding a unit to the registry file, keeping its comments and layout.

PyYAML does not keep comments on a round trip, so the file is not re-dumped: the new entry is
rendered alone and inserted as text after the last entry of ``units:``, with the indentation the
other entries have. The result is loaded and validated as a whole before it replaces the file
(atomically: a hub watching the file never reads half of it).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from broker.documents.catalogue import UnitKind
from broker.errors import LiandongError
from broker.registry.model import Registry, UnitEntry, load_registry

_UNITS_KEY = re.compile(r"^units:\s*(#.*)?$")
_ITEM = re.compile(r"^(\s*)- ")


def unit_kinds() -> list[str]:
    """The kinds a unit of the registry may have (the hub is described under ``hub:``)."""
    return [k.value for k in UnitKind if k is not UnitKind.HUB]


def check_new_unit(registry: Registry, entry: dict[str, Any]) -> UnitEntry:
    """The validated entry, or ``LiandongError``: unknown kind, duplicate code, invalid field."""
    kind = entry.get("kind")
    if kind not in unit_kinds():
        raise LiandongError.of("REG_KIND_UNKNOWN", kind=kind, kinds=", ".join(unit_kinds()))
    code = entry.get("code")
    if code == registry.hub.code or registry.unit(str(code)) is not None:
        raise LiandongError.of("REG_UNIT_DUPLICATE", unit_code=code)
    try:
        return UnitEntry.model_validate(entry)
    except ValidationError as exc:
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise LiandongError.of("REG_UNIT_INVALID", detail=detail) from None


def add_unit(path: str | Path, entry: dict[str, Any]) -> UnitEntry:
    """Add ``entry`` (code, name, kind, region, ...) to the registry file at ``path``."""
    path = Path(path)
    unit = check_new_unit(load_registry(path), entry)
    text = path.read_text(encoding="utf-8")
    rendered = unit.model_dump(mode="json", exclude_defaults=True)
    new_text = insert_unit_text(text, rendered)
    _replace_checked(path, new_text)
    return unit


def insert_unit_text(text: str, entry: dict[str, Any]) -> str:
    """``text`` with ``entry`` appended to its top-level ``units:`` block sequence."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if _UNITS_KEY.match(line.rstrip("\n"))), None)
    if start is None:  # ``units: []`` or another flow style: re-dumped (its comments are lost)
        data = yaml.safe_load(text)
        data["units"] = [*(data.get("units") or []), entry]
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    end, indent = start, None
    for i in range(start + 1, len(lines)):
        line = lines[i].rstrip("\n")
        if line.strip() == "" or line.startswith("#"):
            continue
        if not (line[0].isspace() or line.startswith("-")):
            break  # the next top-level key
        end = i
        m = _ITEM.match(line)
        if indent is None and m:
            indent = m.group(1)
    indent = "  " if indent is None else indent
    block = yaml.safe_dump([entry], allow_unicode=True, sort_keys=False, default_flow_style=False, width=1000)
    rendered = "".join(indent + line + "\n" for line in block.splitlines())
    if not lines[end].endswith("\n"):
        lines[end] += "\n"
    return "".join(lines[: end + 1]) + rendered + "".join(lines[end + 1 :])


def _replace_checked(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        load_registry(tmp)  # the whole file still loads (the office, one LinkageOffice, ...)
        os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
