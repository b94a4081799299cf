"""Grading judges behaviour, not form (issue 20), the fast parts: no kernel, no nbgrader.

* ``helpers.mutation_grading``: a learner's tests get one proxy type for the reference and every
  seeded bug (same name, module, docs; only the exercise's interface); a test that inspects the
  thing under test scores 0 and says why; the proxy is useless once its run is over.
* ``mlse.intake.code_reading``: which text a code-reading test reads (lambdas and assignments as
  defs, indirection resolved, helpers read along, unclear bindings refused).
* ``mlse check`` says when an answer cell raised, with the error's last line.

The same rules graded for real on the exercises: tests/test_fairness.py.
"""

from __future__ import annotations

import linecache
import textwrap

import nbformat
import pytest

from helpers import mutation_grading as mg
from helpers import ticket_service
from helpers.checks import names_used
from helpers.ticket_service import TicketError
from mlse.intake.code_reading import dynamic_code, read_definitions
from mlse.selfcheck import _answer_errors, error_line

from conftest import ROOT


def _namespace(code: str) -> dict:
    namespace = {"__name__": "__main__", "pytest": pytest, "TicketError": TicketError,
                 "ticket_service": ticket_service}
    code = textwrap.dedent(code)
    filename = f"<learner-cell-{abs(hash(code))}>"
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)  # as IPython does
    exec(compile(code, filename, "exec"), namespace)  # noqa: S102 - the learner's cell, in a test
    return namespace


