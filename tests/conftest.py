"""Shared fixtures, and how the suite stays fast and steady (read this before adding a slow test).

The suite runs in parallel with pytest-xdist (``-n 2 --dist loadscope``, set in pyproject.toml):
a test module (and a lesson notebook, whose cells nbval runs in order) stays on one worker, and
different modules run side by side. Two rules follow.

1. **Build an expensive thing once, with** :func:`shared` **.** Under xdist a plain
   ``scope="session"`` fixture is built once *per worker*. ``shared(name, build)`` runs
   ``build(folder)`` once per test run, in whichever worker asks first, under a file lock (the
   other workers wait, then get the same finished folder) in a cache folder under the run's base
   temp. Its result is a folder: treat it as read-only, and copy it (:func:`copy_course`) before
   you change anything in it::

       @pytest.fixture(scope="session")
       def my_thing(shared):
           return shared("my-thing", lambda folder: make_it_in(folder))

   Ready-made builds, all read-only:

   * ``released_course``: a course folder (a workspace) in which ``nbgrader generate_assignment``
     ran for every assignment; its gradebook.db knows every assignment. Most tests that grade
     start from a writable copy of it: the ``course_copy`` fixture (function scope, in
     ``tmp_path``) or ``copy_course(released_course, folder)`` in a module-scoped fixture.
   * ``judged_class``: the graded class's students graded again by ``mlse grade`` (sandbox and
     judge), once per run for every autograded assignment.
   * ``graded_class``: that course with a class of students autograded by real ``nbgrader
     autograde``, **one run per assignment for every student**: ``solution``, ``blank`` and
     ``half`` for every assignment, plus every student a test module adds with
     :func:`class_submissions`. Adding students costs one notebook run each, not a new nbgrader
     run: prefer it to a fixture of your own that runs ``nbgrader autograde`` again::

         @class_submissions("m3_software_engineer")
         def my_students(workspace, assignment):
             submit_notebook(workspace, "ada", assignment, some_notebook)

       def test_ada(graded_class):
           scores = graded_class.of("m3_software_engineer", "ada")

2. **Own every resource.** Each run gets a temporary folder of its own (``TMPDIR`` is set to a
   fresh folder before anything starts, and removed after a green run), so nothing a test counts
   (sandbox folders, grading scratch copies) can be another run's. Ports come from the OS (bind
   to port 0), never a fixed number; names come from ``tmp_path``. Never look at processes or
   files by a machine-wide pattern: two copies of the suite must pass side by side.

Speed tiers: tests that run nbgrader, a kernel, JupyterLab or a browser are marked ``slow``
(module ``pytestmark``, or automatically when they use a fixture in :data:`SLOW_FIXTURES`);
``make test-fast`` runs the rest plus one lesson (:data:`FAST_LESSON`), ``make test`` all of it.
docs/testing.md has the measured figures.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

# -- A temporary folder of our own, set before any other module asks tempfile for one -----------
# Worker processes (xdist) inherit it from the controller through the environment.
_RUN_TMP_VAR = "MLSE_TEST_RUN_TMP"
_ORIGINAL_TMP = os.environ.get("MLSE_TEST_ORIGINAL_TMP") or tempfile.gettempdir()


def _share_uid_locks(tmp: str | Path) -> None:
    """The sandbox gives every live kernel a uid of its own, with a lock file per uid in
    ``$TMPDIR/mlse-sandbox-uids``. Point that at one machine-wide folder, so that two runs (or
    two modules) side by side never hand the same uid, and so the same process limit, to two
    kernels at once."""
    locks = Path(_ORIGINAL_TMP) / "mlse-sandbox-uids"
    try:
        locks.mkdir(mode=0o700, exist_ok=True)
        os.symlink(locks, Path(tmp) / "mlse-sandbox-uids")
    except OSError:
        pass  # then these locks are private: still correct within this folder's users


def use_tmpdir(folder: str | Path) -> None:
    """Make ``folder`` this process's temporary folder (and its children's, through TMPDIR)."""
    os.environ["TMPDIR"] = str(folder)
    tempfile.tempdir = None  # forget the cached answer: from now on, gettempdir() is ``folder``
    _share_uid_locks(folder)


_OWNS_RUN_TMP = not os.environ.get(_RUN_TMP_VAR)  # False in xdist workers and nested runs
if _OWNS_RUN_TMP:
    _run_tmp = tempfile.mkdtemp(prefix="mlse-t-", dir=_ORIGINAL_TMP)  # short: see module_tmpdir
    os.environ[_RUN_TMP_VAR] = _run_tmp
    os.environ["MLSE_TEST_ORIGINAL_TMP"] = _ORIGINAL_TMP
    use_tmpdir(_run_tmp)
RUN_TMP = Path(os.environ[_RUN_TMP_VAR])
if not os.environ.get("TMPDIR"):
    use_tmpdir(RUN_TMP)

from mlse.gradebook import CellScore, cell_scores, db_url_for  # noqa: E402
from mlse.nbgrader_cli import environment_with_bin, run_nbgrader  # noqa: E402
from mlse.workspace import list_assignments, make_workspace, notebooks_of, submit_notebook  # noqa: E402
from simulated import blank_submission, half_done_submission  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# nbgrader starts `alembic` by name: make sure this environment's bin/ is on PATH for every test.
os.environ["PATH"] = environment_with_bin()["PATH"]

ASSIGNMENTS = list_assignments(ROOT)


def _has_autograded_tests(assignment: str) -> bool:
    import nbformat

    from mlse.notebook_cells import is_autograded_test

    return any(is_autograded_test(cell) for path in notebooks_of(ROOT / "solutions" / assignment)
               for cell in nbformat.read(path, as_version=4).cells)


#: Assignments with tests (m5 is graded by hand only).
AUTOGRADED_ASSIGNMENTS = [a for a in ASSIGNMENTS if _has_autograded_tests(a)]

#: The lesson `make test-fast` validates with nbval (the quickest one; every lesson runs in `make test`).
FAST_LESSON = "00_start_here.ipynb"
#: Tests that use one of these fixtures are marked slow without saying so.
SLOW_FIXTURES = {"released_course", "course_copy", "graded_class", "judged_class", "lab", "browser"}
#: Modules whose tests are parametrized by lesson and run its code: slow but for FAST_LESSON.
PER_LESSON_MODULES = {"test_lesson_checks.py"}
#: Modules marked slow here rather than in their own ``pytestmark`` (they run nbgrader or kernels).
SLOW_MODULES = {"test_mlse_term.py", "test_hostile_isolation.py", "test_judge_tricks.py",
                "test_judge_equivalence.py", "test_mlse_student_edition.py", "test_warm_kernels.py",
                "test_mlse_workflow.py", "test_hostile_grading.py", "test_hostile_resume.py",
                "test_hidden_tests_never_reach_student.py", "test_mlse_collect.py",
                "test_mlse_grading_hook.py", "test_sandbox_units.py", "test_mlse_hidden_feedback.py"}


# ---------------------------------------------------------------------------------------------
# Builds shared by every worker of a run


def _shared_root(tmp_path_factory) -> Path:
    """A folder every xdist worker of this run sees: the controller's base temp (a worker's is
    ``<controller's>/popen-gwN``); without xdist, this process's own base temp."""
    base = tmp_path_factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared-builds"


class SharedBuilds:
    """``shared(name, build)``: the folder ``build`` filled, built once per run (see the module
    docstring). A build that failed fails every test that asks for it, with the first error,
    without being tried again."""

    def __init__(self, root: Path):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def __call__(self, name: str, build: Callable[[Path], object], timeout: float = 3600) -> Path:
        from filelock import FileLock

        done, failed = self.root / name, self.root / f"{name}.failed"
        with FileLock(str(self.root / f"{name}.lock"), timeout=timeout):
            if failed.exists():
                raise RuntimeError(f"the shared build {name!r} failed earlier in this run:\n"
                                   f"{failed.read_text()}")
            if done.is_dir():
                return done
            partial = self.root / f"{name}.partial"
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir()
            try:
                build(partial)
            except BaseException:
                failed.write_text(traceback.format_exc())
                raise
            partial.rename(done)
            return done


@pytest.fixture(scope="session")
def shared(tmp_path_factory) -> SharedBuilds:
    return SharedBuilds(_shared_root(tmp_path_factory))


def copy_course(source: Path, dest: Path) -> Path:
    """A writable copy of a course folder (a shared build is read-only): ``dest`` itself."""
    shutil.copytree(source, dest, symlinks=True, dirs_exist_ok=True)
    return dest


# ---------------------------------------------------------------------------------------------
# The released course, and the graded class


@pytest.fixture(scope="session")
def course_root() -> Path:
    return ROOT


def _release_every_assignment(folder: Path) -> None:
    make_workspace(folder, ROOT)
    for assignment in ASSIGNMENTS:
        run_nbgrader(["generate_assignment", assignment, "--force"], cwd=folder)


@pytest.fixture(scope="session")
def released_course(shared) -> Path:
    """A workspace in which `nbgrader generate_assignment` ran for every assignment (read-only)."""
    return shared("released-course", _release_every_assignment)


# Kept for tests written before the shared builds: the same folder.
generated_workspace = released_course


@pytest.fixture
def course_copy(released_course, tmp_path) -> Path:
    """A private, writable copy of the released course, for a test that grades or changes it."""
    return copy_course(released_course, tmp_path / "course")


#: assignment -> functions that add students to the graded class (see :func:`class_submissions`).
_CLASS_SUBMITTERS: dict[str, list[Callable[[Path, str], None]]] = {}


def class_submissions(assignment: str):
    """Decorator: ``fn(workspace, assignment)`` submits more students to the graded class (with
    :func:`mlse.workspace.submit_notebook`), graded in the same ``nbgrader autograde`` run as
    everyone else. Use student names of your own; ``solution``, ``blank`` and ``half`` are taken."""
    def register(fn):
        _CLASS_SUBMITTERS.setdefault(assignment, []).append(fn)
        return fn
    return register


@dataclass
class GradedClass:
    """A workspace in which every assignment was generated and a small class autograded."""

    workspace: Path
    scores: dict[str, list[CellScore]]  # assignment -> every cell of every student
    half_done_answers: dict[str, dict[str, set[str]]]  # assignment -> notebook -> answers filled

    def of(self, assignment: str, student: str) -> list[CellScore]:
        return [s for s in self.scores[assignment] if s.student == student]


def _half_done_answers() -> dict[str, dict[str, set[str]]]:
    answers: dict[str, dict[str, set[str]]] = {}
    for assignment in ASSIGNMENTS:
        answers[assignment] = {}
        for source in notebooks_of(ROOT / "solutions" / assignment):
            released = ROOT / "exercises" / assignment / source.name
            answers[assignment][source.stem] = half_done_submission(source, released)[1]
    return answers


def _grade_class(released: Path):
    def build(ws: Path) -> None:
        copy_course(released, ws)
        for assignment in ASSIGNMENTS:
            for source in notebooks_of(ROOT / "solutions" / assignment):
                released_nb = ROOT / "exercises" / assignment / source.name
                submit_notebook(ws, "solution", assignment, source)
                submit_notebook(ws, "blank", assignment, blank_submission(released_nb))
                submit_notebook(ws, "half", assignment, half_done_submission(source, released_nb)[0])
            for submit in _CLASS_SUBMITTERS.get(assignment, []):
                submit(ws, assignment)
            run_nbgrader(["autograde", assignment, "--force"], cwd=ws)
    return build


@pytest.fixture(scope="session")
def graded_class(shared, released_course) -> GradedClass:
    """Every assignment autograded for real by `nbgrader autograde`, once per run (read-only):

    * ``solution`` submits the solution notebooks;
    * ``blank`` submits the committed exercises untouched;
    * ``half`` submits the exercises with the first half of the autograded answers filled in;
    * and every student that a test module adds with :func:`class_submissions`.
    """
    ws = shared("graded-class", _grade_class(released_course))
    scores = {a: cell_scores(db_url_for(ws), a) for a in ASSIGNMENTS}
    return GradedClass(ws, scores, _half_done_answers())


def _judge_class(graded: Path, released: Path):
    def build(ws: Path) -> None:
        from mlse.nbgrader_cli import environment_with_bin as _env
        import subprocess

        copy_course(released, ws)
        shutil.copytree(graded / "submitted", ws / "submitted")
        for assignment in AUTOGRADED_ASSIGNMENTS:
            proc = subprocess.run(["mlse", "grade", assignment], cwd=ws, env=_env(), capture_output=True,
                                  text=True, timeout=3600)
            assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return build


@pytest.fixture(scope="session")
def judged_class(shared, graded_class, released_course) -> GradedClass:
    """The graded class's submissions (every student, :func:`class_submissions` included) graded
    again by ``mlse grade`` (intake, sandbox, test cells in the judge), once per run (read-only)."""
    ws = shared("judged-class", _judge_class(graded_class.workspace, released_course))
    scores = {a: cell_scores(db_url_for(ws), a) for a in AUTOGRADED_ASSIGNMENTS}
    return GradedClass(ws, scores, graded_class.half_done_answers)


@pytest.fixture(scope="module", autouse=True)
def module_tmpdir() -> Path:
    """Every test module gets a temporary folder of its own (TMPDIR), so what a module finds in
    it (sandbox folders, grading scratch copies) is its own, whatever runs beside it.

    Its path is kept short (``/tmp/mlse-t-XXXXXXXX/mXXXXXXXX``): Unix socket paths (a sandboxed
    kernel's ZeroMQ sockets, Chromium's singleton socket) must fit in 107 bytes."""
    before = os.environ["TMPDIR"]
    folder = Path(tempfile.mkdtemp(prefix="m", dir=RUN_TMP))
    use_tmpdir(folder)
    yield folder
    use_tmpdir(before)


# ---------------------------------------------------------------------------------------------
# Speed tiers, scheduling, and the run's temporary folder


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    """pytest's base temp inside the run's folder too, with a short name (``RUN_TMP/p``): the paths
    under it (sandbox folders with their Unix sockets) stay short, and the run's folder holds all."""
    if not config.option.basetemp and _OWNS_RUN_TMP:
        config.option.basetemp = str(RUN_TMP / "p")


