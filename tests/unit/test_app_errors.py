"""The GUI's one error path: a task's (result, error) becomes "use the result" or "say why"."""

from __future__ import annotations

from mdt.app.errors import describe_error, then
from mdt.store.errors import DiskFullError


def test_then_hands_the_result_on_and_says_an_error_in_one_sentence() -> None:
    results: list[object] = []
    said: list[str] = []
    callback = then(results.append, said.append, "Not saved")
    callback(42, None)
    callback(None, DiskFullError("full"))
    assert results == [42]
    assert said == [f"Not saved: {DiskFullError('full').user_message}"]


def test_an_unexpected_problem_says_what_to_do_not_a_log_that_is_not_there() -> None:
    sentence = describe_error(KeyError("x"))
    assert sentence.startswith("Unexpected problem (KeyError).")
    assert "log" not in sentence and "tell your agency's IT" in sentence
