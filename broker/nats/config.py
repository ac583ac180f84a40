"""Configuration of a three-node NATS cluster that serves the network over MQTT 3.1.1.

NATS (``nats-server`` 2.2 or newer; Debian bookworm ships 2.9) is the clustered broker the
project is tested on when one Mosquitto is not enough (docs/deployment.md, "Clustered broker
(NATS)"). :func:`write_cluster_config` writes one ``nats-<n>.conf`` per node:

- **cluster routes** between the nodes (a full mesh of ``routes``), protected by a route user
  and password generated once per configuration;
- **JetStream** with a store directory per node: NATS keeps MQTT sessions, retained messages
  and unacknowledged QoS 1 messages in JetStream streams (``$MQTT_sess``, ``$MQTT_rmsgs``,
  ``$MQTT_msgs``) replicated to all three nodes, so a session survives the loss of a node;
- an **MQTT listener** on each node with TLS: the server certificate, a client certificate
  required and verified against the network's CA chain, ``verify_and_map`` (the certificate's
  subject DN is the NATS user name) and ``pinned_certs``: only the members' current TLS keys are
  accepted, which stands in for the CRL nats-server 2.9 cannot read;
- one **user per registry member** (and per hub instance), named by the subject DN of its TLS
  client certificate (read from ``<certs>/units/<code>/tls.pem``; a hub instance's from
  ``<certs>/units/<hub>/instances/<name>/tls.pem``), limited to MQTT connections, with subject
  permissions equivalent to the Mosquitto ACL (:mod:`broker.mosquitto.config`). MQTT topics
  are NATS subjects with ``/`` → ``.`` and ``+`` → ``*``, so ``liandong/v1/<code>/in`` is
  ``liandong.v1.<code>.in``. A QoS 1 subscription is a JetStream consumer that delivers to an
  internal subject ``$MQTT.sub.<nuid>``, which every MQTT user must be allowed to subscribe to.

What these permissions enforce, and what NATS's MQTT layer does not (client ids are not bound to
the certificate), is measured by tests/test_nats_cluster.py and written down in
docs/deployment.md.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pydantic import BaseModel, ConfigDict, Field, field_validator

from broker.registry import Registry
from broker.transport import topics

MiB = 1024 * 1024

#: The subject a QoS 1 subscription's JetStream consumer delivers to (NATS docs, MQTT,
#: "Special permissions"); without it an MQTT user's QoS 1 SUBSCRIBE fails.
MQTT_QOS1_DELIVERY = "$MQTT.sub.>"


def subject(topic: str) -> str:
    """The NATS subject of an MQTT topic or filter (no leading/trailing/double ``/``, no ``.``
    or space: every liandong topic qualifies)."""
    if " " in topic or "." in topic or topic.startswith("/") or topic.endswith("/") or "//" in topic:
        raise ValueError(f"{topic!r} has no plain NATS subject")
    return ".".join({"+": "*", "#": ">"}.get(level, level) for level in topic.split("/"))


def spki_sha256(certfile: str | Path) -> str:
    """Hex SHA-256 of a PEM certificate's DER SubjectPublicKeyInfo: what ``pinned_certs`` lists."""
    cert = x509.load_pem_x509_certificate(Path(certfile).read_bytes())
    der = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def certificate_dn(certfile: str | Path) -> str:
    """The subject DN of a PEM certificate in RFC 4514 form (``CN=...,O=...,C=CN``): the NATS
    user name that ``verify_and_map`` matches the certificate to."""
    cert = x509.load_pem_x509_certificate(Path(certfile).read_bytes())
    return cert.subject.rfc4514_string()


