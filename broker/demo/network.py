"""A whole network on this machine: Mosquitto with the generated TLS configuration, the hub on
SQLite, every reference adapter, three courts and the linkage office, and a housing fund centre
served only through its gateway by a curl script (:mod:`broker.demo.curl_unit`) — for ``liandong demo``.

Everything is started from the example PKI and registry (``certs-example/``,
``examples/network.yaml``) with its state in one working directory, and stopped again by
:meth:`LocalNetwork.stop` (the child processes are Mosquitto, and the housing fund centre's gateway
and script; the rest runs in this process).
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from broker.court import CourtClient
from broker.demo.curl_unit import CurlUnit
from broker.hub.service import Hub
from broker.mosquitto import BrokerSettings, MosquittoProcess, free_port
from broker.registry import Registry, load_registry
from broker.sandbox import EXAMPLE_CERTS, EXAMPLE_REGISTRY, EXAMPLE_SM2_CERTS, hub_config, registry_with_suites, unit_config
from broker.transport.unit import Received, UnitClient

COURT_A = "11445300MB0000001W"  # 云浮市中级人民法院
COURT_B = "11421022MB0000002J"  # 公安县人民法院
COURT_C = "11440000MB0000010D"  # 广东省高级人民法院, COURT_A's superior court (003 事项委托 art. 13)
BANK = "91445300MA5100003A"
POLICE = "11445300MB00000046"
REGISTRY = "12445300MB00000056"
MARKET = "11445300MB0000006C"
CREDIT = "11100000MB0000007D"
HOUSING_FUND = "12445300MB0000010P"  # 云浮市住房公积金管理中心: curl and jq through its gateway


class Recorder:
    """A handler that keeps what a unit received and lets the caller wait for it."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.counts: collections.Counter[str] = collections.Counter()
        self._cond = threading.Condition()
        self.also: Callable[[Received], None] | None = None

    def __call__(self, received: Received) -> None:
        with self._cond:
            self.counts[received.document_id] += 1
            self.received.append(received)
            self._cond.notify_all()
        if self.also is not None:
            self.also(received)

    def of_type(self, doc_type: str) -> list[Received]:
        with self._cond:
            return [r for r in self.received if r.doc_type == doc_type]

    def wait_for(self, predicate: Callable[["Recorder"], Any], timeout: float, what: str) -> Any:
        """Wait until ``predicate(self)`` is truthy and return its value; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate(self)
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
                self._cond.wait(min(remaining, 0.2))

    def answer_to(self, document_id: str, doc_type: str, timeout: float = 30.0) -> Received:
        """Wait for a document of ``doc_type`` answering ``document_id``."""
        return self.wait_for(
            lambda r: next((x for x in r.of_type(doc_type) if x.in_reply_to == document_id), None),
            timeout,
            f"a {doc_type} answering {document_id}",
        )


@dataclass
class Party:
    """A court or the office: its client and what it received."""

    code: str
    name: str
    recorder: Recorder
    court: CourtClient | None = None
    unit: UnitClient | None = None

    @property
    def client(self) -> UnitClient:
        assert self.court is not None or self.unit is not None
        return self.court.unit if self.court is not None else self.unit  # type: ignore[return-value, union-attr]


@dataclass
class LocalNetwork:
    workdir: Path
    clock_start: datetime
    registry: Registry = field(default_factory=lambda: load_registry(EXAMPLE_REGISTRY))
    broker: MosquittoProcess | None = None
    hub: Hub | None = None
    parties: dict[str, Party] = field(default_factory=dict)
    adapters: dict[str, Any] = field(default_factory=dict)
    registry_file: Path = EXAMPLE_REGISTRY
    seals: Path = EXAMPLE_CERTS
    """The PKI every seal and trust anchor comes from (TLS always uses EXAMPLE_CERTS)."""

    @classmethod
    def for_suite(cls, workdir: Path, clock_start: datetime, suite: str = "rsa") -> "LocalNetwork":
        """The example network; ``sm2``: every seal SM2 (certs-example/sm2) and the registry
        accepting only SM2 (docs/signature-profile.md 4.7)."""
        if suite == "rsa":
            return cls(workdir, clock_start)
        registry_file = registry_with_suites(workdir / "registry", ["sm2"])
        return cls(workdir, clock_start, load_registry(registry_file), registry_file=registry_file, seals=EXAMPLE_SM2_CERTS)
    desk: Any = None  # broker.demo.desk.Desk once a unit is served by the console's manual desk
    curl_unit: CurlUnit | None = None

    @property
    def office(self) -> Party:
        return self.parties[self.registry.office]

    def start(self, on_step: Callable[[str], None] = lambda _: None) -> None:
        port = free_port()
        self.broker = MosquittoProcess(
            self.registry, BrokerSettings.from_certs(EXAMPLE_CERTS, port=port, data_dir=self.workdir / "broker")
        ).start()
        on_step(f"Mosquitto on 127.0.0.1:{port} (TLS, client certificates, per-unit ACL)")
        self.hub = Hub(
            hub_config(
                self.registry.hub.code,
                port=port,
                var=self.workdir / "hub",
                workers=0,
                registry=self.registry_file,
                seals=self.seals,
                delivery={"ack_timeout_seconds": 5},
                supervision={"scan_interval_seconds": 0.5, "clock_start": self.clock_start.isoformat()},
            )
        )
        self.hub.start()
        on_step(f"hub {self.registry.hub.code} with its ledger in {self.workdir / 'hub' / 'ledger.db'}")
        if self.seals != EXAMPLE_CERTS:
            on_step(f"every seal SM2/SM3 ({self.seals.name}/), the registry accepting only {', '.join(self.registry.signature_suites)}")
        for code in (COURT_A, COURT_B, COURT_C):
            recorder = Recorder()
            court = CourtClient(self._unit_config(code), handler=recorder)
            court.unit.start()
            self.parties[code] = Party(code, self._name(code), recorder, court=court)
        office_recorder = Recorder()
        office = self._unit_client(self.registry.office, office_recorder)
        office.start()
        self.parties[self.registry.office] = Party(self.registry.office, self._name(self.registry.office), office_recorder, unit=office)
        on_step("three courts and the linkage office connected")
        for name in ("bank", "realestate", "police", "market", "credit"):
            self.start_adapter(name)
        on_step("adapters: bank, real-estate registry, public security, market regulation, credit platform")
        self.curl_unit = CurlUnit(self._unit_config(HOUSING_FUND), self.workdir / "housing-fund")
        self.curl_unit.start()
        on_step(
            f"housing fund centre: its gateway on {self.curl_unit.base}, answered by a shell script "
            "with curl and jq (no Python)"
        )

    def start_adapter(self, name: str) -> Any:
        from adapters.sdk import AdapterService, ExecutionSettings, load_adapter, load_adapter_config

        cls = load_adapter(name)
        unit = {"bank": BANK, "realestate": REGISTRY, "police": POLICE, "market": MARKET, "credit": CREDIT}[name]
        settings: dict[str, Any] = {"demo": True}
        if name == "realestate":
            settings["archive_retrieval_seconds"] = 1.5  # the paper archive, so one answer takes an extension
        config = load_adapter_config(
            cls,
            None,
            unit=self._unit_config(unit),
            adapter=cls.settings_model(**settings),
            execution=ExecutionSettings(idle_poll_seconds=0.2),
        )
        service = AdapterService(cls, config)
        service.start()
        self.adapters[name] = service
        return service

    def stop_adapter(self, name: str) -> None:
        service = self.adapters.pop(name, None)
        if service is not None:
            service.stop()

    def start_desk(self, code: str) -> Any:
        """Serve ``code`` from the console's manual desk from now on (its adapter stopped first)."""
        from broker.demo.desk import Desk

        self.desk = Desk.start(
            self._unit_config(code).model_dump(mode="json"),
            self.workdir / "desk",
            f"sqlite:///{self.workdir / 'hub' / 'ledger.db'}",
            office=self.registry.office,
            court=COURT_A,
        )
        return self.desk

    def stop(self) -> None:
        if self.desk is not None:
            self.desk.stop()
            self.desk = None
        if self.curl_unit is not None:
            self.curl_unit.stop()
            self.curl_unit = None
        for name in list(self.adapters):
            self.stop_adapter(name)
        for party in self.parties.values():
            try:
                party.client.stop()
            except Exception:  # noqa: BLE001 - stopping must go on whatever one client does
                pass
        self.parties.clear()
        if self.hub is not None:
            self.hub.stop()
            self.hub = None
        if self.broker is not None:
            self.broker.stop()
            self.broker = None

    def _unit_config(self, code: str):  # type: ignore[no-untyped-def]
        assert self.broker is not None
        return unit_config(
            code, port=self.broker.port, var=self.workdir / "units", resend_after_seconds=5,
            registry=self.registry_file, seals=self.seals,
        )  # fmt: skip

    def _unit_client(self, code: str, handler: Recorder) -> UnitClient:
        config = self._unit_config(code)
        return UnitClient(
            code,
            host=config.broker.host,
            port=config.broker.port,
            trust=config.trust.store(),
            registry=self.registry,
            store=config.store,
            handler=handler,
            tls=(config.broker.cert, config.broker.key),
            cafile=config.broker.ca,
        )

    def _name(self, code: str) -> str:
        unit = self.registry.unit(code)
        return unit.name if unit else code
