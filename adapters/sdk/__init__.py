"""The liandong adapter SDK: an agency writes handlers, the SDK does the rest.

The rest is: connect with the unit's TLS certificate, receive from the unit's ``in`` topic,
verify every document end to end (the court's own seal, XSD, rules), refuse what a court or the
linkage office did not send, dispatch each measure, query and release to its handler in
delivery order, record each result once, seal the receipt with the unit's key, send it until
the hub answers, send it again when the document comes again, and report liveness. See
``docs/adapters.md``.

    from adapters.sdk import Adapter, Context, handles, on_document, PermanentError

Public API (stable):

- declaring: :class:`Adapter`, :func:`handles`, :func:`on_document`, :class:`NoSettings`;
- in handlers: :class:`Context`, :class:`SafeLogger`, :class:`IdempotentLedger` (and, for native
  data in SQLite, :class:`~adapters.sdk.native_db.NativeDatabase` and
  :class:`~adapters.sdk.rotating.RotatingQueue`),
  :class:`TransientError`, :class:`PermanentError`, :class:`NeedsMoreTime`;
- the adapter's services: :class:`Runtime` (``runtime.send(...)``, ``runtime.now()``,
  ``runtime.data_dir``, ``runtime.ledger()``);
- running: :class:`AdapterService`, :func:`load_adapter_config`, :class:`AdapterConfig`,
  :class:`ExecutionSettings`, :func:`load_adapter`, :func:`available`;
- testing: :mod:`adapters.sdk.testing` (:class:`~adapters.sdk.testing.Harness`).
"""

from adapters.sdk.adapter import Adapter, DocumentReply, ItemKey, NoSettings, handles, on_document
from adapters.sdk.context import Context
from adapters.sdk.discovery import GROUP, available, load_adapter
from adapters.sdk.engine import Engine
from adapters.sdk.errors import HandlerContractError, NeedsMoreTime, PermanentError, TransientError
from adapters.sdk.ledger import IdempotentLedger
from adapters.sdk.runtime import Runtime
from adapters.sdk.safe_log import SafeLogger
from adapters.sdk.service import AdapterService
from adapters.sdk.settings import AdapterConfig, ExecutionSettings, config_model, load_adapter_config
from adapters.sdk.store import AdapterStore

__all__ = [
    "GROUP",
    "Adapter",
    "AdapterConfig",
    "AdapterService",
    "AdapterStore",
    "Context",
    "DocumentReply",
    "Engine",
    "ExecutionSettings",
    "HandlerContractError",
    "IdempotentLedger",
    "ItemKey",
    "NeedsMoreTime",
    "NoSettings",
    "PermanentError",
    "Runtime",
    "SafeLogger",
    "TransientError",
    "available",
    "config_model",
    "handles",
    "load_adapter",
    "load_adapter_config",
    "on_document",
]
