"""Structured logs (broker/logs.py): no personal data at INFO or above, exceptions included."""

from __future__ import annotations

import io
import json
import logging

import pytest

from broker import logs

ID_NUMBER = "445302198004121234"


@pytest.fixture
def captured():
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    yield stream
    root.handlers[:], _ = saved
    root.setLevel(saved[1])


def _fail_with_input() -> None:
    try:
        int(f"not a number: {ID_NUMBER}")
    except ValueError as exc:
        raise RuntimeError(f"while reading {ID_NUMBER}") from exc


def _log_exception() -> None:
    try:
        _fail_with_input()
    except RuntimeError:
        logging.getLogger("liandong.hub").exception("hub.pipeline_error")


def test_an_exception_is_logged_without_its_message(captured):
    """An exception message can quote the input (an ID number): type and stack only."""
    logs.configure("INFO", stream=captured)
    _log_exception()
    entry = json.loads(captured.getvalue())
    assert ID_NUMBER not in captured.getvalue()
    assert entry["event"] == "hub.pipeline_error" and entry["error"] == "RuntimeError <- ValueError"
    assert any(line.endswith(" _fail_with_input") for line in entry["stack"])


def test_debug_logs_carry_the_messages(captured):
    logs.configure("DEBUG", stream=captured)
    _log_exception()
    entry = json.loads(captured.getvalue().splitlines()[-1])
    assert ID_NUMBER in entry["exception"]
