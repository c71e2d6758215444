"""One-time codes, accepted once (RFC 6238 §5.2: a verifier must not accept a code a second
time).

TOTP (SHA-1, 6 digits, 30 s steps). A code is accepted for the step before, the step now and
the step after (a clock up to 30 s off either way); once a step's code has signed in, no code of
that step or an earlier one is accepted again for that account (``otp_steps.last_used``). The
training gateway's sign-in page and ``mdt-gateway otp`` show the next code not yet used, so a
second sign-in within one step still gets a code that works. ``--otp-future-steps N`` (for test
suites that sign in many times a minute) lets that next code lie up to N steps ahead.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pyotp

STEP = 30
LOOKAHEAD = 64  # steps past the last one used that a code handed out ahead can reach


def step_now(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // STEP)


def code_at(secret: str, step: int) -> str:
    return pyotp.TOTP(secret).at(step * STEP)


@dataclass(frozen=True)
class Verdict:
    step: int | None  # the step the code belongs to, when it is accepted
    reused: bool = False  # the code was right but its step was already used


def verify(secret: str, code: str, *, last_used: int, future_steps: int = 1,
           now: float | None = None) -> Verdict:
    """Whether ``code`` signs in now: a step after the last one used, from the step before now
    to the step after (or as far as codes may be handed out ahead)."""
    code = code.strip()
    current = step_now(now)
    high = current + 1
    if future_steps > 1:
        high = max(high, min(current + future_steps, last_used + LOOKAHEAD))
    for step in range(max(current - 1, last_used + 1), high + 1):
        if pyotp.utils.strings_equal(code_at(secret, step), code):
            return Verdict(step)
    for step in range(current - 1, min(last_used, high) + 1):
        if pyotp.utils.strings_equal(code_at(secret, step), code):
            return Verdict(None, reused=True)
    return Verdict(None)


def next_code(secret: str, *, last_used: int, future_steps: int = 1,
              now: float | None = None) -> tuple[str | None, float]:
    """The next code not yet used: (code, 0), or (None, seconds to wait) when the window
    allows none yet (every code up to the step after now has signed in)."""
    current = step_now(now)
    step = max(current, last_used + 1)
    if step <= current + max(1, future_steps):
        return code_at(secret, step), 0.0
    moment = time.time() if now is None else now
    return None, (step - max(1, future_steps)) * STEP - moment