def _is_lesson(item) -> bool:
    return item.path.suffix == ".ipynb" and item.path.parent.name == "course"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _is_lesson(item):
            if item.path.name != FAST_LESSON:
                item.add_marker(pytest.mark.slow)
        elif (SLOW_FIXTURES & set(getattr(item, "fixturenames", ()))
              or item.path.name in SLOW_MODULES):
            item.add_marker(pytest.mark.slow)
        elif item.path.name in PER_LESSON_MODULES and f"[{Path(FAST_LESSON).stem}" not in item.name:
            item.add_marker(pytest.mark.slow)  # runs a lesson's code: only the fast lesson's is fast
    # Longest first, so that the two workers finish together (xdist hands out whole modules in
    # this order; see docs/testing.md). Modules not listed keep their order, after these.
    order = {name: i for i, name in enumerate(SCHEDULE)}
    items.sort(key=lambda item: order.get(_scope_name(item), len(order)))


def _scope_name(item) -> str:
    return item.path.name


#: Modules (and lessons) that take longest, longest first: measured with --durations, see
#: docs/testing.md. A module missing here only runs later; nothing breaks. The first modules of
#: the two workers need no shared build (or different ones), so neither waits on the other's lock.
SCHEDULE: list[str] = [
    "test_mlse_workflow.py",          # builds the released course, grades a demo class twice
    "test_in_browser.py",             # JupyterLab + Chromium; no shared build
    "test_classroom_hub.py",          # a real hub, accounts, Chromium, mlse grade (3-5 min)
    "test_site.py",                   # builds the website (shared), Chromium + axe-core on every page
    "test_judge_equivalence.py",      # builds the graded class, grades it again with mlse grade
    "test_fairness.py",               # reads both graded classes
    "test_hostile_grading.py",        # ~25 sandboxed gradings
    "test_mlse_term.py",
    "test_mlse_term_round_trip.py",   # reads the graded class; five gradings, one Ctrl-C
    "test_readme_quickstart.py",      # five nbgrader commands; no shared build
    "test_autograde.py",              # reads the graded class, regrades m1 once
    "test_hostile_resume.py",         # grades three students three times, one kill -9
    "test_hidden_tests_never_reach_student.py",
    "test_hostile_isolation.py",
    "test_judge_tricks.py",
    "test_mlse_check.py",
    "test_lesson_checks.py",
    "test_mlse_student_edition.py",
    "test_warm_kernels.py",
    "02a_ml_engineer_build.ipynb",
    "02b_ml_engineer_ship.ipynb",
    "04_shipping_together.ipynb",
    "test_mlse_grading_hook.py",
    "test_m3_seeded_bugs_autograde.py",  # reads the graded class
    "test_release.py",
    "test_ticket_service_and_pytest_summary.py",
    "test_tickets.py",
    "test_mlse_collect.py",
    "03_software_engineer.ipynb",
    "01_two_roles.ipynb",
    "05_choosing_your_path.ipynb",
    "00_start_here.ipynb",
]


def pytest_report_header(config):
    return [f"course assignments: {', '.join(ASSIGNMENTS) or 'none'}", f"python: {sys.executable}",
            f"temporary folder of this run: {RUN_TMP}"]


def pytest_sessionfinish(session, exitstatus):
    """Remove the run's temporary folder after a green run (kept after a failure, to look at)."""
    if not _OWNS_RUN_TMP or os.environ.get("MLSE_KEEP_TEST_TMP"):
        return
    if exitstatus == 0:
        shutil.rmtree(RUN_TMP, ignore_errors=True)
    else:
        print(f"\nThe run's temporary files are kept in {RUN_TMP}")
