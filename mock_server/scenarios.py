"""Scripted training scenarios: JSON files in ``resources/scenarios`` (and ones a trainer saves
with ``POST /v1/training/scenarios``), declared as pydantic models and validated by the library.

A scenario is ``{"name", "title", "description", "teaches", "steps": [STEP ...], "expect"}``.
Each step happens ``at`` seconds after the start (divided by the ``speed`` the trainer starts it
with) and does exactly one thing:

- ``"event": {...}`` with ``"to"``: put an event (admin, detainer, hit_confirmation_request,
  hit_confirmation_response, delayed_hit, status) into inboxes. ``to`` is ``"trainees"`` (the
  default: everyone but trainers, or the users the run was started for), ``"all"``, or an object
  with ``user`` / ``users`` / ``ori`` / ``role``. A ``hit_confirmation_request`` may say
  ``respond_in`` (seconds) instead of ``respond_by``;
- ``"enter": {"kind": "stolen_vehicle" | "wanted_person" | "stolen_gun", ...fields}``: enter a
  record; earlier queries it matches get a delayed hit;
- ``"faults": {...}``: set the training faults (as ``PUT /v1/training/faults``).

``expect`` lists what trainees are expected to do (see :mod:`mock_server.debrief`).

A scenario that does not fit is refused with a :class:`ScenarioError`: one sentence naming the
step and the field (``step 2: 'at' is seconds from the start (0 to 86400).``) and ``field``, the
key a client shows it at; a bundled file that does not fit is logged with its file name.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

log = logging.getLogger("mdt-gateway")

INJECTABLE = ("admin", "detainer", "hit_confirmation_request", "hit_confirmation_response",
              "delayed_hit", "status")
ENTRY_KINDS = ("stolen_vehicle", "wanted_person", "stolen_gun")
DOES = ("send", "not_send", "acknowledge", "answer", "view")
NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"


class ScenarioError(ValueError):
    def __init__(self, message: str, field: str = "steps") -> None:
        super().__init__(message)
        self.field = field


def _refuse(message: str, field: str) -> PydanticCustomError:
    """A refusal in this module's words (the translator below keeps them as they are)."""
    return PydanticCustomError("scenario", message, {"field": field})


# -- the parts of a scenario -----------------------------------------------------------------------
class _Open(BaseModel):
    """A JSON object whose other keys are kept as they are (an event's own fields ...)."""

    model_config = ConfigDict(extra="allow")


class Target(BaseModel):
    """Who an event is for, beyond ``"trainees"`` and ``"all"``."""

    model_config = ConfigDict(extra="forbid")

    user: Any = None
    users: list[StrictStr] | None = None
    ori: Any = None
    role: Any = None

    @model_validator(mode="before")
    @classmethod
    def _not_empty(cls, value: Any) -> Any:
        if isinstance(value, dict) and not value:
            raise _refuse("'to' is 'trainees', 'all' or an object with user / users / ori / "
                          "role", "to")
        return value


class Event(_Open):
    type: Literal[INJECTABLE]  # type: ignore[valid-type]


class Entry(_Open):
    kind: Literal[ENTRY_KINDS]  # type: ignore[valid-type]
    nic: Any = Field(default=None, validate_default=True)

    @field_validator("nic")
    @classmethod
    def _has_nic(cls, value: Any) -> Any:
        if not value:
            raise _refuse("an entered record needs its NIC.", "nic")
        return value


class StepFaults(BaseModel):
    """The faults a step switches on (``mock_server.faults.Faults``, for one user or all)."""

    model_config = ConfigDict(extra="forbid")

    user: str | None = None
    error_rate: float = 0.0
    drop_rate: float = 0.0
    duplicate_rate: float = 0.0
    latency: float = 0.0
    offline: StrictBool = False
    text_only: StrictBool = False
    destinations_down: list[str] = Field(default_factory=list)
    parts_out_of_order: StrictBool = False

    @model_validator(mode="before")
    @classmethod
    def _known(cls, value: Any) -> Any:
        unknown = sorted(set(value) - set(cls.model_fields)) if isinstance(value, dict) else []
        if unknown:
            raise _refuse(f"unknown faults {', '.join(unknown)}.", "faults")
        return value


def _everyone(value: Any) -> Any:
    """``"trainees"`` and ``"all"`` need no :class:`Target`."""
    return None if isinstance(value, str) and value in ("trainees", "all") else value