def _variant(**table):
    hours = dict(ticket_service.RESPONSE_HOURS, **table)

    def variant(priority, vip=False):
        if not isinstance(priority, str) or priority.strip().lower() not in hours:
            raise TicketError("unknown priority")
        value = hours[priority.strip().lower()]
        return max(1, value // 2) if vip else value
    return variant


VARIANTS = [_variant(low=48), _variant(high=5)]
HONEST = """
    def test_each():
        assert response_hours("low") == 72
        assert response_hours("high") == 4

    def test_raises():
        with pytest.raises(TicketError):
            response_hours("nope")
"""


def _grade(code: str) -> float:
    return mg.grade_tests(_namespace(code), "response_hours", ticket_service.response_hours, VARIANTS, points=2)


def test_honest_tests_catch_the_bugs():
    assert _grade(HONEST) == 2


@pytest.mark.parametrize("test", [
    "assert response_hours is ticket_service.response_hours",
    "assert type(response_hours).__name__ == 'function'",
    "assert response_hours.__module__ == 'helpers.ticket_service'",
    "assert response_hours.__closure__ is None",
    "import inspect; assert 'RESPONSE_HOURS' in inspect.getsource(response_hours)",
    "assert id(response_hours) > 0",
])
def test_a_test_that_inspects_the_implementation_scores_zero_and_says_why(test, capsys):
    assert _grade(f"def test_fingerprint():\n    {test}\n") == 0
    assert "look at response_hours itself" in capsys.readouterr().out


def test_every_candidate_looks_the_same_to_a_test():
    seen = []

    def record(candidate):
        seen.append((type(candidate), candidate.__name__, candidate.__module__, candidate.__doc__,
                     repr(candidate), sorted(dir(candidate))))

    for implementation in [ticket_service.response_hours, *VARIANTS]:
        meta = mg.candidate_meta("response_hours", ticket_service.response_hours)
        with mg._local_candidate(implementation, meta) as candidate:
            record(candidate)
            for forbidden in ("__code__", "__closure__", "__globals__", "__wrapped__", "__dict__"):
                with pytest.raises(AttributeError):
                    getattr(candidate, forbidden)
    assert len(set(map(str, seen))) == 1
    assert seen[0][1] == "response_hours" and seen[0][2] == "helpers.ticket_service"


def test_only_behaviour_crosses_values_and_exceptions_are_rebuilt():
    meta = mg.candidate_meta("response_hours", ticket_service.response_hours)
    with mg._local_candidate(_variant(), meta) as candidate:
        assert candidate("HIGH") == 4 and type(candidate("HIGH")) is int
        with pytest.raises(TicketError):
            candidate("nope")
        with pytest.raises(TypeError):
            candidate(object())  # only data goes to the implementation
    with pytest.raises(RuntimeError):
        candidate("high")  # kept after its run: useless


def test_an_object_under_test_exposes_only_its_interface():
    class Model:
        classes_ = ["a", "b"]
        secret = 48

        def predict(self, rows):
            return ["a" for _ in rows]

    meta = mg.candidate_meta("model", Model(), interface=("predict", "classes_"))
    with mg._local_candidate(Model(), meta) as model:
        assert model.predict([1, 2]) == ["a", "a"] and model.classes_ == ["a", "b"]
        with pytest.raises(AttributeError):
            model.secret
        with pytest.raises(AttributeError):
            model.predict.__self__
    served = mg._Served(Model(), ["predict"])
    forged = mg.serve_candidate_call(served, {"op": "getattr", "target": 0, "attr": "secret"})
    assert forged["reply"]["$"] == "raised"  # enforced on the side that holds the implementation


def test_a_kept_reference_cannot_be_used_as_an_oracle():
    code = """
        _kept = []

        def test_oracle():
            _kept.append(response_hours)
            assert response_hours("low") == _kept[0]("low")
    """
    assert _grade(code) == 0


# ------------------------------------------------------------------------------- code reading

def _read(*cells, name="team_report"):
    return read_definitions([textwrap.dedent(c) for c in cells], [name])[name]


def test_a_plain_def_is_read_as_written():
    reading = _read("def team_report(t):\n    return sorted(t)\n")
    assert reading.source.startswith("def team_report(t):") and not reading.unclear and not reading.untrusted


def test_the_issues_decoy_is_unclear():
    reading = _read('''
        def team_report(tickets):
            return []
        if True:
            def team_report(tickets):
                return globals()["tangled_team_report"](tickets)
    ''')
    assert "inside an if block" in reading.unclear


@pytest.mark.parametrize("body", [
    'globals()["tangled_team_report"](t)',
    'globals().get("tangled_team_report")(t)',
    'eval("tangled_team_report")(t)',
    'getattr(__builtins__, "x") or tangled_team_report(t)',
    '_helper(t)',
])
def test_indirection_and_helpers_count_as_calls_of_what_they_name(body):
    reading = _read(f"def _helper(t):\n    return tangled_team_report(t)\n\ndef team_report(t):\n    return {body}\n")
    assert "tangled_team_report" in reading.source


def test_lambdas_and_assignments_read_like_defs():
    reading = _read("team_report = lambda tickets: [str(t) for t in tickets]")
    assert reading.source.startswith("def team_report(tickets):") and "return" in reading.source
    alias = _read("team_report = tangled_team_report")
    assert "tangled_team_report" in alias.source


@pytest.mark.parametrize("cells, why", [
    (["def team_report(t):\n    return t\n", "exec('team_report = tangled_team_report')"], "untrusted"),
    (["def team_report(t):\n    return t\n", "team_report.__code__ = tangled_team_report.__code__"], "untrusted"),
    (["def team_report(t):\n    return globals()['tangled' + '_team_report'](t)\n"], "untrusted"),
    (["for team_report in [tangled_team_report]:\n    pass\n"], "unclear"),
    (["def f():\n    global team_report\n    team_report = tangled_team_report\n"], "unclear"),
    (["try:\n    def team_report(t):\n        return t\nexcept Exception:\n    pass\n"], "unclear"),
])
def test_what_the_text_does_not_show_plainly_is_not_trusted(cells, why):
    reading = _read(*cells)
    assert getattr(reading, why), reading


def test_code_nested_too_deeply_to_read_is_refused_not_raised():
    deep = "_x = " + "[" * 190 + "]" * 190 + "\n"
    for cells in ([deep], [deep.replace("_x = ", "_x, _y = 1, ")]):
        reading = _read(*cells, "def team_report(t):\n    return _x(t)\n")
        assert reading.source is None and "nested too deeply" in reading.untrusted


def test_honest_forms_are_trusted():
    for cells in (["from collections import Counter\n\ndef team_report(t):\n    return list(Counter(t))\n"],
                  ["def team_report(t):\n    return t\n", "def team_report(t):\n    return sorted(t)\n"]):
        reading = _read(*cells)
        assert reading.source and not reading.unclear and not reading.untrusted
    assert not dynamic_code(compile("x = {}\nx['a'] = 1\nprint(getattr(x, 'get'))", "c", "exec",
                                    flags=0x400, dont_inherit=True))


# Calls of the old function that sit outside the body of the definition: the attacks found in
# review (a default, a lambda's default, a class helper) and the next steps a reader of the fix
# would take. Both graders must see each: the judge reads text (read_definitions, then the test's
# names_used), one kernel reads the live function (names_used). ``None`` in the judge's column:
# the reading is refused (the code-reading test fails with the reason), which is also a 0.
_OLD = "def tangled_team_report(tickets):\n    return list(tickets)\n"
CALLS_OUTSIDE_THE_BODY = {
    "default": """
        def team_report(tickets, _report=tangled_team_report):
            '''One line per team.'''
            return _report(tickets)
    """,
    "lambda_default": "team_report = lambda tickets, report=tangled_team_report: report(tickets)\n",
    "class_helper": """
        class _Legacy:
            report = staticmethod(tangled_team_report)

        def team_report(tickets):
            return _Legacy.report(tickets)
    """,
    "keyword_only_default": """
        def team_report(tickets, *, _report=tangled_team_report):
            return _report(tickets)
    """,
    "annotation": """
        def team_report(tickets) -> tangled_team_report:
            return team_report.__annotations__["return"](tickets)
    """,
    "decorator_with_arguments": """
        def _calling(old):
            def wrap(function):
                def inner(tickets):
                    return old(tickets)
                return inner
            return wrap

        @_calling(tangled_team_report)
        def team_report(tickets):
            return []
    """,
    "partial_at_top_level": """
        import functools

        _old = functools.partial(tangled_team_report)

        def team_report(tickets):
            return _old(tickets)
    """,
    "dict_filled_later": """
        _TABLE = {}
        _TABLE["report"] = tangled_team_report

        def team_report(tickets):
            return _TABLE["report"](tickets)
    """,
    "list_appended": """
        _KEEP = []
        _KEEP.append(tangled_team_report)

        def team_report(tickets):
            return _KEEP[0](tickets)
    """,
    "tuple_target": """
        _old, _unused = tangled_team_report, None

        def team_report(tickets):
            return _old(tickets)
    """,
    "default_in_a_helper": """
        def _rows(tickets, report=tangled_team_report):
            return report(tickets)

        def team_report(tickets):
            return _rows(tickets)
    """,
    "class_attribute_set_later": """
        class _Legacy:
            pass

        _Legacy.report = staticmethod(tangled_team_report)

        def team_report(tickets):
            return _Legacy.report(tickets)
    """,
    "instance_attribute": """
        class _Box:
            def __init__(self, function):
                self.function = function

        _box = _Box(tangled_team_report)

        def team_report(tickets):
            return _box.function(tickets)
    """,
    "attribute_of_the_function": """
        def team_report(tickets):
            return team_report.old(tickets)

        team_report.old = tangled_team_report
    """,
    "global_in_a_function": """
        def _set_up():
            global _old
            _old = tangled_team_report

        _set_up()

        def team_report(tickets):
            return _old(tickets)
    """,
    "bound_in_a_block": """
        if True:
            _old = tangled_team_report

        def team_report(tickets):
            return _old(tickets)
    """,
    "with_target": """
        import contextlib

        with contextlib.nullcontext(tangled_team_report) as _old:
            pass

        def team_report(tickets):
            return _old(tickets)
    """,
    "except_name_and_walrus": """
        try:
            raise ValueError(tangled_team_report)
        except ValueError as _error:
            (_old := _error.args[0])

        def team_report(tickets):
            return _old(tickets)
    """,
    "kept_in_a_module": """
        import types

        _library = types.ModuleType("library")  # a module of its own: the test changes no real one
        _library.old = tangled_team_report

        def team_report(tickets):
            return _library.old(tickets)
    """,
    "kept_in_another_modules_class": """
        Given = type("Given", (), {"__module__": "given_module"})  # as Ticket, from helpers
        Given.old = staticmethod(tangled_team_report)

        def team_report(tickets):
            return Given.old(tickets)
    """,
    "set_through_a_module_namespace": """
        import types

        _library = types.ModuleType("library")
        vars(_library).update(report=tangled_team_report)

        def team_report(tickets):
            return _library.report(tickets)
    """,
    "set_through_the_class_namespace": """
        class _Legacy:
            pass

        vars(_Legacy)  # read-only for a class: the next two lines are how it is changed
        type.__setattr__(_Legacy, "report", staticmethod(tangled_team_report))

        def team_report(tickets):
            return _Legacy.report(tickets)
    """,
    "set_through_an_instance_dict": """
        class _Box:
            pass

        _box = _Box()
        vars(_box).update(report=tangled_team_report)

        def team_report(tickets):
            return _box.report(tickets)
    """,
    "defaults_set_after": """
        def team_report(tickets, _report=None):
            return _report(tickets)

        team_report.__defaults__ = (tangled_team_report,)
    """,
}
HONEST_FORMS = {
    "constant_default_and_a_loop_over_a_parameter_name": """
        from collections import Counter

        PRESSING = {"urgent", "high"}

        def _line(team, waiting, pressing):
            return f"{team}: {waiting} open, {pressing} pressing" if pressing else f"{team}: {waiting} open"

        def team_report(tickets, pressing=("urgent", "high")):
            '''One line per team with tickets not closed.'''
            active = [t for t in tickets if t.status != "closed"]
            waiting = Counter(t.team for t in active)
            urgent = Counter(t.team for t in active if t.priority in pressing)
            return [_line(team, waiting[team], urgent[team]) for team in sorted(waiting)]

        for tickets in ([], []):  # the learner compares the two, in a cell of their own
            assert team_report(tickets) == tangled_team_report(tickets)
        print(PRESSING.issubset({"urgent", "high", "low"}))
    """,
    "a_module_used_elsewhere_with_getattr": """
        import collections
        import dataclasses

        def describe(ticket, field):
            '''Another part's answer: reads a field named by a variable.'''
            return getattr(ticket, field) if dataclasses.is_dataclass(ticket) else None

        def team_report(tickets):
            waiting = collections.Counter(t.team for t in tickets if t.status != "closed")
            return [f"{team}: {n} open" for team, n in sorted(waiting.items())]

        print(collections.Counter("abc").most_common(1), describe(None, "team"))
    """,
    "class_with_methods": """
        class Tally:
            PRESSING = ("urgent", "high")

            def __init__(self):
                self.waiting = self.pressing = 0

            def add(self, ticket):
                self.waiting += 1
                self.pressing += ticket.priority in self.PRESSING

        def team_report(tickets):
            tallies = {}
            for ticket in tickets:
                if ticket.status != "closed":
                    tallies.setdefault(ticket.team, Tally()).add(ticket)
            return [f"{team}: {t.waiting} open" + (f", {t.pressing} pressing" if t.pressing else "")
                    for team, t in sorted(tallies.items())]
    """,
    "lambdas_and_a_partial_of_an_own_helper": """
        import functools

        def _count(tickets, keep):
            return sum(1 for t in tickets if keep(t))

        _pressing = functools.partial(_count, keep=lambda t: t.priority in ("urgent", "high"))
        team_report = lambda tickets: [str(_pressing(tickets))]
    """,
}


class _Judged:
    """Stands in for the judge's handle of a learner's function: it carries the text to read."""

    def __init__(self, source):
        self._source = source


def _judge_sees_the_old_function(code):
    reading = _read(_OLD, code)
    if reading.source is None or reading.untrusted:
        return None  # refused: the code-reading test fails with the reason
    return "tangled_team_report" in names_used(_Judged(reading.source))


def _kernel_sees_the_old_function(code):
    return "tangled_team_report" in names_used(_namespace(_OLD + textwrap.dedent(code))["team_report"])


@pytest.mark.parametrize("form", CALLS_OUTSIDE_THE_BODY)
def test_a_call_outside_the_body_is_seen_by_both_graders(form):
    code = CALLS_OUTSIDE_THE_BODY[form]
    assert _judge_sees_the_old_function(code) in (True, None)
    assert _kernel_sees_the_old_function(code)


@pytest.mark.parametrize("form", ["default", "lambda_default", "class_helper", "partial_at_top_level",
                                  "dict_filled_later", "global_in_a_function", "attribute_of_the_function",
                                  "instance_attribute", "tuple_target", "decorator_with_arguments",
                                  "set_through_the_class_namespace"])
def test_the_judge_reads_the_call_itself_rather_than_refusing(form):
    assert _judge_sees_the_old_function(CALLS_OUTSIDE_THE_BODY[form]) is True


@pytest.mark.parametrize("form", HONEST_FORMS)
def test_honest_refactors_are_not_taken_for_a_call_by_either_grader(form):
    code = HONEST_FORMS[form]
    assert _judge_sees_the_old_function(code) is False
    assert not _kernel_sees_the_old_function(code)


def test_the_graded_text_holds_the_class_body_and_the_signature():
    reading = _read(_OLD, CALLS_OUTSIDE_THE_BODY["class_helper"])
    assert "class _Legacy" in reading.source and "staticmethod(tangled_team_report)" in reading.source
    lam = _read(_OLD, CALLS_OUTSIDE_THE_BODY["lambda_default"])
    assert lam.source.startswith("def team_report(tickets, report=tangled_team_report):")


# ------------------------------------------------------------------ mlse check: a cell raised

def test_mlse_check_names_the_answer_cell_that_raised():
    nb = nbformat.v4.new_notebook()
    answer = nbformat.v4.new_code_cell("x = undefined", metadata={"nbgrader": {"solution": True, "grade_id": "p1"}})
    answer.outputs = [nbformat.v4.new_output("error", ename="NameError", evalue="name 'undefined' is not defined",
                                             traceback=[])]
    added = nbformat.v4.new_code_cell("1/0")
    added.outputs = [nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                                            traceback=[])]
    test = nbformat.v4.new_code_cell("check()", metadata={"nbgrader": {"grade": True, "grade_id": "t1"}})
    nb.cells = [answer, added, test]
    assert error_line(answer) == "NameError: name 'undefined' is not defined"
    messages = _answer_errors(nb, {"p1": "Part 1", "t1": "Part 1"})["Part 1"]
    assert messages == ["your answer cell p1 raised NameError: name 'undefined' is not defined",
                        "a cell you added raised ZeroDivisionError: division by zero"]


