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
    "quiz_function",
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


def _one_line(text: str, limit: int) -> str:
    """``text`` on one line (runs of spaces and line breaks become one space), cut to ``limit``."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short(value: Any, limit: int = 200) -> str:
    """A one-line ``repr`` cut to a readable length, so a huge wrong answer does not flood the cell.

    Tables and arrays are described by their shape rather than printed: their ``repr`` spans many
    lines, and a message must keep its "Got:" and "Hint:" lines in view (``mlse check`` keeps the
    first four lines of a failure).
    """
    kind = type(value).__name__
    # only the judge's own tables and arrays are asked for a shape (a stand-in for an object of the
    # learner's, in a judge, would have to ask the learner's kernel)
    shape = getattr(value, "shape", None) if kind in ("DataFrame", "Series", "ndarray") else None
    try:
        if kind == "DataFrame" and shape is not None:
            columns = ", ".join(map(str, list(value.columns)[:8]))
            more = ", ..." if len(value.columns) > 8 else ""
            return _one_line(f"DataFrame of {shape[0]} rows, columns [{columns}{more}]", limit)
        if kind == "Series" and shape is not None:
            return _one_line(f"Series of {shape[0]} values, named {getattr(value, 'name', None)!r}", limit)
        if kind == "ndarray" and shape is not None and getattr(value, "size", 0) > 12:
            return _one_line(f"array of shape {tuple(shape)}, dtype {value.dtype}", limit)
        text = repr(value)
    except Exception:  # noqa: BLE001 - a value whose repr fails still gets a message
        text = f"<a {kind} that cannot be shown>"
    return _one_line(text, limit)


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
            f"{type(exc).__name__}: {_one_line(exc, 160)}",
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


def _words(text: str) -> str:
    """A string in its plainest form: lower case, no quotes around it, and hyphens, underscores
    and runs of spaces made single spaces ("Macro-F1 " -> "macro f1")."""
    text = str(text).strip().strip("\"'`").strip().lower()
    for mark in "-_":
        text = text.replace(mark, " ")
    return " ".join(text.split())


def _parsed(text: str) -> Any:
    """What a learner probably meant by typing ``text`` in quotes: a number, a bool, None, or a
    Python literal (``"(1, 2)"``); the text itself when it is none of those."""
    import ast

    plain = text.strip()
    lowered = plain.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    try:
        return int(plain.replace(",", "").replace("_", ""))
    except ValueError:
        pass
    try:
        return float(plain.replace(",", "").replace("_", ""))
    except ValueError:
        pass
    try:
        return ast.literal_eval(plain)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def _items(answer: Any) -> list | None:
    """The parts of an answer that lists several things: a list, tuple or set, or a text such as
    "access, technical" or "access -> technical". None when it is not such an answer."""
    if isinstance(answer, str):
        for separator in ("->", "→", ",", ";", "/", " and ", " vs "):
            if separator in answer:
                return [part for part in (p.strip() for p in answer.split(separator)) if part]
        return None
    if isinstance(answer, (list, tuple, set, frozenset)):
        return list(answer)
    try:  # a NumPy array or a pandas Index of names
        return list(answer) if hasattr(answer, "__len__") and not isinstance(answer, (dict, bytes)) else None
    except Exception:  # noqa: BLE001
        return None


def _same(answer: Any, correct: Any, tol: float | None) -> bool:
    """Is ``answer`` the ``correct`` value, in the same kind of value? Never raises."""
    try:
        if isinstance(correct, bool) or isinstance(answer, bool):
            return isinstance(answer, bool) and isinstance(correct, bool) and answer == correct
        if isinstance(correct, numbers.Real):
            if not isinstance(answer, numbers.Real):
                return False
            limit = 1e-9 if tol is None else tol
            return math.isclose(float(answer), float(correct), rel_tol=0, abs_tol=limit)
        if isinstance(correct, str):
            return isinstance(answer, str) and _words(answer) == _words(correct)
        if isinstance(correct, (set, frozenset)):
            items = _items(answer)
            return items is not None and not isinstance(answer, str) and \
                {_words(i) if isinstance(i, str) else i for i in items} == \
                {_words(i) if isinstance(i, str) else i for i in correct}
        if isinstance(correct, (tuple, list)):
            items = _items(answer)
            return items is not None and not isinstance(answer, (str, set, frozenset)) and \
                len(items) == len(correct) and all(_same(a, c, tol) for a, c in zip(items, correct))
        return bool(answer == correct)
    except Exception:  # noqa: BLE001 - an answer that cannot be compared is not this answer
        return False


def _idea(answer: Any, correct: Any, tol: float | None) -> bool:
    """Is ``answer`` the right idea written another way (a number or a bool in quotes, a list
    typed as text, a set given as a list)? Never raises."""
    try:
        if isinstance(answer, str) and not isinstance(correct, str):
            parsed = _parsed(answer)
            if parsed is not answer and _same(parsed, correct, tol):
                return True
        if isinstance(correct, (set, frozenset, tuple, list)):
            items = _items(answer)
            if items is None:
                return False
            if isinstance(correct, (set, frozenset)):
                return {_words(i) if isinstance(i, str) else i for i in items} == \
                    {_words(i) if isinstance(i, str) else i for i in correct}
            return len(items) == len(correct) and all(
                _same(a, c, tol) or _idea(a, c, tol) for a, c in zip(items, correct))
        if isinstance(correct, numbers.Real) and not isinstance(correct, bool) and \
                isinstance(answer, numbers.Real) and not isinstance(answer, bool):
            return False
        return False
    except Exception:  # noqa: BLE001
        return False


def _written(correct: Any) -> str:
    """How to write ``correct`` in a cell, said for a learner."""
    if isinstance(correct, bool):
        return f"{correct} (True or False without quotes)"
    if isinstance(correct, numbers.Real):
        return f"{correct!r} (a number, without quotes)"
    if isinstance(correct, (set, frozenset)):
        return "{" + ", ".join(repr(c) for c in sorted(correct, key=str)) + "} (a set of names)"
    if isinstance(correct, tuple):
        return "(" + ", ".join(repr(c) for c in correct) + ") (a tuple, in that order)"
    return repr(correct)


def quiz(answer: Any, correct: Any, question: str, hint: str, explanation: str = "", *,
         accept: tuple = (), tol: float | None = None, form: str | None = None) -> Verdict:
    """A lesson check that never raises, whatever the learner typed: it prints a verdict and
    returns whether it was right (a :class:`Verdict`, true when right).

    ``correct`` is the right value: a string (compared without case, quotes, hyphens or extra
    spaces, so "Macro-F1" is "macro F1"), a number (within ``tol``; exact for whole numbers by
    default), a bool, a set (any order) or a tuple (in order); or a predicate, a function of the
    answer that returns true when it is right. ``accept`` lists other ways to say the right thing
    ("macro-averaged F1"). The right idea in another form (``"0.085"`` in quotes for a number,
    ``"False"`` for ``False``, ``"access, technical"`` for a tuple) counts as right, and the message
    says how to write it; ``form`` overrides that advice.
    """
    if answer is NOT_ANSWERED:
        print(f"✎ Your turn: {question}\n  Replace the ... with your answer and run the cell again.")
        return Verdict(False)
    try:
        if callable(correct):
            right = _predicate(correct, answer)
            idea = False
            if not right and isinstance(answer, str):
                parsed = _parsed(answer)
                idea = parsed is not answer and _predicate(correct, parsed)
            advice = form
        else:
            right = _same(answer, correct, tol) or any(_same(answer, other, tol) for other in accept)
            idea = not right and (_idea(answer, correct, tol) or any(_idea(answer, o, tol) for o in accept))
            advice = form or _written(correct)
    except Exception:  # noqa: BLE001 - a check never stops the lesson
        right, idea, advice = False, False, form
    if right:
        print(f"✔ Right. {explanation}".rstrip())
    elif idea:
        how = f" Next time write it as {advice}." if advice else ""
        print(f"✔ Right idea.{how} {explanation}".rstrip())
    else:
        print(f"✘ Not quite ({_short(answer, 120)}). Hint: {hint}")
    return Verdict(right or idea)


def _predicate(correct: Callable[[Any], Any], answer: Any) -> bool:
    """A predicate's verdict on an answer; an answer that makes the predicate fail is wrong."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return bool(correct(answer))
    except Exception:  # noqa: BLE001 - wrong type or shape: simply not the right answer
        return False


