"""Trust decisions about signing certificates: chain, validity, key usage, revocation.

The certificates inside a signature's KeyInfo are only candidates: a chain is accepted when
cryptography's X.509 path validation builds it to one of the configured trust anchors.
signxml does no revocation checking; this module checks every certificate of the chain
against the configured CRLs (issue 2, "Signatures"). Each failure has its own error code.

Validated chains are cached by their DER bytes together with the window in which every
certificate of the chain is valid.

Revocation policy (docs/security.md, 4.10): once any CRL is configured, the issuer of every
signing certificate must have one (``CRL_MISSING``), as Mosquitto requires for TLS clients; with
no CRL at all, revocation is not checked and the store says so once in the log. CRL files are
re-read when they change (checked at most every ``crl_recheck_seconds``), so a revocation
reaches a running hub or adapter without a restart.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Sequence

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import verification as xv

from broker.errors import LiandongError, problem
from broker.logs import event
from broker.signing import sm2, sm2_chain
from broker.signing.certificate_der import extension_name, malformed_extension, public_key_curve
from broker.signing.keys import load_certificates
from broker.signing.profile import ALLOWED_CURVES, DOCUMENT_SIGNING_EKU, MIN_RSA_BITS

_COMPROMISE = {x509.ReasonFlags.key_compromise, x509.ReasonFlags.ca_compromise}
_PEM_CRL = re.compile(rb"-----BEGIN X509 CRL-----.+?-----END X509 CRL-----", re.DOTALL)

log = logging.getLogger(__name__)


def load_crls(path: str | Path) -> list[x509.CertificateRevocationList]:
    """Every CRL of a PEM file (one file may hold the CRLs of several CAs), in file order."""
    data = Path(path).read_bytes()
    blocks = _PEM_CRL.findall(data)
    if not blocks:
        raise ValueError(f"{path}: no PEM CRL found")
    return [x509.load_pem_x509_crl(b) for b in blocks]


@dataclass(frozen=True)
class ValidatedChain:
    """A chain from the signer (first) to a trust anchor (last), valid in [not_before, not_after]."""

    chain: tuple[x509.Certificate, ...]
    not_before: datetime
    not_after: datetime
    issuer_names: tuple[bytes, ...] = ()
    """DER of each issuer's subject, to find its CRLs without encoding names per document."""

    @property
    def leaf(self) -> x509.Certificate:
        return self.chain[0]


def _issuer_names(chain: Sequence[x509.Certificate]) -> tuple[bytes, ...]:
    return tuple(issuer.subject.public_bytes() for issuer in chain[1:])


def _utc(at: datetime) -> datetime:
    return at.astimezone(timezone.utc) if at.tzinfo else at.replace(tzinfo=timezone.utc)


def _fail(code: str, **params: object) -> LiandongError:
    return LiandongError([problem(code, **params)])


def check_signing_key(cert: x509.Certificate) -> None:
    """RSA of at least 2048 bits or ECDSA on P-256 (docs/signature-profile.md).

    The key is untrusted input: a curve cryptography does not know (SM2, explicit parameters)
    and a point off its curve each get their own code rather than escaping as an exception."""
    try:
        key = cert.public_key()
    except UnsupportedAlgorithm:
        curve = public_key_curve(cert)
        if curve is not None and curve.startswith("SM2"):
            # the SM2/SM3 suite: cryptography cannot load the key, tongsuopy checks the point
            try:
                sm2.certificate_public_key(cert)
            except ValueError as exc:
                raise _fail("CERT_KEY_INVALID", detail=str(exc)[:200]) from None
            return
        if curve is not None:
            raise _fail("CERT_CURVE_UNSUPPORTED", curve=curve) from None
        raise _fail("SIG_KEY_UNSUPPORTED", detail=f"algorithm {cert.public_key_algorithm_oid.dotted_string}") from None
    except ValueError:
        raise _fail("CERT_KEY_INVALID", detail=f"not a valid {public_key_curve(cert) or 'public'} key") from None
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise _fail("SIG_KEY_UNSUPPORTED", detail=f"RSA {key.key_size} bits")
    elif isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in ALLOWED_CURVES:
            raise _fail("CERT_CURVE_UNSUPPORTED", curve=public_key_curve(cert) or key.curve.name)
    else:
        raise _fail("SIG_KEY_UNSUPPORTED", detail=type(key).__name__)