def test_repeating_an_import_of_the_set_up_is_not_flagged_by_intake():
    from mlse.intake import review

    release = nbformat.read(ROOT / "exercises" / "m3_software_engineer" / "software_engineer.ipynb", as_version=4)
    protected, given = review._protected_names(release), review._given_imports(release)

    def why(source):
        return review._suspicious(nbformat.v4.new_code_cell(source), protected, given)

    assert why("from collections import Counter\n\ndef team_report(t):\n    return list(Counter(t))") is None
    assert "check" in why("from collections import Counter as check")
    assert "Counter" in why("from mymodule import Counter")
    assert "exec" in why("exec('team_report = tangled_team_report')")


def test_feedback_says_an_answer_cell_raised_once():
    from mlse.outputs.feedback import RedactHiddenOutputs

    answer = nbformat.v4.new_code_cell("x = undefined", metadata={"nbgrader": {"solution": True, "grade_id": "p1"}})
    answer.outputs = [nbformat.v4.new_output("error", ename="NameError", evalue="name 'undefined' is not defined",
                                             traceback=[])]
    redact = RedactHiddenOutputs()
    for _ in range(2):
        answer, _resources = redact.preprocess_cell(answer, {}, 0)
    notes = [o for o in answer.outputs if o.get("output_type") == "stream"]
    assert len(notes) == 1 and "raised NameError: name 'undefined' is not defined" in notes[0]["text"]
