"""A throw-away member unit of any kind, for the harness: key, certificate and registry entry.

The example network has one unit of a few kinds only; an adapter for a housing fund, a tax
bureau or a hotel group must still be testable out of the box. When the registry has no unit
of the adapter's kind with keys, :func:`make_throwaway_unit` writes, in a temporary folder:

- ``units/<code>/sign.key``, ``sign.pem``, ``chain.pem``: a document-signing certificate
  (the unit's 电子印章) issued by the example PKI's issuing CA with the seal profile of
  ``liandong pki issue`` (:mod:`broker.signing.issuing`);
- ``network.yaml``: a copy of the registry with the unit added;
- ``acl``: the broker ACL generated from that copy (for tests that also start a broker).

Example keys only: the issuing CA's key must be in the certificate folder (it is in
``certs-example/``; a production PKI never hands it to a test).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from broker.documents.catalogue import UnitKind
from broker.documents.identifiers import make_uscc
from broker.signing import issuing

THROWAWAY_REGION = "445300"
"""云浮 (the example network's region)."""


@dataclass(frozen=True)
class ThrowawayUnit:
    """Where the throw-away unit's files are; :meth:`remove` deletes them."""

    code: str
    kind: UnitKind
    directory: Path
    registry: Path
    acl: Path

    @property
    def unit_dir(self) -> Path:
        """The unit's ``sign.key``/``sign.pem``/``chain.pem`` (the certs-example layout)."""
        return self.directory / "units" / self.code

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def unused_code(taken: set[str], kind: UnitKind) -> str:
    """A valid unified social credit code (GB 32100-2015) no unit of the registry has."""
    base = list(UnitKind).index(kind)
    for n in range(base, base + 10_000_000, 97):
        code = make_uscc(f"12{THROWAWAY_REGION}TW{n:07d}")
        if code not in taken:
            return code
    raise ValueError("no free unit code")  # pragma: no cover - ten million codes


def make_throwaway_unit(kind: UnitKind, certs: str | Path, registry: str | Path) -> ThrowawayUnit:
    """Issue a signing certificate for a new unit of ``kind`` from the PKI in ``certs`` and add
    the unit to a copy of ``registry``, all in a new temporary folder."""
    certs, registry = Path(certs), Path(registry)
    if not (certs / "issuing-ca.key").exists():
        raise ValueError(
            f"no unit of kind {kind.value} in {registry} and no issuing CA key in {certs} to make one: "
            "pass unit= and certs= for a unit with keys"
        )
    data = yaml.safe_load(registry.read_text(encoding="utf-8"))
    taken = {u["code"] for u in data.get("units", [])} | {data["hub"]["code"]}
    code = unused_code(taken, kind)
    name = f"测试单位 {kind.value}"  # the CN adds " 电子印章": within X.509's 64 characters
    data["units"].append({"code": code, "name": name, "kind": kind.value, "region": THROWAWAY_REGION})

    directory = Path(tempfile.mkdtemp(prefix=f"liandong-{kind.value}-"))
    unit = ThrowawayUnit(code, kind, directory, directory / "network.yaml", directory / "acl")
    try:
        # the seal profile of `liandong pki issue` (P-256: fast to make, both algorithms are accepted)
        key, cert = issuing.make_unit_certificate(issuing.CertificateAuthority.load(certs), code, name, "seal")
        unit.unit_dir.mkdir(parents=True)
        (unit.unit_dir / "sign.key").write_bytes(issuing.pem_key(key))
        (unit.unit_dir / "sign.pem").write_bytes(issuing.pem(cert))
        shutil.copyfile(certs / "chain.pem", unit.unit_dir / "chain.pem")
        unit.registry.write_text(
            "# a copy of " + str(registry) + " with a throw-away unit (adapters/sdk/throwaway_unit.py)\n"
            + yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
            encoding="utf-8",
        )
        _write_acl(unit)
    except BaseException:
        unit.remove()
        raise
    return unit


def _write_acl(unit: ThrowawayUnit) -> None:
    from broker.mosquitto.config import render_acl  # the broker's ACL is generated from the registry
    from broker.registry import load_registry

    unit.acl.write_text(render_acl(load_registry(unit.registry)), encoding="utf-8")
