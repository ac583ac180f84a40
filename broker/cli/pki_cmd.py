"""``liandong pki``: enrol a member unit — key and request, certificate, registry entry.

    liandong pki uscc 91445300MA51000XX          # complete a 17-character prefix / check a code
    liandong pki key --code C --name N --out DIR # P-256 keys and requests: sign.{key,csr}, tls.{key,csr}
    liandong pki issue DIR/sign.csr --ca certs/ --usage seal --code C -o DIR/sign.pem
    liandong pki register --registry R --code C --name N --kind HousingFund --region 445300
    liandong pki enrol --registry R --ca certs/ --code C --name N --kind K --region 445300 --out DIR
    liandong pki enrol ... --suite sm2 --seal-ca certs/sm2/   # an SM2 seal; TLS from --ca

``enrol`` does all of it; then ``kill -HUP`` the broker (``liandong broker run`` rewrites its
ACL) — the hub sees the registry change by itself. See docs/deployment.md, "Enrolling a unit".
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Annotated

import typer

from broker.cli.output import err, fail, out
from broker.documents.identifiers import make_uscc, uscc_check_char, uscc_is_valid
from broker.errors import LiandongError
from broker.registry import load_registry
from broker.registry.edit import add_unit, check_new_unit
from broker.signing import issuing, sm2, sm2_issuing

pki_app = typer.Typer(
    no_args_is_help=True, help="Enrol a member unit: keys, certificate requests, certificates, registry."
)

_PREFIX = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{9}$", re.ASCII)

CodeOpt = Annotated[
    str, typer.Option("--code", help="unified social credit code of the unit (18 characters)")
]
NameOpt = Annotated[str, typer.Option("--name", help="the unit's name (certificate O, registry name)")]
CaOpt = Annotated[
    Path, typer.Option("--ca", help="PKI folder with issuing-ca.pem/.key and chain.pem (like certs-example/)")
]
RegistryOpt = Annotated[
    Path,
    typer.Option("--registry", help="member registry (YAML) to add the unit to", exists=True, dir_okay=False),
]
KindOpt = Annotated[
    str, typer.Option("--kind", help="unit kind, e.g. Bank, HousingFund (see `liandong adapter list`)")
]
RegionOpt = Annotated[
    str, typer.Option("--region", help="administrative division code (GB/T 2260, 6 digits)")
]
ForceOpt = Annotated[bool, typer.Option("--force", help="overwrite existing files")]


def uscc_complete(value: str) -> str:
    """The full code for a 17-character prefix; an 18-character code when valid; else refused."""
    value = value.strip().upper()
    if len(value) == 17 and _PREFIX.match(value):
        return make_uscc(value)
    if len(value) == 18 and _PREFIX.match(value[:17]):
        if uscc_is_valid(value):
            return value
        raise LiandongError.of(
            "PKI_CODE_INVALID", unit_code=f"{value} (check character {uscc_check_char(value[:17])})"
        )
    raise LiandongError.of("PKI_USCC_FORM", value=value)


@pki_app.command()
def uscc(
    value: Annotated[
        str, typer.Argument(help="17-character prefix (prints the code) or 18-character code (checks it)")
    ],
) -> None:
    """Compute or check a unified social credit code's check character (GB 32100-2015)."""
    try:
        out.print(uscc_complete(value))
    except LiandongError as exc:
        fail(exc, 1)


