"""The request and answer bodies of the gateway's API, declared once (FastAPI validates them and
documents them in ``/openapi.json``)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, StrictBool, StringConstraints

MAX_SEQ = 2**53 - 1  # inbox sequence numbers: exact in JSON everywhere (a double's integers)
MAX_FIELD_VALUE = 1000  # the longest field any form allows (AM's TXT); each form's own is checked

Dest = Annotated[str, StringConstraints(min_length=1, max_length=16)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=16)]
FieldValue = Annotated[str, StringConstraints(max_length=MAX_FIELD_VALUE)]


class LoginBody(BaseModel):
    user_id: str = Field(min_length=1, max_length=64)
    password: str = Field(max_length=256)
    otp: str = Field(max_length=16)
    device_id: str = Field(default="", max_length=128)


class MessageBody(BaseModel):
    id: uuid.UUID
    mke: str = Field(min_length=2, max_length=4, pattern=r"^[A-Za-z]{2,4}$")
    dest: list[Dest] = Field(default_factory=list, max_length=10)
    fields: dict[Tag, FieldValue] = Field(default_factory=dict, max_length=100)
    text: str = Field(default="", max_length=20000)
    created_at: str = Field(default="", max_length=64)
    purpose: str | None = Field(default=None, max_length=4)


class AuditRecord(BaseModel):
    id: uuid.UUID
    at: str = Field(max_length=64)
    action: str = Field(max_length=64)
    outcome: str = Field(max_length=64)
    who: str = Field(max_length=64)
    source: str = Field(max_length=64)
    device: str = Field(max_length=128)
    detail: str = Field(max_length=2000)


class AuditBatch(BaseModel):
    records: list[AuditRecord] = Field(max_length=1000)


def _not_a_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    return value


Seq = Annotated[int, BeforeValidator(_not_a_bool)]  # 7 and 7.0 are numbers; false is not 0


class AckBody(BaseModel):
    upto: Seq = Field(ge=0, le=MAX_SEQ)


class AckAnswer(BaseModel):
    upto: int


# -- the trainer's ---------------------------------------------------------------------------------
class FaultsBody(BaseModel):
    user: str | None = Field(default=None, max_length=64)
    error_rate: float = Field(default=0.0, ge=0, le=1)
    drop_rate: float = Field(default=0.0, ge=0, le=1)
    duplicate_rate: float = Field(default=0.0, ge=0, le=1)
    latency: float = Field(default=0.0, ge=0, le=600)
    offline: StrictBool = False
    text_only: StrictBool = False
    destinations_down: list[Dest] = Field(default_factory=list, max_length=20)
    parts_out_of_order: StrictBool = False


class InjectBody(BaseModel):
    user: str | None = Field(default=None, max_length=64)
    ori: str | None = Field(default=None, max_length=9)
    delay: float = Field(default=0.0, ge=0, le=86400)
    events: list[dict[str, Any]] = Field(min_length=1, max_length=5000)
    # A poison drill: events that break the event contract on purpose reach the trainee's
    # client as they are (it must quarantine them). Text that cannot be stored or served
    # (a lone surrogate, nesting deeper than 32) is refused even then.
    unchecked: StrictBool = False


class EntryBody(BaseModel):
    kind: str = Field(pattern="^(stolen_vehicle|wanted_person|stolen_gun)$")
    record: dict[str, Any] = Field(default_factory=dict)


class StartBody(BaseModel):
    users: list[str] | None = Field(default=None, max_length=200)
    speed: float = Field(default=1.0, gt=0, le=1000)


class ResetBody(BaseModel):
    scenario: str | None = Field(default=None, max_length=64)
    restart: StrictBool = True
