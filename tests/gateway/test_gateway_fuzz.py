"""A property-based fuzzer over the running gateway's own OpenAPI document (schemathesis): every
operation, with a trainer's token, gets generated requests (valid and invalid ones), and every
check schemathesis has must hold: no server error, every status, content type, header and body
as the document declares, invalid data refused, valid data accepted, and the rest. The number of
generated cases is printed."""

from __future__ import annotations

import inspect
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks

from tests.conftest import Gateway, start_gateway

pytestmark = pytest.mark.e2e

# Left to their own tests: the endless stream, logging the fuzzer's own session out, and faults
# (an "offline" fault makes every later answer a 503 on purpose).
SKIPPED = ("/v1/inbox/stream", "/v1/sessions/current", "/v1/training/faults")


@pytest.fixture(scope="module")
def fuzzed_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway = start_gateway(Path(tmp_path_factory.mktemp("fuzz")) / "gw")
    yield gateway
    gateway.stop()


@pytest.fixture(scope="module")
def token(fuzzed_gateway: Gateway) -> str:
    account = fuzzed_gateway.demo_account("trainer1")
    answer = httpx.post(f"{fuzzed_gateway.url}/v1/sessions", timeout=10, json={
        "user_id": "trainer1", "password": account["password"], "otp": account["otp_now"],
        "device_id": "fuzzer"})
    return str(answer.json()["token"])


# Refusals of schema-valid requests by rules an OpenAPI document cannot state, each documented
# (in the operation's responses) and pinned by the gateway's own tests: the Idempotency-Key
# header must equal the body's id; a locked account answers 423 whatever the password, and an
# address that failed twenty sign-ins 429 (the fuzzer's own tries count); a
# record needs the fields of its kind (NIC, LIC, LIS for a stolen vehicle ...); a scenario's
# steps are checked as a whole; a scenario, or an injection, may name only known users (and an
# injected event must be of an injectable type and keep the event contract). Nothing else.
SEMANTIC_REFUSALS = {
    ("POST /v1/messages", 422), ("POST /v1/sessions", 423), ("POST /v1/sessions", 429),
    ("POST /v1/training/events", 422),
    ("POST /v1/training/records", 422), ("POST /v1/training/scenarios", 422),
    ("POST /v1/training/scenarios/{name}/start", 422),
}


def _all_checks() -> list[Any]:
    """Every check schemathesis has; positive_data_acceptance excuses only the refusals above."""
    load_all_checks()
    checks = [c for c in CHECKS.get_all() if inspect.isfunction(c)]
    original = next(c for c in checks if c.__name__ == "positive_data_acceptance")

    def positive_data_acceptance(ctx: Any, response: Any, case: schemathesis.Case) -> Any:
        if (case.operation.label, response.status_code) in SEMANTIC_REFUSALS:
            return None
        return original(ctx, response, case)

    return [positive_data_acceptance if c is original else c for c in checks]


def test_all_checks_hold_on_every_operation(fuzzed_gateway: Gateway, token: str) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzzed_gateway.url}/openapi.json")
    headers = {"Authorization": f"Bearer {token}"}
    checks = _all_checks()
    failures: dict[str, str] = {}
    tested = []
    cases = Counter[str]()
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in SKIPPED:
            continue
        tested.append(operation.label)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(max_examples=25, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def fuzz(case: schemathesis.Case) -> None:
                cases["negative" if case.meta and case.meta.generation.mode.is_negative
                      else "positive"] += 1
                case.call_and_validate(headers=headers, timeout=10, checks=checks)

            try:
                fuzz()
            except Unsatisfiable:  # nothing in the operation can be made invalid (no inputs)
                if mode is GenerationMode.POSITIVE:
                    raise
            except BaseException as exc:  # every operation is tried; all failures are reported
                if isinstance(exc, KeyboardInterrupt):
                    raise
                failures[f"{operation.label} ({mode.value})"] = \
                    f"{type(exc).__name__}: {str(exc)[:1500]}"
    print(f"schemathesis: {sum(cases.values())} generated cases ({cases['positive']} valid, "
          f"{cases['negative']} invalid) over {len(tested)} operations, checks: "
          f"{', '.join(c.__name__ for c in checks)}")
    assert len(tested) >= 20, tested
    assert len(checks) >= 10
    for label, failure in failures.items():
        print(f"FAILURE {label}: {failure}")
    assert failures == {}
