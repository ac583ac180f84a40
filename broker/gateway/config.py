"""The gateway's configuration file: a unit's configuration (like a court's or an adapter's)
plus the HTTP side (address, body limit, audit log, API tokens, TLS and client certificates) and
the deadline policy behind the state ``overdue``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, Field, field_validator, model_validator

from broker.configuration import Section, UnitConfig, load_config, require_files

Scope = Literal["publish", "read", "answer", "admin"]
"""publish: submit documents (courts); read: status, cases, inbox; answer: a unit's results;
admin: everything."""


class ApiToken(Section):
    """One client system's token, stored as the SHA-256 of the secret (never the secret).

    SHA-256 and not a slow password hash: the secret is 32 random bytes made by
    ``liandong gateway token``, not a password a person chose, so there is no dictionary to try
    and a fast hash is as strong as a slow one; a slow hash would cost every API call."""

    name: str = Field(description="who the token belongs to: recorded in the audit log")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="hex SHA-256 of the token")
    scopes: list[Scope] = Field(min_length=1)


class ClientCertificate(Section):
    """A client system known by its TLS certificate instead of a token (``http.tls.clients``)."""

    name: str = Field(description="who it is: recorded in the audit log")
    subject: str = Field(
        description="the certificate's subject as RFC 4514 writes it, most specific first "
        "(what `openssl x509 -noout -subject -nameopt RFC2253` prints), e.g. CN=court-cms,O=Example Court"
    )
    scopes: list[Scope] = Field(min_length=1)

    @field_validator("subject")
    @classmethod
    def _readable(cls, subject: str) -> str:
        return subject_key(subject)


def subject_key(subject: str) -> str:
    """A distinguished name in one canonical RFC 4514 spelling (spaces, escapes, case of the
    attribute names do not matter), so the configured and the presented subject compare equal."""
    from cryptography import x509

    try:
        return x509.Name.from_rfc4514_string(subject).rfc4514_string()
    except ValueError as exc:
        raise ValueError(f"not an RFC 4514 distinguished name: {exc}") from None


class TlsSide(Section):
    """HTTPS instead of HTTP, and client certificates as an alternative to tokens
    (issue 12 "Access"; uvicorn's ssl options)."""

    cert: Path = Field(description="the gateway's server certificate (PEM, with its chain)")
    key: Path = Field(description="its private key (PEM)")
    client_ca: Path | None = Field(
        None,
        description="the CA certificates a client certificate must chain to; when set, clients may "
        "present one (optional: a client without one uses a token)",
    )
    clients: list[ClientCertificate] = Field(
        default_factory=list, description="the client certificates known, by subject, with their scopes"
    )

    @model_validator(mode="after")
    def _clients_need_a_ca(self) -> TlsSide:
        if self.clients and self.client_ca is None:
            raise ValueError("tls.clients needs tls.client_ca: a certificate is trusted only through its CA")
        names = [c.name for c in self.clients]
        if len(set(names)) != len(names):
            raise ValueError("client names must be unique (the audit log names the caller by them)")
        return self


class WebhookSide(Section):
    """Where events are pushed (:mod:`broker.gateway.webhook`) and how they are signed."""

    url: str = Field(pattern=r"^https?://", description="the organisation's receiver; POSTed one event at a time")
    secret: str = Field(min_length=16, description="the HMAC-SHA256 key of X-Liandong-Signature")
    timeout_seconds: float = Field(10.0, gt=0, description="one POST waits this long for an answer")
    backoff_seconds: float = Field(1.0, gt=0, description="the first wait after a failure; doubles each time")
    max_backoff_seconds: float = Field(60.0, gt=0, description="the longest wait between two tries")


class ConsoleSide(Section):
    """The console's settings (broker/console, docs/console.md); the console is on without them."""

    session_minutes: float = Field(30.0, gt=0, description="a session ends after this long without a request")
    ledger_url: str | None = Field(
        None, description="the hub's ledger, for the reviewer's ledger story and the office's report: use a read-only database role"
    )
    ledger_schema: str | None = Field(None, description="PostgreSQL schema holding the ledger")


class HttpSide(Section):
    """Where the gateway listens and whom it serves."""

    host: str = Field("127.0.0.1", description="localhost unless the organisation's network needs otherwise")
    port: int = Field(8080, ge=0, lt=65536)
    max_body_bytes: int = Field(
        4 * 1024 * 1024, gt=0, description="larger requests get 413 GW_BODY_TOO_LARGE"
    )
    audit_log: Path = Field(
        Path("var/gateway-audit.jsonl"), description="append-only, one JSON line per call"
    )
    state: Path = Field(
        Path("var/gateway.db"), description="the gateway's own records (idempotency keys, answers)"
    )
    tokens: list[ApiToken] = Field(
        default_factory=list, description="at least one token, or a client certificate under tls.clients"
    )
    tls: TlsSide | None = Field(
        None, description="HTTPS, and client certificates (off when absent: plain HTTP)"
    )
    webhook: WebhookSide | None = Field(None, description="push events to this receiver (off when absent)")
    console: ConsoleSide = Field(default_factory=ConsoleSide, description="the console's settings (docs/console.md)")
    workers: int = Field(
        1,
        ge=0,
        le=64,
        description="processes that check and seal submitted documents beside the gateway's own"
        " (0: in the gateway's process); docs/performance.md, issue 12",
    )
    seal_expiry_warning_days: float = Field(
        30.0, ge=0, description="/readyz says not ready (GW_SEAL_EXPIRING) when the seal expires within this many days"
    )

    @field_validator("tokens")
    @classmethod
    def _unique_names(cls, tokens: list[ApiToken]) -> list[ApiToken]:
        names = [t.name for t in tokens]
        if len(set(names)) != len(names):
            raise ValueError("token names must be unique (the audit log names the caller by them)")
        return tokens

    @model_validator(mode="after")
    def _someone_may_call(self) -> HttpSide:
        if not self.tokens and not (self.tls and self.tls.clients):
            raise ValueError("no one could call the gateway: give http.tokens or http.tls.clients")
        return self


class DeadlineSide(Section):
    """``deadlines:`` in the gateway's file; every field may be left out."""

    policy: Path | None = Field(
        None, description="the deadline policy (default: the shipped config/deadlines.yaml)"
    )
    holidays: Path | None = Field(
        None, description="the holiday overrides (default: the shipped config/holidays.yaml)"
    )
    clock_start: AwareDatetime | None = Field(
        None, description="the time the gateway starts at (demos and tests only; default: real time)"
    )


class FoldersSide(Section):
    """Folders for the smallest units (:mod:`broker.gateway.folders`, docs/gateway.md section 9):
    a file dropped in ``outgoing`` is checked, sealed and sent; each document that arrives is
    written into ``incoming``. Either may be left out."""

    outgoing: Path | None = Field(
        None, description="watched: documents and answers to send; sent/ and failed/ are made inside it"
    )
    incoming: Path | None = Field(None, description="each arriving document is written here (XML, JSON, PDF)")
    pdf: bool = Field(
        True, description="also <id>.pdf for each arriving document, when broker.render is installed (it costs CPU)"
    )
    poll_seconds: float = Field(1.0, gt=0, description="how often both folders are looked at")
    settle_seconds: float = Field(
        1.0,
        ge=0,
        description="a file changed more recently than this is left for the next look (it may still be written)",
    )


class GatewayConfig(UnitConfig):
    """``liandong gateway run --config gateway.yaml``: the unit's settings plus ``http`` (and
    ``folders``, when the unit also works through folders)."""

    http: HttpSide
    deadlines: DeadlineSide = Field(
        default_factory=DeadlineSide, description="the policy and calendar behind the 'overdue' state"
    )
    folders: FoldersSide | None = None

    def unit_config(self) -> UnitConfig:
        """The unit part alone: what the court client and the transport are given."""
        return UnitConfig.model_validate(self.model_dump(exclude={"http", "deadlines", "folders"}))


def load_gateway_config(path: str | Path) -> GatewayConfig:
    """Load and check a gateway's file: :class:`LiandongError` ``UNIT_CONFIG_INVALID`` naming
    each problem, and each file of the unit part that cannot be read (the audit log and the
    state file are created)."""
    config = load_config(path, GatewayConfig, code="UNIT_CONFIG_INVALID", check_files=False)
    require_files(config.unit_config(), code="UNIT_CONFIG_INVALID")
    if config.http.tls is not None:  # else uvicorn would fail on it later, with a traceback
        require_files(config.http.tls, code="UNIT_CONFIG_INVALID")
    return config
