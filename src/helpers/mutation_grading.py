"""Grade the tests a learner writes by the bugs they catch ("seeded bugs", or mutation testing).

A good test suite passes on correct code and fails on wrong code. To grade the tests a learner
wrote for a function, the grader:

1. collects the learner's ``test_...`` functions from the notebook's namespace;
2. runs them against the correct (reference) function, twice, and against each *buggy variant*
   of the function (a copy with one bug seeded in it), once, by temporarily rebinding the
   function's name in the namespace, so a test that calls ``response_hours(...)`` calls the
   variant. A variant is *caught* when at least one test fails. In one kernel the reference runs
   first and last; under the judge the order is a secret of the course (a test that keeps what it
   saw from one run to the next cannot tell which run is the reference: docs/judge.md);
3. requires **every** reference run to pass: tests that fail on correct code are wrong about the
   specification, and tests that pass on it only sometimes depend on state left behind; either
   scores 0, with a message naming the test;
4. scores ``points * caught / variants`` and says how many bugs were caught, never which.

Tests that test nothing (none written, or tests that pass on every variant) score 0. Each test
runs with a time limit, so a test that never ends cannot stop the grading, and anything a test
prints or warns is captured, so nbgrader never sees stray output on stderr.

The buggy variants are **not** in this module (learners can read it): they live in the hidden
tests of an assignment. This module is only the machinery, shared by every assignment that
grades learner-written tests.

**Only behaviour tells the candidates apart.** A learner's tests never get the reference or a
variant itself: ``name`` is bound to a :class:`Candidate`, one proxy type for all of them, with the
reference's name, module and docstring, that exposes only the exercise's *interface* (calling it,
and the attributes listed in ``interface=``, such as a model's ``predict``). Every call goes to
the real implementation through :func:`serve_candidate_call`, and its answer comes back rebuilt as
data (``mlse.judge.wire``): the same values, exceptions of the same class and message, never the
implementation's code, closure, constants or type. Under ``mlse grade`` the implementations stay
in the judge's process and each call crosses the call line; in one kernel (plain nbgrader, a
learner's own notebook) the same code runs in-process, so the score is the same either way. A
proxy stops working when its run ends, so a test cannot keep the reference itself for later.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import io
import itertools
import json
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
    "Candidate",
    "candidate_meta",
    "serve_candidate_call",
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


# ---------------------------------------------------------------------------- the candidates' proxy

#: Attributes a Candidate answers itself, the same for every candidate (the reference's).
_META = ("__name__", "__qualname__", "__module__", "__doc__")


def candidate_meta(name: str, like: Any, interface: Sequence[str] | None = None) -> dict:
    """What every candidate of one grading shows: the reference ``like``'s name, module and
    docstring, whether it is called, and the attributes its tests may read (``interface``)."""
    if interface is None:
        interface = ()
    module = getattr(like, "__module__", None)
    return {"__name__": str(getattr(like, "__name__", name)),
            "__qualname__": str(getattr(like, "__qualname__", name)),
            "__module__": module if isinstance(module, str) else None,
            "__doc__": getattr(like, "__doc__", None) if callable(like) and isinstance(like, types.FunctionType)
            else None,
            "callable": callable(like), "interface": [str(a) for a in interface]}


class Candidate:
    """The implementation under test, as a learner's tests see it: the same for the reference and
    every seeded bug except for what calls return or raise (see the module docstring)."""

    __slots__ = ("_mlse_backend", "_mlse_target", "_mlse_meta")

    def __init__(self, backend, target: int, meta: dict):
        object.__setattr__(self, "_mlse_backend", backend)
        object.__setattr__(self, "_mlse_target", target)
        object.__setattr__(self, "_mlse_meta", meta)

    def __getattribute__(self, attribute: str):
        meta = object.__getattribute__(self, "_mlse_meta")
        if attribute in _META:
            return meta.get(attribute)
        if attribute in meta.get("interface", ()):
            return object.__getattribute__(self, "_mlse_backend").request(
                "getattr", object.__getattribute__(self, "_mlse_target"), attribute)
        if attribute.startswith("__") and attribute.endswith("__"):
            return object.__getattribute__(self, attribute)
        raise AttributeError(f"{meta.get('__name__')!r} has no attribute {attribute!r} that its tests "
                             f"may use (its interface: {', '.join(meta.get('interface', ())) or 'calling it'})")

    def __setattr__(self, attribute, value):
        raise AttributeError("a test cannot change the implementation under test")

    __delattr__ = __setattr__

    def __call__(self, *args, **kwargs):
        meta = object.__getattribute__(self, "_mlse_meta")
        if not meta.get("callable"):
            raise TypeError(f"{meta.get('__name__')!r} object is not callable")
        return object.__getattribute__(self, "_mlse_backend").request(
            "call", object.__getattribute__(self, "_mlse_target"), None, args, kwargs)

    def __repr__(self) -> str:
        return f"<{object.__getattribute__(self, '_mlse_meta').get('__name__')} under test>"

    def __reduce__(self):
        raise TypeError("the implementation under test cannot be copied")


def _wire():
    from mlse.judge import wire  # the course's data format: the same both ways, in one kernel too
    return wire


def _refuse_handle(info):
    raise TypeError("the implementation under test takes only data (numbers, text, lists, dicts, "
                    "arrays, tables, the course's dataclasses) as arguments")


class _Served:
    """The implementations one run of the tests may call (the judge's side of the proxy):
    ``0`` is the implementation under test; later ids are what its calls returned that is not data."""

    def __init__(self, implementation: Any, interface: Sequence[str]):
        self.objects: dict[int, Any] = {0: implementation}
        self.interface = set(interface)

    def keep(self, obj: Any) -> dict:
        hid = len(self.objects)
        self.objects[hid] = obj
        return {"$": "handle", "id": hid, "type": "object", "callable": callable(obj), "name": ""}


def serve_candidate_call(served: "_Served", message: dict) -> dict:
    """Answer one call of a learner's test (``message``, JSON data the learner's process sent) on
    the implementation in ``served``; the reply is data (:mod:`mlse.judge.wire`), an exception as
    its class and message only (no traceback: it would quote the hidden code), or a handle.

    The interface is enforced here, on the side that holds the implementation: the attributes of
    the implementation under test that the exercise lists, and calls; nothing else."""
    wire = _wire()
    try:
        target = served.objects.get(message.get("target")) if type(message.get("target")) is int else None
        op = message.get("op")
        if target is None or op not in ("call", "getattr"):
            raise TypeError("not a call the implementation under test answers")
        if op == "getattr":
            attribute = message.get("attr")
            if message.get("target") != 0 or attribute not in served.interface:
                raise AttributeError(f"no attribute {attribute!r} that its tests may use")
            result = getattr(target, attribute)
        else:
            args = wire.decode(message.get("args", []), _refuse_handle)
            kwargs = wire.decode(message.get("kwargs", {"$": "dict", "v": []}), _refuse_handle)
            if type(args) is not list or type(kwargs) is not dict or not all(type(k) is str for k in kwargs):
                raise TypeError("malformed arguments")
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                result = target(*args, **kwargs)
        return {"reply": wire.encode(result, served.keep)}
    except wire.DecodeError:
        return {"reply": wire.encode_exception(TypeError("the implementation under test takes only data "
                                                         "as arguments"))}
    except Exception as exc:  # noqa: BLE001 - what it raised is its behaviour
        return {"reply": wire.encode_exception(exc, "")}


class _CandidateCaller:
    """The learner's side of the proxy: turns a call into a message, and the reply into values
    (``send`` carries the message to :func:`serve_candidate_call` and brings its reply back)."""

    def __init__(self, send: Callable[[dict], dict], meta: dict):
        self.send, self.meta, self.revoked = send, meta, False

    def request(self, op: str, target: int, attr: str | None, args=(), kwargs=None):
        if self.revoked:
            raise RuntimeError(f"{self.meta.get('__name__')} can only be called during its own test run")
        wire = _wire()
        message = {"op": op, "target": target, "attr": attr}
        if op == "call":
            message["args"] = wire.encode(list(args), _refuse_handle)
            message["kwargs"] = wire.encode(dict(kwargs or {}), _refuse_handle)
        reply = self.send(json.loads(json.dumps(message)))
        data = reply.get("reply") if isinstance(reply, dict) else None
        if isinstance(data, dict) and data.get("$") == "raised":
            raise wire.rebuild_exception(data)
        return wire.decode(data, self._sub_candidate(attr))

    def _sub_candidate(self, attr):
        def make(info):
            meta = {"__name__": attr or "", "__qualname__": attr or "", "__module__": self.meta.get("__module__"),
                    "__doc__": None, "callable": bool(info.get("callable")), "interface": []}
            return Candidate(self, int(info.get("id", -1)), meta)
        return make


@contextlib.contextmanager
def _local_candidate(implementation: Any, meta: dict):
    """A :class:`Candidate` served in this process (one kernel): the same code as under the judge."""
    served = _Served(implementation, meta["interface"])
    caller = _CandidateCaller(lambda message: json.loads(json.dumps(serve_candidate_call(served, message))), meta)
    try:
        yield Candidate(caller, 0, meta)
    finally:
        caller.revoked = True


def run_against(namespace: MutableMapping[str, Any], name: str, implementation: Callable,
                time_limit: float = DEFAULT_TIME_LIMIT, stop_at_first_failure: bool = False,
                like: Any = None, interface: Sequence[str] | None = None) -> list[TestResult]:
    """The learner's tests in ``namespace``, run with ``name`` bound to a :class:`Candidate` for
    ``implementation`` that looks like ``like`` (the reference) and exposes ``interface``.

    In a learner's own kernel (and under plain nbgrader) the tests run right here. When the course
    grades with a judge (``mlse grade``), this namespace is the judge's: it holds only handles to
    the learner's tests, and ``namespace["__mlse_judge__"]`` runs them in a fresh copy of the
    learner's kernel, serving the candidate's calls from the judge, and returns each test's name,
    pass/fail and reason (see docs/judge.md).
    """
    meta = candidate_meta(name, implementation if like is None else like, interface)
    judge = namespace.get("__mlse_judge__")
    if judge is not None:
        rows = judge.run_learner_tests(name, implementation, time_limit, stop_at_first_failure, meta=meta)
        return [TestResult(*row) for row in rows]
    with _local_candidate(implementation, meta) as candidate, rebound(namespace, name, candidate):
        return run_all(collect_tests(namespace), time_limit, stop_at_first_failure)


# ---------------------------------------------------------------------------- tests that look inside

#: Calls that ask what a thing *is* rather than what it does.
_INSPECTING_CALLS = {"type", "id", "isinstance", "issubclass", "vars", "dir", "getattr", "hasattr",
                     "repr", "hash", "callable", "getsource", "getsourcelines", "getmodule", "getfile",
                     "signature", "dis", "getclosurevars", "get_referents", "get_referrers", "dumps"}


def inspecting_reason(source: str, name: str) -> str | None:
    """Why the test in ``source`` inspects ``name`` itself (its identity, type, class, module,
    code, closure or source) instead of calling it, or None. Read from the text, never run."""
    import ast

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None

    def is_subject(node) -> bool:
        return isinstance(node, ast.Name) and node.id == name

    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for op, left, right in zip(node.ops, operands, operands[1:]):
                if (is_subject(left) or is_subject(right)) and not isinstance(op, (ast.In, ast.NotIn)):
                    return f"it compares {name} itself ({ast.unparse(node)[:80]})"
        elif isinstance(node, ast.Attribute) and is_subject(node.value) and node.attr.startswith("__"):
            return f"it reads {name}.{node.attr}"
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if called in _INSPECTING_CALLS and any(is_subject(a) for a in [*node.args, *(k.value for k in node.keywords)]):
                return f"it calls {called}({name})"
    return None


def _inspecting_tests(namespace: Mapping[str, Any], name: str) -> str:
    """The first learner test that inspects ``name`` (see :func:`inspecting_reason`), as
    ``"test_x: why"``, or ``""``. Under a judge the tests' text comes from the judge, which read
    the learner's cells (it never runs them); in one kernel, from the functions themselves."""
    judge = namespace.get("__mlse_judge__")
    if judge is not None:
        sources = judge.learner_test_sources()
    else:
        sources = {}
        for test_name, func in collect_tests(namespace):
            with contextlib.suppress(OSError, TypeError):
                sources[test_name] = inspect.getsource(func)
    for test_name, source in sources.items():
        why = inspecting_reason(source, name)
        if why:
            if judge is not None:
                judge.flag(f"a learner-written test inspects {name} instead of calling it: {test_name}: {why}")
            return f"{test_name}: {why}"
    return ""


