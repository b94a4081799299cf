"""Unit tests of helpers.mutation_grading: grading learner-written tests by seeded bugs.

The namespaces here stand in for a notebook's globals(): test code is exec'd into them, as a
notebook cell would define it.
"""

from __future__ import annotations

import textwrap
import threading
import time

import pytest

from helpers.checks import CheckFailed
from helpers.mutation_grading import (collect_tests, check_tests_pass, expand_test, grade_tests,
                                      rebound, run_test)


def double(x):
    if not isinstance(x, int):
        raise TypeError("x must be an int")
    return 2 * x


def bug_add(x):  # caught by any test of a value other than 2
    return x + 2


def bug_negative(x):  # caught only by a test of a negative number
    return abs(2 * x)


def bug_no_error(x):  # caught only by a test of the error
    return 2 * x


VARIANTS = [bug_add, bug_negative, bug_no_error]


def notebook(source: str) -> dict:
    """A namespace like a notebook's, with ``double`` imported and ``source`` run in it."""
    ns = {"__name__": "__main__", "double": double, "pytest": pytest}
    exec(textwrap.dedent(source), ns)
    return ns


def grade(ns, **kw):
    return grade_tests(ns, "double", double, VARIANTS, points=3, **kw)


def test_collects_only_test_functions_defined_in_the_notebook():
    ns = notebook("""
        def test_a(): pass
        def helper(): pass
        test_not_a_function = 3
        class TestThing: pass
        def test_b(): pass
    """)
    ns["test_imported"] = bug_add  # defined in another module: not the learner's test
    assert [name for name, _ in collect_tests(ns)] == ["test_a", "test_b"]


def test_all_bugs_caught_scores_full_marks(capsys):
    ns = notebook("""
        def test_values():
            assert double(3) == 6
            assert double(-4) == -8
        def test_error():
            with pytest.raises(TypeError):
                double("3")
    """)
    assert grade(ns) == 3
    assert "caught 3 of 3 seeded bugs" in capsys.readouterr().out


def test_partial_score_says_how_many_never_which(capsys):
    ns = notebook("""
        def test_three():
            assert double(3) == 6
    """)
    assert grade(ns) == 1.0
    out = capsys.readouterr().out
    assert "caught 1 of 3 seeded bugs" in out and "1 of 3 points" in out
    assert "bug_add" not in out and "negative" not in out


def test_parametrized_tests_run_every_case():
    ns = notebook("""
        @pytest.mark.parametrize("x, expected", [(0, 0), (-2, -4), pytest.param(5, 10, id="five")])
        def test_table(x, expected):
            assert double(x) == expected
    """)
    cases = expand_test("test_table", ns["test_table"])
    assert [name for name, _ in cases] == ["test_table[0-0]", "test_table[-2--4]", "test_table[5-10]"]
    assert grade(ns) == 2.0  # the values catch bug_add and bug_negative, not the missing error


def test_stacked_parametrize_makes_the_product():
    ns = notebook("""
        @pytest.mark.parametrize("a", [1, 2])
        @pytest.mark.parametrize("b", [10, 20, 30])
        def test_pair(a, b):
            assert double(a + b) == 2 * (a + b)
    """)
    assert len(expand_test("test_pair", ns["test_pair"])) == 6


def test_no_tests_scores_zero(capsys):
    assert grade(notebook("x = 1")) == 0
    assert "No tests found" in capsys.readouterr().out


def test_tests_that_test_nothing_score_zero(capsys):
    ns = notebook("""
        def test_nothing():
            assert True
        def test_calls_but_checks_nothing():
            double(3)
    """)
    assert grade(ns) == 0
    assert "caught 0 of 3" in capsys.readouterr().out


def test_a_test_failing_on_the_reference_scores_zero_and_is_named(capsys):
    ns = notebook("""
        def test_good():
            assert double(3) == 6
        def test_wrong_spec():
            assert double(3) == 5
    """)
    assert grade(ns) == 0
    out = capsys.readouterr().out
    assert "test_wrong_spec fails on the correct double" in out and "0 of 3 points" in out


