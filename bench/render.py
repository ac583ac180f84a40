"""What a readable 文书 costs (issue 13, "Rendering"): the HTML page and the PDF of each signed
example, against checking the same document as ``liandong verify`` does (the baseline).

Run from the project root::

    .venv/bin/python -m bench.render            # about a minute
    .venv/bin/python -m bench.render --quick    # a few seconds, noisier

One process, the 41 signed examples of ``examples/signed`` read once before any timing, the trust
store and registry loaded once (as ``liandong render`` and the gateway do). Each round times, in
process CPU seconds, one pass over all the examples of: (a) ``DocumentChecker.check`` (hardened
parse, XSD, seal, rules: the baseline), (b) ``render_html`` with the seal verified, (c)
``render_pdf`` with the seal verified. The three alternate their order from round to round so that
drift of the machine hits all alike; the figure is the median round, per document, and the ratios
(b)/(a) and (c)/(a) within the same run. No target: the figures size the gateway's /pdf route and
explain why the tests print each example once per module.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable
from pathlib import Path
from time import process_time
from typing import Any

from bench.common import machine_info, write_result
from broker.checking import DocumentChecker
from broker.render import Seal, render_html, render_pdf

ROOT = Path(__file__).resolve().parents[1]
CERTS = ROOT / "certs-example"


def _round(work: Callable[[bytes], Any], documents: list[bytes]) -> float:
    start = process_time()
    for raw in documents:
        work(raw)
    return (process_time() - start) / len(documents)


def run(quick: bool = False) -> dict[str, Any]:
    documents = [p.read_bytes() for p in sorted((ROOT / "examples" / "signed").glob("*.xml"))]
    seal = Seal.from_files([CERTS / "root-ca.pem"], [CERTS / "crl.pem"], ROOT / "examples" / "network.yaml")
    checker = DocumentChecker(seal.trust, seal.registry)
    steps: dict[str, Callable[[bytes], Any]] = {
        "verify": checker.check,
        "html": lambda raw: render_html(raw, trust=seal),
        "pdf": lambda raw: render_pdf(raw, trust=seal),
    }
    for work in steps.values():  # warm-up: imports, WeasyPrint's fonts, the verifier's chain cache
        _round(work, documents[:3])
    rounds = 2 if quick else 5
    times: dict[str, list[float]] = {name: [] for name in steps}
    for i in range(rounds):
        order = list(steps) if i % 2 == 0 else list(reversed(steps))
        for name in order:
            times[name].append(_round(steps[name], documents))
    per_doc = {name: statistics.median(t) for name, t in times.items()}
    record = {
        "documents": len(documents),
        "rounds": rounds,
        "cpu_ms_per_document": {name: round(1000 * v, 3) for name, v in per_doc.items()},
        "html_over_verify": round(per_doc["html"] / per_doc["verify"], 2),
        "pdf_over_verify": round(per_doc["pdf"] / per_doc["verify"], 1),
        "machine": machine_info(),
    }
    print("文书 rendering, process CPU per document (median of rounds over the 41 signed examples)")
    for name, v in per_doc.items():
        print(f"  {name:7} {1000 * v:9.2f} ms")
    print(f"  html / verify = {record['html_over_verify']}, pdf / verify = {record['pdf_over_verify']}")
    write_result("render", record)
    return record


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    run(quick=parser.parse_args().quick)
