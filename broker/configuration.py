"""Configuration sections shared by every component's YAML file (hub, courts, adapters).

Each component's file is a pydantic model built from these sections; relative paths in a file
are resolved against the file's directory (:func:`resolve_paths`), so a deployment directory can
be moved as a whole. Loading reports problems with line numbers (:mod:`broker.yamlfile`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from broker.errors import LiandongError, problem
from broker.signing import DocumentSigner, TrustStore
from broker.yamlfile import load_yaml_model

M = TypeVar("M", bound=BaseModel)


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class BrokerEndpoint(Section):
    """How to reach the MQTT broker, with this component's TLS client certificate."""

    host: str = "127.0.0.1"
    port: int = 8883
    ca: Path = Path("certs-example/chain.pem")
    cert: Path
    key: Path
    session_expiry_seconds: int = 7 * 24 * 3600
    keepalive_seconds: int = 30
    protocol: Literal["5", "3.1.1"] = Field(
        "5", description="MQTT version: 5, or 3.1.1 for a broker without v5 such as NATS (docs/deployment.md)"
    )
    failover: list[str] = Field(
        default_factory=list,
        description="further nodes of a clustered broker, 'host:port': each reconnection tries the next one",
    )

    @field_validator("protocol", mode="before")
    @classmethod
    def _protocol_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value  # YAML reads `protocol: 5` as a number

    @field_validator("failover")
    @classmethod
    def _host_ports(cls, value: list[str]) -> list[str]:
        for item in value:
            _host_port(item)
        return value

    def failover_endpoints(self) -> list[tuple[str, int]]:
        """``failover`` as ``(host, port)`` pairs."""
        return [_host_port(item) for item in self.failover]


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r} is not host:port")
    return host, int(port)


class SealFiles(Section):
    """The component's electronic seal (电子印章): signing key, certificate, chain."""

    key: Path
    cert: Path
    chain: Path | None = None

    def signer(self) -> DocumentSigner:
        return DocumentSigner.from_files(self.key, self.cert, self.chain)


class TrustFiles(Section):
    """Trust anchors and CRLs for verifying other units' seals."""

    anchors: list[Path]
    crls: list[Path] = Field(default_factory=list)
    require_fresh_crls: bool = True
    crl_recheck_seconds: float = Field(default=60.0, ge=0)
    """How often the CRL files are checked for a change (a changed file is re-read in place)."""

    def store(self) -> TrustStore:
        return TrustStore.from_files(
            self.anchors,
            self.crls,
            require_fresh_crls=self.require_fresh_crls,
            crl_recheck_seconds=self.crl_recheck_seconds,
        )


def resolve_paths(model: M, base: Path) -> M:
    """A copy of ``model`` with every relative :class:`Path` made absolute against ``base``,
    and a relative ``sqlite:///`` URL in a field named ``url`` likewise."""

    def fix(value: object, name: str = "") -> object:
        if isinstance(value, Path) and not value.is_absolute():
            return (base / value).resolve()
        if isinstance(value, BaseModel):
            return value.model_copy(update={k: fix(getattr(value, k), k) for k in type(value).model_fields})
        if isinstance(value, list):
            return [fix(v) for v in value]
        if name == "url" and isinstance(value, str):
            prefix = "sqlite:///"
            if value.startswith(prefix) and not value.startswith(prefix + "/") and ":memory:" not in value:
                return prefix + str((base / value[len(prefix):]).resolve())
        return value

    fixed = fix(model)
    assert isinstance(fixed, type(model))
    return fixed


def load_config(path: str | Path, model: type[M], *, code: str, check_files: bool = True) -> M:
    """Load a component's YAML file, validate it, resolve its relative paths, and (unless
    ``check_files`` is false: a tool that reads only part of it) check that every file it names
    can be read (:func:`require_files`)."""
    path = Path(path)
    config = resolve_paths(load_yaml_model(path, model, code=code), path.parent.resolve())
    if check_files:
        require_files(config, code=code)
    return config


CREATED_FILES = frozenset({"store"})
"""Path fields naming a file the component creates (a unit's local store), not one it reads."""


def require_files(config: BaseModel, *, code: str) -> None:
    """Raise :class:`LiandongError` ``code`` naming each file of ``config`` (field and path) that
    cannot be read, all at once; otherwise the first one would surface as an ``OSError`` from
    deep inside the TLS or signing code, without saying which setting it is."""
    problems = []
    for field, path in _named_files(config):
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            problems.append(problem(code, detail=f"{field}: {path}: {exc.strerror}"))
    if problems:
        raise LiandongError(problems)


def _named_files(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, Path]]:
    """``(field, path)`` of every file a configuration names, except :data:`CREATED_FILES`."""
    for name in type(model).model_fields:
        value, where = getattr(model, name), prefix + name
        values = value if isinstance(value, list) else [value]
        for i, item in enumerate(values):
            label = f"{where}[{i}]" if isinstance(value, list) else where
            if isinstance(item, BaseModel):
                yield from _named_files(item, label + ".")
            elif isinstance(item, Path) and name not in CREATED_FILES:
                yield label, item


class UnitConfig(Section):
    """A member unit's connection settings: used by courts (``liandong publish``) and adapters."""

    unit: str = Field(description="the unit's code (unified social credit code)")
    registry: Path
    broker: BrokerEndpoint
    seal: SealFiles
    trust: TrustFiles
    store: Path = Field(Path("var/unit.db"), description="the unit's local SQLite store")
    resend_after_seconds: float = 30.0
    handler_retry_initial_seconds: float = Field(
        1.0, gt=0, description="courts: first wait after the court's handler raised (the adapter SDK has execution.retry_*)"
    )
    handler_retry_max_seconds: float = Field(
        300.0, gt=0, description="courts: longest wait between attempts of a raising handler (backoff doubles up to it)"
    )


def load_unit_config(path: str | Path) -> UnitConfig:
    return load_config(path, UnitConfig, code="UNIT_CONFIG_INVALID")
