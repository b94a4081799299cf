"""Unit tests for helpers.checks: friendly messages, and failures that nbgrader counts."""

import pytest

from helpers.checks import (NOT_ANSWERED, CheckFailed, answer_of, check, check_close, check_equal,
                            check_type, quiz)


def test_check_passes_and_says_so(capsys):
    check(True, "the answer", "anything")
    assert "✔ the answer" in capsys.readouterr().out


def test_failed_check_is_an_assertion_error_with_expected_got_and_hint():
    with pytest.raises(AssertionError) as info:
        check_equal(3, 4, "two plus two", hint="Count again.")
    message = str(info.value)
    assert "two plus two" in message and "Expected: 4" in message and "Got:      3" in message
    assert "Hint:     Count again." in message
    assert isinstance(info.value, CheckFailed)


def test_ipython_shows_only_the_friendly_message():
    try:
        check_equal("a", "b", "a letter")
    except CheckFailed as exc:
        lines = exc._render_traceback_()
    assert lines[0] == "CheckFailed" and any("Expected: 'b'" in line for line in lines)
    assert not any("File " in line for line in lines)


def test_check_close_tolerates_rounding_and_rejects_strings():
    check_close(0.1 + 0.2, 0.3, "a sum")
    with pytest.raises(CheckFailed, match="a number"):
        check_close("0.3", 0.3, "a sum")
    with pytest.raises(CheckFailed, match="give or take"):
        check_close(0.31, 0.3, "a sum", tol=1e-3)


def test_check_type_does_not_count_bools_as_numbers():
    with pytest.raises(CheckFailed):
        check_type(True, (int, float), "a count")
    check_type(True, bool, "a flag")


def test_long_values_are_shortened_in_messages():
    with pytest.raises(CheckFailed) as info:
        check_equal(list(range(1000)), [], "a list")
    assert len(str(info.value)) < 600


def test_answer_of_explains_an_unwritten_answer():
    def salary_midpoint(low, high):
        raise NotImplementedError()

    with pytest.raises(CheckFailed, match="NotImplementedError") as info:
        answer_of(salary_midpoint, 1, 2)
    assert "salary_midpoint()" in str(info.value)
    assert answer_of(lambda a, b: a + b, 1, b=2) == 3


def test_answer_of_explains_other_errors():
    def broken(payload):
        raise KeyError("text")

    with pytest.raises(CheckFailed) as info:
        answer_of(broken, {"product": "Desk"})
    message = str(info.value)
    assert "broken({'product': 'Desk'})" in message and "KeyError: 'text'" in message
    assert "an answer, not an error" in message


@pytest.mark.parametrize("answer, right", [(NOT_ANSWERED, False), ("ML", True), (" ml ", True), ("se", False)])
def test_quiz_never_raises_and_reports(answer, right, capsys):
    assert bool(quiz(answer, "ml", "Who retrains the model?", hint="The model's owner.")) is right
    out = capsys.readouterr().out
    expected = {NOT_ANSWERED: "Your turn", "se": "Not quite"}.get(answer, "Right")
    assert expected in out


def test_quiz_accepts_a_predicate():
    assert quiz(0.9, lambda x: 0.8 < x < 1, "A number near 0.9?", hint="Between 0.8 and 1.")


def test_check_close_accepts_numpy_numbers():
    import numpy as np

    check_close(np.int64(3), 3, "a numpy integer")
    check_close(np.float32(0.5), 0.5, "a numpy float")


def test_check_raises_explains_each_way_to_go_wrong():
    from helpers.checks import check_raises

    def strict(x):
        if x < 0:
            raise ValueError("x must not be negative")
        return x

    check_raises(ValueError, strict, -1, what="a negative x", message_has="negative")
    with pytest.raises(CheckFailed, match="no error"):
        check_raises(ValueError, strict, 1, what="a positive x")
    with pytest.raises(CheckFailed, match="mentions 'tier'"):
        check_raises(ValueError, strict, -1, what="a negative x", message_has="tier")
    with pytest.raises(CheckFailed, match="TypeError"):
        check_raises(ValueError, strict, "a", what="a string")