class NodeSettings(BaseModel):
    """One node: its name and the four ports it listens on."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    host: str = "127.0.0.1"
    mqtt_port: int = Field(ge=1, le=65535, description="MQTT over TLS: what units and hubs connect to")
    client_port: int = Field(ge=1, le=65535, description="NATS protocol port (no user may log in on it)")
    route_port: int = Field(ge=1, le=65535, description="cluster routes between the nodes")
    http_port: int = Field(ge=1, le=65535, description="monitoring (/healthz, /varz, /routez, /jsz)")

    @field_validator("host")
    @classmethod
    def _one_word(cls, value: str) -> str:
        if not value or any(c in value for c in " \"'\\\r\n\0"):
            raise ValueError(f"{value!r} is not a host")
        return value


class ClusterSettings(BaseModel):
    """The cluster's nodes, certificate files, storage and MQTT limits."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field("liandong", pattern=r"^[A-Za-z0-9_-]+$", description="cluster name")
    nodes: list[NodeSettings] = Field(min_length=1)
    cafile: Path = Field(description="CA chain that client certificates must chain to")
    certfile: Path = Field(description="server certificate of every node (SAN: the nodes' host names)")
    keyfile: Path
    certs: Path = Field(description="directory with units/<code>/tls.pem of every member (the user DNs)")
    data_dir: Path = Field(Path("var/nats"), description="one JetStream store directory per node below it")
    route_password: str = Field(default_factory=lambda: secrets.token_urlsafe(24))
    max_payload: int = Field(
        16 * MiB, ge=1024, le=64 * MiB, description="largest message (NATS's default is 1 MiB; the hub's document limit is 4 MiB)"
    )
    ack_wait: str = Field(
        "60s", pattern=r"^\d+(ms|s|m|h)$", description="an unacknowledged QoS 1 message is sent again after this"
    )
    max_ack_pending: int = Field(
        1000, ge=1, le=65535, description="unacknowledged QoS 1 messages per subscription (3.1.1 has no Receive Maximum)"
    )
    max_file_store: str = Field("10G", pattern=r"^\d+[KMGT]?$", description="JetStream file storage limit per node")
    pin_certificates: bool = Field(
        True,
        description="accept only the members' current TLS keys (pinned_certs): nats-server 2.9 reads no CRL, "
        "so a revoked certificate is shut out by regenerating the configuration without it and reloading",
    )

    @classmethod
    def local(
        cls, certs: str | Path, data_dir: str | Path, *, ports: list[int] | None = None, host: str = "127.0.0.1", **kw
    ) -> ClusterSettings:
        """Three nodes on one machine, certificate files of a directory laid out like
        certs-example/. ``ports``: 12 ports (MQTT ×3, client ×3, route ×3, HTTP ×3);
        default: free ones."""
        from broker.mosquitto.runner import free_port

        ports = list(ports) if ports is not None else _free_ports(12, host, free_port)
        if len(ports) != 12:
            raise ValueError("12 ports are needed: MQTT, client, route and HTTP for each of three nodes")
        certs = Path(certs)
        nodes = [
            NodeSettings(
                name=f"n{i + 1}",
                host=host,
                mqtt_port=ports[i],
                client_port=ports[3 + i],
                route_port=ports[6 + i],
                http_port=ports[9 + i],
            )
            for i in range(3)
        ]
        return cls(
            nodes=nodes,
            cafile=certs / "chain.pem",
            certfile=certs / "broker" / "server.pem",
            keyfile=certs / "broker" / "server.key",
            certs=certs,
            data_dir=Path(data_dir),
            **kw,
        )

    @classmethod
    def numbered(
        cls,
        certs: str | Path,
        data_dir: str | Path,
        *,
        hosts: list[str],
        mqtt_port: int = 8883,
        base_port: int = 14222,
        **kw,
    ) -> ClusterSettings:
        """One node per host (``n1``, ``n2``, ...): node *i* (from 0) listens for MQTT on
        ``mqtt_port + i``, and on ``base_port + i`` (NATS), ``base_port + 10 + i`` (routes) and
        ``base_port + 20 + i`` (monitoring). On separate machines the same ports are fine; the
        offsets only keep nodes on one machine apart."""
        certs = Path(certs)
        nodes = [
            NodeSettings(
                name=f"n{i + 1}",
                host=host,
                mqtt_port=mqtt_port + i,
                client_port=base_port + i,
                route_port=base_port + 10 + i,
                http_port=base_port + 20 + i,
            )
            for i, host in enumerate(hosts)
        ]
        return cls(
            nodes=nodes,
            cafile=certs / "chain.pem",
            certfile=certs / "broker" / "server.pem",
            keyfile=certs / "broker" / "server.key",
            certs=certs,
            data_dir=Path(data_dir),
            **kw,
        )

    def resolved(self) -> ClusterSettings:
        return self.model_copy(
            update={k: Path(getattr(self, k)).resolve() for k in ("cafile", "certfile", "keyfile", "certs", "data_dir")}
        )


