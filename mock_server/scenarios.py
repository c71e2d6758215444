"""Scripted training scenarios: JSON files in ``resources/scenarios`` (and ones a trainer saves
with ``POST /v1/training/scenarios``).

A scenario is ``{"name", "title", "description", "teaches", "steps": [STEP ...]}``. Each step
happens ``at`` seconds after the start (divided by the ``speed`` the trainer starts it with) and
does exactly one thing:

- ``"event": {...}`` with ``"to"``: put an event (admin, detainer, hit_confirmation_request,
  hit_confirmation_response, delayed_hit, status) into inboxes. ``to`` is ``"trainees"`` (the
  default: everyone but trainers, or the users the run was started for), ``"all"``, or an object
  with ``user`` / ``users`` / ``ori`` / ``role``. A ``hit_confirmation_request`` may say
  ``respond_in`` (seconds) instead of ``respond_by``;
- ``"enter": {"kind": "stolen_vehicle" | "wanted_person" | "stolen_gun", ...fields}``: enter a
  record; earlier queries it matches get a delayed hit;
- ``"faults": {...}``: set the training faults (as ``PUT /v1/training/faults``).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any

from mock_server.debrief import check_expectations
from mock_server.faults import Faults

log = logging.getLogger("mdt-gateway")

INJECTABLE = ("admin", "detainer", "hit_confirmation_request", "hit_confirmation_response",
              "delayed_hit", "status")
ENTRY_KINDS = ("stolen_vehicle", "wanted_person", "stolen_gun")
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
TARGET_KEYS = {"user", "users", "ori", "role"}


class ScenarioError(ValueError):
    def __init__(self, message: str, field: str = "steps") -> None:
        super().__init__(message)
        self.field = field


def _check_target(target: Any, where: str) -> None:
    if target is None or target in ("trainees", "all"):
        return
    if not isinstance(target, dict) or not target or set(target) - TARGET_KEYS:
        raise ScenarioError(f"{where}: 'to' is 'trainees', 'all' or an object with "
                            "user / users / ori / role", "to")
    if "users" in target and not (isinstance(target["users"], list)
                                  and all(isinstance(u, str) for u in target["users"])):
        raise ScenarioError(f"{where}: 'users' is a list of user ids", "to")


def validate_scenario(data: Any) -> dict[str, Any]:
    """The scenario if it is well-formed; else :class:`ScenarioError` saying what is wrong."""
    if not isinstance(data, dict):
        raise ScenarioError("A scenario is a JSON object.", "body")
    name = data.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise ScenarioError("name: lower-case letters, digits and hyphens (at most 64).", "name")
    for key in ("title", "description", "teaches"):
        if key in data and not isinstance(data[key], str):
            raise ScenarioError(f"{key}: text.", key)
    try:
        check_expectations(data.get("expect"))
    except ValueError as exc:
        raise ScenarioError(str(exc), "expect") from exc
    steps = data.get("steps")
    if not isinstance(steps, list) or not 1 <= len(steps) <= 500:
        raise ScenarioError("steps: a list of 1 to 500 steps.", "steps")
    fault_names = {f.name for f in dataclass_fields(Faults)} | {"user"}
    for i, step in enumerate(steps):
        where = f"step {i + 1}"
        if not isinstance(step, dict):
            raise ScenarioError(f"{where}: an object.")
        at = step.get("at", 0)
        if not isinstance(at, int | float) or isinstance(at, bool) or not 0 <= at <= 86400:
            raise ScenarioError(f"{where}: 'at' is seconds from the start (0 to 86400).", "at")
        actions = [k for k in ("event", "enter", "faults") if k in step]
        if len(actions) != 1:
            raise ScenarioError(f"{where}: exactly one of event, enter, faults.")
        value = step[actions[0]]
        if not isinstance(value, dict):
            raise ScenarioError(f"{where}: '{actions[0]}' is an object.", actions[0])
        if actions[0] == "event":
            if value.get("type") not in INJECTABLE:
                raise ScenarioError(f"{where}: event types are {', '.join(INJECTABLE)}.", "type")
            _check_target(step.get("to"), where)
        elif actions[0] == "enter":
            if value.get("kind") not in ENTRY_KINDS:
                raise ScenarioError(f"{where}: records are {', '.join(ENTRY_KINDS)}.", "kind")
            if not value.get("nic"):
                raise ScenarioError(f"{where}: an entered record needs its NIC.", "nic")
        else:
            unknown = set(value) - fault_names
            if unknown:
                raise ScenarioError(f"{where}: unknown faults {', '.join(sorted(unknown))}.",
                                    "faults")
            try:
                Faults(**{k: v for k, v in value.items() if k != "user"})
            except TypeError as exc:
                raise ScenarioError(f"{where}: {exc}", "faults") from exc
    return data


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
