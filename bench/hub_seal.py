"""A hub worker's CPU per document, step by step: checking documents with their seals verified
through signxml against verified directly, and sealing the service receipt through signxml
against the profile's signature written directly (issue 16), beside bare signxml verification.

    .venv/bin/python -m bench.hub_seal [--quick]

What is measured, on one core, as thread CPU time (it holds on a machine whose other processes
take turns on the same cores; wall time does not), in rounds whose variants are interleaved:

- bare signxml verification of the benchmark's ~5.9 KB signed bank freeze notice (the baseline
  of bench/hub_throughput.py);
- a hub worker's steps for a batch of 100 such notices (:class:`broker.hub.intake.IntakeChecker`):
  checking (parse, XSD, signature, rules) with the seal verified directly
  (broker/signing/enveloped_verify.py) and, for the same documents, with signxml as the verifier
  called it before (``check_signxml``: the worker's checker with
  :class:`broker.signing.signxml_verify.SignxmlDocumentVerifier`; the two take turns first); the
  intake and the service receipt's draft; and sealing the receipts: with
  :class:`broker.signing.DocumentSigner` (the signature written directly,
  broker/signing/enveloped.py) and with signxml's ``XMLSigner`` as it was used before, for the
  same drafts;
- of the check, the verifier alone (``DocumentVerifier.problems_many`` on the parsed notices, as
  the checker calls it), directly and through signxml, alternating likewise.

Reported: the median over the rounds of each step's milliseconds per document, and the ratios;
a worker per document against bare verification now, with signxml's check (the code before the
direct check), and with signxml's check and seal (before issue 16).
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from signxml import XMLSigner, methods
from signxml.algorithms import DigestAlgorithm, SignatureMethod

from bench.common import machine_info, write_result
from bench.hub_throughput import COURT, bare_verify_cost, seal_documents
from broker.documents import codec
from broker.hub.intake import IntakeChecker, Payload
from broker.hub.notices import Draft, received_now
from broker.parsing.hardened import parse
from broker.registry import load_registry
from broker.sandbox import EXAMPLE_REGISTRY, hub_config
from broker.signing import DocumentSigner
from broker.signing.enveloped import canonical
from broker.signing.profile import EXC_C14N, NSMAP
from broker.signing.signxml_verify import SignxmlDocumentVerifier

BATCH = 100
CHECK_REPEATS = 4
"""Batches checked each way per round (a batch of checks is ~60 ms of CPU: one is noisy)."""


def _signxml_sealer(signer: DocumentSigner) -> Callable[[list[Any]], list[bytes]]:
    """Sealing as DocumentSigner did it before issue 16: one XMLSigner per signature."""

    def seal(drafts: list[Any]) -> list[bytes]:
        out = []
        for draft in drafts:
            xml_signer = XMLSigner(
                method=methods.enveloped,
                signature_algorithm=SignatureMethod(signer._sealer.algorithms.signature_uri),
                digest_algorithm=DigestAlgorithm.SHA256,
                c14n_algorithm=EXC_C14N,
            )
            xml_signer.namespaces = dict(NSMAP)
            root = copy.deepcopy(draft.root) if isinstance(draft, Draft) else codec.to_element(draft)
            key_info = copy.deepcopy(signer._key_info)
            out.append(codec.to_bytes(xml_signer.sign(root, key=signer.key, key_info=key_info, always_add_key_value=False)))
        return out

    return seal


def _cpu_ms(fn: Callable[[], Any], n: int) -> float:
    start = time.thread_time()
    fn()
    return 1000 * (time.thread_time() - start) / n


def run(quick: bool = False, rounds: int | None = None) -> dict[str, Any]:
    rounds = rounds or (3 if quick else 7)
    registry = load_registry(EXAMPLE_REGISTRY)
    config = hub_config(registry.hub.code, port=1, var=Path(tempfile.mkdtemp(prefix="liandong-bench-seal-")), workers=1)
    worker = IntakeChecker(config)
    docs = seal_documents(BATCH)
    payloads = [Payload(i, COURT, raw, received_now()) for i, raw in enumerate(docs)]
    old_seal = _signxml_sealer(worker.notary.signer)
    # the same checker, its verifier checking RSA and ECDSA seals through signxml (as before)
    old_checker = copy.copy(worker.checker)
    verifier = worker.checker.verifier
    assert verifier is not None
    old_checker.verifier = SignxmlDocumentVerifier(verifier.trust, verifier.registry, verifier.settings)
    steps: dict[str, list[float]] = {
        k: []
        for k in (
            "bare_verify", "check", "check_signxml", "verify", "verify_signxml", "intake_and_draft", "seal", "seal_signxml"
        )
    }
    raws, received = [p.raw for p in payloads], [p.received_at for p in payloads]
    # the verifier alone, as the checker calls it (the XSD-valid parsed trees)
    parsed = [(raw, parse(raw), True) for raw in raws]
    old_verifier = old_checker.verifier

    def verify() -> None:
        assert not any(problems for _, problems in verifier.problems_many(parsed))

    def verify_signxml() -> None:
        assert not any(problems for _, problems in old_verifier.problems_many(parsed))
    for n in range(rounds):
        steps["bare_verify"].append(bare_verify_cost(docs[0], 1.0)[1])
        checked: list[Any] = []
        checked_signxml: list[Any] = []
        drafts: list[Any] = []

        def check(out: list[Any] = checked) -> None:
            out[:] = worker.checker.check_many(raws, received_at=received)

        def check_signxml(out: list[Any] = checked_signxml) -> None:
            out[:] = old_checker.check_many(raws, received_at=received)

        def draft(checked: list[Any] = checked, out: list[Any] = drafts) -> None:
            intakes = [worker._intake(p, c) for p, c in zip(payloads, checked)]
            out.extend(worker.draft(i, p) for i, p in zip(intakes, payloads))

        # each pair alternates, CHECK_REPEATS batches each way, the first of the pair changing
        for pair in ([("check", check), ("check_signxml", check_signxml)], [("verify", verify), ("verify_signxml", verify_signxml)]):
            cpu = dict.fromkeys((name for name, _ in pair), 0.0)
            for repeat in range(CHECK_REPEATS):
                for name, fn in pair[:: 1 if (n + repeat) % 2 == 0 else -1]:
                    cpu[name] += _cpu_ms(fn, BATCH) / CHECK_REPEATS
            for name, ms in cpu.items():
                steps[name].append(ms)
        # both accepted every document, and read the same verified content
        assert all(c.ok for c in checked + checked_signxml)
        assert [canonical(c.root) for c in checked] == [canonical(c.root) for c in checked_signxml]
        steps["intake_and_draft"].append(_cpu_ms(draft, BATCH))
        steps["seal"].append(_cpu_ms(lambda drafts=drafts: worker.notary.seal(drafts), BATCH))
        steps["seal_signxml"].append(_cpu_ms(lambda drafts=drafts: old_seal(drafts), BATCH))
    median = {k: round(statistics.median(v), 3) for k, v in steps.items()}
    verify = median["bare_verify"]
    worker_now = median["check"] + median["intake_and_draft"] + median["seal"]
    worker_signxml_check = median["check_signxml"] + median["intake_and_draft"] + median["seal"]
    worker_before = median["check_signxml"] + median["intake_and_draft"] + median["seal_signxml"]
    result = {
        "machine": machine_info(),
        "rounds": rounds,
        "batch": BATCH,
        "cpu_ms_per_document_median": median,
        "cpu_ms_per_document_rounds": {k: [round(x, 3) for x in v] for k, v in steps.items()},
        "seal_signxml_over_direct": round(median["seal_signxml"] / median["seal"], 2),
        "check_signxml_over_direct": round(median["check_signxml"] / median["check"], 2),
        "check_signxml_minus_direct_ms": round(median["check_signxml"] - median["check"], 3),
        "verify_signxml_over_direct": round(median["verify_signxml"] / median["verify"], 2),
        "worker_per_document_over_bare_verify": {
            "now": round(worker_now / verify, 2),
            "signxml_check": round(worker_signxml_check / verify, 2),
            "before": round(worker_before / verify, 2),
        },
    }
    write_result("hub_seal", result)
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=2))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    run(quick=args.quick, rounds=args.rounds)


if __name__ == "__main__":
    main()