def _free_ports(n: int, host: str, free_port) -> list[int]:  # type: ignore[no-untyped-def]
    ports: list[int] = []
    while len(ports) < n:
        port = free_port(host)
        if port not in ports:
            ports.append(port)
    return ports


def member_permissions(registry: Registry) -> dict[str, dict[str, list[str]]]:
    """Subject permissions per member code, the same rules as the Mosquitto ACL."""
    perms = {
        identity: {
            "publish": [subject(topics.all_units("in"))],
            "subscribe": [subject(topics.all_units(c)) for c in ("out", "ack", "status")] + [MQTT_QOS1_DELIVERY],
        }
        for identity in hub_identities(registry)
    }
    for unit in registry.units:
        perms[unit.code] = {
            "publish": [subject(topics.outbox(unit.code)), subject(topics.acks(unit.code)), subject(topics.status(unit.code))],
            "subscribe": [subject(topics.inbox(unit.code)), subject(topics.status(unit.code)), MQTT_QOS1_DELIVERY],
        }
    return perms


def hub_identities(registry: Registry) -> list[str]:
    """The hub's code, then ``<code>-<instance>`` of each hub instance of the registry."""
    return list(getattr(registry.hub, "identities", [registry.hub.code]))


def member_certificates(registry: Registry, certs: Path) -> dict[str, Path]:
    """Each member's TLS client certificate: ``<certs>/units/<code>/tls.pem``, and for a hub
    instance ``<certs>/units/<hub code>/instances/<instance>/tls.pem`` (certs-example/README.md)."""
    hub = registry.hub.code
    units = Path(certs) / "units"
    paths = {
        identity: units / hub / "tls.pem" if identity == hub else units / hub / "instances" / identity[len(hub) + 1 :] / "tls.pem"
        for identity in hub_identities(registry)
    }
    paths.update({u.code: units / u.code / "tls.pem" for u in registry.units})
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise FileNotFoundError("TLS certificates of members are missing: " + ", ".join(missing))
    return paths


def _q(value: object) -> str:
    """A NATS configuration string (JSON string syntax is accepted by its parser)."""
    return json.dumps(str(value), ensure_ascii=False)