# ---------------------------------------------------------------------------- feedback & grade

def _no_tests_message(name: str) -> str:
    return (f"✘ No tests found. Write functions whose names start with test_, that call "
            f"{name}(...) and check what it returns with assert (or pytest.raises).")


def check_tests_pass(namespace: MutableMapping[str, Any], name: str, reference: Callable,
                     time_limit: float = DEFAULT_TIME_LIMIT, interface: Sequence[str] | None = None
                     ) -> list[TestResult]:
    """Instant feedback for a learner: run their tests against the correct ``name`` and report.

    Prints one line per test case. Raises :class:`helpers.checks.CheckFailed` (a friendly
    message) when there are no tests or one of them fails on the correct code.
    """
    from .checks import CheckFailed

    results = run_against(namespace, name, reference, time_limit, interface=interface)
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
                time_limit: float = DEFAULT_TIME_LIMIT, interface: Sequence[str] | None = None) -> float:
    """The learner's score for their tests of ``name``: ``points`` times the share of ``variants``
    (buggy versions of ``reference``) that the tests catch, or 0 if they fail on the reference.

    Prints a message saying how many bugs were caught (never which) and returns the score, so the
    hidden test cell can end with it (nbgrader gives a cell whose output is a number that many
    points). ``namespace[name]`` is restored afterwards, whatever happens.
    """
    if not variants:
        raise ValueError("grade_tests needs at least one buggy variant to grade against")
    total = len(variants)
    run = functools.partial(run_against, namespace, name, time_limit=time_limit, like=reference,
                            interface=interface)
    suspicious = _inspecting_tests(namespace, name)
    if suspicious:
        print(f"✘ Your tests look at {name} itself instead of what it does ({suspicious}). Only "
              f"behaviour counts: call {name}(...) and check what it returns or raises. "
              f"Score: 0 of {points:g} points.")
        return 0.0
    # The reference runs twice and every bug once. Under a judge the order is secret (see
    # Judge.shuffled): a test that carries something from one run to the next cannot know which
    # run is the reference. In one kernel (a learner's own, plain nbgrader) nothing is secret
    # anyway, and the reference runs first and last.
    plan: list = [None, *range(total), None]  # None: the reference; i: variants[i]
    judge = namespace.get("__mlse_judge__")
    if judge is not None:
        plan = judge.shuffled(name, plan)
    reference_runs: list[list[TestResult]] = []
    caught = 0
    for step in plan:
        if step is None:
            reference_runs.append(run(reference))
        else:
            results = run(variants[step], stop_at_first_failure=True)
            caught += any(not r.passed for r in results)
    if not all(reference_runs):
        print(_no_tests_message(name) + f" Score: 0 of {points:g} points.")
        return 0.0
    failing = [[r for r in results if not r.passed] for results in reference_runs]
    if all(failing):
        print(f"✘ Your test {failing[0][0].name} fails on the correct {name}: {failing[0][0].reason}. "
              f"Tests must pass on correct code before they can catch bugs. Score: 0 of {points:g} points.")
        return 0.0
    flaky = next((f[0] for f in failing if f), None)
    if flaky is not None:
        print(f"✘ Your test {flaky.name} passed on the correct {name} once but failed on it another "
              f"time ({flaky.reason}): a test must not depend on what earlier runs left behind. "
              f"Score: 0 of {points:g} points.")
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
