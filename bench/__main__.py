"""``./run bench`` = ``python -m bench``: run every benchmark, then print a summary.

    python -m bench                    # all benchmarks
    python -m bench verify_pipeline    # only the named ones
    python -m bench --quick            # short runs (noisier), e.g. to check the benches still work

Each benchmark prints its own table and writes ``bench/results/<name>.json``; the summary at the
end repeats the headline figure of each. Benchmarks report; they do not fail on a missed target.
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any, Callable

BENCHES: dict[str, str] = {
    "verify_pipeline": "document checks per core: liandong pipeline vs bare signxml (issue 2)",
}
"""Benchmark name (module ``bench.<name>``, which has ``run(quick=...)``) and what it measures."""


def _headline_verify_pipeline(record: dict[str, Any]) -> str:
    r, s = record["results"], record["summary"]
    verdict = "meets" if s["meets_target"] else "BELOW"
    pipeline, bare = r["pipeline"]["median_per_s"], r["bare_signxml"]["median_per_s"]
    return (
        f"pipeline {pipeline:,.0f}/s vs bare signxml {bare:,.0f}/s"
        f" per core = {100 * s['ratio']:.1f} % ({verdict} the {100 * s['target']:.0f} % target);"
        f" XSD: xmlschema {s['xmlschema_over_lxml']:.0f}x slower than lxml"
    )


HEADLINES: dict[str, Callable[[dict[str, Any]], str]] = {"verify_pipeline": _headline_verify_pipeline}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Run liandong's benchmarks.")
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run: " + ", ".join(BENCHES))
    parser.add_argument("--quick", action="store_true", help="short runs (noisier)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(BENCHES)}")
    names = args.names or list(BENCHES)
    summary = []
    for name in names:
        print(f"=== {name}: {BENCHES[name]}\n")
        record = importlib.import_module(f"bench.{name}").run(quick=args.quick)
        summary.append(f"  {name}: {HEADLINES[name](record)}")
        print()
    print("=== summary" + (" (--quick: short runs, noisier)" if args.quick else ""))
    print("\n".join(summary))


if __name__ == "__main__":
    main()