def _close_enough(got: Any, want: Any, tol: float) -> bool:
    """``got`` equals ``want``: numbers within ``tol``, arrays and tables element by element."""
    try:
        import numpy as np

        if isinstance(want, bool) or isinstance(got, bool):
            return got == want and isinstance(got, (bool, np.bool_)) == isinstance(want, (bool, np.bool_))
        if isinstance(want, numbers.Real):
            return isinstance(got, numbers.Real) and math.isclose(float(got), float(want),
                                                                  rel_tol=tol, abs_tol=tol)
        if hasattr(want, "equals") and hasattr(got, "equals"):  # pandas
            return bool(want.equals(got))
        if isinstance(want, np.ndarray) or isinstance(got, np.ndarray):
            got_a, want_a = np.asarray(got), np.asarray(want)
            if got_a.shape != want_a.shape:
                return False
            if want_a.dtype.kind in "fiu" and got_a.dtype.kind in "fiub":
                return bool(np.allclose(got_a, want_a, rtol=tol, atol=tol))
            return bool((got_a == want_a).all())
        if isinstance(want, dict):
            return isinstance(got, dict) and set(got) == set(want) and all(
                _close_enough(got[k], want[k], tol) for k in want)
        if isinstance(want, (list, tuple)):
            return isinstance(got, (list, tuple)) and len(got) == len(want) and all(
                _close_enough(g, w, tol) for g, w in zip(got, want))
        return bool(got == want)
    except Exception:  # noqa: BLE001
        return False


