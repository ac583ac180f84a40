"""The SM2/SM3 suite against ECDSA P-256 and RSA-2048 (issue 15), all in one run.

    .venv/bin/python -m bench.sm2 [--quick]

(Rates per core are calls per CPU second of the benchmark process, and the hub's is also given
per CPU second of the hub's processes: the machine this was written on was shared, and the
ratios of CPU time held where wall-clock rates did not.)

1. Signatures per second on one core, the three algorithms interleaved round by round over the
   same message (a canonical SignedInfo, ~700 bytes): SM2 with SM3 (tongsuopy, r||s as the profile
   writes it), ECDSA P-256 with SHA-256 and RSA-2048 PKCS#1 v1.5 with SHA-256 (cryptography).
2. Whole documents per second on one core: sealing (DocumentSigner) and checking
   (DocumentChecker: XSD, profile, chain, CRL, signature, rules) of the same notice, RSA vs SM2.
3. The hub's documents per second through Mosquitto (bench/hub_throughput.py's load and
   receivers, hub with two workers) on the RSA network (the example PKI, every suite accepted)
   and on an all-SM2 network (certs-example/sm2 seals, registry ``signature_suites: [sm2]``):
   the hub checks the court's SM2 seal and seals its service receipt with SM2. The networks
   alternate, twice each; the target is SM2 / RSA >= 0.8 (issue 15).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from bench.common import CpuMeter, machine_info, write_result
from bench.hub_throughput import COURT, WARMUP, drive, run_hub
from bench.verify_pipeline import build_document
from broker.checking import DocumentChecker
from broker.documents import codec
from broker.hub.ledger import Ledger
from broker.mosquitto import BrokerSettings, MosquittoProcess, free_port
from broker.parsing.hardened import parse
from broker.registry import load_registry
from broker.restamp import restamp
from broker.sandbox import (
    EXAMPLE_CERTS,
    EXAMPLE_REGISTRY,
    EXAMPLE_SM2_CERTS,
    hub_config,
    registry_with_suites,
)
from broker.signing import DocumentSigner, TrustStore, sm2
from broker.signing.enveloped import canonical

TARGET = 0.8
_DS = "{http://www.w3.org/2000/09/xmldsig#}"
PKI = {"rsa": EXAMPLE_CERTS, "sm2": EXAMPLE_SM2_CERTS}


def _unsigned_notice() -> Any:
    """verify_pipeline's one-measure bank freeze notice (~5.9 KB sealed with RSA), unsealed: the
    same content for every suite (an SM2 seal is ~1.7 KB smaller: a 64-byte value, smaller keys)."""
    root = parse(build_document(1, DocumentSigner.for_unit(EXAMPLE_CERTS / "units" / COURT))[0])
    root.remove(root.find(f"{_DS}Signature"))
    return root


def _notice(signer: DocumentSigner) -> bytes:
    return codec.to_bytes(signer.sign_element(_unsigned_notice()))


def _rate(fn: Callable[[], object], seconds: float) -> float:
    """Calls per CPU second of this process (one thread): on a machine shared with other work,
    wall-clock rates measure the neighbours as much as the code."""
    n, start = 0, time.process_time()
    while (elapsed := time.process_time() - start) < seconds:
        fn()
        n += 1
    return n / elapsed


def _interleaved(cases: dict[str, Callable[[], object]], rounds: int, seconds: float) -> dict[str, float]:
    """Median rate of each case over ``rounds`` rounds, the cases taking turns in each round."""
    for fn in cases.values():
        _rate(fn, seconds / 4)  # warm-up
    rates: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(rounds):
        for name, fn in cases.items():
            rates[name].append(_rate(fn, seconds))
    return {k: round(statistics.median(v)) for k, v in rates.items()}


def primitives(rounds: int, seconds: float) -> dict[str, float]:
    signed = _notice(DocumentSigner.for_unit(PKI["sm2"] / "units" / COURT))
    message = canonical(parse(signed).find(f"{_DS}Signature/{_DS}SignedInfo"))
    sm2_key = sm2.generate_key()
    p256 = ec.generate_private_key(ec.SECP256R1())
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    sm2_sig, p256_sig = sm2.sign(sm2_key, message), p256.sign(message, ec.ECDSA(hashes.SHA256()))
    rsa_sig = rsa_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    sm2_pub, p256_pub, rsa_pub = sm2_key.public_key(), p256.public_key(), rsa_key.public_key()
    result = _interleaved(
        {
            "sm2_sign": lambda: sm2.sign(sm2_key, message),
            "ecdsa_p256_sign": lambda: p256.sign(message, ec.ECDSA(hashes.SHA256())),
            "rsa2048_sign": lambda: rsa_key.sign(message, padding.PKCS1v15(), hashes.SHA256()),
            "sm2_verify": lambda: sm2.verify(sm2_pub, sm2_sig, message),
            "ecdsa_p256_verify": lambda: p256_pub.verify(p256_sig, message, ec.ECDSA(hashes.SHA256())),
            "rsa2048_verify": lambda: rsa_pub.verify(rsa_sig, message, padding.PKCS1v15(), hashes.SHA256()),
        },
        rounds,
        seconds,
    )
    result["message_bytes"] = len(message)
    return result


def documents(rounds: int, seconds: float) -> dict[str, float]:
    registry = load_registry(EXAMPLE_REGISTRY)
    cases: dict[str, Callable[[], object]] = {}
    for suite, pki in PKI.items():
        signer = DocumentSigner.for_unit(pki / "units" / COURT)
        raw = _notice(signer)
        checker = DocumentChecker(TrustStore.from_files([pki / "root-ca.pem"], [pki / "crl.pem"]), registry)
        assert checker.check(raw).ok, (suite, checker.check(raw).codes)
        unsigned = parse(raw)
        unsigned.remove(unsigned.find(f"{_DS}Signature"))
        cases[f"{suite}_seal"] = lambda s=signer, u=unsigned: s.sign_element(u)
        cases[f"{suite}_check"] = lambda c=checker, r=raw: c.check(r)
    return _interleaved(cases, rounds, seconds)


def _seal(pki: Path, n: int) -> list[bytes]:
    signer = DocumentSigner.for_unit(pki / "units" / COURT)
    template = codec.from_element(parse(_notice(signer)))
    return [signer.sign(restamp(template)) for _ in range(n)]


def _wait_ready(port: int, hub: Any, timeout: float = 120.0) -> None:
    """Until the hub's /readyz answers 200 (connected to the broker), then a second for its
    subscription: a document published before that is lost. A fixed sleep was too short for a
    hub starting its workers on a busy machine."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if hub.poll() is not None:
            raise RuntimeError("the hub exited while starting")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
                if answer.status == 200:
                    time.sleep(1.0)
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the hub did not become ready")


