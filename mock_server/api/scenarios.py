"""The trainer's scenarios (training gateways only): listing, saving, starting, pausing and
resuming a run, and the debrief of the last one (``docs/scenarios.md``)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends, Query

from mock_server.api.deps import ExerciseDep, GatewayDep, Trainer, training_only
from mock_server.errors import ApiError
from mock_server.models import StartBody
from mock_server.scenarios import ScenarioError, validate_scenario

router = APIRouter(dependencies=[Depends(training_only)])


@router.get("/v1/training/scenarios")
async def list_scenarios(_trainer: Trainer, exercise: ExerciseDep) -> dict[str, Any]:
    return {"scenarios": [
        {"name": name, "source": source, "title": s.get("title", name),
         "description": s.get("description", ""), "teaches": s.get("teaches", ""),
         "steps": len(s["steps"]),
         "duration": max((float(step.get("at", 0)) for step in s["steps"]), default=0.0)}
        for name, (source, s) in sorted(exercise.scenarios().items())]}


@router.post("/v1/training/scenarios", status_code=201)
async def save_scenario(body: dict[str, Any], _trainer: Trainer, gw: GatewayDep
                        ) -> dict[str, Any]:
    try:
        scenario = validate_scenario(body)
    except ScenarioError as exc:
        raise ApiError(422, "validation", str(exc), exc.field) from exc
    gw.state.save_scenario(scenario["name"], scenario)
    return {"name": scenario["name"], "steps": len(scenario["steps"])}


# Before ".../{name}/start": "pause" and "resume" are not scenario names.
@router.post("/v1/training/scenarios/pause")
async def pause(_trainer: Trainer, gw: GatewayDep) -> dict[str, Any]:
    """Hold the running scenario's steps still to come (events already sent stay)."""
    paused = gw.state.pause_actions(time.time())
    return {"paused": True, "changed": paused, "steps_to_come": gw.state.pending_actions()}


@router.post("/v1/training/scenarios/resume")
async def resume(_trainer: Trainer, gw: GatewayDep) -> dict[str, Any]:
    """Go on: the held steps come later by the time spent paused."""
    held = gw.state.resume_actions(time.time())
    gw.wake_scheduler()
    return {"paused": False, "held_seconds": round(held, 1),
            "steps_to_come": gw.state.pending_actions()}


@router.post("/v1/training/scenarios/{name}/start")
async def start_scenario(name: str, _trainer: Trainer, gw: GatewayDep, exercise: ExerciseDep,
                         body: StartBody | None = None) -> dict[str, Any]:
    body = body or StartBody()
    scenarios = exercise.scenarios()
    if name not in scenarios:
        raise ApiError(404, "not_found", f"No scenario {name!r}.")
    if body.users is not None:
        known = {a.user_id for a in gw.state.accounts()}
        unknown = [u for u in body.users if u not in known]
        if unknown:
            raise ApiError(422, "validation", f"Unknown users: {', '.join(unknown)}.", "users")
    return exercise.start_scenario(name, scenarios[name][1], body.users, body.speed)


@router.get("/v1/training/debrief")
async def get_debrief(_trainer: Trainer, exercise: ExerciseDep,
                      user: str | None = Query(default=None, max_length=64),
                      final: bool = Query(default=False)) -> dict[str, Any]:
    """Per trainee: a timeline of the last run and each expectation met, missed or still
    pending (``final=true``: the run is over, what was not done is missed)."""
    return exercise.debrief(user, final=final)
