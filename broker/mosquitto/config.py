"""Mosquitto configuration generated from the member registry.

:func:`write_config` writes two files:

- ``mosquitto.conf`` — one TLS listener that requires a client certificate from our CA and takes
  the certificate's CN (the unit code) as the MQTT username, persistence, raised queue limits and
  a packet size limit; every setting that differs from Mosquitto's default carries a comment with
  the reason;
- ``acl`` — one explicit ``user <code>`` block for the hub, for each hub instance
  (``<hub code>-<instance>``) and for every unit of the registry, and nothing else (no ``pattern`` lines), so a certificate whose CN is not in the registry can
  neither publish nor subscribe.

Targets Mosquitto 2.0.x (tested with 2.0.11). See docs/topics.md for the topic layout and why
the broker is not the network's source of reliability.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from broker.registry import Registry
from broker.transport import topics

MiB = 1024 * 1024
GiB = 1024 * MiB

#: Size limit of one MQTT packet at the broker. The hub's own document limit is 4 MiB and is
#: enforced by the hub (a signed rejection); the broker limit is higher so that an oversized
#: document still reaches the hub and its sender learns why it was refused.
DEFAULT_MAX_PACKET_SIZE = 16 * MiB

CONF_NAME = "mosquitto.conf"
ACL_NAME = "acl"


class BrokerSettings(BaseModel):
    """Where the broker listens, which files it uses and its limits.

    Build it from a certificate directory laid out like ``certs-example/`` with
    :meth:`from_certs`. Relative paths are made absolute by :func:`write_config`, because
    Mosquitto resolves them against its own working directory.
    """

    model_config = ConfigDict(extra="forbid")

    host: str = Field("127.0.0.1", description="address the TLS listener binds to")
    port: int = Field(8883, ge=1, le=65535, description="TLS listener port (8883: IANA secure MQTT)")
    cafile: Path = Field(description="CA chain (issuing CA + root) that client certificates must chain to")
    certfile: Path = Field(description="the broker's TLS server certificate")
    keyfile: Path = Field(description="the broker's TLS private key")
    crlfile: Path | None = Field(None, description="CRL of the issuing CA: revoked client certificates")
    data_dir: Path = Field(Path("var/broker"), description="persistence database (mosquitto.db) and log")
    autosave_interval: int = Field(10, ge=1, description="seconds between saves of the in-memory database")
    max_queued_messages: int = Field(200_000, ge=1, description="per-client queue of QoS 1 messages")
    max_queued_bytes: int = Field(1 * GiB, ge=0, description="per-client queue size in bytes (0: no limit)")
    max_inflight_messages: int = Field(
        1000, ge=1, le=65535, description="unacknowledged outgoing QoS 1 messages per client"
    )
    max_packet_size: int = Field(
        DEFAULT_MAX_PACKET_SIZE, ge=20, le=268_435_455, description="largest MQTT packet accepted"
    )
    persistent_client_expiration: str = Field(
        "14d", pattern=r"^\d+[hdwmy]$", description="drop sessions of clients away longer than this"
    )
    client_id_is_identity: bool = Field(
        True,
        description="use_username_as_clientid: the client id is replaced by the certificate's CN, so one "
        "unit cannot take over or discard another unit's session by connecting with its client id",
    )
    user: str | None = Field(
        None,
        description="account Mosquitto switches to when started as root (its default: 'mosquitto'); "
        "'root' keeps the starting account",
    )

    @field_validator("host", "user")
    @classmethod
    def _one_word(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_.:\-]+", value):
            raise ValueError(f"{value!r} must be a single word (letters, digits, '.', ':', '-', '_')")
        return value

    @field_validator("cafile", "certfile", "keyfile", "crlfile", "data_dir")
    @classmethod
    def _one_line(cls, value: Path | None) -> Path | None:
        if value is not None and any(c in str(value) for c in "\r\n\0"):
            raise ValueError("paths must not contain line breaks")
        return value

    @classmethod
    def from_certs(cls, certs_dir: str | Path, **kw) -> "BrokerSettings":
        """Settings using ``<certs>/chain.pem``, ``<certs>/broker/server.{pem,key}`` and
        ``<certs>/crl.pem`` (when present), the layout of ``certs-example/``."""
        certs = Path(certs_dir)
        crl = certs / "crl.pem"
        kw.setdefault("crlfile", crl if crl.is_file() else None)
        return cls(
            cafile=certs / "chain.pem",
            certfile=certs / "broker" / "server.pem",
            keyfile=certs / "broker" / "server.key",
            **kw,
        )

    def resolved(self) -> "BrokerSettings":
        """A copy with every path absolute."""
        upd = {
            name: Path(getattr(self, name)).resolve()
            for name in ("cafile", "certfile", "keyfile", "crlfile", "data_dir")
            if getattr(self, name) is not None
        }
        return self.model_copy(update=upd)


def _clean(text: str) -> str:
    """Registry text made safe for a one-line comment."""
    return " ".join(text.split())


def render_config(registry: Registry, settings: BrokerSettings, acl_path: Path) -> str:
    """The text of mosquitto.conf (paths are used as given: pass absolute ones)."""
    s = settings
    lines: list[str] = [
        f"# mosquitto.conf of the liandong network {_clean(registry.network)!r}",
        "# Generated by `liandong broker config` from the member registry; do not edit by hand,",
        "# regenerate instead. Written for Mosquitto 2.0.x. Each setting that differs from",
        "# Mosquitto's default is preceded by the reason.",
        "",
        "# Authentication and access control are the same for every listener (there is one).",
        "per_listener_settings false",
        "",
        "# Every client must present a certificate (below); a connection without a username is refused.",
        "allow_anonymous false",
        "",
        "# Who may publish/subscribe where: one explicit block per registry member (docs/topics.md).",
        f"acl_file {acl_path}",
        "",
    ]
    if s.user:
        lines += [
            "# Account to run as when started as root (Mosquitto's default would be 'mosquitto').",
            f"user {s.user}",
            "",
        ]
    lines += [
        "# --- persistence ---------------------------------------------------------------------",
        "# Keep sessions, subscriptions, queued and retained messages across broker restarts.",
        "persistence true",
        f"persistence_location {s.data_dir}",
        f"# Save every {s.autosave_interval} s instead of every 30 min: a crash loses only what arrived",
        "# since the last save. The hub's ledger and the units' end-to-end acks redeliver what is lost.",
        f"autosave_interval {s.autosave_interval}",
        "# Forget a persistent session whose client has not come back for this long (default: never),",
        "# so a decommissioned unit does not keep a queue forever.",
        f"persistent_client_expiration {s.persistent_client_expiration}",
        "",
        "# --- queues and limits ----------------------------------------------------------------",
        "# Mosquitto silently drops QoS 1 messages for a client once its queue holds 1000 (default).",
        "# A unit offline for a weekend can have far more waiting; raise the limit, and bound the bytes",
        "# so one absent unit cannot exhaust the broker's memory.",
        f"max_queued_messages {s.max_queued_messages}",
        f"max_queued_bytes {s.max_queued_bytes}",
        "# More unacknowledged QoS 1 messages in flight per client than the default 20: the hub",
        "# acknowledges a message only after its ledger commits the batch it belongs to, so it needs",
        "# a deep window to keep the pipeline full. Clients bound it with their Receive Maximum.",
        f"max_inflight_messages {s.max_inflight_messages}",
        f"# Largest MQTT packet ({s.max_packet_size} bytes); a client sending a larger one is disconnected.",
        "# The hub's own document limit (4 MiB) is lower and enforced by the hub, so an oversized",
        "# document still reaches the hub and its sender gets a signed rejection explaining why.",
        f"max_packet_size {s.max_packet_size}",
        "# Send small packets (acks, status) at once instead of waiting to coalesce them (Nagle).",
        "set_tcp_nodelay true",
        "",
        "# --- logging ---------------------------------------------------------------------------",
        "# To stderr (the runner keeps it in a file of the data directory), up to the notice level:",
        "# connections, disconnections and errors, but not every message (no information/debug).",
        "log_dest stderr",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "connection_messages true",
        "log_timestamp true",
        "log_timestamp_format %Y-%m-%dT%H:%M:%S",
        "",
        "# --- the TLS listener --------------------------------------------------------------------",
        f"listener {s.port} {s.host}",
        "# Client certificates must chain to our CA (issuing CA + root).",
        f"cafile {s.cafile}",
        f"certfile {s.certfile}",
        f"keyfile {s.keyfile}",
    ]
    if s.crlfile is not None:
        lines += [
            "# Revoked client certificates are refused at the TLS handshake.",
            f"crlfile {s.crlfile}",
        ]
    lines += [
        "# No connection without a valid client certificate.",
        "require_certificate true",
        "# The certificate's CN (the unit code) is the MQTT username that the ACL file names.",
        "use_identity_as_username true",
        "# Refuse TLS 1.1 (minimum version; TLS 1.3 is allowed).",
        "tls_version tlsv1.2",
    ]
    if s.client_id_is_identity:
        # A listener option in 2.0: written before the first `listener` line, it would make
        # Mosquitto open its default listener on port 1883 as well.
        lines += [
            "# The client id is replaced by the username (= the certificate's CN = the unit code): a unit",
            "# cannot connect with another unit's client id and take over, kick off or discard (clean",
            "# start) that unit's persistent session and its queued messages. One session per unit.",
            "use_username_as_clientid true",
        ]
    lines.append("")
    return "\n".join(lines)


def render_acl(registry: Registry) -> str:
    """The text of the ACL file: explicit blocks for the hub, its instances and each unit, nothing else."""
    hub = registry.hub.code
    lines = [
        f"# Mosquitto ACL of the liandong network {_clean(registry.network)!r}",
        "# Generated by `liandong broker config` from the member registry; do not edit by hand.",
        "# The username is the CN of the client's TLS certificate, i.e. the unit code.",
        "# There are no `pattern` lines on purpose: an identity that is not listed below (for example",
        "# a certificate of our CA naming a code that is not in the registry) may do nothing at all.",
        "",
    ]
    for identity in registry.hub.identities:
        # the hub itself, then each hub instance (several hub processes, docs/deployment.md):
        # the same permissions, one identity (certificate, session) per process
        which = "hub" if identity == hub else f"hub instance {identity[len(hub) + 1:]}"
        lines += [
            f"# {which}: {_clean(registry.hub.name)}",
            f"user {identity}",
            f"topic read {topics.all_units('out')}",
            f"topic read {topics.all_units('ack')}",
            f"topic read {topics.all_units('status')}",
            f"topic write {topics.all_units('in')}",
            "",
        ]
    for unit in registry.units:
        lines += [
            f"# {unit.kind.value}: {_clean(unit.name)}",
            f"user {unit.code}",
            f"topic write {topics.outbox(unit.code)}",
            f"topic write {topics.acks(unit.code)}",
            f"topic readwrite {topics.status(unit.code)}",
            f"topic read {topics.inbox(unit.code)}",
            "",
        ]
    return "\n".join(lines)


def write_config(registry: Registry, settings: BrokerSettings, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``mosquitto.conf`` and ``acl`` into ``out_dir``; return their paths.

    Creates ``out_dir`` and the settings' data directory. All paths written into the
    configuration are absolute.
    """
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    s = settings.resolved()
    s.data_dir.mkdir(parents=True, exist_ok=True)
    conf_path, acl_path = out / CONF_NAME, out / ACL_NAME
    acl_path.write_text(render_acl(registry), encoding="utf-8")
    conf_path.write_text(render_config(registry, s, acl_path), encoding="utf-8")
    return conf_path, acl_path