def hub_rates(n: int, rounds: int, workers: int = 2) -> dict[str, Any]:
    out: dict[str, list[float]] = {"rsa": [], "sm2": []}
    cpu: dict[str, list[float]] = {"rsa": [], "sm2": []}
    intact = delivered = True
    with tempfile.TemporaryDirectory(prefix="liandong-bench-sm2-") as tmp:
        var = Path(tmp)
        registry = load_registry(EXAMPLE_REGISTRY)
        broker = MosquittoProcess(registry, BrokerSettings.from_certs(EXAMPLE_CERTS, port=free_port(), data_dir=var / "broker")).start()
        registries = {"rsa": EXAMPLE_REGISTRY, "sm2": registry_with_suites(var, ["sm2"])}
        try:
            per_round = WARMUP + n  # each round its own documents: a resent one is a duplicate, never delivered
            docs = {suite: _seal(pki, per_round * rounds) for suite, pki in PKI.items()}
            for r in range(rounds):
                for suite in ("rsa", "sm2"):
                    hub_var = var / f"hub-{suite}-{r}"
                    health = free_port()
                    config = hub_config(
                        registry.hub.code, port=broker.port, var=hub_var, workers=workers,
                        registry=registries[suite], seals=None if suite == "rsa" else PKI["sm2"],
                        health_port=health, health_host="127.0.0.1",
                    )  # fmt: skip
                    path = var / f"hub-{suite}-{r}.yaml"
                    path.write_text(yaml.safe_dump(config.model_dump(mode="json", by_alias=True)))
                    hub = run_hub(path, var / f"hub-{suite}.log")
                    try:
                        _wait_ready(health, hub)
                        mine = docs[suite][r * per_round : (r + 1) * per_round]
                        drive(broker.port, mine[:WARMUP], None)
                        batch = mine[WARMUP:]
                        meter = CpuMeter({"hub": hub.pid})  # the hub with its workers
                        meter.start()
                        flat = drive(broker.port, batch, None)
                        cpu[suite].append(1000 * meter.stop()["hub"] / n)
                    finally:
                        hub.terminate()
                        hub.wait(60)
                    intact &= Ledger(config.ledger.url).verify().ok
                    delivered &= flat["delivered"] == n
                    out[suite].append(flat["rate"])
                    print(
                        f"hub, {suite} network, round {r + 1}: {flat['rate']:,.0f} documents/s,"
                        f" {cpu[suite][-1]:.2f} hub CPU ms per document, {flat['delivered']} of {n} delivered",
                        flush=True,
                    )
        finally:
            broker.stop()
    rsa_rate, sm2_rate = statistics.median(out["rsa"]), statistics.median(out["sm2"])
    rsa_cpu, sm2_cpu = statistics.median(cpu["rsa"]), statistics.median(cpu["sm2"])
    return {
        "documents_per_round": n,
        "rounds": rounds,
        "rsa_network_documents_per_s": round(rsa_rate),
        "sm2_network_documents_per_s": round(sm2_rate),
        "all_rounds": {k: [round(v) for v in vs] for k, vs in out.items()},
        "sm2_vs_rsa": round(sm2_rate / rsa_rate, 3),
        # the hub's CPU (main process and workers) per document: holds on a busy machine where
        # the wall-clock rates do not; documents per hub CPU-second, SM2 over RSA
        "hub_cpu_ms_per_document": {"rsa": round(rsa_cpu, 3), "sm2": round(sm2_cpu, 3)},
        "all_rounds_cpu_ms": {k: [round(v, 3) for v in vs] for k, vs in cpu.items()},
        "sm2_vs_rsa_per_cpu_second": round(rsa_cpu / sm2_cpu, 3),
        "target": TARGET,
        "meets_target": sm2_rate / rsa_rate >= TARGET,
        "ledgers_intact": intact,
        "every_document_delivered": delivered,
    }


def run(quick: bool = False) -> dict[str, Any]:
    seconds, rounds = (0.3, 3) if quick else (1.0, 5)
    prim = primitives(rounds, seconds)
    print("signatures/s, one core:", json.dumps(prim), flush=True)
    docs = documents(rounds, seconds)
    print("documents/s, one core:", json.dumps(docs), flush=True)
    hub = hub_rates(600 if quick else 1000, 1 if quick else 3)
    result = {
        "machine": machine_info(),
        "signatures_per_s": prim,
        "documents_per_s": docs,
        "hub": hub,
    }
    write_result("sm2", result)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (noisier)")
    run(quick=parser.parse_args().quick)


if __name__ == "__main__":
    main()