def check_names(certs: Iterable[x509.Certificate]) -> None:
    """Every subject and issuer name can be read (cryptography parses them lazily, and the path
    validator compares them as bytes, so a CA-signed name that is not valid UTF-8 would only
    raise when the signer's unit code is read)."""
    for cert in certs:
        for part in ("subject", "issuer"):
            try:
                getattr(cert, part).rfc4514_string()
            except ValueError:
                raise _fail("CERT_NAME_MALFORMED", name=part) from None


def _extensions(cert: x509.Certificate) -> x509.Extensions:
    """The extensions, parsed (lazily, by cryptography: a malformed one raises ValueError here)."""
    try:
        return cert.extensions
    except ValueError:
        raise _fail("CERT_EXTENSION_MALFORMED", extension=malformed_extension(cert)) from None
    except x509.DuplicateExtension as exc:  # RFC 5280 4.2: an extension appears at most once
        raise _fail("CERT_EXTENSION_MALFORMED", extension=extension_name(exc.oid.dotted_string)) from None


def check_key_usage(cert: x509.Certificate) -> None:
    """Key usage allows signatures; an extended key usage, if present, allows document signing."""
    extensions = _extensions(cert)
    try:
        ku = extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise _fail("CERT_KEY_USAGE", detail="no KeyUsage extension") from None
    if not (ku.digital_signature or ku.content_commitment):
        raise _fail("CERT_KEY_USAGE", detail="KeyUsage allows neither digitalSignature nor nonRepudiation")
    try:
        bc = extensions.get_extension_for_class(x509.BasicConstraints).value
        if bc.ca:
            raise _fail("CERT_KEY_USAGE", detail="a CA certificate cannot sign documents")
    except x509.ExtensionNotFound:
        pass
    try:
        eku = extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return
    if DOCUMENT_SIGNING_EKU not in eku:
        raise _fail("CERT_KEY_USAGE", detail="ExtendedKeyUsage lacks documentSigning (1.3.6.1.5.5.7.3.36)")


def check_validity(certs: Iterable[x509.Certificate], at: datetime) -> None:
    at = _utc(at)
    for cert in certs:
        if at < cert.not_valid_before_utc:
            raise _fail(
                "CERT_NOT_YET_VALID", at=at.isoformat(), not_before=cert.not_valid_before_utc.isoformat()
            )
        if at > cert.not_valid_after_utc:
            raise _fail("CERT_EXPIRED", at=at.isoformat(), not_after=cert.not_valid_after_utc.isoformat())


