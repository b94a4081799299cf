"""Friendly checks for lessons and exercises.

A learner who runs a check should read *what was expected* and *a hint*, never a bare
``AssertionError``. Two kinds of checks live here:

* **Graded checks** (``check``, ``check_equal``, ``check_close``, ``check_type``, ``answer_of``)
  raise :class:`CheckFailed` when the answer is wrong. ``CheckFailed`` is an ``AssertionError``,
  so nbgrader counts the test cell as failed, but IPython shows only the friendly message
  instead of a long traceback.
* **Lesson quizzes** (``quiz``) never raise: a lesson must run top to bottom on a fresh kernel,
  so an unanswered or wrong quiz prints advice instead of stopping the notebook.

Every graded check prints a one-line confirmation when it passes, so a learner sees progress.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable

__all__ = [
    "CheckFailed",
    "check",
    "check_equal",
    "check_close",
    "check_type",
    "check_raises",
    "answer_of",
    "source_of",
    "names_used",
    "same_code",
    "quiz",
    "Verdict",
    "NOT_ANSWERED",
]

#: Placeholder a lesson puts in a quiz variable before the learner answers it.
NOT_ANSWERED = ...


class CheckFailed(AssertionError):
    """A failed check, with a message written for a learner.

    IPython calls ``_render_traceback_`` to display an exception; returning only the message
    hides the check's own internals, which say nothing useful to a learner.
    """

    def __init__(self, what: str, expected: str, got: str | None = None, hint: str | None = None):
        self.what = what
        self.expected = expected
        self.got = got
        self.hint = hint
        super().__init__(self._message())

    def _message(self) -> str:
        lines = [f"✘ {self.what}: not right yet.", f"  Expected: {self.expected}"]
        if self.got is not None:
            lines.append(f"  Got:      {self.got}")
        if self.hint:
            lines.append(f"  Hint:     {self.hint}")
        return "\n".join(lines)

    def _render_traceback_(self) -> list[str]:  # IPython's hook for custom tracebacks
        return ["CheckFailed", *self._message().splitlines()]


def _short(value: Any, limit: int = 200) -> str:
    """``repr`` cut to a readable length, so a huge wrong answer does not flood the cell."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _passed(what: str) -> None:
    print(f"✔ {what}: looks right.")


def check(condition: bool, what: str, expected: str, got: Any = None, hint: str | None = None) -> None:
    """Pass if ``condition`` is true; otherwise explain ``expected`` (and what was ``got``)."""
    if not condition:
        raise CheckFailed(what, expected, None if got is None else _short(got), hint)
    _passed(what)


def check_equal(actual: Any, expected: Any, what: str, hint: str | None = None) -> None:
    """Pass if ``actual == expected``; the message shows both values."""
    check(actual == expected, what, _short(expected), actual if actual is not None else "None", hint)


def check_close(actual: Any, expected: float, what: str, tol: float = 1e-6, hint: str | None = None) -> None:
    """Pass if ``actual`` is a number within ``tol`` (absolute or relative) of ``expected``."""
    if not isinstance(actual, numbers.Real) or isinstance(actual, bool):
        raise CheckFailed(what, "a number", f"{type(actual).__name__}: {_short(actual)}",
                          "Return a number (not a string or a list). Did you print it instead of returning it?")
    ok = math.isclose(float(actual), float(expected), rel_tol=tol, abs_tol=tol)
    check(ok, what, f"{expected!r} (give or take {tol:g})", actual, hint)


def check_type(value: Any, types: type | tuple[type, ...], what: str, hint: str | None = None,
               quiet: bool = False) -> None:
    """Pass if ``value`` is an instance of ``types`` (``bool`` does not count as a number)."""
    types = types if isinstance(types, tuple) else (types,)
    ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
    names = " or ".join(t.__name__ for t in types)
    if not ok:
        raise CheckFailed(what, f"a value of type {names}", f"{type(value).__name__}: {_short(value)}", hint)
    if not quiet:
        _passed(what)


