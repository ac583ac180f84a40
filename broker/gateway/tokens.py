"""API tokens: made random, stored hashed, checked in constant time, each with its scopes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from broker.gateway.config import ApiToken, ClientCertificate, subject_key


def new_token() -> str:
    """A fresh secret for a client system (256 random bits, URL-safe)."""
    return "ldg_" + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the configuration stores for ``token`` (see :class:`ApiToken` for why SHA-256)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Caller:
    """Who is calling: the token's name and what it may do."""

    name: str
    scopes: frozenset[str]

    def may(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes


class TokenBook:
    """The configured tokens, looked up by the hash of what a caller presents."""

    def __init__(self, tokens: list[ApiToken]):
        self._tokens = [(bytes.fromhex(t.sha256), Caller(t.name, frozenset(t.scopes))) for t in tokens]

    def caller(self, presented: str) -> Caller | None:
        digest = hashlib.sha256(presented.encode("utf-8")).digest()
        found = None
        for stored, caller in self._tokens:  # compare with every entry: no timing hint of which matched
            if hmac.compare_digest(stored, digest):
                found = caller
        return found


class CertificateBook:
    """The client certificates of ``http.tls.clients``, by subject. The handshake has already
    verified the certificate against ``client_ca``; this only says who it is and what it may do."""

    def __init__(self, clients: list[ClientCertificate]):
        self._by_subject = {c.subject: Caller(c.name, frozenset(c.scopes)) for c in clients}

    def caller(self, subject: str) -> Caller | None:
        try:
            return self._by_subject.get(subject_key(subject))
        except ValueError:
            return None
