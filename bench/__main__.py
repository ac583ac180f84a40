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
    "verify_cli": "liandong verify on 1,500 files vs bare signxml on them, before and after (issue 11)",
    "hub_throughput": "hub documents/s through Mosquitto vs raw paho and bare verify; latency (issue 3)",
    "hub_scaleout": "one and two hubs on one PostgreSQL ledger, one hub on SQLite, the ledger alone (issue 6)",
    "nats_cluster": "the hub's load and raw paho QoS 1 through a three-node NATS cluster (MQTT 3.1.1) vs Mosquitto (issue 6)",
    "flood": "two courts' service latency and rate alone and while a unit floods garbage; ledger growth, hub memory (issue 11)",
    "backlog": "a bank offline while a court publishes N notices, then back: drain rate vs flat out, deliveries per notice, resends (issue 11)",
    "hub_metrics": "what the hub's /metrics adds to the pipeline per document vs one bare verify; a scrape's cost (issue 12)",
    "gateway": "documents/s and p50/p99 from POST to the service-receipt event through the gateway vs the Python CourtClient (issue 12)",
    "sm2": "SM2 vs ECDSA P-256 vs RSA-2048 signatures and documents per CPU second; the hub on an all-SM2 network vs the RSA network (issue 15)",
    "render": "the 文书's HTML page and PDF per document vs checking it as liandong verify does (issue 13)",
    "hub_seal": "a hub worker's CPU per document by step, sealing via signxml vs written directly, vs bare verify (issue 16)",
    "hub_soak": "the hub at half rate for 30 minutes (--quick: 2): RSS after the first five vs at the end, ledger bytes per document (issue 16)",
}
"""Benchmark name (module ``bench.<name>``, which has ``run(quick=...)``) and what it measures."""


def _headline_verify_pipeline(record: dict[str, Any]) -> str:
    r, s = record["results"], record["summary"]
    verdict = "meets" if s["meets_target"] else "BELOW"
    batched, single, bare = (r[k]["median_per_s"] for k in ("pipeline_batched", "pipeline", "bare_signxml"))
    return (
        f"pipeline {batched:,.0f}/s in batches (the hub), {single:,.0f}/s one by one, vs bare signxml {bare:,.0f}/s"
        f" per core = {100 * s['ratio']:.1f} % ({verdict} the {100 * s['target']:.0f} % target),"
        f" {100 * s['ratio_one_by_one']:.1f} % one by one; XSD: xmlschema {s['xmlschema_over_lxml']:.0f}x slower than lxml"
    )


def _headline_verify_cli(record: dict[str, Any]) -> str:
    r, s = record["results"], record["summary"]
    verdict = "meets" if s["meets_target"] else "BELOW"
    after, before, bare = (r[k]["median_per_s"] for k in ("after", "before", "bare_signxml"))
    return (
        f"liandong verify {after:,.0f} files/s (before {before:,.0f}/s) vs bare signxml {bare:,.0f}/s"
        f" = {100 * s['ratio']:.1f} % ({verdict} the {100 * s['target']:.0f} % target),"
        f" {100 * s['ratio_before']:.1f} % before"
    )


def _headline_hub_throughput(record: dict[str, Any]) -> str:
    cpu = record["cpu_ms_per_document"]
    return (
        f"hub {record['hub_documents_per_s']:,}/s = {record['hub_vs_bare_verify']} of bare verify's"
        f" {record['bare_signxml_verify_per_s']:,}/s (issue 16 target 0.55), CPU"
        f" {record['hub_cpu_vs_bare_verify_cpu']}x bare verify's (target 2.7x), raw paho"
        f" {record['raw_paho_qos1_msgs_per_s']:,}/s; at half rate p50 {record['latency_p50_ms']} ms,"
        f" p99 {record['latency_p99_ms']} ms; CPU ms/document: " + ", ".join(f"{k} {v}" for k, v in cpu.items())
    )


def _headline_hub_scaleout(record: dict[str, Any]) -> str:
    s = {name: v["median_documents_per_s"] for name, v in record["summary"].items()}
    return (
        f"PostgreSQL: one hub {s['pg_1']:,.0f}/s, two hubs {s['pg_2']:,.0f}/s"
        f" ({record['two_hubs_over_one_pg']:.2f}x); SQLite, one hub {s['sqlite_1']:,.0f}/s;"
        f" the ledger alone {s['ledger_1']:,.0f}/s (two writers {record['ledger_two_writers_over_one']:.2f}x)"
    )


def _headline_nats_cluster(record: dict[str, Any]) -> str:
    c = record["cluster"]
    text = (
        f"hub {c['hub_documents_per_s']:,}/s through 3 NATS nodes, raw paho {c['raw_paho_qos1_cross_node_msgs_per_s']:,}/s"
        f" (4 publishers {c['raw_paho_qos1_four_publishers_msgs_per_s']:,}/s); at half rate p50 {c['latency_p50_ms']} ms"
    )
    if "mosquitto" in record:
        m, r = record["mosquitto"], record["cluster_over_mosquitto"]
        text += f"; Mosquitto: hub {m['hub_documents_per_s']:,}/s (cluster {r['hub_documents_per_s']:.2f}x)"
    return text


