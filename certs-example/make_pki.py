"""Generate the example PKI of the liandong demo network (示例证书体系，仅供测试).

Reads the member registry (default ``examples/network.yaml``) and writes, under ``certs-example/``:

* ``root-ca.pem``/``.key``        root CA (RSA-3072, pathlen 1)
* ``issuing-ca.pem``/``.key``     issuing CA signed by the root (RSA-3072, pathlen 0)
* ``chain.pem``                   issuing CA then root CA (Mosquitto's cafile)
* ``crl.pem``                     CRL of the issuing CA revoking the bank's ``sign-revoked.pem``
* ``units/<code>/``               for every unit and the hub:
  ``sign.pem``/``.key`` (document-signing certificate, the unit's 电子印章),
  ``tls.pem``/``.key`` (MQTT client certificate, CN = unit code) and ``chain.pem``;
  the bank also gets ``sign-revoked.*``, the first court ``sign-expired.*``
* ``untrusted/``                  an unrelated root and a signing certificate naming the bank
* ``broker/server.pem``/``.key``  the MQTT broker's TLS server certificate for localhost
* ``units/<hub>/instances/<name>/tls.pem``/``.key``  for every hub instance of the registry
  (``hub.instances``): an MQTT client certificate with CN ``<hub code>-<name>``, so several hub
  processes connect with identities of their own (they all sign with the hub's ``sign.*``)

Every key is unencrypted PKCS#8 PEM and an EXAMPLE ONLY. The layout is fixed; keys and serial
numbers are random on every run. Existing output is left alone unless ``--force`` is given, with
one exception: hub instance certificates missing from an otherwise complete PKI (an instance was
added to the registry) are issued by the existing issuing CA, and nothing else is touched.

    .venv/bin/python certs-example/make_pki.py [--force] [--registry FILE] [--out DIR]
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from broker.documents.catalogue import UnitKind
from broker.registry import Registry, load_registry
# the seal profile of `liandong pki issue` (broker/signing/issuing.py)
from broker.signing.issuing import ID_KP_DOCUMENT_SIGNING, SEAL_KEY_USAGE

HERE = Path(__file__).resolve().parent
DEFAULT_REGISTRY = HERE.parent / "examples" / "network.yaml"

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

PKI_ORG = "liandong 示例证书体系 (example PKI)"
ROOT_CN = "liandong Example Root CA (示例根证书，仅供测试)"
ISSUING_CN = "liandong Example Issuing CA (示例签发证书)"
UNTRUSTED_CN = "Untrusted Example Root"
UNTRUSTED_ORG = "Untrusted Example (不受信任的示例)"


def utc(year: int, month: int = 1, day: int = 1) -> datetime:
    return datetime(year, month, day, tzinfo=timezone.utc)


ROOT_VALIDITY = (utc(2024), utc(2050))
ISSUING_VALIDITY = (utc(2024), utc(2049))
LEAF_VALIDITY = (utc(2024), utc(2046))
EXPIRED_VALIDITY = (utc(2020), utc(2021))
CRL_LAST_UPDATE = utc(2025, 6, 1)
CRL_NEXT_UPDATE = utc(2049)


# --- keys, names, files ---------------------------------------------------------------------------


def new_key(algorithm: str) -> PrivateKey:
    """``rsa2048``, ``rsa3072`` or ``p256``."""
    if algorithm == "p256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm.startswith("rsa"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(algorithm[3:]))
    raise ValueError(f"unknown key algorithm {algorithm!r}")


def subject(org: str, common_name: str, unit_code: str | None = None) -> x509.Name:
    """C=CN, O=org, [organizationIdentifier=unit_code,] CN=common_name."""
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
    ]
    if unit_code is not None:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, unit_code))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def pem_key(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def pem_certs(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


class Writer:
    """Writes files below the output directory and prints each one."""

    def __init__(self, out: Path) -> None:
        self.out = out

    def write(self, relative: str, data: bytes) -> None:
        path = self.out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"wrote {path}")

    def pair(self, stem: str, key: PrivateKey, cert: x509.Certificate) -> None:
        self.write(f"{stem}.key", pem_key(key))
        self.write(f"{stem}.pem", pem_certs(cert))


# --- certificates ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issuer:
    cert: x509.Certificate
    key: PrivateKey


@dataclass(frozen=True)
class LeafProfile:
    """Everything that differs between the leaf certificates of this PKI."""

    name: x509.Name
    algorithm: str
    key_usage: frozenset[str]  # KeyUsage keyword arguments to set True
    eku: tuple[x509.ObjectIdentifier, ...]
    validity: tuple[datetime, datetime] = LEAF_VALIDITY
    san: tuple[x509.GeneralName, ...] = ()


def key_usage(*enabled: str) -> x509.KeyUsage:
    flags = dict.fromkeys(
        (
            "digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
            "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only",
        ),
        False,
    )  # fmt: skip
    for name in enabled:
        if name not in flags:
            raise ValueError(f"unknown key usage {name!r}")
        flags[name] = True
    return x509.KeyUsage(**flags)


def base_builder(
    name: x509.Name, key: PrivateKey, issuer: Issuer | None, validity: tuple[datetime, datetime]
) -> x509.CertificateBuilder:
    """Subject, issuer, serial, validity, SKI and (unless self-signed) AKI."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.cert.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer is not None:
        ski = issuer.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
    return builder


