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


# --- Lesson checks never raise, and accept the right idea in its common forms (issue 14) ---

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from helpers.checks import quiz_function  # noqa: E402

WEIRD_ANSWERS = [None, "", "0.085", "abc", 3, -1.5, True, [1, 2], (1,), {"a": 1}, {1, 2}, object(),
                 np.array([1, 2, 3]), np.zeros((2, 2)), pd.DataFrame({"a": [1, 2]}), pd.Series([1.0]), float("nan")]


@pytest.mark.parametrize("correct", ["macro F1", 0.085, 3, False, ("access", "technical"), {"Mathematics", "Statistics"},
                                     lambda a: abs(a - 0.085) < 0.001, lambda a: a["x"] > 0, lambda a: len(a) == 2])
def test_quiz_never_raises_whatever_is_typed(correct, capsys):
    for answer in WEIRD_ANSWERS:
        quiz(answer, correct, "a question", "a hint")
    out = capsys.readouterr().out
    assert "Traceback" not in out


@pytest.mark.parametrize("answer, correct", [
    ("macro-F1", "macro F1"), ("Macro_F1 ", "macro F1"), ("'macro F1'", "macro F1"),
    ("access, technical", ("access", "technical")), ("access -> technical", ("access", "technical")),
    (["access", "technical"], ("access", "technical")), ("False", False), ("3", 3), ("0.085", 0.085),
    (["statistics", "Mathematics"], {"Mathematics", "Statistics"}),
    ("0.085", lambda a: abs(a - 0.085) < 0.0015), (3.0, 3),
])
def test_quiz_accepts_the_right_idea_in_common_forms(answer, correct, capsys):
    assert quiz(answer, correct, "q", "h")
    assert "✔" in capsys.readouterr().out


@pytest.mark.parametrize("answer, correct", [
    ("technical, access", ("access", "technical")), (0, False), ("accuracy", "macro F1"), (4, 3),
    ("0.09", lambda a: abs(a - 0.085) < 0.0015), ({"Mathematics"}, {"Mathematics", "Statistics"}),
])
def test_quiz_still_says_wrong(answer, correct, capsys):
    assert not quiz(answer, correct, "q", "h")
    assert "✘ Not quite" in capsys.readouterr().out


def test_quiz_says_how_to_write_the_right_idea(capsys):
    quiz("False", False, "q", "h")
    assert "Right idea" in capsys.readouterr().out


def test_quiz_function_never_raises_and_explains(capsys):
    def double(x):
        return 2 * x

    assert quiz_function(double, [((1,), 2), ((2.5,), 5.0)], "double", "h")
    assert not quiz_function(lambda x: x, [((1,), 2)], "double", "h")
    assert not quiz_function(lambda x: 1 / 0, [((1,), 2)], "double", "h")
    assert not quiz_function(..., [((1,), 2)], "double", "h")
    assert not quiz_function(42, [((1,), 2)], "double", "h")
    assert quiz_function(lambda x: int("x"), [(("x",), ValueError)], "an error", "h")
    out = capsys.readouterr().out
    assert "Traceback" not in out and "Your turn" in out and "raised ZeroDivisionError" in out


def test_answer_of_keeps_got_and_hint_when_arguments_print_on_many_lines():
    table = pd.DataFrame({"text": ["a"] * 50, "team": ["b"] * 50})
    with pytest.raises(CheckFailed) as info:
        answer_of(lambda train, test: 1 / 0, table, np.arange(100).reshape(10, 10))
    lines = str(info.value).splitlines()
    assert len(lines) == 4  # what, expected, got, hint: each on one line
    assert lines[2].lstrip().startswith("Got:") and lines[3].lstrip().startswith("Hint:")
    assert "DataFrame of 50 rows" in lines[0]


# --- Reading code: names_used reads all the code a function can reach, not only its body ---

def _learner_cells(code):
    """Run ``code`` as a learner's cell would (module ``__main__``, text that inspect can read)."""
    import linecache
    import textwrap

    code = textwrap.dedent(code)
    filename = f"<learner-cell-{abs(hash(code))}>"
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    namespace = {"__name__": "__main__"}
    exec(compile(code, filename, "exec"), namespace)  # noqa: S102 - the learner's cell, in a test
    return namespace


def test_names_used_reads_defaults_annotations_and_decorators_but_not_the_docstring():
    from helpers.checks import names_used

    cell = _learner_cells('''
        def old(t):
            return t

        def deco(f):
            return f

        @deco
        def new(t, report=old, *, limit: int = 3) -> list:
            """Calls nothing called mentioned_in_the_docstring."""
            return report(t)
    ''')
    names = names_used(cell["new"])
    assert {"old", "deco", "int", "list", "report"} <= names
    assert "mentioned_in_the_docstring" not in names


def test_names_used_follows_the_live_function_to_what_it_can_reach():
    from helpers.checks import names_used

    cell = _learner_cells('''
        import functools

        def old(t):
            return t

        class Legacy:
            report = staticmethod(old)

        TABLE = {"a": [functools.partial(old)]}

        def via_class(t):
            return Legacy.report(t)

        def via_table(t):
            return TABLE["a"][0](t)

        def via_defaults(t, r=None):
            return r(t)

        via_defaults.__defaults__ = (old,)
    ''')
    for name in ("via_class", "via_table", "via_defaults"):
        assert "old" in names_used(cell[name]), name


def test_names_used_does_not_enter_other_modules_or_take_a_given_text():
    from helpers.checks import names_used, same_code

    cell = _learner_cells('''
        from collections import Counter

        def honest(tickets):
            """Counts."""
            return sorted(Counter(tickets))

        honest._source = "def honest(t):\\n    return t\\n"   # a Python function is read from its own text
    ''')
    names = names_used(cell["honest"])
    assert {"Counter", "sorted", "tickets"} <= names
    assert "_count_elements" not in names  # collections' own code is named, not read
    twin = _learner_cells('''
        from collections import Counter

        def other_name(tickets):
            return sorted(Counter(tickets))
    ''')
    assert same_code(cell["honest"], twin["other_name"])  # names and docstrings apart, the same code


def test_names_used_reads_a_callable_object_of_the_learners_class_through_its_class():
    from helpers.checks import names_used

    cell = _learner_cells('''
        def old(t):
            return t

        class Report:
            def __call__(self, tickets):
                return old(tickets)

        class Honest:
            def __call__(self, tickets):
                return sorted(tickets)

        report, honest = Report(), Honest()
    ''')
    assert "old" in names_used(cell["report"])
    assert "old" not in names_used(cell["honest"]) and "sorted" in names_used(cell["honest"])