def _headline_flood(record: dict[str, Any]) -> str:
    a, f, s = record["alone"], record["flood"], record["summary"]
    verdict = "meets" if s["meets_target"] else "BELOW"
    return (
        f"courts alone {a['served_per_s']}/s p99 {a['latency_p99_ms']} ms; during a flood of"
        f" {record['flood_payloads']:,} payloads at {record['flood_acked_per_s']:,}/s: {f['served_per_s']}/s"
        f" ({100 * s['flood_rate_over_alone']:.0f} %) p99 {f['latency_p99_ms']} ms ({verdict} the target);"
        f" ledger +{record['ledger_growth_flood']['audit_entries']:,} entries, hub peak {f['hub_peak_rss_mib']} MiB"
    )


def _headline_backlog(record: dict[str, Any]) -> str:
    verdict = "meets" if record["meets_targets"] else "MISSES"
    return (
        f"{record['notices']:,} notices: drained at {record['drain_per_s']:,}/s = {record['drain_over_flat_out']:.2f}"
        f" of the hub's flat-out {record['hub_flat_out_per_s']:,}/s, {record['deliveries_per_notice']:.2f} deliveries"
        f" per notice, court resends {100 * record['court_resend_share']:.1f} %,"
        f" {record['duplicates_at_hub']:,} duplicates at the hub ({verdict} the targets 0.7, 1.1, 1 %)"
    )


def _headline_hub_metrics(record: dict[str, Any]) -> str:
    verdict = "meets" if record["meets_target"] else "MISSES"
    us, share = record["pipeline_us_per_document"], record["pipeline_share_of_one_verify"]
    return (
        f"metrics add {us['batch_100']} µs/document in batches of 100, {us['batch_1']} µs one by one"
        f" ({100 * share['batch_1']:.2f} % of a bare verify, {verdict} the {100 * record['target_share']:.0f} % target);"
        f" a scrape of {record['scrape_labelled_series']} series {record['scrape_ms']} ms"
    )


def _headline_gateway(record: dict[str, Any]) -> str:
    verdict = "meets" if record["meets_target"] else "BELOW"
    lat = record["latency_ms"]
    return (
        f"gateway {record['gateway_documents_per_s']}/s vs Python client {record['python_documents_per_s']}/s"
        f" = {record['gateway_over_python']:.2f} ({verdict} the {record['target']} target);"
        f" at {record['paced_rate_per_s']}/s p50/p99 gateway {lat['gateway']['p50_ms']}/{lat['gateway']['p99_ms']} ms,"
        f" client {lat['python']['p50_ms']}/{lat['python']['p99_ms']} ms"
    )


def _headline_sm2(record: dict[str, Any]) -> str:
    sig, hub = record["signatures_per_s"], record["hub"]
    verdict = "meets" if hub["meets_target"] else "BELOW"
    return (
        f"sign/verify per CPU s: SM2 {sig['sm2_sign']:,}/{sig['sm2_verify']:,}, P-256 {sig['ecdsa_p256_sign']:,}/"
        f"{sig['ecdsa_p256_verify']:,}, RSA-2048 {sig['rsa2048_sign']:,}/{sig['rsa2048_verify']:,}; hub SM2 network"
        f" {hub['sm2_network_documents_per_s']}/s vs RSA {hub['rsa_network_documents_per_s']}/s = {hub['sm2_vs_rsa']:.2f}"
        f" ({verdict} the {hub['target']} target), {hub['sm2_vs_rsa_per_cpu_second']:.2f} per hub CPU second"
    )


def _headline_render(record: dict[str, Any]) -> str:
    ms = record["cpu_ms_per_document"]
    return (
        f"CPU per document: verify {ms['verify']} ms, HTML {ms['html']} ms ({record['html_over_verify']}x),"
        f" PDF {ms['pdf']} ms ({record['pdf_over_verify']}x)"
    )


def _headline_hub_seal(record: dict[str, Any]) -> str:
    m = record["cpu_ms_per_document_median"]
    return (
        f"seal {m['seal']} ms/document written directly vs {m['seal_signxml']} via signxml"
        f" ({record['seal_signxml_over_direct']}x); a worker = {record['worker_per_document_over_bare_verify']['now']}"
        f" bare verifies per document (was {record['worker_per_document_over_bare_verify']['before']})"
    )


def _headline_hub_soak(record: dict[str, Any]) -> str:
    return (
        f"{record['published']:,} documents at {record['rate']}/s for {record['minutes']:g} min, {record['lost']} lost;"
        f" hub RSS (with workers) {record['hub_tree_rss_mib_warm']} -> {record['hub_tree_rss_mib_end']} MiB"
        f" ({100 * record['hub_tree_rss_growth']:+.1f} %, target <= +10 %);"
        f" ledger {record['ledger_bytes_per_document_after_warm']:,} bytes/document"
    )


HEADLINES: dict[str, Callable[[dict[str, Any]], str]] = {
    "verify_pipeline": _headline_verify_pipeline,
    "verify_cli": _headline_verify_cli,
    "hub_throughput": _headline_hub_throughput,
    "hub_scaleout": _headline_hub_scaleout,
    "nats_cluster": _headline_nats_cluster,
    "flood": _headline_flood,
    "backlog": _headline_backlog,
    "hub_metrics": _headline_hub_metrics,
    "gateway": _headline_gateway,
    "sm2": _headline_sm2,
    "render": _headline_render,
    "hub_seal": _headline_hub_seal,
    "hub_soak": _headline_hub_soak,
}


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
