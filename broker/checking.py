"""Where a received document is checked end to end: one pipeline for the hub, the adapters and
the CLI, so every entry point applies the same checks and reports the same codes.

Order: hardened parse (fatal on failure), XSD, signature (profile, chain, revocation, identity),
business rules. Every problem found is reported, not just the first, so a rejected sender sees
all that is wrong at once (issue 3). Rules run on the tree the seal check verified (parsed from
the bytes that were digested, broker/signing/enveloped_verify.py); only when the
signature fails do they run on the input tree, for diagnostics of a document that is rejected
anyway.

No input makes :meth:`DocumentChecker.check_many` raise (issue 11): each step runs under
:class:`broker.check_guard.StepGuard`, which turns an exception no check foresaw into
``CHECK_INTERNAL_ERROR`` for that one document, and the header's times are bounded
(:mod:`broker.parsing.times`) before any arithmetic.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Sequence
from uuid import UUID

from lxml import etree

from broker import rules
from broker.check_guard import StepGuard
from broker.documents import codec
from broker.documents.common import Officer
from broker.documents.document import DocumentType, Header
from broker.documents.xmlmodel import NS
from broker.errors import LiandongError, Problem, problem
from broker.parsing import schema
from broker.parsing.hardened import ParseLimits, parse
from broker.parsing.times import out_of_range, year_in_range
from broker.registry import Registry
from broker.signing.trust import TrustStore
from broker.signing.verifier import DocumentVerifier, VerifiedDocument

_HEADER = etree.XPath("/ld:Document/ld:Header", namespaces={"ld": NS})


@dataclass(frozen=True)
class TimePolicy:
    """How far a document's ``IssuedAt`` may be from the time it reaches the network."""

    max_future: timedelta = timedelta(minutes=5)
    max_past: timedelta = timedelta(days=30)


@dataclass
class CheckedDocument:
    """The outcome of :meth:`DocumentChecker.check`. ``ok`` means no problem at all."""

    raw: bytes
    digest: str
    problems: list[Problem] = field(default_factory=list)
    verified: VerifiedDocument | None = None
    header: Header | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.problems]

    @property
    def root(self) -> etree._Element | None:
        """The verified tree of a document without problems, else None: nothing unverified or
        rejected is handed on. (``verified`` stays available for reporting who signed.)"""
        return self.verified.root if self.verified and self.ok else None


def payload_digest(raw: bytes) -> str:
    """SHA-256 of the bytes as received: what the service receipt and the ledger record."""
    return hashlib.sha256(raw).hexdigest()


_Q = "{" + NS + "}"


def _header(root: etree._Element, schema_valid: bool) -> Header | None:
    found = _HEADER(root)
    if not found:
        return None
    if schema_valid:
        # The XSD has vouched for every field's form, so the header is built without pydantic's
        # validation: it runs for every document on the hub's hot path.
        fast = _header_unchecked(found[0])
        if fast is not None:
            return fast
    try:
        return codec.decode(found[0], Header)
    except LiandongError:
        return None


def _header_unchecked(elem: etree._Element) -> Header | None:
    values: dict[str, str] = {}
    officers = []
    for child in elem:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        if tag == _Q + "Officer":
            fields = {c.tag[len(_Q):]: (c.text or "").strip() for c in child if isinstance(c.tag, str)}
            officers.append(
                Officer.model_construct(
                    name=fields.get("Name", ""),
                    phone=fields.get("Phone", ""),
                    credential_number=fields.get("CredentialNumber", ""),
                )
            )
        else:
            values[tag[len(_Q):]] = (child.text or "").strip()
    try:
        return Header.model_construct(
            document_id=UUID(values["DocumentId"]),
            document_type=DocumentType(values["DocumentType"]),
            sender=values["Sender"],
            recipient=values["Recipient"],
            issued_at=datetime.fromisoformat(values["IssuedAt"]),
            case_number=values.get("CaseNumber"),
            in_reply_to=UUID(values["InReplyTo"]) if "InReplyTo" in values else None,
            deadline=datetime.fromisoformat(values["Deadline"]) if "Deadline" in values else None,
            officers=officers,
        )
    except (KeyError, ValueError):
        return None


