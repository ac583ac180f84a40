"""Configurations for a local network built from the example PKI: for the demo, the tests and
anyone trying liandong on one machine. Production deployments write their own YAML files
(docs/deployment.md); these functions produce the same models those files load into.
"""

from __future__ import annotations

from pathlib import Path

from broker.configuration import BrokerEndpoint, SealFiles, TrustFiles, UnitConfig
from broker.hub.config import BrokerConnection, HubConfig, Ledger

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_CERTS = ROOT / "certs-example"
EXAMPLE_SM2_CERTS = EXAMPLE_CERTS / "sm2"
"""The SM2 example PKI (seals and their trust only: MQTT stays TLS with EXAMPLE_CERTS)."""
EXAMPLE_REGISTRY = ROOT / "examples" / "network.yaml"


def _trust(certs: Path) -> TrustFiles:
    crl = certs / "crl.pem"
    return TrustFiles(anchors=[certs / "root-ca.pem"], crls=[crl] if crl.exists() else [])


def _seal(unit_dir: Path) -> SealFiles:
    chain = unit_dir / "chain.pem"
    return SealFiles(key=unit_dir / "sign.key", cert=unit_dir / "sign.pem", chain=chain if chain.exists() else None)


def hub_config(
    hub_code: str,
    *,
    port: int,
    var: Path,
    host: str = "127.0.0.1",
    certs: Path = EXAMPLE_CERTS,
    registry: Path = EXAMPLE_REGISTRY,
    ledger_url: str | None = None,
    ledger_schema: str | None = None,
    workers: int = 0,
    instance: str | None = None,
    seals: Path | None = None,
    **overrides: object,
) -> HubConfig:
    """A hub of the example network on ``host:port``, keeping its ledger under ``var``.

    ``instance`` (one of the registry's ``hub.instances``): one of several hub processes, which
    connects with that instance's TLS certificate (CN ``<hub code>-<instance>``) and client id;
    it still seals with the hub's seal. Several hubs need one PostgreSQL ledger and
    ``broker={"shared_group": ...}`` (docs/deployment.md, "Several hubs"). ``seals``: the PKI
    the hub's seal and its trust anchors come from when it is not ``certs`` (EXAMPLE_SM2_CERTS
    for an all-SM2 network; the TLS certificates stay those of ``certs``)."""
    unit_dir = certs / "units" / hub_code
    tls_dir = unit_dir / "instances" / instance if instance else unit_dir
    config = HubConfig(
        registry=registry,
        broker=BrokerConnection(
            host=host,
            port=port,
            ca=certs / "chain.pem",
            cert=tls_dir / "tls.pem",
            key=tls_dir / "tls.key",
            **({"client_id": f"{hub_code}-{instance}"} if instance else {}),
        ),
        identity=_seal((seals or certs) / "units" / hub_code),
        trust=_trust(seals or certs),
        ledger=Ledger(url=ledger_url or f"sqlite:///{var / 'ledger.db'}", schema=ledger_schema),
        workers=workers,
    )
    return _with(config, overrides)


def _with(config: HubConfig, overrides: dict[str, object]) -> HubConfig:
    """``config`` with ``overrides`` merged in (nested dicts merge into sections), validated."""

    def merge(base: dict[str, object], extra: dict[str, object]) -> dict[str, object]:
        out = dict(base)
        for key, value in extra.items():
            current = out.get(key)
            out[key] = merge(current, value) if isinstance(current, dict) and isinstance(value, dict) else value
        return out

    if not overrides:
        return config
    # only what was set: defaults that depend on other settings (broker.shared_group) still apply
    return HubConfig.model_validate(merge(config.model_dump(by_alias=True, exclude_unset=True), overrides))


def unit_config(
    unit: str,
    *,
    port: int,
    var: Path,
    host: str = "127.0.0.1",
    certs: Path = EXAMPLE_CERTS,
    registry: Path = EXAMPLE_REGISTRY,
    resend_after_seconds: float = 30.0,
    seals: Path | None = None,
) -> UnitConfig:
    """A member unit of the example network, keeping its local store under ``var``; ``seals``
    as for :func:`hub_config`."""
    unit_dir = certs / "units" / unit
    return UnitConfig(
        unit=unit,
        registry=registry,
        broker=BrokerEndpoint(
            host=host, port=port, ca=certs / "chain.pem", cert=unit_dir / "tls.pem", key=unit_dir / "tls.key"
        ),
        seal=_seal((seals or certs) / "units" / unit),
        trust=_trust(seals or certs),
        store=var / f"{unit}.db",
        resend_after_seconds=resend_after_seconds,
    )


def registry_with_suites(var: Path, suites: list[str], registry: Path = EXAMPLE_REGISTRY) -> Path:
    """A copy of ``registry`` under ``var`` whose network accepts only ``suites`` (registry
    ``signature_suites``; ``["sm2"]`` for an all-SM2 network)."""
    var.mkdir(parents=True, exist_ok=True)
    out = var / f"network-{'-'.join(suites)}.yaml"
    text = registry.read_text(encoding="utf-8").rstrip("\n")
    out.write_text(f"{text}\n\n# only these seal algorithm suites (docs/signature-profile.md 4.5)\nsignature_suites: [{', '.join(suites)}]\n", encoding="utf-8")
    return out