class TrustStore:
    """Trust anchors and CRLs, loaded once; validates signer chains for :mod:`broker.signing.verifier`."""

    def __init__(
        self,
        anchors: Sequence[x509.Certificate],
        crls: Sequence[x509.CertificateRevocationList] = (),
        *,
        require_fresh_crls: bool = True,
        clock: Callable[[], datetime] | None = None,
        crl_files: Sequence[str | Path] = (),
        crl_recheck_seconds: float = 60.0,
    ):
        """``crl_files``: where ``crls`` came from, re-read when they change (see the module doc)."""
        if not anchors:
            raise ValueError("a trust store needs at least one anchor")
        self._anchors = tuple(anchors)
        self._store = xv.Store(list(anchors))
        self._crls = _index(crls)
        self._require_fresh = require_fresh_crls
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._chains: dict[tuple[bytes, ...], ValidatedChain] = {}
        self._sound: set[tuple[bytes, ...]] = set()  # chains whose names, key and key usage passed
        self._lock = threading.Lock()
        self._crl_files = [Path(p) for p in crl_files]
        self._crl_stamps = _stamps(self._crl_files)
        self._crl_recheck = crl_recheck_seconds
        self._next_crl_check = time.monotonic() + crl_recheck_seconds
        if not self._crls:
            event(log, "trust.revocation_unchecked", level=logging.WARNING, anchors=len(self._anchors))

    @classmethod
    def from_files(
        cls, anchors: Iterable[str | Path], crls: Iterable[str | Path] = (), **kwargs: object
    ) -> "TrustStore":
        certs = [c for p in anchors for c in load_certificates(p)]
        files = list(crls)
        revocations = [c for p in files for c in load_crls(p)]
        return cls(certs, revocations, crl_files=files, **kwargs)  # type: ignore[arg-type]

    def refresh_crls(self, *, force: bool = False) -> bool:
        """Re-read the CRL files if one changed (at most every ``crl_recheck_seconds`` unless
        ``force``); True when new CRLs were loaded. A file that cannot be read or parsed keeps
        the CRLs in force and is logged: a broken update must not switch revocation off."""
        now = time.monotonic()
        if not self._crl_files or (not force and now < self._next_crl_check):
            return False
        self._next_crl_check = now + self._crl_recheck
        stamps = _stamps(self._crl_files)
        if stamps == self._crl_stamps:
            return False
        try:
            crls = [c for p in self._crl_files for c in load_crls(p)]
        except (OSError, ValueError) as exc:
            event(log, "trust.crl_reload_failed", level=logging.ERROR, error=str(exc)[:200])
            return False
        with self._lock:
            self._crls = _index(crls)
            self._crl_stamps = stamps
        event(log, "trust.crls_reloaded", crls=len(crls))
        return True

    @property
    def anchors(self) -> tuple[x509.Certificate, ...]:
        return self._anchors

    def validate(
        self, leaf: x509.Certificate, intermediates: Sequence[x509.Certificate], at: datetime
    ) -> ValidatedChain:
        """Validate ``leaf`` as a document-signing certificate at time ``at``; raise on failure."""
        at = _utc(at)
        key = tuple(c.public_bytes(serialization.Encoding.DER) for c in (leaf, *intermediates))
        if key not in self._sound:
            # What depends on the certificates' bytes alone is checked once per chain: reading
            # the names (RFC 4514) and extensions of every document's chain cost a few per cent
            # of a check. A chain that fails is checked again each time (and fails the same way).
            check_names([leaf, *intermediates])
            self._refuse_self_signed(leaf)
            check_signing_key(leaf)
            check_key_usage(leaf)
            with self._lock:
                self._sound.add(key)
        check_validity([leaf, *intermediates], at)
        cached = self._chains.get(key)
        if cached is None or not cached.not_before <= at <= cached.not_after:
            cached = self._build(leaf, intermediates, at)
            with self._lock:
                self._chains[key] = cached
        self.check_revocation(cached, at)
        return cached

    def _refuse_self_signed(self, leaf: x509.Certificate) -> None:
        """A self-signed leaf that is not an anchor is untrusted whatever else is wrong with it:
        one that copies a unit's subject was reported by its dates (CERT_NOT_YET_VALID), which
        sent its maker looking at clocks instead of at the missing CA signature."""
        if leaf.issuer == leaf.subject and leaf not in self._anchors:
            raise _fail("CERT_UNTRUSTED", detail="self-signed, not issued by the network's CA: copying a unit's name in the subject proves nothing")

    def _build(self, leaf: x509.Certificate, intermediates: Sequence[x509.Certificate], at: datetime) -> ValidatedChain:
        if any(c.signature_algorithm_oid == sm2.SM2_WITH_SM3_OID for c in (leaf, *intermediates)):
            # cryptography's path validator knows no SM2: the same rules, checked by sm2_chain
            chain = sm2_chain.build(leaf, intermediates, self._anchors, at)
            return ValidatedChain(
                chain=chain,
                not_before=max(c.not_valid_before_utc for c in chain),
                not_after=min(c.not_valid_after_utc for c in chain),
                issuer_names=_issuer_names(chain),
            )
        # Key usage and EKU are checked above with their own codes; the path validator is asked
        # only for the path (names, signatures, CA constraints, validity at ``at``).
        verifier = (
            xv.PolicyBuilder()
            .store(self._store)
            .time(at)
            .extension_policies(ee_policy=xv.ExtensionPolicy.permit_all(), ca_policy=xv.ExtensionPolicy.webpki_defaults_ca())
            .build_client_verifier()
        )
        try:
            chain = tuple(verifier.verify(leaf, list(intermediates)).chain)
        except xv.VerificationError as exc:
            raise _fail("CERT_UNTRUSTED", detail=str(exc)[:200]) from None
        except ValueError:
            # an intermediate's malformed extension or key, read lazily by the path validator
            raise _fail("CERT_UNTRUSTED", detail="a certificate of the chain cannot be read") from None
        return ValidatedChain(
            chain=chain,
            not_before=max(c.not_valid_before_utc for c in chain),
            not_after=min(c.not_valid_after_utc for c in chain),
            issuer_names=_issuer_names(chain),
        )

    def check_revocation(self, chain: "ValidatedChain | Sequence[x509.Certificate]", at: datetime) -> None:
        """Raise ``CERT_REVOKED`` (or ``CRL_STALE``/``CRL_INVALID``) for any certificate of ``chain``."""
        at = _utc(at)
        self.refresh_crls()
        crls_by_issuer = self._crls
        if not crls_by_issuer:
            return
        certs = chain.chain if isinstance(chain, ValidatedChain) else tuple(chain)
        issuer_names = chain.issuer_names if isinstance(chain, ValidatedChain) else _issuer_names(certs)
        if issuer_names and issuer_names[0] not in crls_by_issuer:
            # The signer's CA publishes no CRL we know: its revocations would go unseen.
            raise _fail("CRL_MISSING", issuer=certs[1].subject.rfc4514_string()[:200])
        for cert, issuer, issuer_name in zip(certs, certs[1:], issuer_names):
            for crl in crls_by_issuer.get(issuer_name, ()):
                self._check_crl(crl, issuer)
                entry = crl.revoked.get(cert.serial_number)
                if entry is None:
                    continue
                revoked_at, reason = entry
                # A compromised key taints every signature; otherwise revocation counts from its date.
                if reason in _COMPROMISE or revoked_at <= at:
                    raise _fail("CERT_REVOKED", revoked_at=revoked_at.isoformat())

    def _check_crl(self, crl: "_RevocationList", issuer: x509.Certificate) -> None:
        # The CRL is found by its issuer's name; its signature is checked against the issuer of a
        # validated chain once, then trusted.
        if not crl.verified:
            if crl.crl.signature_algorithm_oid == sm2.SM2_WITH_SM3_OID:
                valid = sm2.verify_crl_signature(crl.crl, issuer)
            else:
                try:
                    valid = crl.crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
                except (UnsupportedAlgorithm, TypeError):  # an SM2 issuer and a CRL signed otherwise
                    valid = False
            if not valid:
                raise _fail("CRL_INVALID", detail="signature does not match the issuing CA")
            crl.verified = True
        next_update = crl.crl.next_update_utc
        if self._require_fresh and next_update is not None and next_update < self._clock():
            raise _fail("CRL_STALE", next_update=next_update.isoformat())


def _index(crls: Iterable[x509.CertificateRevocationList]) -> dict[bytes, list["_RevocationList"]]:
    """CRLs by the DER of their issuer's name."""
    out: dict[bytes, list[_RevocationList]] = {}
    for crl in crls:
        out.setdefault(crl.issuer.public_bytes(), []).append(_RevocationList(crl))
    return out


def _stamps(paths: Sequence[Path]) -> tuple[tuple[float, int] | None, ...]:
    """Modification time and size of each file (None when it cannot be read)."""
    out: list[tuple[float, int] | None] = []
    for path in paths:
        try:
            st = path.stat()
            out.append((st.st_mtime, st.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


class _RevocationList:
    """A CRL with its revoked serials indexed (a national CRL holds many thousands)."""

    __slots__ = ("crl", "revoked", "verified")

    def __init__(self, crl: x509.CertificateRevocationList):
        self.crl = crl
        self.verified = False
        self.revoked: dict[int, tuple[datetime, x509.ReasonFlags | None]] = {}
        for entry in crl:
            reason = None
            try:
                reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
            except x509.ExtensionNotFound:
                pass
            self.revoked[entry.serial_number] = (entry.revocation_date_utc, reason)
