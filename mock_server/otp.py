"""One-time codes, accepted once (RFC 6238 §5.2: a verifier must not accept a code a second
time).

TOTP (SHA-1, 6 digits, 30 s steps). A code is accepted for the step before, the step now and
the step after (a clock up to 30 s off either way); once a step's code has signed in, no code of
that step or an earlier one is accepted again for that account (``otp_last_step``). The training
gateway's sign-in page and ``mdt-gateway otp`` hand out the next unused code
(``otp_handed_step``), so double-clicking a demo account twice gives two codes that both work;
``--otp-future-steps N`` (for test suites that sign in many times a minute) lets them hand out
up to N steps ahead.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pyotp

STEP = 30


def step_now(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // STEP)


def code_at(secret: str, step: int) -> str:
    return pyotp.TOTP(secret).at(step * STEP)


@dataclass(frozen=True)
class Verdict:
    step: int | None  # the step the code belongs to, when it is accepted
    reused: bool = False  # the code was right but its step was already used


def verify(secret: str, code: str, *, last_used: int, handed: int,
           now: float | None = None) -> Verdict:
    """Whether ``code`` signs in now: a step in [now - 1, max(now + 1, the last handed out)]
    after the last one used."""
    code = code.strip()
    current = step_now(now)
    high = max(current + 1, handed)
    for step in range(max(current - 1, last_used + 1), high + 1):
        if pyotp.utils.strings_equal(code_at(secret, step), code):
            return Verdict(step)
    for step in range(current - 1, min(last_used, high) + 1):
        if pyotp.utils.strings_equal(code_at(secret, step), code):
            return Verdict(None, reused=True)
    return Verdict(None)


def next_code(secret: str, *, last_used: int, handed: int, future_steps: int,
              now: float | None = None) -> tuple[str | None, int, float]:
    """The next unused code to hand out: (code, its step, 0), or (None, step, seconds to wait)
    when every step the window allows has been handed out already."""
    current = step_now(now)
    step = max(current, handed + 1, last_used + 1)
    if step <= current + max(1, future_steps):
        return code_at(secret, step), step, 0.0
    moment = time.time() if now is None else now
    return None, step, (step - max(1, future_steps)) * STEP - moment
