"""No hub worker outlives its hub (issue 11, item 5): a hub killed outright (SIGKILL, the OOM
killer) at any point of its workers' start, before their initializer ran included, leaves no
worker and no helper process (multiprocessing's resource tracker) behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from broker.hub.workers import CheckerPool
from tests.network import HUB, ROOT, hub_config, wait_until
from tests.processes import MARK, children, marked


RUNS = 50
PARALLEL = 5

# The hub's own worker start (broker.hub.workers.CheckerPool, as Hub.start runs it), in a process
# that says when it begins and when its workers are ready, then waits to be killed.
HARNESS = """
import sys, time
from broker.hub.config import load_hub_config
from broker.hub.workers import CheckerPool
config = load_hub_config(sys.argv[1])
print("starting", flush=True)
pool = CheckerPool(config)
print("ready", flush=True)
time.sleep(600)
"""


class Harness:
    def __init__(self, config_path: Path, mark: str):
        self.mark = mark
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HARNESS, str(config_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
            env={**os.environ, MARK: mark, "PYTHONPATH": str(ROOT)},
        )

    def wait_for(self, line: str) -> float:
        assert self.proc.stdout is not None
        got = self.proc.stdout.readline().decode().strip()
        assert got == line, f"harness said {got!r} (exit {self.proc.poll()})"
        return time.monotonic()

    def kill(self) -> list[int]:
        """SIGKILL; returns the children it had just before."""
        before = children(self.proc.pid)
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        return before


def test_a_hub_killed_at_any_point_of_its_workers_start_leaves_nothing(tmp_path):
    config = hub_config(HUB, port=1, var=tmp_path / "hub", workers=2)
    path = tmp_path / "hub.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json", by_alias=True)), encoding="utf-8")

    # How long the workers' start takes here: the kills are spread over it (and a little past).
    first = Harness(path, f"measure-{uuid.uuid4()}")
    began = first.wait_for("starting")
    span = first.wait_for("ready") - began
    left = {first.mark: first.kill()}

    def run(n: int) -> tuple[str, list[int]]:
        harness = Harness(path, f"run{n}-{uuid.uuid4()}")
        harness.wait_for("starting")
        time.sleep(span * 1.2 * n / (RUNS - 1))  # 0 (no worker yet) … past ready
        return harness.mark, harness.kill()

    with ThreadPoolExecutor(PARALLEL) as runs:  # the runs mostly wait: several at once
        left.update(runs.map(run, range(RUNS)))

    # Everything marked, and every child each hub had, ends (workers killed in their initializer
    # finish importing first; nothing may wait for work for ever).
    # (A pid may be reused by then; the mark may not.)
    wait_until(lambda: not marked(set(left)), 60, "every process of the killed hubs to end", interval=0.2)
    assert sum(len(pids) for pids in left.values()) > RUNS, "the kills never found workers started"


def test_workers_run_at_the_configured_lower_priority(tmp_path: Path) -> None:
    # The pipeline thread (the hub's one serial step) goes first when it and a worker want a core.
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    for niceness in (5, 0):
        config = hub_config(HUB, port=1, var=tmp_path / f"hub{niceness}", workers=1).model_copy(
            update={"worker_niceness": niceness}
        )
        pool = CheckerPool(config)
        try:
            assert [os.getpriority(os.PRIO_PROCESS, pid) for pid in pool.pids] == [min(19, mine + niceness)]
        finally:
            pool.shutdown()
