"""``liandong broker cluster config`` and ``liandong broker cluster run``: a three-node NATS
cluster serving the network over MQTT 3.1.1 (docs/deployment.md, "Clustered broker (NATS)").

``config`` writes one nats-server configuration per node, generated from the member registry and
the members' TLS certificates; ``run`` writes them into a data directory and runs the three nodes
on this machine in the foreground until Ctrl-C (development and tests of failover).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from broker.cli.foreground import foreground
from broker.cli.output import err, out, registry_or_exit
from broker.nats import ClusterSettings, NatsCluster, NatsNotFound, NatsStartError, write_cluster_config
from broker.nats.runner import INSTALL_HINT

RegistryOpt = Annotated[
    Path,
    typer.Option("--registry", help="member registry (YAML): one NATS user per member", exists=True, dir_okay=False),
]
CertsOpt = Annotated[
    Path,
    typer.Option(
        "--certs",
        help="PKI directory laid out like certs-example/: chain.pem, broker/server.{pem,key}, and "
        "units/<code>/tls.pem of every member (their subjects are the users, their keys are pinned)",
    ),
]
HostsOpt = Annotated[
    str,
    typer.Option("--hosts", help="address of each node, comma-separated (three for a three-node cluster)"),
]
MqttPortOpt = Annotated[
    int, typer.Option("--mqtt-port", min=1, max=65533, help="MQTT/TLS port of the first node; node i uses this + i")
]
BasePortOpt = Annotated[
    int,
    typer.Option(
        "--base-port",
        min=1,
        max=65500,
        help="node i listens on this + i (NATS), + 10 + i (routes), + 20 + i (monitoring)",
    ),
]


def _settings(certs: Path, data: Path, hosts: str, mqtt_port: int, base_port: int) -> ClusterSettings:
    names = [h.strip() for h in hosts.split(",") if h.strip()]
    if not names:
        err.print("[red]--hosts names no host[/red]")
        raise typer.Exit(2)
    settings = ClusterSettings.numbered(certs, data, hosts=names, mqtt_port=mqtt_port, base_port=base_port)
    missing = [p for p in (settings.cafile, settings.certfile, settings.keyfile) if not p.is_file()]
    if missing:
        err.print(f"[red]missing certificate files[/red] in {certs}: {', '.join(map(str, missing))}")
        raise typer.Exit(2)
    return settings


def config(
    registry: RegistryOpt,
    output: Annotated[Path, typer.Option("-o", "--output", help="directory for nats-<node>.conf", file_okay=False)],
    certs: CertsOpt = Path("certs-example"),
    hosts: HostsOpt = "127.0.0.1,127.0.0.1,127.0.0.1",
    mqtt_port: MqttPortOpt = 8883,
    base_port: BasePortOpt = 14222,
    data: Annotated[
        Path | None, typer.Option("--data", help="JetStream directory, one per node below it (default: the output directory)")
    ] = None,
) -> None:
    """Write the nats-server configuration of every node, generated from the registry."""
    settings = _settings(certs, data or output, hosts, mqtt_port, base_port)
    try:
        paths = write_cluster_config(registry_or_exit(registry), settings, output)
    except FileNotFoundError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2)
    for path in paths:
        out.print(f"wrote {path}")
    out.print("run each node with: nats-server -c <file> (on its own machine, or all three here)")


def run(
    registry: RegistryOpt,
    data: Annotated[
        Path, typer.Option("--data", help="directory for the configurations, logs and JetStream", file_okay=False)
    ] = Path("var/nats"),
    certs: CertsOpt = Path("certs-example"),
    host: Annotated[str, typer.Option("--host", help="address all three nodes bind to")] = "127.0.0.1",
    mqtt_port: MqttPortOpt = 8883,
    base_port: BasePortOpt = 14222,
) -> None:
    """Run a three-node NATS cluster on this machine in the foreground, until Ctrl-C."""
    settings = _settings(certs, data, ",".join([host] * 3), mqtt_port, base_port)
    try:
        cluster = NatsCluster(registry_or_exit(registry), settings, log_to_file=False)
    except NatsNotFound as exc:
        err.print(f"[red]{exc}[/red] ({INSTALL_HINT})")
        raise typer.Exit(2)
    except FileNotFoundError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2)
    # The signals are ours before the nodes start (see broker run): none is left running alone.
    try:
        with foreground() as signals:
            try:
                with signals.starting():
                    cluster.start()
            except NatsStartError as exc:
                err.print(f"[red]the NATS cluster did not start[/red]: {exc}")
                raise typer.Exit(1)
            nodes = ", ".join(f"{h}:{p}" for h, p in cluster.endpoints)
            err.print(
                f"NATS cluster of three nodes: MQTT 3.1.1 with TLS on {nodes}; configuration and "
                f"JetStream in {cluster.settings.data_dir}. Point clients at one node with the others as "
                "failover (protocol: \"3.1.1\"). Ctrl-C or SIGTERM stops it."
            )
            code = cluster.wait()
        err.print(f"[red]a node exited with status {code}[/red]; stopping the others")
    except KeyboardInterrupt:
        code = 0
    finally:
        cluster.stop()
    raise typer.Exit(code if code >= 0 else 128 - code)


def register(broker_app: typer.Typer) -> None:
    cluster_app = typer.Typer(
        no_args_is_help=True,
        help="A clustered broker: three NATS nodes with MQTT 3.1.1 listeners, configured from the registry.",
    )
    cluster_app.command()(config)
    cluster_app.command()(run)
    broker_app.add_typer(cluster_app, name="cluster")