def make_ca(
    name: x509.Name, issuer: Issuer | None, path_length: int, validity: tuple[datetime, datetime]
) -> Issuer:
    """An RSA-3072 CA; self-signed when ``issuer`` is None."""
    key = new_key("rsa3072")
    builder = (
        base_builder(name, key, issuer, validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(key_usage("key_cert_sign", "crl_sign"), critical=True)
    )
    cert = builder.sign((issuer.key if issuer else key), hashes.SHA256())
    return Issuer(cert, key)


def make_leaf(profile: LeafProfile, issuer: Issuer) -> tuple[PrivateKey, x509.Certificate]:
    """A fresh key and an end-entity certificate for it, as the profile says."""
    key = new_key(profile.algorithm)
    builder = (
        base_builder(profile.name, key, issuer, profile.validity)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(*profile.key_usage), critical=True)
        .add_extension(x509.ExtendedKeyUsage(list(profile.eku)), critical=False)
    )
    if profile.san:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(profile.san)), critical=False)
    return key, builder.sign(issuer.key, hashes.SHA256())


def signing_profile(
    code: str, name: str, algorithm: str, validity: tuple[datetime, datetime] = LEAF_VALIDITY
) -> LeafProfile:
    """Document-signing certificate (电子印章) naming the unit by organizationIdentifier."""
    return LeafProfile(
        name=subject(name, f"{name} 电子印章", unit_code=code),
        algorithm=algorithm,
        key_usage=SEAL_KEY_USAGE,
        eku=(ID_KP_DOCUMENT_SIGNING,),
        validity=validity,
    )


def tls_usages(algorithm: str) -> frozenset[str]:
    rsa_only = {"key_encipherment"} if algorithm.startswith("rsa") else set()
    return frozenset({"digital_signature", *rsa_only})


def tls_client_profile(code: str, name: str, algorithm: str) -> LeafProfile:
    """MQTT client certificate; the broker takes the CN (the unit code) as the username."""
    return LeafProfile(
        name=subject(name, code),
        algorithm=algorithm,
        key_usage=tls_usages(algorithm),
        eku=(ExtendedKeyUsageOID.CLIENT_AUTH,),
    )


def instance_tls_stem(registry: Registry, instance: str) -> str:
    """Where a hub instance's MQTT client certificate lives (without ``.pem``/``.key``)."""
    return f"units/{registry.hub.code}/instances/{instance}/tls"


def instance_files(registry: Registry) -> list[str]:
    """The files of the hub instances' TLS certificates, relative to the output directory."""
    return sorted(f"{instance_tls_stem(registry, i)}{ext}" for i in registry.hub.instances for ext in (".key", ".pem"))


