"""The unit's local store (broker/transport/store.py): what a court or adapter keeps until the
hub answers."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from broker.errors import LiandongError
from broker.transport.store import UnitStore


def test_a_recorded_document_counts_as_just_sent(tmp_path):
    """Recorded, then published: a resend scan running in between must see it as sent now, not
    as never sent (which gave the hub a spurious duplicate)."""
    store = UnitStore(tmp_path / "unit.db")
    at = datetime(2026, 3, 4, 9, 30, tzinfo=timezone.utc)
    assert store.record_sent("d1", "AssistanceNotice", "a" * 64, b"<x/>", at)
    (entry,) = store.sent(state="pending")
    assert entry.last_sent_at == at.isoformat() and entry.attempts == 0
    assert not store.record_sent("d1", "AssistanceNotice", "a" * 64, b"<x/>", at)  # same bytes: once
    with pytest.raises(LiandongError) as info:
        store.record_sent("d1", "AssistanceNotice", "b" * 64, b"<y/>", at)
    assert info.value.codes == ["DOC_ID_REUSED"]
