"""``liandong broker config`` and ``liandong broker run``: the Mosquitto broker of the network.

``config`` writes mosquitto.conf and the ACL generated from the member registry (for a broker run
by systemd or a container); ``run`` writes them into a data directory and runs Mosquitto in the
foreground until Ctrl-C (development and the demo). See docs/topics.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from broker.cli import cluster_cmd  # `liandong broker cluster ...` (NATS)
from broker.cli.foreground import foreground
from broker.cli.output import err, out
from broker.errors import LiandongError, Problem, problem
from broker.mosquitto import (
    BrokerSettings,
    MosquittoNotFound,
    MosquittoProcess,
    MosquittoStartError,
    write_config,
)
from broker.mosquitto.runner import INSTALL_HINT
from broker.registry import Registry, load_registry

RegistryOpt = Annotated[
    Path,
    typer.Option(
        "--registry",
        help="member registry (YAML): the ACL has one block per member",
        exists=True,
        dir_okay=False,
    ),
]
PortOpt = Annotated[int, typer.Option("--port", min=1, max=65535, help="TLS listener port")]
HostOpt = Annotated[str, typer.Option("--host", help="address the listener binds to")]
CertsOpt = Annotated[
    Path,
    typer.Option(
        "--certs",
        help="PKI directory laid out like certs-example/: chain.pem, crl.pem (optional), "
        "broker/server.{pem,key}",
    ),
]


def _inputs(registry: Path, certs: Path, **kw) -> tuple[Registry, BrokerSettings]:
    """The registry and the broker's settings; every problem with either is printed (a missing
    certificate must not hide an invalid registry, nor the reverse), then exit 2."""
    problems: list[Problem] = []
    try:
        reg: Registry | None = load_registry(registry)
    except LiandongError as exc:
        reg, problems = None, list(exc.problems)
    settings = BrokerSettings.from_certs(certs, **kw)
    missing = [p for p in (settings.cafile, settings.certfile, settings.keyfile) if not p.is_file()]
    if missing:
        problems.append(problem("BROKER_CERT_FILES_MISSING", certs=str(certs), files=", ".join(map(str, missing))))
    if problems or reg is None:
        for p in problems:
            err.print(f"[red]{p.code}[/red] {p.message_en} / {p.message_zh}", markup=True)
        raise typer.Exit(2)
    return reg, settings


def config(
    registry: RegistryOpt,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="directory for mosquitto.conf and acl", file_okay=False)
    ],
    port: PortOpt = 8883,
    host: HostOpt = "127.0.0.1",
    certs: CertsOpt = Path("certs-example"),
    data: Annotated[
        Optional[Path], typer.Option("--data", help="persistence directory (default: the output directory)")
    ] = None,
    user: Annotated[
        Optional[str],
        typer.Option(
            "--user",
            help="account Mosquitto switches to when started as root (default: mosquitto, which must be "
            "able to write the persistence directory and read the key)",
        ),
    ] = None,
) -> None:
    """Write mosquitto.conf and the ACL file generated from the registry."""
    reg, settings = _inputs(registry, certs, host=host, port=port, data_dir=data or output, user=user)
    conf, acl = write_config(reg, settings, output)
    out.print(f"wrote {conf}")
    out.print(f"wrote {acl}")
    out.print(f"run it with: mosquitto -c {conf}")


def run(
    registry: RegistryOpt,
    port: PortOpt = 8883,
    host: HostOpt = "127.0.0.1",
    data: Annotated[
        Path,
        typer.Option("--data", help="directory for the configuration and the database", file_okay=False),
    ] = Path("var/broker"),
    certs: CertsOpt = Path("certs-example"),
) -> None:
    """Run Mosquitto in the foreground, configured from the registry, until Ctrl-C or SIGTERM
    (SIGHUP: the ACL is generated again from the registry, and Mosquitto reloads it and its CRL)."""
    reg, settings = _inputs(registry, certs, host=host, port=port, data_dir=data)
    try:
        broker = MosquittoProcess(reg, settings, log_to_file=False)
    except MosquittoNotFound:
        err.print(f"[red]mosquitto is not installed[/red]: {INSTALL_HINT}")
        raise typer.Exit(2)
    # The signals are ours before Mosquitto starts: a SIGTERM (systemctl stop) or SIGHUP that
    # comes while it starts would otherwise end this command and leave Mosquitto running alone.
    try:
        with foreground(on_reload=lambda: _reload(broker, registry)) as signals:
            try:
                with signals.starting():
                    broker.start()
            except MosquittoStartError as exc:
                err.print(f"[red]mosquitto did not start[/red]: {exc}")
                raise typer.Exit(1)
            err.print(
                f"mosquitto (pid {broker.pid}) listening on {broker.host}:{broker.port} with TLS; "
                f"configuration and data in {broker.data_dir}. Ctrl-C or SIGTERM stops it; SIGHUP "
                "reloads its ACL and CRL."
            )
            code = broker.wait()
    except KeyboardInterrupt:
        code = broker.stop() or 0  # mosquitto saves its database and exits
        err.print("mosquitto stopped")
    raise typer.Exit(code if code >= 0 else 128 - code)  # killed by signal N: 128 + N, like a shell


def _reload(broker: MosquittoProcess, registry: Path) -> None:
    """SIGHUP: the ACL written again from the registry file (a unit enrolled), then Mosquitto
    reloads it and its CRL. A registry that does not load leaves the ACL as it was."""
    try:
        broker.reload_registry(load_registry(registry))
        err.print(f"registry {registry} reloaded: ACL rewritten, mosquitto reloads it")
    except LiandongError as exc:
        reload_failed = problem("REG_RELOAD_FAILED", detail="; ".join(exc.codes))
        for p in [reload_failed, *exc.problems]:
            err.print(f"[red]{p.code}[/red] {p.message_en} / {p.message_zh}")
        broker.reload()  # the CRL still


def register(app: typer.Typer) -> None:
    broker_app = typer.Typer(
        no_args_is_help=True, help="The MQTT broker (Mosquitto): its configuration, and running it."
    )
    broker_app.command()(config)
    broker_app.command()(run)
    cluster_cmd.register(broker_app)
    app.add_typer(broker_app, name="broker")
