"""What the hub does about a flooding sender (issue 11, item 3): limit, count, sample, alert.

- On arrival, before any parsing: :meth:`FloodGuard.admit` (the sender's rate limit,
  :mod:`broker.hub.rate_limit`); what it drops is *excess*, counted by :meth:`excess`.
- After checking, for every refused payload: :meth:`refused`. Where the line is: a payload
  whose seal was never verified (too large, not XML, not valid against the schema, a bad or
  missing signature) is *garbage*. While its sender is flooding (a flood episode,
  :mod:`broker.hub.rate_limit`), the first ``garbage_samples_per_minute`` of a sender per
  minute get the full rejection record and notice as before, the rest are only counted; a
  sender that is not flooding gets every refusal in full, garbage or not. A
  document whose seal verified and that is refused anyway (business rules, routing, a
  conflicting duplicate) always gets its full record and notice: it is evidence of what a
  known key signed.
- In the ledger transaction of the step: :meth:`write` adds the counts to
  ``rejection_counts`` (:mod:`broker.hub.ledger.rejections_compact`) and returns the flood
  episodes that started, for which the hub sends one AnomalyNotice each to the linkage office
  (003 SPC–MPS 四(五)). Once a minute is over, its totals per sender go into the audit chain as
  one ``rejections_counted`` entry, so the counts are as tamper-evident as the records they
  replace (one entry per sender and minute of a flood, not one per payload).

Memory is bounded by senders, not payloads: counts per sender and minute until written (every
step), sample tallies of the current minute.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from broker.documents import bodies
from broker.documents.document import CHINA_TZ
from broker.hub.config import Limits
from broker.hub.intake import Intake
from broker.hub.ledger import LedgerTx
from broker.hub.ledger.rejections_compact import RejectionCount, add_counts, minute_of
from broker.hub.rate_limit import GateSettings, SenderGate
from broker.logs import event

log = logging.getLogger("liandong.hub")


def is_garbage(result: Intake) -> bool:
    """Refused before its seal was verified (see the module docstring for the line)."""
    return not result.ok and result.signer_fingerprint is None


@dataclass
class FloodEpisode:
    """A sender that started flooding: what the office is told."""

    unit: str
    detected_at: datetime
    refusals: int


class FloodGuard:
    """Per-sender limits, compact counts and flood episodes of one hub (pipeline thread, except
    :meth:`admit`)."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self.gate = SenderGate(
            GateSettings(
                refusal_rate_per_second=limits.refusal_rate_per_second,
                refusal_burst=limits.refusal_burst,
                flood_rate_per_second=limits.flood_rate_per_second,
                flood_burst=limits.flood_burst,
                quiet_seconds=limits.flood_quiet_seconds,
            )
        )
        self._counts: dict[tuple[str, datetime, str], RejectionCount] = {}
        self._samples: dict[tuple[str, datetime], int] = {}
        self._started: list[FloodEpisode] = []
        self._refusals: dict[str, int] = {}
        self.excess_total = 0
        self.compacted_total = 0
        self._last_tick = float("-inf")
        # this hub's totals per (sender, minute) while the minute runs; closed ones go to the chain
        self._totals: dict[tuple[str, datetime], dict[str, Any]] = {}
        self._closing: list[tuple[tuple[str, datetime], dict[str, Any]]] = []

    # --- network thread ---------------------------------------------------------------------

    def admit(self, unit: str) -> bool:
        """Check this payload of ``unit`` (True) or drop it as excess (False)."""
        return self.gate.admit(unit, self.clock())

    # --- pipeline thread --------------------------------------------------------------------

    def excess(self, unit: str, at: datetime, size: int) -> None:
        """Count one payload dropped unchecked."""
        n = self._count(unit, at, "excess")
        n.count += 1
        n.bytes += size
        self._total(unit, at, "excess", size)
        self.excess_total += 1

    def refused(self, unit: str, result: Intake, at: datetime) -> bool:
        """Note a refusal; True when it is garbage beyond this minute's samples, which the
        caller then records only as a count (no rejection record, no notice)."""
        self._refusals[unit] = self._refusals.get(unit, 0) + 1
        if self.gate.refused(unit, self.clock()):
            self._started.append(FloodEpisode(unit, at, self._refusals[unit]))
            event(log, "flood.started", logging.WARNING, unit=unit, refusals=self._refusals[unit])
        if not is_garbage(result) or not self.gate.flooding(unit):
            # A sender that is not flooding gets every refusal in full (record and notice): a
            # court with a bug must learn what is wrong with each document it sent.
            return False
        key = (unit, minute_of(at))
        sampled = self._samples.get(key, 0)
        if sampled < self.limits.garbage_samples_per_minute:
            self._samples[key] = sampled + 1
            return False
        n = self._count(unit, at, "garbage")
        n.count += 1
        n.bytes += result.size
        n.codes.update(p.code for p in result.problems)
        self._total(unit, at, "garbage", result.size)["codes"].update(p.code for p in result.problems)
        self.compacted_total += 1
        return True

    @property
    def pending(self) -> bool:
        """Something for :meth:`write`."""
        return bool(self._counts or self._started or self._closing)

    def write(self, tx: LedgerTx, hub: str | None = None) -> list[FloodEpisode]:
        """Add the counts to the ledger and the totals of minutes that are over to the audit
        chain (``hub``: this instance, named in the entries); return the episodes that started
        since the last write. Call :meth:`written` once the transaction committed."""
        if self._counts:
            add_counts(tx, self._counts.values())
        for (unit, minute), totals in self._closing:
            tx.audit(
                "rejections_counted",
                actor="hub",
                client=unit,
                detail={
                    "minute": minute.isoformat(),
                    "excess": totals["excess"],
                    "garbage": totals["garbage"],
                    "bytes": totals["bytes"],
                    "codes": dict(sorted(totals["codes"].items())),
                    "hub": hub,
                },
                at=minute + timedelta(minutes=1),
            )
        return list(self._started)

    def written(self) -> None:
        """The last :meth:`write` committed: forget what it wrote."""
        self._counts.clear()
        self._started.clear()
        self._closing.clear()

    def close_all(self) -> None:
        """The hub is stopping: every running minute goes to the chain with the next
        :meth:`write` (a restarted hub that counts more of the same minute chains another entry
        for it; ``ledger verify`` adds the entries of a sender's minute up)."""
        self._closing.extend(self._totals.items())
        self._totals.clear()

    def tick(self, now: datetime) -> None:
        """Now and then (the pipeline calls it every step; it works once a second at most):
        end quiet episodes, forget the sample tallies of past minutes."""
        mono = self.clock()
        if mono - self._last_tick < 1.0:
            return
        self._last_tick = mono
        current = minute_of(now)
        for key in [k for k in self._samples if k[1] < current]:
            del self._samples[key]
        for key in [k for k in self._totals if k[1] < current]:
            self._closing.append((key, self._totals.pop(key)))
        for unit, excess, lasted in self.gate.ended(mono):
            self._refusals.pop(unit, None)
            event(log, "flood.ended", unit=unit, excess=excess, seconds=round(lasted, 1))

    def _total(self, unit: str, at: datetime, reason: str, size: int) -> dict[str, Any]:
        key = (unit, minute_of(at))
        totals = self._totals.get(key)
        if totals is None:
            totals = self._totals[key] = {"excess": 0, "garbage": 0, "bytes": 0, "codes": Counter()}
        totals[reason] += 1
        totals["bytes"] += size
        return totals

    def _count(self, unit: str, at: datetime, reason: str) -> RejectionCount:
        key = (unit, minute_of(at), reason)
        n = self._counts.get(key)
        if n is None:
            n = self._counts[key] = RejectionCount(unit, key[1], reason)
        return n


def flood_notice_body(episode: FloodEpisode, limits: Limits, unit_name: str | None) -> bodies.AnomalyNotice:
    """The AnomalyNotice for the office about one flood episode (003 SPC–MPS 四(五))."""
    who = f"{unit_name}（{episode.unit}）" if unit_name else episode.unit
    return bodies.AnomalyNotice(
        kind=bodies.AnomalyKind.SENDER_FLOOD,
        unit=episode.unit,
        detected_at=episode.detected_at.astimezone(CHINA_TZ),
        description=(
            f"{who}发出的报文被枢纽拒收过多（已拒收 {episode.refusals} 份，超过每秒 "
            f"{limits.refusal_rate_per_second:g} 份、连续 {limits.refusal_burst} 份的限额），认定为报文泛滥："
            f"其报文每秒只检查 {limits.flood_rate_per_second:g} 份，其余不予检查，仅计数；"
            f"其他单位的文书照常送达。该单位连续 {limits.flood_quiet_seconds:g} 秒无超额报文后恢复正常处理。"
        ),
    )