def test_tests_that_fail_on_every_run_after_the_first_score_zero(capsys):
    ns = notebook("""
        runs = []
        def test_only_once():
            runs.append(1)
            assert len(runs) == 1
    """)
    assert grade(ns) == 0
    assert "passed on the correct" in (out := capsys.readouterr().out) and "another time" in out


def test_a_hanging_test_times_out_instead_of_hanging_the_grading(capsys):
    ns = notebook("""
        def test_forever():
            while True:
                pass
    """)
    start = time.perf_counter()
    assert grade(ns, time_limit=0.3) == 0
    assert time.perf_counter() - start < 5
    assert "took longer than 0.3 s" in capsys.readouterr().out


def test_a_test_that_swallows_the_timeout_is_still_stopped():
    ns = notebook("""
        def test_stubborn():
            while True:
                try:
                    while True:
                        pass
                except Exception:
                    pass
    """)
    result = run_test("test_stubborn", ns["test_stubborn"], time_limit=0.3)
    assert not result.passed and "longer" in result.reason


def test_time_limit_also_works_outside_the_main_thread():
    ns = notebook("""
        import time
        def test_slow():
            time.sleep(5)
    """)
    results = []
    worker = threading.Thread(target=lambda: results.append(run_test("test_slow", ns["test_slow"], 0.3)))
    start = time.perf_counter()
    worker.start()
    worker.join(10)
    assert time.perf_counter() - start < 3
    assert not results[0].passed and "longer" in results[0].reason


def test_output_and_warnings_of_tests_are_captured(capsys):
    ns = notebook("""
        import sys, warnings
        def test_noisy():
            print("hello")
            print("oops", file=sys.stderr)
            warnings.warn("careful")
            assert double(3) == 6
    """)
    grade(ns)
    captured = capsys.readouterr()
    assert captured.err == "" and "hello" not in captured.out


def test_the_name_is_restored_even_when_grading_is_interrupted():
    ns = notebook("""
        def test_interrupt():
            if double(3) != 6:
                raise KeyboardInterrupt
    """)
    with pytest.raises(KeyboardInterrupt):
        grade(ns)
    assert ns["double"] is double
    with pytest.raises(RuntimeError):
        with rebound(ns, "double", bug_add):
            raise RuntimeError("boom")
    assert ns["double"] is double


def test_variants_look_like_the_reference_to_tests_that_inspect_names():
    ns = notebook("""
        def test_name():
            assert double.__name__ == "double"
    """)
    assert grade(ns) == 0  # passes on every variant: catches nothing, and does not crash


def test_tests_needing_fixtures_fail_with_an_explanation():
    ns = notebook("""
        def test_fixture(tmp_path):
            assert double(1) == 2
    """)
    result = run_test("test_fixture", ns["test_fixture"])
    assert not result.passed and "takes arguments (tmp_path)" in result.reason


def test_check_tests_pass_gives_feedback(capsys):
    with pytest.raises(CheckFailed, match="no test functions"):
        check_tests_pass(notebook("x = 1"), "double", double)
    with pytest.raises(CheckFailed, match="1 of 2 fail"):
        check_tests_pass(notebook("""
            def test_a(): assert double(1) == 2
            def test_b(): assert double(1) == 3
        """), "double", double)
    results = check_tests_pass(notebook("def test_a(): assert double(1) == 2"), "double", double)
    assert [r.passed for r in results] == [True]
    assert "All 1 of your tests pass" in capsys.readouterr().out


def test_grading_needs_variants():
    with pytest.raises(ValueError):
        grade_tests(notebook(""), "double", double, [], points=1)


# -- the order of the runs: secret under the judge ------------------------------------------------


