"""``liandong demo``: the whole network on this machine, a scripted story through every document
type, the ledger's account of it, and a clean stop (docs/quickstart.md)."""

from __future__ import annotations

import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path

from rich.console import Console

from broker.documents.document import CHINA_TZ

# Supervision time starts on a working-day morning, so the deadlines of the story fall on the
# 2026 calendar whatever day the demo runs (docs/supervision.md).
CLOCK_START = datetime(2026, 11, 24, 9, 30, tzinfo=CHINA_TZ)


def run(workdir: Path | None = None, *, keep: bool = False, console: Console | None = None, suite: str = "rsa") -> int:
    """Run the demo; 0 when every step and every check passed. ``suite`` ``sm2``: an all-SM2
    network (every seal SM2/SM3 from certs-example/sm2, the registry accepting only SM2)."""
    from broker.demo.network import LocalNetwork
    from broker.demo.scenario import Scenario
    from broker.demo.summary import print_stories, print_story_of, print_summary, verify_everything
    from broker.documents.catalogue import DIRECTIONS

    from broker.demo.workdir import prepare
    from broker.errors import LiandongError

    console = console or Console(highlight=False, width=120)
    started = time.monotonic()
    base = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="liandong-demo-"))
    try:
        if prepare(base):  # numbers from an earlier run must not mix with this one's
            console.print(f"  [yellow]●[/yellow] removed the previous demo's files from {base}")
    except LiandongError as exc:
        for p in exc.problems:
            console.print(f"[red]{p.code}[/red] {p.message_en} / {p.message_zh}", soft_wrap=True)  # one line, for grep
        return 2
    net = LocalNetwork.for_suite(base, CLOCK_START, suite)
    console.rule("[bold]liandong 联动 — demo[/bold]")
    failed: str | None = None
    try:
        net.start(lambda text: console.print(f"  [green]●[/green] {text}"))
        scenario = Scenario(net, console)
        try:
            scenario.run()
        except AssertionError as exc:
            failed = str(exc)
            console.print(f"  [red]✗ {exc}[/red]")
        console.rule("ledger")
        print_stories(net, console)
        if getattr(scenario, "bank_notice", None):
            print_story_of(net, console, scenario.bank_notice, "one document's story (the court's bank notice)")
        verified = verify_everything(net)
        console.rule("summary")
        seen = print_summary(net, console, verified)
        ok, total, _ = verified
        if ok != total:
            failed = failed or f"{total - ok} received document(s) did not verify"
        missing = set(DIRECTIONS) - seen
        if missing:
            failed = failed or f"document types not used: {', '.join(sorted(missing))}"
    finally:
        net.stop()
        if not keep and workdir is None:
            shutil.rmtree(base, ignore_errors=True)
    elapsed = time.monotonic() - started
    if failed:
        console.print(f"[red bold]demo failed[/red bold]: {failed} ({elapsed:.0f} s)")
        return 1
    console.print(f"[green bold]demo passed[/green bold] in {elapsed:.0f} s; every process started was stopped.")
    return 0
