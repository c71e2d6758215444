"""What went wrong, in a sentence for the person at the keyboard, and the one error path of the
GUI's background work: a task's callback gets ``(result, error)``; :func:`then` turns it into
"do this with the result" and "say this sentence", so a widget writes no error branch of its
own."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from mdt.store.errors import CacheError

Callback = Callable[[Any, BaseException | None], None]


def describe_error(error: BaseException) -> str:
    """A sentence for the person at the keyboard, whatever went wrong."""
    from mdt.agency_config import TrainingNotAllowed
    from mdt.core.confirmation import ConfirmationError
    from mdt.core.forms import FormInvalid
    from mdt.settings import SettingsError

    if isinstance(error, SettingsError | TrainingNotAllowed | ConfirmationError | FormInvalid):
        return str(error)  # a form the rules refuse: the rules' sentences, as the CLI says them
    # A gateway error exists only once a worker has imported the client: never import it (and
    # its network stack) here, on the GUI thread, to find out.
    gateway = sys.modules.get("mdt.net.gateway")
    if gateway is not None and isinstance(error, gateway.GatewayError):
        return str(error.message)
    if isinstance(error, CacheError):
        return error.user_message
    return (f"Unexpected problem ({type(error).__name__}). Try again; if it comes back, tell "
            "your agency's IT (the type of problem is in the program's output, no record data).")


def then(done: Callable[[Any], None], failed: Callable[[str], None], what: str = "") -> Callback:
    """A task callback: ``done(result)``, or on an error ``failed`` gets the sentence (after
    ``what``, e.g. "Not sent: ...")."""

    def callback(result: Any, error: BaseException | None) -> None:
        if error is not None:
            sentence = describe_error(error)
            failed(f"{what}: {sentence}" if what else sentence)
        else:
            done(result)

    return callback
