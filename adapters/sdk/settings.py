"""An adapter's configuration: a YAML file plus environment variables (pydantic-settings).

One file per running adapter, three sections::

    unit:                      # broker.configuration.UnitConfig: who this unit is, how it connects
      unit: 91445300MA5100003A
      registry: network.yaml
      broker: {host: mqtt.example, port: 8883, ca: ca.pem, cert: tls.pem, key: tls.key}
      seal: {key: sign.key, cert: sign.pem, chain: chain.pem}
      trust: {anchors: [root-ca.pem], crls: [crl.pem]}
      store: var/adapter.db
    adapter:                   # the adapter's own settings_model
      core_url: https://core.bank.internal
    execution:                 # ExecutionSettings: retries and deferrals (all optional)
      retry_max_seconds: 300

Every value can be set or overridden by an environment variable ``LIANDONG_<SECTION>__<FIELD>``
(nested with ``__``), e.g. ``LIANDONG_UNIT__BROKER__HOST=10.0.0.5`` or
``LIANDONG_ADAPTER__CORE_PASSWORD=...`` — the place for secrets. The environment wins over the
file. Relative paths are resolved against the file's directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from broker.configuration import UnitConfig, require_files, resolve_paths
from broker.errors import LiandongError, problem
from broker.yamlfile import node_at

ENV_PREFIX = "LIANDONG_"


class ExecutionSettings(BaseModel):
    """How the SDK retries and defers items (``execution:`` section)."""

    model_config = ConfigDict(extra="forbid")

    retry_initial_seconds: float = Field(1.0, gt=0, description="first wait after a transient failure")
    retry_max_seconds: float = Field(300.0, gt=0, description="longest wait between attempts (backoff doubles up to it)")
    alert_after_attempts: int = Field(5, ge=1, description="from this attempt on, each failure is logged at ERROR")
    more_time_retry_seconds: float = Field(
        900.0, gt=0, description="when to ask an item again after NeedsMoreTime without retry_after"
    )
    idle_poll_seconds: float = Field(5.0, gt=0, description="longest sleep of the worker when nothing is due")

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th consecutive failure."""
        return min(self.retry_max_seconds, self.retry_initial_seconds * 2 ** max(0, attempts - 1))


class AdapterConfig(BaseSettings):
    """Base of every adapter's configuration model; :func:`config_model` adds the ``adapter`` section."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", nested_model_default_partial_update=True
    )
    yaml_path: ClassVar[Path | None] = None

    unit: UnitConfig
    execution: ExecutionSettings = ExecutionSettings()
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING, ERROR")
    adapter: Any = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if cls.yaml_path is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=cls.yaml_path, yaml_file_encoding="utf-8"))
        return tuple(sources)


C = TypeVar("C", bound=AdapterConfig)


def config_model(adapter_cls: type) -> type[AdapterConfig]:
    """The configuration model of an adapter class: :class:`AdapterConfig` with its ``settings_model``
    as the ``adapter`` section (optional when every field of it has a default)."""
    settings_model: type[BaseModel] = adapter_cls.settings_model  # type: ignore[attr-defined]
    try:
        settings_model()
        field: Any = (settings_model, Field(default_factory=settings_model))
    except ValidationError:
        field = (settings_model, ...)
    return create_model(f"{adapter_cls.__name__}Config", __base__=AdapterConfig, adapter=field)  # type: ignore[call-overload,no-any-return]


def load_adapter_config(adapter_cls: type, path: str | Path | None, **overrides: Any) -> AdapterConfig:
    """Load the configuration of ``adapter_cls`` from ``path`` (YAML) and the environment.

    ``overrides`` (section dicts or models) win over both — for tests and the harness.
    Problems raise :class:`LiandongError` ``UNIT_CONFIG_INVALID`` naming the field (and the
    file's line, when the value came from the file).
    """
    model = config_model(adapter_cls)
    file = Path(path).resolve() if path is not None else None
    if file is not None and not file.is_file():
        raise LiandongError.of("UNIT_CONFIG_INVALID", detail=f"{file}: no such file")
    bound = type(model.__name__, (model,), {"yaml_path": file})
    try:
        config = bound(**overrides)
    except ValidationError as exc:
        raise LiandongError([_problem(err, file) for err in exc.errors()]) from None
    except yaml.YAMLError as exc:
        raise LiandongError.of("UNIT_CONFIG_INVALID", detail=f"{file}: {exc}") from None
    config = resolve_paths(config, file.parent) if file is not None else config
    require_files(config, code="UNIT_CONFIG_INVALID")
    return config


def _problem(err: Any, file: Path | None) -> Any:
    loc = tuple(err["loc"])
    where = ".".join(str(p) for p in loc) or "(top)"
    env = ENV_PREFIX + "__".join(str(p) for p in loc).upper()
    line = _line_of(file, loc) if file is not None else None
    origin = f"{file}:{line}: " if line else (f"{file}: " if file else "")
    hint = f" (in the file or as {env})" if err.get("type") == "missing" else ""
    return problem("UNIT_CONFIG_INVALID", detail=f"{origin}{where}: {err['msg']}{hint}")


def _line_of(file: Path, loc: tuple[Any, ...]) -> int | None:
    try:
        root = yaml.compose(file.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError):
        return None
    node = node_at(root, loc)
    return node.start_mark.line + 1 if node is not None else None
