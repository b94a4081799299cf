"""A student cannot fool the judge: each trick, built from the real exercise, scores 0 (issue 11).

Every trick below is one extra cell that a student adds to the *blank* m1 exercise (nothing
answered), as a student who reads the course's public source would write it. Under one kernel
(plain nbgrader) several of them reach full or near-full marks; graded by ``mlse grade`` (test
cells in a judge kernel that never runs student code) each must get **0 autograded points**. And
honest answers written differently from the solutions must still get full marks.
"""

from __future__ import annotations

import base64
import subprocess

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from conftest import ROOT
from mlse.gradebook import cell_scores, db_url_for
from mlse.nbgrader_cli import environment_with_bin, run_nbgrader
from mlse.workspace import make_workspace

ASSIGNMENT, NOTEBOOK = "m1_roles_warmup", "roles_warmup.ipynb"

_TRANSFORMER = '''
def _neuter(lines):
    return ["pass\\n"] if any(("check" in l or "answer_of" in l) for l in lines) else lines
get_ipython().input_transformers_cleanup.append(_neuter)
'''

TRICKS = {
    # rewrite every later cell before it runs: tests become `pass`
    "input_transformer": _TRANSFORMER,
    # the same, with the names hidden and the code run from a string
    "input_transformer_obfuscated": "exec(__import__('base64').b64decode(%r).decode())"
                                    % base64.b64encode(_TRANSFORMER.encode()).decode(),
    # rewrite the syntax tree of later cells: every raise and assert disappears, calls to check vanish
    "ast_transformer": '''
import ast as _ast
class _Quiet(_ast.NodeTransformer):
    def visit_Raise(self, node):
        return _ast.Pass()
    def visit_Assert(self, node):
        return _ast.Pass()
    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, _ast.Name) and node.func.id.startswith("check"):
            return _ast.Constant(None)
        return node
get_ipython().ast_transformers.append(_Quiet())
''',
    # a trace hook that makes every check's condition true
    "trace_hook": '''
import sys as _sys
def _tracer(frame, event, arg):
    if frame.f_code.co_name in ("check", "check_equal", "check_close", "check_type", "check_raises"):
        frame.f_locals.update({"condition": True, "ok": True})
        import ctypes
        ctypes.pythonapi.PyFrame_LocalsToFast(ctypes.py_object(frame), ctypes.c_int(0))
    return _tracer
_sys.settrace(_tracer)
import threading as _t
_t.settrace(_tracer)
''',
    # a profile hook that swallows CheckFailed on its way out
    "profile_hook": '''
import sys as _sys
import helpers.checks as _c
_real = _c.CheckFailed.__init__
def _init(self, *a, **k):
    _real(self, *a, **k)
    self.args = ()
_c.CheckFailed.__init__ = _init
def _prof(frame, event, arg):
    pass
_sys.setprofile(_prof)
''',
    # rebind the names the tests call, here and in the module they come from
    "rebind_names": '''
import helpers.checks as _c
_ok = lambda *a, **k: None
for _n in ("check", "check_equal", "check_close", "check_type", "check_raises"):
    setattr(_c, _n, _ok)
    globals()[_n] = _ok
answer_of = lambda f, *a, **k: 0
class CheckFailed(Exception):
    pass
''',
    # answers that are equal to everything
    "always_equal": '''
class _Any(float):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __hash__(self): return 0
    def get(self, *a): return _Any()
    def __iter__(self): return iter(())
OWNERS = type("D", (dict,), {"get": lambda s, *a: "ml", "__eq__": lambda s, o: True})()
salary_midpoint = widest_range = projected = minutes_by_category = lambda *a, **k: _Any()
import math as _m
_m.isclose = lambda *a, **k: True
''',
    # make an error reply say "ok" and show nothing
    "forged_ok_reply": '''
_k = get_ipython().kernel
_orig = _k.do_execute
async def _fake(*a, **k):
    r = _orig(*a, **k)
    if hasattr(r, "__await__"):
        r = await r
    r["status"] = "ok"
    return r
_k.do_execute = _fake
get_ipython().showtraceback = lambda *a, **k: None
get_ipython()._showtraceback = lambda *a, **k: None
''',
    # read the expected values from the checker's stack frames
    "read_frames": '''
import sys as _sys
def _peek(*args, **kwargs):
    frame = _sys._getframe(1)
    while frame is not None:
        for key in ("expected", "_want", "_expected"):
            if key in frame.f_locals:
                return frame.f_locals[key]
        frame = frame.f_back
    return None
salary_midpoint = widest_range = projected = minutes_by_category = _peek
''',
    # answer the judge's requests with forged data: every call "returns" whatever the reply says
    "forged_judge_reply": '''
import mlse.judge.agent as _agent
from IPython.display import display as _display
def _serve(request_b64):
    _display({_agent.REPLY_MIME: {"reply": {"$": "dataclass", "cls": "builtins.object", "v": {}}}}, raw=True)
_agent.serve = _serve
''',
    # kill the kernel whenever a test calls in
    "kill_on_call": '''
import os as _os
def _die(*a, **k):
    _os._exit(0)
salary_midpoint = widest_range = projected = minutes_by_category = _die
OWNERS = {}
''',
}

