"""Run Mosquitto as a child process: for tests, the demo and ``liandong broker run``.

:class:`MosquittoProcess` writes the configuration generated from the registry
(:mod:`broker.mosquitto.config`), starts ``mosquitto -c <conf>`` in the foreground, and waits until
the TLS listener accepts connections. ``stop()``/``kill()``/``restart()`` let tests exercise broker
restarts and crashes with the same port and persistence directory.

    with MosquittoProcess(registry, BrokerSettings.from_certs("certs-example", port=free_port(),
                                                              data_dir=tmp)) as broker:
        client = tls_client("91445300MA5100003A", broker.host, broker.port)
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from broker.mosquitto.config import BrokerSettings, write_config
from broker.registry import Registry

INSTALL_HINT = "install it with: apt-get install mosquitto (Mosquitto 2.0 or newer)"
LOG_NAME = "mosquitto.log"


class MosquittoNotFound(RuntimeError):
    """The mosquitto executable is not installed."""


class MosquittoStartError(RuntimeError):
    """Mosquitto exited or did not open its listener in time; the message includes its log."""


def find_mosquitto() -> str:
    """Path of the mosquitto executable: on PATH, else /usr/sbin or /usr/local/sbin (Debian puts it
    in /usr/sbin, which is not on a normal user's PATH). Raises :class:`MosquittoNotFound`."""
    found = shutil.which("mosquitto")
    if found:
        return found
    for candidate in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"):
        if os.access(candidate, os.X_OK):
            return candidate
    raise MosquittoNotFound(f"mosquitto was not found on PATH nor in /usr/sbin; {INSTALL_HINT}")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now (the OS picks it; another process could still take it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _connect_host(host: str) -> str:
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)


class MosquittoProcess:
    """A Mosquitto child process configured from the registry.

    ``config_dir`` (default: the settings' data directory) receives ``mosquitto.conf`` and ``acl``.
    With ``log_to_file`` (the default) Mosquitto's stderr is appended to :attr:`log_path` in the
    data directory and quoted in start errors; otherwise it goes to this process's stderr.

    Started as root without ``settings.user``, Mosquitto is told to stay root (``user root``):
    otherwise it would switch to the ``mosquitto`` account, which cannot read the data directory
    of the caller. Use a context manager or call :meth:`stop`.
    """

    def __init__(
        self,
        registry: Registry,
        settings: BrokerSettings,
        config_dir: str | Path | None = None,
        *,
        executable: str | None = None,
        log_to_file: bool = True,
        start_timeout: float = 10.0,
    ):
        if settings.user is None and hasattr(os, "geteuid") and os.geteuid() == 0:
            settings = settings.model_copy(update={"user": "root"})
        self.settings = settings.resolved()
        self.registry = registry
        self.config_dir = Path(config_dir).resolve() if config_dir else self.settings.data_dir
        self.executable = executable or find_mosquitto()
        self.start_timeout = start_timeout
        self.log_path: Path | None = self.settings.data_dir / LOG_NAME if log_to_file else None
        self.conf_path, self.acl_path = write_config(registry, self.settings, self.config_dir)
        self._proc: subprocess.Popen | None = None

    # --- properties ---------------------------------------------------------------------
    @property
    def host(self) -> str:
        """Address clients connect to."""
        return _connect_host(self.settings.host)

    @property
    def port(self) -> int:
        return self.settings.port

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_text(self) -> str:
        """Everything Mosquitto has logged into :attr:`log_path` (empty without a log file)."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    # --- lifecycle ----------------------------------------------------------------------
    def start(self) -> "MosquittoProcess":
        """Start Mosquitto and wait until its listener accepts TCP connections."""
        if self.running:
            raise RuntimeError("mosquitto is already running")
        if self._accepts():
            # Otherwise the wait below could take a stranger on our port for our broker.
            raise MosquittoStartError(f"{self.host}:{self.port} is already in use by another program")
        log_start = 0
        out = None
        if self.log_path is not None:
            log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
            out = open(self.log_path, "ab")
        try:
            self._proc = subprocess.Popen(
                [self.executable, "-c", str(self.conf_path)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT if out else None,
                cwd=self.data_dir,
            )
        finally:
            if out is not None:
                out.close()  # the child has its own descriptor
        self._wait_ready(log_start)
        return self

    def _log_since(self, offset: int) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", errors="replace")

    def _wait_ready(self, log_start: int) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.start_timeout
        while True:
            code = self._proc.poll()
            if code is not None:
                self._proc = None
                raise MosquittoStartError(
                    f"mosquitto exited with status {code} on start ({self.conf_path});"
                    f" its log:\n{self._log_since(log_start) or '(empty)'}"
                )
            if self._accepts():
                return
            if time.monotonic() > deadline:
                log = self._log_since(log_start)
                self.kill()
                raise MosquittoStartError(
                    f"mosquitto did not accept connections on {self.host}:{self.port} within "
                    f"{self.start_timeout:g} s; its log:\n{log or '(empty)'}"
                )
            time.sleep(0.02)

    def _accepts(self) -> bool:
        # A bare TCP connection: Mosquitto logs it as a failed TLS connection, which is harmless.
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM (Mosquitto saves its database and exits) and wait; SIGKILL after ``timeout``.
        Returns the exit status, None when it was not running."""
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                return proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
        return proc.wait()

    def kill(self) -> int | None:
        """SIGKILL: a crash. What arrived since the last autosave is lost."""
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.kill()
        return proc.wait()

    def restart(self, *, hard: bool = False) -> "MosquittoProcess":
        """Stop (or with ``hard``, kill) and start again with the same port, configuration and
        data directory."""
        if hard:
            self.kill()
        else:
            self.stop()
        return self.start()

    def reload(self) -> None:
        """SIGHUP: Mosquitto re-reads its ACL, password and CRL files (not its listeners)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGHUP)

    def reload_registry(self, registry: Registry) -> None:
        """Take a new registry (a unit enrolled, one removed): the ACL is written again from it,
        then SIGHUP makes Mosquitto read it. Connected clients keep their session; what they may
        publish and subscribe to is checked against the new ACL from then on."""
        self.registry = registry
        self.conf_path, self.acl_path = write_config(registry, self.settings, self.config_dir)
        self.reload()

    def wait(self) -> int:
        """Block until Mosquitto exits (for ``liandong broker run``); return its status."""
        if self._proc is None:
            raise RuntimeError("mosquitto is not running")
        return self._proc.wait()

    def __enter__(self) -> "MosquittoProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<MosquittoProcess {self.host}:{self.port} pid={self.pid} data={self.data_dir}>"