class DocumentChecker:
    """Runs the pipeline; build one per process (it holds the trust store and its caches)."""

    def __init__(
        self,
        trust: TrustStore | None,
        registry: Registry | None = None,
        *,
        limits: ParseLimits = ParseLimits(),
        time_policy: TimePolicy = TimePolicy(),
    ):
        self.verifier = DocumentVerifier(trust, registry) if trust is not None else None
        self.registry = registry
        self.limits = limits
        self.time_policy = time_policy

    def check(
        self,
        raw: bytes,
        *,
        signed: bool = True,
        received_at: datetime | None = None,
        today: date | None = None,
    ) -> CheckedDocument:
        """Check ``raw``. With ``signed=False`` only parsing, XSD and rules run (drafts).

        ``received_at`` (the hub's reception time) also bounds how far ``IssuedAt`` may lie from it.
        """
        return self.check_many([raw], signed=signed, received_at=[received_at], today=today)[0]

    def check_many(
        self,
        raws: Sequence[bytes],
        *,
        signed: bool = True,
        received_at: Sequence[datetime | None] | None = None,
        today: date | None = None,
    ) -> list[CheckedDocument]:
        """Check several documents, each exactly as :meth:`check` does, one step at a time over
        all of them: parse them all, then validate them all, and so on.

        Why: each step runs its own code (libxml2, the seal check, the rules) over its own data, and run
        back to back for one document the steps push one another out of the processor's caches.
        Step by step over a batch, the hub's workers checked a document in about four fifths of
        the time (docs/performance.md). ``received_at``: one reception time per document (or None).
        """
        if signed and self.verifier is None:
            raise ValueError("checking signed documents needs a trust store")
        results = [CheckedDocument(raw=raw, digest=payload_digest(raw)) for raw in raws]
        # Every step runs under a guard (broker.check_guard): an exception a step did not foresee
        # becomes CHECK_INTERNAL_ERROR for that one document, whose later steps are skipped
        # (``None`` below), and never escapes to the caller (issue 11).
        guard = StepGuard(results)
        trees: list[etree._Element | None] = [
            guard.run(i, "parse", parse, r.raw, self.limits) for i, r in enumerate(results)
        ]
        valid = []
        for i, (result, root) in enumerate(zip(results, trees)):
            found = guard.run(i, "schema", schema.problems, root) if root is not None else None
            result.problems.extend(found or [])
            valid.append(found == [])
        trees = guard.alive(trees)
        if signed:
            assert self.verifier is not None
            parsed = [i for i, root in enumerate(trees) if root is not None]
            documents = [(results[i].raw, trees[i], valid[i]) for i in parsed]
            outcomes = guard.run_many(parsed, "signature", self.verifier.problems_many, documents)
            for i, outcome in zip(parsed, outcomes):
                if outcome is not None:
                    verified, found = outcome
                    results[i].verified = verified
                    results[i].problems.extend(found)
            trees = guard.alive(trees)
        # Everything after the signature reads the verified tree (the input tree only when the
        # signature failed, for the diagnostics of a document that is rejected anyway).
        read = [r.verified.root if r.verified and tree is not None else tree for r, tree in zip(results, trees)]
        times = received_at if received_at is not None else [None] * len(results)
        for i, (result, tree, schema_valid, at) in enumerate(zip(results, read, valid, times)):
            if tree is not None:
                guard.run(i, "header", self._check_header, result, tree, schema_valid, at)
        read = guard.alive(read)
        for i, (result, tree) in enumerate(zip(results, read)):
            if tree is not None:
                result.problems.extend(guard.run(i, "rules", rules.check, tree, self.registry, today=today) or [])
        return results

    def _check_header(
        self, result: CheckedDocument, tree: etree._Element, schema_valid: bool, received_at: datetime | None
    ) -> None:
        result.header = _header(tree, schema_valid)
        if result.header is None:
            return
        # Header times are bounded before any arithmetic (broker.parsing.times); the verifier has
        # already said so of IssuedAt when it checked the seal.
        fields = (("Header/IssuedAt", result.header.issued_at), ("Header/Deadline", result.header.deadline))
        bounded = True
        for name, value in fields:
            if value is not None and not year_in_range(value):
                bounded = False
                found = out_of_range(name)
                if found not in result.problems:
                    result.problems.append(found)
        if received_at is not None and bounded:
            self._check_time(result, received_at)

    def _check_time(self, result: CheckedDocument, received_at: datetime) -> None:
        assert result.header is not None
        issued = result.header.issued_at
        if issued > received_at + self.time_policy.max_future or issued < received_at - self.time_policy.max_past:
            result.problems.append(
                problem("SIG_TIME_SKEW", issued_at=issued.isoformat(), received_at=received_at.isoformat())
            )