def _call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the learner's function, turning nbgrader's "not written yet" stub into a message."""
    name = getattr(function, "__name__", "your function")
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        raise CheckFailed(
            f"{name}()",
            "your own code in the answer cell",
            "the code stub still raises NotImplementedError",
            "Replace `raise NotImplementedError()` with your answer, run that cell, then this one.",
        ) from None


def _shown_args(args: tuple, kwargs: dict) -> str:
    shown = [_short(a, 60) for a in args] + [f"{k}={_short(v, 60)}" for k, v in kwargs.items()]
    return ", ".join(shown)


def answer_of(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the learner's ``function`` and explain, rather than dump, anything that goes wrong.

    nbgrader's code stub raises ``NotImplementedError``: a learner who runs the test first is told
    what to do. Any other error the function raises becomes a :class:`CheckFailed` that names the
    call and the error, instead of a traceback into the learner's own cell.
    """
    name = getattr(function, "__name__", "your function")
    try:
        return _call(function, *args, **kwargs)
    except CheckFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - any error is an answer to explain
        raise CheckFailed(
            f"{name}({_shown_args(args, kwargs)})",
            "an answer, not an error",
            f"{type(exc).__name__}: {str(exc)[:160]}",
            "Which input did your function not expect? The task says what to do with it.",
        ) from None


class Verdict:
    """A quiz's result: true when right. It displays nothing, so a quiz cell shows only its message."""

    def __init__(self, right: bool):
        self.right = right

    def __bool__(self) -> bool:
        return self.right

    def __repr__(self) -> str:
        return f"Verdict(right={self.right})"

    def _ipython_display_(self) -> None:  # the printed message already said it all
        pass


def quiz(answer: Any, correct: Any, question: str, hint: str, explanation: str = "") -> Verdict:
    """A lesson check that never raises: it prints a verdict and returns whether it was right
    (a :class:`Verdict`, true when right).

    ``correct`` may be a value or a predicate (a function taking the answer). Strings are
    compared without case or surrounding spaces, so "ML" and " ml " both count.
    """
    if answer is NOT_ANSWERED:
        print(f"✎ Your turn: {question}\n  Replace the ... with your answer and run the cell again.")
        return Verdict(False)
    if callable(correct):
        right = bool(correct(answer))
    elif isinstance(correct, str) and isinstance(answer, str):
        right = answer.strip().lower() == correct.strip().lower()
    else:
        right = answer == correct
    if right:
        print(f"✔ Right. {explanation}".rstrip())
    else:
        print(f"✘ Not quite ({_short(answer)}). Hint: {hint}")
    return Verdict(right)


def check_raises(error: type[BaseException], function: Callable[..., Any], *args: Any, what: str,
                 hint: str | None = None, message_has: str | None = None, **kwargs: Any) -> None:
    """Pass if ``function(*args, **kwargs)`` raises ``error`` (and its message mentions
    ``message_has``, if given); explain what happened otherwise.

    Bad input should get a clear error that names what is wrong, so a check of an error can also
    check its message.
    """
    try:
        _call(function, *args, **kwargs)
    except CheckFailed:
        raise
    except error as exc:
        if message_has is not None and message_has.lower() not in str(exc).lower():
            raise CheckFailed(what, f"a {error.__name__} whose message mentions {message_has!r}",
                              f"{type(exc).__name__}: {_short(str(exc))}", hint) from None
        _passed(what)
        return
    except Exception as exc:  # noqa: BLE001 - the wrong kind of error is an answer to explain
        raise CheckFailed(what, f"a {error.__name__}", f"{type(exc).__name__}: {_short(str(exc))}",
                          hint) from None
    raise CheckFailed(what, f"a {error.__name__}", "no error", hint)


# ---------------------------------------------------------------------------- reading code

def source_of(function: Callable[..., Any]) -> str:
    """The source text of a function the learner wrote, for tests that read code (a refactoring
    must not call the old function, say).

    In a learner's kernel this is ``inspect.getsource``. When the course grades with a judge, the
    test runs in another process than the learner's code and ``function`` stands for it there;
    it carries the text of the learner's cell, which the judge parsed without running it.
    """
    import inspect

    judged = getattr(function, "_source", None)
    if isinstance(judged, str) and judged:
        return judged
    return inspect.getsource(function)


def _function_tree(function: Callable[..., Any]):
    import ast
    import textwrap

    tree = ast.parse(textwrap.dedent(source_of(function)))
    node = tree.body[0] if tree.body else tree
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                and isinstance(body[0].value.value, str):
            body = body[1:]  # the docstring is not code
        return ast.Module(body=body, type_ignores=[])
    return tree


def names_used(function: Callable[..., Any]) -> set[str]:
    """Every name a function's code refers to (variables, functions it calls, attributes)."""
    import ast

    names = set()
    for node in ast.walk(_function_tree(function)):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
    return names


def same_code(first: Callable[..., Any], second: Callable[..., Any]) -> bool:
    """True when two functions have the same code, apart from their names and docstrings."""
    import ast

    return ast.dump(_function_tree(first)) == ast.dump(_function_tree(second))