class Step(_Open):
    at: Annotated[float, Field(ge=0, le=86400, strict=True)] = 0
    to: Annotated[Target | None, BeforeValidator(_everyone)] = None
    event: Event | None = None
    enter: Entry | None = None
    faults: StepFaults | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_action(cls, value: Any) -> Any:
        if isinstance(value, dict) and sum(k in value for k in ("event", "enter", "faults")) != 1:
            raise _refuse("exactly one of event, enter, faults.", "steps")
        return value


class Expectation(_Open):
    """One thing a trainee is expected to do (checked by the debrief)."""

    do: Literal[DOES]  # type: ignore[valid-type]
    id: StrictStr
    title: StrictStr


class Scenario(_Open):
    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    title: StrictStr | None = None
    description: StrictStr | None = None
    teaches: StrictStr | None = None
    expect: list[Expectation] | None = None
    steps: Annotated[list[Step], Field(min_length=1, max_length=500)]

    @field_validator("expect")
    @classmethod
    def _references(cls, value: list[Expectation] | None) -> list[Expectation] | None:
        ids = {e.id for e in value or []}
        for item in value or []:
            for key in ("after", "before"):
                extra = item.model_extra or {}
                if key in extra and extra[key] not in ids:
                    raise _refuse(f"expectation {item.id}: '{key}' names no expectation.",
                                  "expect")
        return value


# -- the library's findings, in the gateway's sentences --------------------------------------------
_TOP = {"name": "name: lower-case letters, digits and hyphens (at most 64).",
        "title": "title: text.", "description": "description: text.",
        "teaches": "teaches: text.", "steps": "steps: a list of 1 to 500 steps."}
_IN_STEP = {"at": ("'at' is seconds from the start (0 to 86400).", "at"),
            "type": (f"event types are {', '.join(INJECTABLE)}.", "type"),
            "kind": (f"records are {', '.join(ENTRY_KINDS)}.", "kind"),
            "to": ("'to' is 'trainees', 'all' or an object with user / users / ori / role", "to"),
            "users": ("'users' is a list of user ids", "to")}


def _sentence(error: ErrorDetails) -> ScenarioError:
    loc = list(error["loc"])
    custom = error["type"] == "scenario"
    field = str((error.get("ctx") or {}).get("field", "steps"))
    if not loc:
        return ScenarioError(error["msg"] if custom else "A scenario is a JSON object.",
                             field if custom else "body")
    top = str(loc[0])
    if top == "expect":
        if custom:
            return ScenarioError(error["msg"], "expect")
        if len(loc) == 1:
            return ScenarioError("expect: a list of expectations.", "expect")
        n = int(loc[1]) + 1
        if len(loc) == 2 or loc[2] == "do":
            return ScenarioError(f"expectation {n}: 'do' is one of {', '.join(DOES)}.",
                                 "expect")
        return ScenarioError(f"expectation {n}: needs an 'id' and a 'title'.", "expect")
    if top != "steps" or len(loc) == 1:
        return ScenarioError(error["msg"] if custom else _TOP.get(top, f"{top}: invalid."),
                             field if custom else top)
    where = f"step {int(loc[1]) + 1}"
    if custom:
        return ScenarioError(f"{where}: {error['msg']}", field)
    if len(loc) == 2:
        return ScenarioError(f"{where}: an object.", "steps")
    action = str(loc[2])
    if len(loc) == 3 and action in ("event", "enter", "faults"):
        return ScenarioError(f"{where}: '{action}' is an object.", action)
    if action == "faults":
        return ScenarioError(f"{where}: faults: {'.'.join(map(str, loc[3:]))} "
                             f"{error['msg'].lower()}.", "faults")
    last = next(str(p) for p in reversed(loc) if isinstance(p, str))
    sentence, named = _IN_STEP.get(last, _IN_STEP.get(action, (error["msg"], action)))
    return ScenarioError(f"{where}: {sentence}", named)


def validate_scenario(data: Any) -> dict[str, Any]:
    """The scenario if it is well-formed; else :class:`ScenarioError` saying what is wrong."""
    try:
        Scenario.model_validate(data)
    except ValidationError as exc:
        raise _sentence(exc.errors()[0]) from None
    return dict(data)


def load_scenarios(folder: Path) -> dict[str, dict[str, Any]]:
    """The well-formed scenarios in a folder, by name (a broken file is logged and skipped)."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            scenario = validate_scenario(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            log.warning("scenario %s skipped: %s", path.name, exc)
            continue
        found[scenario["name"]] = scenario
    return found
