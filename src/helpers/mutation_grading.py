"""Grade the tests a learner writes by the bugs they catch ("seeded bugs", or mutation testing).

A good test suite passes on correct code and fails on wrong code. To grade the tests a learner
wrote for a function, the grader:

1. collects the learner's ``test_...`` functions from the notebook's namespace;
2. runs them against the correct (reference) function: they must **all pass**, otherwise they
   are wrong about the specification and score 0, with a message naming the failing test;
3. runs them against each *buggy variant* of the function (a copy with one bug seeded in it),
   by temporarily rebinding the function's name in the namespace, so a test that calls
   ``response_hours(...)`` calls the variant. A variant is *caught* when at least one test fails;
4. runs them against the reference once more (tests that pass only the first time, because they
   depend on state left behind, are not trusted);
5. scores ``points * caught / variants`` and says how many bugs were caught, never which.

Tests that test nothing (none written, or tests that pass on every variant) score 0. Each test
runs with a time limit, so a test that never ends cannot stop the grading, and anything a test
prints or warns is captured, so nbgrader never sees stray output on stderr.

The buggy variants are **not** in this module (learners can read it): they live in the hidden
tests of an assignment. This module is only the machinery, shared by every assignment that
grades learner-written tests.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import itertools
import signal
import threading
import types
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Mapping, MutableMapping, Sequence

__all__ = [
    "TestResult",
    "TestTimeout",
    "collect_tests",
    "expand_test",
    "run_test",
    "rebound",
    "run_all",
    "run_against",
    "check_tests_pass",
    "grade_tests",
]

#: Seconds a single test may run before it counts as failed.
DEFAULT_TIME_LIMIT = 2.0


class TestTimeout(BaseException):
    """Raised inside a test that runs past its time limit.

    A ``BaseException``, so a test's own ``except Exception:`` cannot swallow it.
    """

    __test__ = False  # not a test class, whatever pytest thinks of its name


@dataclass(frozen=True)
class TestResult:
    """The outcome of one test call: its name, whether it passed, and why not."""

    __test__ = False

    name: str
    passed: bool
    reason: str = ""


# ---------------------------------------------------------------------------- collecting tests

def collect_tests(namespace: Mapping[str, Any], prefix: str = "test") -> list[tuple[str, Callable]]:
    """The test functions defined in ``namespace`` (a notebook's ``globals()``), in order.

    Only plain functions whose name starts with ``prefix`` and that were defined in that
    namespace's own module count: imported functions and classes do not.
    """
    module = namespace.get("__name__")
    tests = []
    for name, obj in list(namespace.items()):
        if (name.startswith(prefix) and isinstance(obj, types.FunctionType)
                and (module is None or obj.__module__ == module)):
            tests.append((name, obj))
    return tests


def _parametrize_marks(func) -> list:
    marks = getattr(func, "pytestmark", [])
    return [m for m in marks if getattr(m, "name", None) == "parametrize"]


def _cases_of(mark) -> list[dict[str, Any]]:
    """The argument sets of one ``@pytest.mark.parametrize(names, values)`` mark, as pytest
    reads them: one name takes each value as it is; several names take a tuple per case."""
    names, values = mark.args[0], mark.args[1]
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    names = list(names)
    cases = []
    for value in values:
        if type(value).__name__ == "ParameterSet":  # pytest.param(...): its values are a tuple
            row = tuple(value.values)
        elif len(names) == 1:
            row = (value,)
        else:
            row = tuple(value)
        cases.append(dict(zip(names, row)))
    return cases


def expand_test(name: str, func: Callable) -> list[tuple[str, Callable[[], Any]]]:
    """One call per test case: a plain test is one case; a parametrized test one per argument set.

    A test that needs arguments nobody gives (pytest fixtures) becomes a case that fails with an
    explanation, since these tests are called directly, without pytest's fixtures.
    """
    marks = _parametrize_marks(func)
    if not marks:
        return [(name, func)]
    expanded = []
    # pytest applies the bottom decorator first; the order only affects the case names.
    for combo in itertools.product(*(_cases_of(m) for m in reversed(marks))):
        kwargs: dict[str, Any] = {}
        for part in combo:
            kwargs.update(part)
        label = "-".join(_short(v) for v in kwargs.values())
        expanded.append((f"{name}[{label}]", _bind(func, kwargs)))
    return expanded


def _bind(func, kwargs):
    def case():
        return func(**kwargs)
    return case


def _short(value: Any, limit: int = 30) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _missing_arguments(func: Callable) -> list[str]:
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in params
            if p.default is inspect.Parameter.empty
            and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


# ---------------------------------------------------------------------------- running tests

@contextlib.contextmanager
def _time_limit(seconds: float):
    """Raise :class:`TestTimeout` in the running code after ``seconds`` (Unix, main thread).

    Elsewhere (Windows, or a thread) the limit is enforced by :func:`run_test` with a thread.
    """
    def _alarm(signum, frame):
        raise TestTimeout(f"took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, _alarm)
    # Fire again every 0.2 s after the first time, in case the test catches the first one.
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.2)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
        signal.signal(signal.SIGALRM, previous)


def _can_use_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TestTimeout):
        return f"it {exc.args[0]} (does it wait or loop forever?)"
    message = str(exc).strip().splitlines()
    name = type(exc).__name__
    return f"{name}: {message[0][:200]}" if message else name


def run_test(name: str, case: Callable[[], Any], time_limit: float = DEFAULT_TIME_LIMIT) -> TestResult:
    """Call one test case; it passes if it returns without raising, within ``time_limit`` s.

    Whatever the test prints or warns is captured and dropped: grading output must stay clean.
    """
    missing = _missing_arguments(case)
    if missing:
        return TestResult(name, False, f"it takes arguments ({', '.join(missing)}); here a test "
                          "takes none, or gets them from @pytest.mark.parametrize")
    outcome: list[BaseException | None] = []

    def call():
        try:
            case()
        except KeyboardInterrupt:  # the person running the notebook pressed Stop: let them
            raise
        except BaseException as exc:  # noqa: BLE001 - any other failure of a test is an outcome
            outcome.append(exc)
        else:
            outcome.append(None)

    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if _can_use_alarm():
            try:
                with _time_limit(time_limit):
                    call()
            except TestTimeout as exc:  # raised between the test's end and the timer's reset
                outcome.append(exc)
        else:
            worker = threading.Thread(target=call, daemon=True)
            worker.start()
            worker.join(time_limit)
            if worker.is_alive():
                outcome.append(TestTimeout(f"took longer than {time_limit:g} s"))
    error = outcome[0] if outcome else TestTimeout(f"took longer than {time_limit:g} s")
    if error is None:
        return TestResult(name, True)
    return TestResult(name, False, _describe(error))


def run_all(tests, time_limit, stop_at_first_failure=False) -> list[TestResult]:
    """Every case of every test in ``tests`` (pairs of name and function), in order."""
    results = []
    for name, func in tests:
        for case_name, case in expand_test(name, func):
            result = run_test(case_name, case, time_limit)
            results.append(result)
            if stop_at_first_failure and not result.passed:
                return results
    return results


@contextlib.contextmanager
def rebound(namespace: MutableMapping[str, Any], name: str, value: Any):
    """Bind ``namespace[name]`` to ``value`` for the duration; always restore what was there."""
    missing = object()
    before = namespace.get(name, missing)
    namespace[name] = value
    try:
        yield
    finally:
        if before is missing:
            namespace.pop(name, None)
        else:
            namespace[name] = before


def run_against(namespace: MutableMapping[str, Any], name: str, implementation: Callable,
                time_limit: float = DEFAULT_TIME_LIMIT, stop_at_first_failure: bool = False) -> list[TestResult]:
    """The learner's tests in ``namespace``, run with ``name`` bound to ``implementation``.

    In a learner's own kernel (and under plain nbgrader) the tests run right here. When the course
    grades with a judge (``mlse grade``), this namespace is the judge's: it holds only handles to
    the learner's tests, and ``namespace["__mlse_judge__"]`` runs them in a fresh copy of the
    learner's kernel and returns each test's name, pass/fail and reason (see docs/authoring.md).
    """
    judge = namespace.get("__mlse_judge__")
    if judge is not None:
        rows = judge.run_learner_tests(name, implementation, time_limit, stop_at_first_failure)
        return [TestResult(*row) for row in rows]
    with rebound(namespace, name, implementation):
        return run_all(collect_tests(namespace), time_limit, stop_at_first_failure)


# ---------------------------------------------------------------------------- feedback & grade

def _no_tests_message(name: str) -> str:
    return (f"✘ No tests found. Write functions whose names start with test_, that call "
            f"{name}(...) and check what it returns with assert (or pytest.raises).")


def check_tests_pass(namespace: MutableMapping[str, Any], name: str, reference: Callable,
                     time_limit: float = DEFAULT_TIME_LIMIT) -> list[TestResult]:
    """Instant feedback for a learner: run their tests against the correct ``name`` and report.

    Prints one line per test case. Raises :class:`helpers.checks.CheckFailed` (a friendly
    message) when there are no tests or one of them fails on the correct code.
    """
    from .checks import CheckFailed

    results = run_against(namespace, name, reference, time_limit)
    if not results:
        raise CheckFailed("your tests", f"at least one function named test_... that calls {name}",
                          "no test functions", _no_tests_message(name)[2:])
    for r in results:
        print(f"✔ {r.name} passes on the correct {name}" if r.passed else f"✘ {r.name}: {r.reason}")
    failing = [r for r in results if not r.passed]
    if failing:
        raise CheckFailed(
            "your tests", f"every test passes on the correct {name}",
            f"{len(failing)} of {len(results)} fail, first {failing[0].name}",
            f"A test that fails on the correct {name} expects something it does not do: print what "
            f"{name} gives for that input, then fix the test (or choose a clearer input) and re-read the task.")
    print(f"✔ All {len(results)} of your tests pass on the correct {name}. When graded, they are "
          f"also run against versions of {name} with bugs in them: each bug they catch earns points.")
    return results


def grade_tests(namespace: MutableMapping[str, Any], name: str, reference: Callable,
                variants: Sequence[Callable], points: float,
                time_limit: float = DEFAULT_TIME_LIMIT) -> float:
    """The learner's score for their tests of ``name``: ``points`` times the share of ``variants``
    (buggy versions of ``reference``) that the tests catch, or 0 if they fail on the reference.

    Prints a message saying how many bugs were caught (never which) and returns the score, so the
    hidden test cell can end with it (nbgrader gives a cell whose output is a number that many
    points). ``namespace[name]`` is restored afterwards, whatever happens.
    """
    if not variants:
        raise ValueError("grade_tests needs at least one buggy variant to grade against")
    for variant in variants:  # a variant looks like the real function to a test that inspects it
        for attr in ("__name__", "__qualname__", "__doc__"):
            with contextlib.suppress(AttributeError, TypeError):
                setattr(variant, attr, getattr(reference, attr))
    total = len(variants)
    first = run_against(namespace, name, reference, time_limit)
    if not first:
        print(_no_tests_message(name) + f" Score: 0 of {points:g} points.")
        return 0.0
    failing = [r for r in first if not r.passed]
    if failing:
        print(f"✘ Your test {failing[0].name} fails on the correct {name}: {failing[0].reason}. "
              f"Tests must pass on correct code before they can catch bugs. Score: 0 of {points:g} points.")
        return 0.0
    caught = 0
    for variant in variants:
        results = run_against(namespace, name, variant, time_limit, stop_at_first_failure=True)
        caught += any(not r.passed for r in results)
    again = run_against(namespace, name, reference, time_limit)
    flaky = [r for r in again if not r.passed]
    if flaky:
        print(f"✘ Your test {flaky[0].name} passed on the correct {name} the first time but fails "
              f"when run again ({flaky[0].reason}): a test must not depend on what earlier runs left "
              f"behind. Score: 0 of {points:g} points.")
        return 0.0
    score = round(points * caught / total, 2)
    message = f"Your tests caught {caught} of {total} seeded bugs: {score:g} of {points:g} points."
    if caught == 0:
        message += (" They pass on every buggy version, so they check nothing the bugs change: "
                    "test each rule of the specification, including its edge cases and errors, and "
                    f"refer to {name} by that name inside each test (not a copy made outside it).")
    elif caught < total:
        message += " Which rules of the specification do your tests not check yet?"
    print(("✔ " if caught == total else "✎ ") + message)
    return score