def write_instance_certs(registry: Registry, issuing: Issuer, out: Writer, only_missing: bool = False) -> None:
    """An MQTT client certificate per hub instance: CN ``<hub code>-<instance>`` (the broker's
    username and client id for that process), the hub's key algorithm."""
    hub = Member(registry.hub.code, registry.hub.name, UnitKind.HUB)
    for instance in registry.hub.instances:
        stem = instance_tls_stem(registry, instance)
        if only_missing and all((out.out / f"{stem}{ext}").exists() for ext in (".key", ".pem")):
            continue
        profile = tls_client_profile(registry.hub.instance_identity(instance), hub.name, algorithm_for(hub))
        out.pair(stem, *make_leaf(profile, issuing))


def unit_files(registry: Registry) -> list[str]:
    """The files of the units' own certificates (seal, TLS, chain), relative to the output directory."""
    return sorted(
        f"units/{u.code}/{name}" for u in registry.units for name in ("sign.key", "sign.pem", "tls.key", "tls.pem", "chain.pem")
    )


def write_unit_certs(registry: Registry, issuing: Issuer, out: Writer, only_missing: bool = False) -> None:
    """A seal and an MQTT client certificate per unit, as :func:`generate` makes them; with
    ``only_missing``, only for units that have none of their files yet (a unit added to the registry)."""
    chain = pem_certs(issuing.cert, x509.load_pem_x509_certificate((out.out / "root-ca.pem").read_bytes()))
    for u in registry.units:
        if only_missing and any((out.out / f"units/{u.code}/{n}").exists() for n in ("sign.pem", "tls.pem")):
            continue
        m = Member(u.code, u.name, u.kind)
        out.pair(f"units/{m.code}/sign", *make_leaf(signing_profile(m.code, m.name, algorithm_for(m)), issuing))
        out.pair(f"units/{m.code}/tls", *make_leaf(tls_client_profile(m.code, m.name, algorithm_for(m)), issuing))
        out.write(f"units/{m.code}/chain.pem", chain)


def load_issuer(out: Path) -> Issuer:
    """The existing issuing CA of the PKI in ``out``."""
    cert = x509.load_pem_x509_certificate((out / "issuing-ca.pem").read_bytes())
    key = serialization.load_pem_private_key((out / "issuing-ca.key").read_bytes(), password=None)
    assert isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey))
    return Issuer(cert, key)


def tls_server_profile(org: str) -> LeafProfile:
    return LeafProfile(
        name=subject(org, "localhost"),
        algorithm="rsa2048",
        key_usage=tls_usages("rsa2048"),
        eku=(ExtendedKeyUsageOID.SERVER_AUTH,),
        san=(x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))),
    )


def make_crl(issuer: Issuer, revoked: Sequence[x509.Certificate]) -> x509.CertificateRevocationList:
    """The issuing CA's CRL, revoking ``revoked`` for keyCompromise on the CRL's date."""
    ski = issuer.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.cert.subject)
        .last_update(CRL_LAST_UPDATE)
        .next_update(CRL_NEXT_UPDATE)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .add_extension(x509.CRLNumber(1), critical=False)
    )
    for cert in revoked:
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(cert.serial_number)
            .revocation_date(CRL_LAST_UPDATE)
            .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
            .build()
        )
        builder = builder.add_revoked_certificate(entry)
    return builder.sign(issuer.key, hashes.SHA256())


# --- the example network --------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    code: str
    name: str
    kind: UnitKind


def members(registry: Registry) -> list[Member]:
    """Every unit, then the hub."""
    units = [Member(u.code, u.name, u.kind) for u in registry.units]
    return [*units, Member(registry.hub.code, registry.hub.name, UnitKind.HUB)]


def algorithm_for(member: Member) -> str:
    """ECDSA P-256 for the hub and the market regulator (both algorithms get exercised), else RSA-2048."""
    return "p256" if member.kind in (UnitKind.HUB, UnitKind.MARKET_REGULATION) else "rsa2048"


def the_one(registry: Registry, kind: UnitKind) -> Member:
    """The first unit of ``kind``."""
    for m in members(registry):
        if m.kind is kind:
            return m
    raise SystemExit(f"the registry has no unit of kind {kind.value}; the example PKI needs one")


