"""Generate the SM2 example PKI (国密示例证书体系，仅供测试) under ``certs-example/sm2/``.

The same layout and profiles as ``make_pki.py``, with SM2 keys and SM2-with-SM3 signatures
(broker/signing/sm2_issuing.py), for a network whose seals are all SM2:

* ``root-ca.pem``/``.key``, ``issuing-ca.pem``/``.key``, ``chain.pem`` (issuing CA then root)
* ``crl.pem``: the issuing CA's CRL revoking the bank's ``sign-revoked.pem`` (keyCompromise)
* ``units/<code>/sign.pem``/``.key``/``chain.pem`` for every unit and the hub; the bank also gets
  ``sign-revoked.*``, the first court ``sign-expired.*`` (2020-2021)
* ``untrusted/root-ca.*`` and ``untrusted/sign.*`` (an unrelated SM2 root, a seal naming the bank)

MQTT client and broker certificates are not made here: the transport stays TLS with the
certificates of ``make_pki.py`` (TLCP, GB/T 38636, is out of scope; docs/signature-profile.md).
Every key is an EXAMPLE ONLY. Existing output is left alone unless ``--force`` is given.

    .venv/bin/python certs-example/make_sm2_pki.py [--force] [--registry FILE] [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from broker.documents.catalogue import UnitKind
from broker.registry import load_registry
from broker.signing import sm2, sm2_issuing

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # make_pki.py, beside this script: the same writer and validity windows
from make_pki import (  # noqa: E402
    CRL_LAST_UPDATE,
    CRL_NEXT_UPDATE,
    EXPIRED_VALIDITY,
    ISSUING_VALIDITY,
    LEAF_VALIDITY,
    ROOT_VALIDITY,
    Writer,
)

DEFAULT_REGISTRY = HERE.parent / "examples" / "network.yaml"
PKI_ORG = "liandong 国密示例证书体系 (example SM2 PKI)"


def name(org: str, common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


class Sm2Writer(Writer):
    """make_pki.py's writer, for SM2 keys."""

    def pair(self, stem: str, key: sm2.Sm2PrivateKey, *certs: x509.Certificate) -> None:
        self.write(f"{stem}.key", sm2.private_key_pem(key))
        self.write(f"{stem}.pem", pem(*certs))


def pem(*objs: x509.Certificate | x509.CertificateRevocationList) -> bytes:
    return b"".join(o.public_bytes(serialization.Encoding.PEM) for o in objs)


def generate(registry_file: Path, out: Writer) -> None:
    registry = load_registry(registry_file)
    root_key, issuing_key = sm2.generate_key(), sm2.generate_key()
    root = sm2_issuing.ca_certificate(name(PKI_ORG, "liandong SM2 Example Root CA (国密示例根证书)"), root_key, None, 1, ROOT_VALIDITY)
    issuing = sm2_issuing.ca_certificate(
        name(PKI_ORG, "liandong SM2 Example Issuing CA (国密示例签发证书)"), issuing_key, (root, root_key), 0, ISSUING_VALIDITY
    )
    out.pair("root-ca", root_key, root)
    out.pair("issuing-ca", issuing_key, issuing)
    out.write("chain.pem", pem(issuing, root))
    ca = (issuing, issuing_key)

    members = [(u.code, u.name, u.kind) for u in registry.units] + [(registry.hub.code, registry.hub.name, UnitKind.HUB)]
    for code, unit_name, _ in members:
        key = sm2.generate_key()
        out.pair(f"units/{code}/sign", key, sm2_issuing.seal_certificate(code, unit_name, key.public_key(), ca, validity=LEAF_VALIDITY))
        out.write(f"units/{code}/chain.pem", pem(issuing, root))

    bank = next(m for m in members if m[2] is UnitKind.BANK)
    court = next(m for m in members if m[2] is UnitKind.COURT)
    revoked_key = sm2.generate_key()
    revoked = sm2_issuing.seal_certificate(bank[0], bank[1], revoked_key.public_key(), ca, validity=LEAF_VALIDITY)
    out.pair(f"units/{bank[0]}/sign-revoked", revoked_key, revoked)
    crl = sm2_issuing.crl(ca, [(revoked, CRL_LAST_UPDATE, x509.ReasonFlags.key_compromise)], CRL_LAST_UPDATE, CRL_NEXT_UPDATE)
    out.write("crl.pem", pem(crl))
    expired_key = sm2.generate_key()
    expired = sm2_issuing.seal_certificate(court[0], court[1], expired_key.public_key(), ca, validity=EXPIRED_VALIDITY)
    out.pair(f"units/{court[0]}/sign-expired", expired_key, expired)

    other_key = sm2.generate_key()
    other = sm2_issuing.ca_certificate(name("Untrusted SM2 Example (不受信任的示例)", "Untrusted SM2 Root"), other_key, None, 0, ROOT_VALIDITY)
    out.pair("untrusted/root-ca", other_key, other)
    forged_key = sm2.generate_key()
    forged = sm2_issuing.seal_certificate(bank[0], bank[1], forged_key.public_key(), (other, other_key), validity=LEAF_VALIDITY)
    out.pair("untrusted/sign", forged_key, forged)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="regenerate even if the files exist")
    parser.add_argument("--registry", type=Path, default=DEFAULT_REGISTRY)
    parser.add_argument("--out", type=Path, default=HERE / "sm2")
    args = parser.parse_args(argv)
    if (args.out / "root-ca.pem").exists() and not args.force:
        print(f"{args.out} exists; use --force to regenerate")
        return 0
    generate(args.registry, Sm2Writer(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