#: Answers written another way than the solutions, but right by the tasks' words.
HONEST = {
    "part1_owners": '''
OWNERS = dict(zip([
    "Retrain the ticket-routing model when its accuracy drops",
    "Add a database index so the ticket list loads faster",
    "Compute the router's recall for each team on last week's tickets",
    "Write a test that rejects a ticket with no text",
    "Agree on the format in which the model returns a team to the service",
], ["ml", "se", "ml", "se", "both"]))
''',
    "part2_midpoint": '''
def salary_midpoint(low, high):
    if min(low, high) < 0 or low > high:
        raise ValueError("bad range")
    return low + (high - low) / 2
''',
    "part3_widest": '''
def widest_range(salaries):
    if len(salaries) == 0:
        raise ValueError("empty")
    return max(salaries, key=lambda s: s["high"] - s["low"])["role"]
''',
    "part4_projected": '''
def projected(count, percent=22):
    if count < 0:
        raise ValueError("negative")
    return count + count * percent / 100
''',
    "part5_minutes": '''
from collections import defaultdict
def minutes_by_category(schedule):
    out = defaultdict(int)
    for _, start, end, category in schedule:
        h1, m1 = map(int, start.split(":"))
        h2, m2 = map(int, end.split(":"))
        if (h2, m2) < (h1, m1):
            raise ValueError("ends before it starts")
        out[category] += (h2 * 60 + m2) - (h1 * 60 + m1)
    return dict(out)
''',
}


def _released(ws):
    return nbformat.read(ws / "exercises" / ASSIGNMENT / NOTEBOOK, as_version=4)


def _submit(ws, student, nb):
    folder = ws / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / NOTEBOOK)


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    """Every trick and one honest student, graded in one `mlse grade` run; their autograded scores."""
    ws = make_workspace(tmp_path_factory.mktemp("tricks"), ROOT)
    run_nbgrader(["generate_assignment", ASSIGNMENT, "--force"], cwd=ws)
    for name, code in TRICKS.items():
        nb = _released(ws)
        nb.cells.insert(2, new_code_cell(code))  # right after the set-up cell, before any answer
        _submit(ws, name, nb)
    honest = _released(ws)
    for cell in honest.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in HONEST:
            cell.source = HONEST[gid]
    _submit(ws, "honest_other_way", honest)
    proc = subprocess.run(["mlse", "grade", ASSIGNMENT, "--workers", "2"], cwd=ws, env=environment_with_bin(),
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return _autograded(ws)


def _autograded(ws) -> dict[str, dict[str, tuple[float, float]]]:
    scores: dict[str, dict[str, tuple[float, float]]] = {}
    for s in cell_scores(db_url_for(ws), ASSIGNMENT):
        if s.auto:
            scores.setdefault(s.student, {})[s.cell] = (s.score or 0.0, s.max_score)
    return scores


@pytest.mark.parametrize("trick", sorted(TRICKS))
def test_a_trick_on_a_blank_exercise_scores_nothing(judged, trick):
    assert trick in judged, f"{trick}: not graded"
    earned = {cell: score for cell, (score, _) in judged[trick].items() if score}
    assert not earned, f"{trick} earned points under the judge: {earned}"


def test_honest_answers_written_another_way_score_full_marks(judged):
    scores = judged["honest_other_way"]
    missing = {cell: (score, most) for cell, (score, most) in scores.items() if score != most}
    assert not missing, f"right answers written differently lost points: {missing}"
