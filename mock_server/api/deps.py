"""What routes depend on: the gateway and the exercise of the app, and who is asking (the
session of the ``Authorization: Bearer`` header; a trainer's for the training routes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Header, Request

from mock_server.accounts import Account
from mock_server.errors import ApiError
from mock_server.exercise import Exercise
from mock_server.gateway import Gateway, bearer_token


def gateway(request: Request) -> Gateway:
    return cast(Gateway, request.app.state.gateway)


def exercise(request: Request) -> Exercise:
    return cast(Exercise, request.app.state.exercise)


GatewayDep = Annotated[Gateway, Depends(gateway)]
ExerciseDep = Annotated[Exercise, Depends(exercise)]


@dataclass(frozen=True)
class Session:
    """A signed-in caller: the account and the session token it signed in with."""

    account: Account
    token: str


def session(gw: GatewayDep, authorization: Annotated[str | None, Header()] = None) -> Session:
    """The caller's session; 401 (:class:`ApiError`) saying why there is none."""
    account = gw.user_for(authorization)
    return Session(account, bearer_token(authorization) or "")


SessionDep = Annotated[Session, Depends(session)]


def signed_in(caller: SessionDep) -> Account:
    return caller.account


SignedIn = Annotated[Account, Depends(signed_in)]


def training_only(gw: GatewayDep) -> None:
    if not gw.config.training:
        raise ApiError(404, "not_found", "Not a training gateway.")


def trainer(account: SignedIn) -> Account:
    """The caller, who must be a trainer (403 otherwise)."""
    if account.role != "trainer":
        raise ApiError(403, "forbidden", "Only a trainer may do this.")
    return account


Trainer = Annotated[Account, Depends(trainer)]
