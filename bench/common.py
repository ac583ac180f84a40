"""What every benchmark records beside its numbers: the machine and the library versions."""

from __future__ import annotations

import json
import os
import platform
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    """The machine and library versions a result was measured with."""
    from cryptography.hazmat.backends.openssl import backend
    from lxml import etree

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    libraries = {d: _version(d) for d in ("lxml", "signxml", "cryptography", "paho-mqtt", "SQLAlchemy", "pydantic", "xmlschema")}
    libraries["libxml2"] = ".".join(map(str, etree.LIBXML_VERSION))
    libraries["openssl"] = backend.openssl_version_text()
    return {
        "cpu_model": cpu,
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "libraries": libraries,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def write_result(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a live process used so far (Linux ``/proc``), 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # Fields 14 and 15 of proc(5) (utime, stime); index 11 and 12 after the ")" of the name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """``pid`` and every live descendant (the hub's worker processes, for instance)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = [pid], [pid]
    while frontier:
        children = [p for p, parent in parents.items() if parent in frontier]
        tree += children
        frontier = children
    return tree


class CpuMeter:
    """CPU seconds used by named process trees between :meth:`start` and :meth:`stop`.

    Where the CPU of a multi-process run went, per document: the ratios hold on a noisy machine
    where wall-clock rates do not.
    """

    def __init__(self, roots: dict[str, int], *, alone: tuple[str, ...] = ()) -> None:
        """``roots``: name → pid whose process tree is counted; names in ``alone``: that process only
        (the benchmark itself, whose children are the measured services)."""
        self.roots = roots
        self.alone = alone
        self._trees: dict[str, list[int]] = {}
        self._before: dict[str, float] = {}

    def _used(self, name: str) -> float:
        return sum(process_cpu_seconds(p) for p in self._trees[name])

    def start(self) -> None:
        self._trees = {name: [pid] if name in self.alone else process_tree(pid) for name, pid in self.roots.items()}
        self._before = {name: self._used(name) for name in self.roots}

    def stop(self) -> dict[str, float]:
        return {name: round(self._used(name) - self._before[name], 3) for name in self.roots}


def _machine_ticks() -> list[int]:
    with open("/proc/stat") as f:
        return [int(x) for x in f.readline().split()[1:]]


class MachineMeter:
    """How busy the whole machine was between :meth:`start` and :meth:`stop` (``/proc/stat``)."""

    def start(self) -> None:
        self._t0, self._m0 = time.perf_counter(), _machine_ticks()

    def stop(self) -> dict[str, float]:
        wall = time.perf_counter() - self._t0
        delta = [b - a for a, b in zip(self._m0, _machine_ticks())]
        total = sum(delta) or 1
        idle = delta[3] + delta[4]  # idle + iowait
        steal = delta[7] if len(delta) > 7 else 0
        return {
            "wall_s": round(wall, 2),
            "busy_cpu_s": round((total - idle - steal) / os.sysconf("SC_CLK_TCK"), 2),
            "busy_share": round(1 - idle / total, 3),
            "steal_share": round(steal / total, 3),
        }


def machine_busy(seconds: float = 3.0) -> float:
    """Share of the machine's CPU time that was busy over ``seconds`` (before a run: other load)."""
    meter = MachineMeter()
    meter.start()
    time.sleep(seconds)
    return meter.stop()["busy_share"]