def expected_files(registry: Registry) -> list[str]:
    """Every file this script writes, relative to the output directory."""
    pairs = ["root-ca", "issuing-ca", "untrusted/root-ca", "untrusted/sign", "broker/server"]
    for m in members(registry):
        pairs += [f"units/{m.code}/sign", f"units/{m.code}/tls"]
    pairs += [
        f"units/{the_one(registry, UnitKind.BANK).code}/sign-revoked",
        f"units/{the_one(registry, UnitKind.COURT).code}/sign-expired",
    ]
    files = [f"{stem}{ext}" for stem in pairs for ext in (".key", ".pem")]
    files += ["chain.pem", "crl.pem"] + [f"units/{m.code}/chain.pem" for m in members(registry)]
    return sorted(files + instance_files(registry))


def generate(registry: Registry, out: Writer) -> None:
    root = make_ca(subject(PKI_ORG, ROOT_CN), None, 1, ROOT_VALIDITY)
    issuing = make_ca(subject(PKI_ORG, ISSUING_CN), root, 0, ISSUING_VALIDITY)
    chain = pem_certs(issuing.cert, root.cert)
    out.pair("root-ca", root.key, root.cert)
    out.pair("issuing-ca", issuing.key, issuing.cert)
    out.write("chain.pem", chain)

    for m in members(registry):
        algorithm = algorithm_for(m)
        out.pair(f"units/{m.code}/sign", *make_leaf(signing_profile(m.code, m.name, algorithm), issuing))
        out.pair(f"units/{m.code}/tls", *make_leaf(tls_client_profile(m.code, m.name, algorithm), issuing))
        out.write(f"units/{m.code}/chain.pem", chain)

    bank = the_one(registry, UnitKind.BANK)
    bank_profile = signing_profile(bank.code, bank.name, algorithm_for(bank))
    revoked_key, revoked_cert = make_leaf(bank_profile, issuing)
    out.pair(f"units/{bank.code}/sign-revoked", revoked_key, revoked_cert)
    out.write("crl.pem", make_crl(issuing, [revoked_cert]).public_bytes(serialization.Encoding.PEM))

    court = the_one(registry, UnitKind.COURT)
    expired = signing_profile(court.code, court.name, algorithm_for(court), EXPIRED_VALIDITY)
    out.pair(f"units/{court.code}/sign-expired", *make_leaf(expired, issuing))

    untrusted = make_ca(subject(UNTRUSTED_ORG, UNTRUSTED_CN), None, 0, ROOT_VALIDITY)
    out.pair("untrusted/root-ca", untrusted.key, untrusted.cert)
    out.pair("untrusted/sign", *make_leaf(bank_profile, untrusted))

    out.pair("broker/server", *make_leaf(tls_server_profile(registry.hub.name), issuing))
    write_instance_certs(registry, issuing, out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--force", action="store_true", help="regenerate everything, replacing existing files")
    parser.add_argument("--registry", type=Path, default=DEFAULT_REGISTRY, help="member registry (YAML)")
    parser.add_argument("--out", type=Path, default=HERE, help="output directory (default: certs-example/)")
    args = parser.parse_args(argv)

    registry = load_registry(args.registry)
    files = expected_files(registry)
    present = [f for f in files if (args.out / f).exists()]
    if present and not args.force:
        if len(present) == len(files):
            print(f"{args.out}: the example PKI is already there ({len(files)} files); --force regenerates it")
            return 0
        missing = sorted(set(files) - set(present))
        if set(missing) <= set(instance_files(registry)) | set(unit_files(registry)):
            # new hub instances or units in the registry: issue their certificates, touch nothing
            # else (new keys elsewhere would invalidate the signed examples)
            issuing, out = load_issuer(args.out), Writer(args.out)
            write_instance_certs(registry, issuing, out, only_missing=True)
            write_unit_certs(registry, issuing, out, only_missing=True)
            return 0
        print(
            f"{args.out}: incomplete example PKI, missing {', '.join(missing)}; "
            "run with --force to regenerate all of it",
            file=sys.stderr,
        )
        return 1
    generate(registry, Writer(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