def quiz_function(function: Any, cases: list, what: str, hint: str, explanation: str = "",
                  tol: float = 1e-6) -> Verdict:
    """A lesson's coding exercise, checked without ever raising: call ``function`` on each case
    and print a verdict (a :class:`Verdict`, true when every case is right).

    ``cases`` is a list of ``(args, expected)``: ``args`` a tuple of arguments, ``expected`` the
    value the call must return (numbers within ``tol``), or ``(args, error)`` with an exception
    class the call must raise. The first wrong case is shown with what was expected.
    """
    if function is NOT_ANSWERED or function is None:
        print(f"✎ Your turn: {what}\n  Write your code in the cell above, run it, then run this cell.")
        return Verdict(False)
    if not callable(function):
        print(f"✘ Not quite: {what} should be a function, but it is {_short(function, 80)}. "
              f"Hint: define it with def, and run that cell.")
        return Verdict(False)
    for args, expected in cases:
        args = args if isinstance(args, tuple) else (args,)
        call = f"{getattr(function, '__name__', 'your function')}({_shown_args(args, {})})"
        wants_error = isinstance(expected, type) and issubclass(expected, BaseException)
        try:
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got = function(*args)
        except NotImplementedError:
            print(f"✎ Your turn: {what}\n  Replace the ... (or raise NotImplementedError) in the cell above "
                  "with your code, run it, then run this cell.")
            return Verdict(False)
        except Exception as exc:  # noqa: BLE001 - an error is an answer to explain
            if wants_error and isinstance(exc, expected):
                continue
            want = f"a {expected.__name__}" if wants_error else _short(expected, 120)
            print(f"✘ Not quite: {call} raised {type(exc).__name__}: {_one_line(exc, 120)}\n"
                  f"  Expected: {want}\n  Hint: {hint}")
            return Verdict(False)
        if wants_error:
            print(f"✘ Not quite: {call} returned {_short(got, 120)}\n  Expected: a {expected.__name__}\n"
                  f"  Hint: {hint}")
            return Verdict(False)
        if got is Ellipsis:
            print(f"✎ Your turn: {what}\n  Replace the ... in the cell above with your code, run it, "
                  "then run this cell.")
            return Verdict(False)
        if not _close_enough(got, expected, tol):
            print(f"✘ Not quite: {call} returned {_short(got, 120)}\n  Expected: {_short(expected, 120)}\n"
                  f"  Hint: {hint}")
            return Verdict(False)
    print(f"✔ Right: {what}. {explanation}".rstrip())
    return Verdict(True)


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
                              f"{type(exc).__name__}: {_one_line(exc, 200)}", hint) from None
        _passed(what)
        return
    except Exception as exc:  # noqa: BLE001 - the wrong kind of error is an answer to explain
        raise CheckFailed(what, f"a {error.__name__}", f"{type(exc).__name__}: {_one_line(exc, 200)}",
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