def _write(path: Path, data: bytes, force: bool, private: bool = False) -> None:
    if path.exists() and not force:
        raise LiandongError.of("PKI_FILE_EXISTS", path=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if private:
        os.chmod(path, 0o600)
    out.print(f"wrote {path}")


def make_keys(code: str, name: str, folder: Path, force: bool, suite: str = "ecdsa-p256") -> None:
    """``sign.key``/``sign.csr`` (the seal) and ``tls.key``/``tls.csr`` (the broker login).
    ``suite`` ``sm2``: the seal's key is SM2 (docs/signature-profile.md 4.7); TLS stays P-256."""
    for usage, stem in (("seal", "sign"), ("tls", "tls")):
        if not force:
            for ext in (".key", ".csr"):
                if (folder / f"{stem}{ext}").exists():
                    raise LiandongError.of("PKI_FILE_EXISTS", path=str(folder / f"{stem}{ext}"))
    for usage, stem in (("seal", "sign"), ("tls", "tls")):
        if usage == "seal" and suite == "sm2":
            sm2_key = sm2.generate_key()
            _write(folder / f"{stem}.key", sm2.private_key_pem(sm2_key), force, private=True)
            _write(folder / f"{stem}.csr", issuing.pem(sm2_issuing.make_request(sm2_key, code, name)), force)
            continue
        key = issuing.new_key()
        csr = issuing.make_request(key, code, name, usage)  # type: ignore[arg-type]
        _write(folder / f"{stem}.key", issuing.pem_key(key), force, private=True)
        _write(folder / f"{stem}.csr", issuing.pem(csr), force)


@pki_app.command()
def key(
    code: CodeOpt,
    name: NameOpt,
    out_dir: Annotated[Path, typer.Option("--out", help="folder for the keys and requests")],
    force: ForceOpt = False,
    suite: Annotated[
        str, typer.Option("--suite", help="the seal's algorithm: ecdsa-p256 or sm2 (SM2/SM3; TLS stays P-256)")
    ] = "ecdsa-p256",
) -> None:
    """Make the unit's keys and certificate requests (seal and TLS); keys stay with the unit."""
    if suite not in ("ecdsa-p256", "sm2"):
        raise typer.BadParameter("ecdsa-p256 or sm2", param_hint="--suite")
    try:
        issuing.make_request(issuing.new_key(), code, name, "seal")  # refuses a bad code before any file
        make_keys(code, name, out_dir, force, suite)
    except LiandongError as exc:
        fail(exc)


@pki_app.command()
def issue(
    request: Annotated[
        Path, typer.Argument(help="the unit's certificate request (PEM)", exists=True, dir_okay=False)
    ],
    ca: CaOpt,
    output: Annotated[Path, typer.Option("-o", "--output", help="certificate file to write (PEM)")],
    usage: Annotated[
        str, typer.Option("--usage", help="seal (电子印章, document signing) or tls (broker login)")
    ] = "seal",
    code: Annotated[
        str | None, typer.Option("--code", help="refuse the request unless it names this unit")
    ] = None,
    days: Annotated[
        int, typer.Option("--days", min=1, help="validity (cut to the CA's own)")
    ] = issuing.DEFAULT_VALIDITY_DAYS,
    force: ForceOpt = False,
) -> None:
    """Issue a certificate from the network CA for a unit's request, with the fixed profile."""
    if usage not in ("seal", "tls"):
        raise typer.BadParameter("seal or tls", param_hint="--usage")
    try:
        csr = issuing.load_request(request.read_bytes(), str(request))
        cert = issuing.issue(csr, issuing.CertificateAuthority.load(ca), usage, expect_code=code, days=days)  # type: ignore[arg-type]
        _write(output, issuing.pem(cert), force)
    except LiandongError as exc:
        fail(exc)


@pki_app.command("register")
def register_unit(
    registry: RegistryOpt, code: CodeOpt, name: NameOpt, kind: KindOpt, region: RegionOpt
) -> None:
    """Add a unit to the registry file (comments kept); refuses duplicates and unknown kinds."""
    try:
        unit = add_unit(registry, {"code": code, "name": name, "kind": kind, "region": region})
    except LiandongError as exc:
        fail(exc)
    out.print(f"added {unit.code} ({unit.kind.value}) to {registry}")


@pki_app.command()
def enrol(
    registry: RegistryOpt,
    ca: CaOpt,
    code: CodeOpt,
    name: NameOpt,
    kind: KindOpt,
    region: RegionOpt,
    out_dir: Annotated[Path, typer.Option("--out", help="the unit's folder: sign.*, tls.*, chain.pem")],
    force: ForceOpt = False,
    suite: Annotated[
        str, typer.Option("--suite", help="the seal's algorithm: ecdsa-p256 or sm2 (SM2/SM3; TLS stays P-256)")
    ] = "ecdsa-p256",
    seal_ca: Annotated[
        Path | None,
        typer.Option(
            "--seal-ca",
            help="PKI folder of the CA that issues the seal (default: --ca); "
            "for --suite sm2 the SM2 CA, like certs-example/sm2",
        ),
    ] = None,
) -> None:
    """The whole flow: keys and requests, both certificates, the CA chain, the registry entry."""
    if suite not in ("ecdsa-p256", "sm2"):
        raise typer.BadParameter("ecdsa-p256 or sm2", param_hint="--suite")
    try:
        enrol_unit(registry, ca, code, name, kind, region, out_dir, force, suite=suite, seal_ca=seal_ca)
    except LiandongError as exc:
        fail(exc)
    out.print(
        f"enrolled {code}: reload the broker (SIGHUP to `liandong broker run`); the hub follows the registry file"
    )


def enrol_unit(
    registry: Path,
    ca: Path,
    code: str,
    name: str,
    kind: str,
    region: str,
    folder: Path,
    force: bool = False,
    *,
    suite: str = "ecdsa-p256",
    seal_ca: Path | None = None,
) -> None:
    """Everything is checked (code, kind, duplicate, CA files, the seal CA's suite) before the
    first file is written.

    ``suite`` ``sm2`` (docs/signature-profile.md 4.7): the seal is an SM2 key certified by
    ``seal_ca`` (an SM2 CA, like certs-example/sm2) and ``chain.pem`` is that CA's chain, which
    the seal travels with; the TLS certificate still comes from ``ca`` (the MQTT link stays TLS
    with P-256 or RSA, TLCP is out of scope)."""
    entry = {"code": code, "name": name, "kind": kind, "region": region}
    issuing.make_request(issuing.new_key(), code, name, "seal")  # PKI_CODE_INVALID first
    check_new_unit(load_registry(registry), entry)
    seal_ca = seal_ca or ca
    authorities = {"tls": issuing.CertificateAuthority.load(ca), "seal": issuing.CertificateAuthority.load(seal_ca)}
    for folder_ca in {ca, seal_ca}:
        if not (folder_ca / "chain.pem").is_file():
            raise LiandongError.of("PKI_CA_MISSING", files=str(folder_ca / "chain.pem"))
    ca_suite = "sm2" if sm2.is_sm2_private_key(authorities["seal"].key) else "rsa/ecdsa-p256"
    if (ca_suite == "sm2") != (suite == "sm2"):  # found now, not by `issue` after the keys were written
        raise LiandongError.of("PKI_CA_SUITE", ca=str(seal_ca), ca_suite=ca_suite, suite=suite)
    make_keys(code, name, folder, force, suite)
    for usage, stem in (("seal", "sign"), ("tls", "tls")):
        csr = issuing.load_request((folder / f"{stem}.csr").read_bytes(), str(folder / f"{stem}.csr"))
        _write(
            folder / f"{stem}.pem",
            issuing.pem(issuing.issue(csr, authorities[usage], usage, expect_code=code)),  # type: ignore[arg-type]
            force,
        )
    shutil.copyfile(seal_ca / "chain.pem", folder / "chain.pem")  # the seal's chain (SealFiles.chain)
    add_unit(registry, entry)
    err.print(f"added {code} ({kind}) to {registry}")


def register(app: typer.Typer) -> None:
    app.add_typer(pki_app, name="pki")
