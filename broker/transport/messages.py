"""The two small JSON messages beside the documents (docs/topics.md).

- ``ack``: ``{"acks": ["<document id>", ...]}`` — the unit has durably stored these documents
  from its ``in`` topic; the hub stops redelivering them and records them as delivered.
- ``status`` (retained): ``{"state": "online" | "offline", "at": "<ISO time>"}`` — the offline
  form is the unit's last will, so the broker publishes it when the unit vanishes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from broker.errors import LiandongError

MAX_ACKS = 1000


class AckMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    acks: list[str] = Field(max_length=MAX_ACKS)

    @field_validator("acks")
    @classmethod
    def _uuids(cls, value: list[str]) -> list[str]:
        return [str(UUID(v)) for v in value]


class StatusMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: Literal["online", "offline"]
    at: datetime | None = None


def encode_acks(document_ids: list[str]) -> bytes:
    return AckMessage(acks=list(document_ids)).model_dump_json().encode()


def decode_acks(payload: bytes) -> list[str]:
    try:
        return AckMessage.model_validate_json(payload).acks
    except (ValidationError, ValueError) as exc:
        raise LiandongError.of("MSG_MALFORMED", detail=str(exc).splitlines()[0][:200]) from None


def encode_status(state: Literal["online", "offline"], at: datetime | None = None) -> bytes:
    return StatusMessage(state=state, at=at).model_dump_json(exclude_none=True).encode()


def decode_status(payload: bytes) -> StatusMessage:
    try:
        return StatusMessage.model_validate_json(payload)
    except (ValidationError, ValueError) as exc:
        raise LiandongError.of("MSG_MALFORMED", detail=str(exc).splitlines()[0][:200]) from None