def render_node(registry: Registry, settings: ClusterSettings, index: int) -> str:
    """The text of one node's configuration (pass resolved settings: absolute paths)."""
    s = settings
    node = s.nodes[index]
    certificates = member_certificates(registry, s.certs)
    dns = {code: certificate_dn(path) for code, path in certificates.items()}
    perms = member_permissions(registry)
    # Every node lists every node (itself too: NATS ignores a route to self), the usual way of
    # writing a cluster; nats-server 2.9 also derives the MQTT streams' replicas from this list.
    routes = [f"nats-route://route:{s.route_password}@{n.host}:{n.route_port}" for n in s.nodes]
    lines = [
        f"# NATS node {node.name} of the liandong network {' '.join(registry.network.split())!r}",
        "# Generated by `liandong broker cluster config` from the member registry and the members'",
        "# TLS certificates; do not edit by hand, regenerate instead. Written for nats-server 2.9.",
        "",
        "# MQTT needs an explicit server name, unique in the cluster.",
        f"server_name: {_q(node.name)}",
        "# The NATS protocol port: no user below may log in on it (MQTT only), so it serves nothing.",
        f"listen: {_q(f'{node.host}:{node.client_port}')}",
        "# Monitoring (/healthz, /routez, /jsz): the runner waits on it; bind it to a private address.",
        f"http: {_q(f'{node.host}:{node.http_port}')}",
        f"# Largest message ({s.max_payload} bytes; NATS's default is 1 MiB). The hub's own document limit is",
        "# 4 MiB and enforced by the hub with a signed rejection, so the broker's limit is above it.",
        f"max_payload: {s.max_payload}",
        "",
        "cluster {",
        f"  name: {_q(s.name)}",
        f"  listen: {_q(f'{node.host}:{node.route_port}')}",
        "  # Routes authenticate with a password generated with this configuration. Across machines,",
        "  # also put the routes on a private network or add route TLS (docs/deployment.md).",
        f"  authorization {{ user: route, password: {_q(s.route_password)}, timeout: 5 }}",
        "  routes: [",
        *[f"    {_q(r)}" for r in routes],
        "  ]",
        "}",
        "",
        "# MQTT keeps sessions, retained and unacknowledged QoS 1 messages in JetStream streams,",
        "# replicated to every node of a three-node cluster (a node can be lost).",
        "jetstream {",
        f"  store_dir: {_q(s.data_dir / node.name)}",
        f"  max_file_store: {s.max_file_store}",
        "  max_memory_store: 256M",
        "}",
        "",
        "# One user per registry member, named by the subject DN of its TLS client certificate",
        "# (verify_and_map below), usable for MQTT only, with the Mosquitto ACL's rules as subjects.",
        "authorization {",
        "  timeout: 5",
        "  users: [",
    ]
    for code, dn in dns.items():
        p = perms[code]
        lines += [
            f"    # {code}",
            "    {",
            f"      user: {_q(dn)}",
            "      allowed_connection_types: [\"MQTT\"]",
            "      permissions: {",
            f"        publish: {{ allow: [{', '.join(_q(x) for x in p['publish'])}] }}",
            f"        subscribe: {{ allow: [{', '.join(_q(x) for x in p['subscribe'])}] }}",
            "      }",
            "    }",
        ]
    lines += [
        "  ]",
        "}",
        "",
        "mqtt {",
        f"  listen: {_q(f'{node.host}:{node.mqtt_port}')}",
        "  tls {",
        f"    cert_file: {_q(s.certfile)}",
        f"    key_file: {_q(s.keyfile)}",
        "    # Client certificates must chain to the network's CA; the certificate's subject DN is the user.",
        f"    ca_file: {_q(s.cafile)}",
        "    verify_and_map: true",
    ]
    if s.pin_certificates:
        lines += [
            "    # Only these keys (SHA-256 of each member's TLS certificate's public key) are accepted:",
            "    # nats-server 2.9 does not read a CRL, so revoking a certificate means regenerating",
            "    # this file without it and reloading (nats-server --signal reload).",
            "    pinned_certs: [",
            *[f"      {_q(spki_sha256(path))}  # {code}" for code, path in certificates.items()],
            "    ]",
        ]
    lines += [
        "    timeout: 5",
        "  }",
        "  # A QoS 1 message not acknowledged (PUBACK) within this time is sent again, also on the same",
        "  # connection (MQTT 3.1.1 only resends on reconnection; NATS does not wait). Longer than a hub",
        "  # needs to commit a batch.",
        f"  ack_wait: {_q(s.ack_wait)}",
        "  # Unacknowledged QoS 1 messages per subscription: what MQTT v5's Receive Maximum would bound.",
        f"  max_ack_pending: {s.max_ack_pending}",
        "  # Sessions, retained and QoS 1 messages (and the consumers of QoS 1 subscriptions) on every",
        "  # node: with 3 replicas the cluster keeps a quorum, and the sessions, when one node is lost.",
        f"  stream_replicas: {min(3, len(s.nodes))}",
        "}",
        "",
    ]
    return "\n".join(lines)


def write_cluster_config(registry: Registry, settings: ClusterSettings, out_dir: str | Path) -> list[Path]:
    """Write ``nats-<node>.conf`` for every node into ``out_dir`` (mode 0600: the route password
    is in them) and create the JetStream directories; return the paths."""
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    s = settings.resolved()
    paths = []
    for i, node in enumerate(s.nodes):
        (s.data_dir / node.name).mkdir(parents=True, exist_ok=True)
        path = out / f"nats-{node.name}.conf"
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)
        path.write_text(render_node(registry, s, i), encoding="utf-8")
        paths.append(path)
    return paths
