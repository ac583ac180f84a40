"""What a handler raises to tell the SDK how an item went, and the codes the SDK logs.

=====================  =====================================================================
raise                  what the SDK does
=====================  =====================================================================
``TransientError``     the native system is unavailable for now (timeout, connection refused,
                       lock): the item is retried with exponential backoff, in delivery order —
                       later documents wait — and survives restarts; it is never dropped.
``PermanentError``     the item cannot be carried out (no such account, account closed, asset
                       not registered here): its result is *NotExecuted* with ``reason``
                       (003 bank rules 17) and the receipt goes out with the other results.
``NeedsMoreTime``      the native system has registered the item but cannot finish it before
                       the deadline: an extension notice (延期说明) with the reason and the
                       proposed deadline goes to the court once, and the item is asked again
                       after ``retry_after`` (002 四.7, 四.13, 四.14, 四.17).
anything else          a bug: logged at ERROR (type only, never the message, which may carry
                       personal data) and retried like a transient error, so an operator can fix
                       the adapter and restart without losing or misreporting the item.
=====================  =====================================================================
"""

from __future__ import annotations

from datetime import datetime, timedelta


class AdapterError(Exception):
    """Base of the exceptions a handler raises on purpose."""


class TransientError(AdapterError):
    """The native operation failed for a reason that may go away: retry later.

    Raise it only when the native system did *not* carry the operation out, or when calling it
    again with the same idempotency key is harmless (it is: see :class:`IdempotentLedger`).
    """


class PermanentError(AdapterError):
    """The item cannot be carried out; ``reason`` goes to the court in the receipt.

    Write ``reason`` for the court (Chinese, with an English gloss if you like): it is the
    receipt's ``Reason`` (003 bank rules 17). It is never logged.
    """

    def __init__(self, reason: str):
        if not reason or not reason.strip():
            raise ValueError("a PermanentError needs a reason for the court (003 bank rules 17)")
        super().__init__(reason)
        self.reason = reason.strip()


class NeedsMoreTime(AdapterError):
    """The item is registered natively but cannot be finished yet.

    ``reason`` and ``proposed_deadline`` go to the court in an extension notice (the rules
    require both, RULE_EXTENSION_REASON); the handler is called again after ``retry_after``
    (a :class:`timedelta`, seconds, or ``None`` for the configured default). A new notice is
    sent only when the proposed deadline changes.

    Raise it only once the native system has recorded the request under the item's idempotency
    key: that fixes the item's place (a rotating freeze stays behind the ones before it), so
    documents delivered later may proceed meanwhile.
    """

    def __init__(self, reason: str, proposed_deadline: datetime, retry_after: timedelta | float | None = None):
        if not reason or not reason.strip():
            raise ValueError("NeedsMoreTime needs a reason for the court (002 四.7)")
        if proposed_deadline.tzinfo is None:
            raise ValueError("proposed_deadline must be timezone-aware")
        super().__init__(reason)
        self.reason = reason.strip()
        self.proposed_deadline = proposed_deadline
        if isinstance(retry_after, (int, float)):
            retry_after = timedelta(seconds=retry_after)
        self.retry_after: timedelta | None = retry_after


class HandlerContractError(Exception):
    """A handler returned something the SDK cannot put in a receipt (wrong type, wrong item id,
    a result the XSD or the rules refuse). Treated as a bug: logged at ERROR and retried."""


# --- codes the SDK logs (structured, machine-matchable) ------------------------------------------

SENDER_REFUSED = "ADAPTER_SENDER_REFUSED"
"""The document's sender is neither a court nor the linkage office: recorded, never executed."""

NOT_RECIPIENT = "ADAPTER_NOT_RECIPIENT"
"""The document names another unit as recipient: recorded, never executed."""

UNREADABLE = "ADAPTER_UNREADABLE"
"""A verified document could not be decoded into the models (a version mismatch): recorded."""

NO_HANDLER = "ADAPTER_NO_HANDLER"
"""An item without a handler: answered NotExecuted with a reason."""

HANDLER_ERROR = "ADAPTER_HANDLER_ERROR"
"""A handler raised an unexpected exception or broke its contract: retried, logged at ERROR."""

RECEIPT_REJECTED = "ADAPTER_RECEIPT_REJECTED"
"""The hub rejected a document this adapter sent (see the rejection notice's codes)."""