class _OrderingJudge:
    """Stands in for the judge's two roles here: it orders the runs (``order`` maps the public
    plan to the one used) and runs the learner's tests in this process, through the same proxy."""

    def __init__(self, ns, order):
        self.ns, self.order, self.plans = ns, order, []

    def shuffled(self, name, items):
        self.plans.append(list(items))
        return self.order(list(items))

    def learner_test_sources(self):
        return {}

    def run_learner_tests(self, name, implementation, time_limit, stop_at_first_failure=False, meta=None):
        from helpers.mutation_grading import _local_candidate, collect_tests, rebound, run_all

        with _local_candidate(implementation, meta) as candidate, rebound(self.ns, name, candidate):
            results = run_all(collect_tests(self.ns), time_limit, stop_at_first_failure)
        return [(r.name, r.passed, r.reason) for r in results]


# A test that counts its runs in a place every run shares and passes only the first and the last
# (of 5: the reference, 3 bugs, the reference): in the public order it "catches" every bug
# without testing anything.
COUNTER = """
    import os, tempfile
    _RUNS = os.path.join(tempfile.mkdtemp(), "runs")
    def test_counts_runs():
        n = int(open(_RUNS).read()) + 1 if os.path.exists(_RUNS) else 1
        open(_RUNS, "w").write(str(n))
        assert n in (1, 5)
"""


def test_the_judge_orders_the_runs_and_every_reference_run_must_pass(capsys):
    ns = notebook(COUNTER)
    assert grade(ns) == 3  # the public order, in one kernel: the counter "catches" every bug
    capsys.readouterr()
    ns = notebook(COUNTER)
    judge = ns["__mlse_judge__"] = _OrderingJudge(ns, lambda plan: plan[1:] + plan[:1])
    assert grade(ns) == 0  # the bugs first: the reference's runs are 4th (fails) and 5th (passes)
    assert judge.plans == [[None, 0, 1, 2, None]]  # the reference twice, every bug once
    assert "passed on the correct double once but failed on it another time" in capsys.readouterr().out
    ns = notebook(COUNTER)
    ns["__mlse_judge__"] = _OrderingJudge(ns, lambda plan: [plan[1], plan[0], plan[4], *plan[2:4]])
    assert grade(ns) == 0  # the reference 2nd and 3rd: it fails both
    assert "fails on the correct double" in capsys.readouterr().out


def test_an_honest_test_scores_the_same_in_any_order():
    honest = """
        def test_double():
            assert double(3) == 6
            assert double(-2) == -4
            with pytest.raises(TypeError):
                double("x")
    """
    for order in (lambda p: p, lambda p: p[::-1], lambda p: p[2:] + p[:2]):
        ns = notebook(honest)
        ns["__mlse_judge__"] = _OrderingJudge(ns, order)
        assert grade(ns) == 3


def test_the_judges_order_is_a_secret_permutation_fixed_per_submission():
    from mlse.judge.client import Judge

    def judge(key, cells):
        j = Judge.__new__(Judge)  # only the ordering is used here
        j.order_key, j.cells = key.encode(), list(cells)
        return j

    plan = [None, 0, 1, 2, 3, 4, 5, None]
    cells = ["def test_a():\n    assert response_hours('low') == 72"]
    first = judge("k1", cells).shuffled("response_hours", plan)
    assert sorted(first, key=str) == sorted(plan, key=str)
    assert judge("k1", cells).shuffled("response_hours", plan) == first  # the same on every regrade
    # Another course's key or another submission gives another order; over many keys every run
    # comes first about equally often (the reference, which runs twice, about 2 in 8).
    firsts = [judge(f"key{i}", cells).shuffled("response_hours", plan)[0] for i in range(800)]
    assert 150 <= firsts.count(None) <= 250
    assert all(60 <= firsts.count(i) <= 140 for i in range(6))
    assert judge("k1", cells + ["x = 1"]).shuffled("response_hours", plan) != first or \
        judge("k1", cells + ["x = 2"]).shuffled("response_hours", plan) != first
