"""Finding processes in tests: alive (not a zombie), the children of a pid, those carrying a mark
in their environment (inherited by everything a marked process starts, whoever adopts it)."""

from __future__ import annotations

from pathlib import Path

MARK = "LIANDONG_TEST_PROCESS_MARK"


def alive(pid: int) -> bool:
    """Running (a zombie is dead: only its exit status waits for whoever adopted it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:  # field 4: the parent's pid
                found.append(int(entry.name))
    return found


def marked(marks: set[str]) -> dict[int, str]:
    """Live processes whose environment has ``MARK`` set to one of ``marks``."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        for var in environ.split(b"\0"):
            if var.startswith(MARK.encode() + b"="):
                value = var.split(b"=", 1)[1].decode()
                if value in marks and alive(int(entry.name)):
                    found[int(entry.name)] = value
    return found
