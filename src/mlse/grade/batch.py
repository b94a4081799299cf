"""Autograde a whole class in parallel, with the same gradebook that sequential nbgrader writes.

nbgrader's ``autograde`` grades one submission after another (nbgrader issue #174) in one process
that reads and writes one SQLite gradebook. Running several ``nbgrader autograde`` processes on the
same gradebook would race on that file (SQLite allows one writer at a time, and nbgrader does not
retry a locked database). So :func:`grade_assignment` splits the work in two:

* **Workers grade in private workspaces.** Each submission is graded by nbgrader's own
  :class:`~nbgrader.converters.Autograde`, unchanged, inside a throwaway course folder of its own:
  the course's ``nbgrader_config.py``, the assignment's ``solutions/`` folder, the student's
  ``submitted/`` folder, and a *copy* of the class gradebook taken when the run started. Nothing a
  worker does can touch another worker's files or the class gradebook.
* **One process writes the class gradebook.** When a worker finishes, the parent copies that
  student's rows for that assignment (the submission, its notebooks, every grade and comment, the
  student record) from the private gradebook into the class gradebook, and the private
  ``autograded/`` folder into the class's ``autograded/``. Only the parent ever writes the class
  gradebook, so there is nothing to race on.

Why the result equals sequential ``nbgrader autograde``: grading student S's submission of
assignment A reads only the assignment's definition and S's own rows and files, and writes only
S's rows for A. Every worker starts from a gradebook identical to the class gradebook in both, runs
the same nbgrader code, and its rows for (S, A) are copied over verbatim. ``docs/grading.md``
explains it at length; ``tests/test_mlse_workflow.py and tests/test_judge_equivalence.py`` checks it cell by cell.

**Sandbox hook.** :func:`grade_in_workspace` is the one place where a submission's code is run.
Its :class:`GradeJob` carries ``extra_config``, nbgrader/traitlets configuration merged over the
course's own (for example ``{"Execute": {"kernel_name": "sandboxed-python3"}}`` or a kernel
manager class), so issue 7's sandbox can take over kernel execution without changing this module.
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import os
import shutil
import sqlite3
import sys
import tempfile
import time
import traceback
import warnings
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from ..sandbox.cleanup import remove_tree

__all__ = [
    "GradeJob",
    "WorkerResult",
    "SummaryLine",
    "submissions_of",
    "needs_grading",
    "grade_in_workspace",
    "merge_into_gradebook",
    "grade_assignment",
    "GradingError",
    "GradingInterrupted",
    "CourseBusy",
    "course_lock",
    "failed_students",
]

_IGNORE = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")


class GradingError(RuntimeError):
    """Grading cannot start at all (for example, the assignment is not in the gradebook)."""


@dataclass(frozen=True)
class GradeJob:
    """Everything a worker needs to grade one student's submission of one assignment."""

    course_root: str
    assignment: str
    student: str
    gradebook_snapshot: str  # a consistent copy of the class gradebook, read-only for workers
    extra_config: dict = field(default_factory=dict)  # merged over nbgrader_config.py
    sandbox: bool = True  # inspect the submission (intake) and run its kernel sandboxed (issue 7)
    workspace_parent: str = ""  # where the private workspace goes (the run's temp folder; "" = system temp)


@dataclass
class WorkerResult:
    """What a worker hands back: where its private workspace is, and how nbgrader's run went."""

    job: GradeJob
    workspace: str
    success: bool
    log: str
    error: str = ""
    seconds: float = 0.0
    incidents: list[str] = field(default_factory=list)  # tampering signs, for a person to look at


@dataclass
class SummaryLine:
    """One submission's line in the summary of a run (and its JSON log). Each stage has its own
    result type: intake's :class:`~mlse.intake.IntakeReport`, grading's
    :class:`~mlse.grade.one.GradeResult`, the worker's :class:`WorkerResult` (what comes back to
    the parent), and this line."""

    student: str
    assignment: str
    status: str  # "graded", "skipped" (already graded) or "failed"
    score: float | None = None
    max_score: float | None = None
    seconds: float = 0.0
    message: str = ""
    incidents: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# What to grade


def submissions_of(root, assignment: str) -> list[str]:
    """Students with a submission of ``assignment`` (in the course's submitted folder)."""
    from ..course import Course

    return Course.of(root).submitters(assignment)


def needs_grading(root, assignment: str, student: str, graded: set[str]) -> bool:
    """nbgrader's own rule for skipping a submission without ``--force``, and one more.

    A submission is skipped when ``autograded/STUDENT/ASSIGNMENT/`` holds every submitted notebook
    and the submission is not newer than what was graded (its ``timestamp.txt``). We also regrade
    when the gradebook has no record of it (``graded``: students with a submission there), and when
    the submitted files are not the ones that were graded (a notebook replaced by hand keeps the
    old ``timestamp.txt``: its old grade must not look current).
    """
    from ..course import Course

    course = Course.of(root)
    src = course.submission(student, assignment)
    dest = course.autograded_of(student, assignment)
    if student not in graded or not dest.is_dir():
        return True
    if any(not (dest / nb.name).exists() for nb in src.glob("*.ipynb")):
        return True
    recorded = course.read_state(_graded_digest(assignment, student))
    if recorded is not None and recorded.strip() != submission_digest(src):
        return True
    new, old = course.timestamp(src), course.timestamp(dest)
    return bool(new and old and new > old)


def submission_digest(folder: Path) -> str:
    """A digest of every file of a submitted folder (names and contents)."""
    import hashlib

    digest = hashlib.sha256()
    skip = {".ipynb_checkpoints", "__pycache__"}  # what grading never copies
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file() and not p.is_symlink()
                       and not skip & set(p.relative_to(folder).parts)):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _graded_digest(assignment: str, student: str) -> Path:
    """Where, in the course's ``.mlse/``, the digest of the files last graded is kept."""
    return Path("graded") / assignment / f"{student}.sha256"


def _record_graded(course, job: "GradeJob") -> None:
    """Remember which files were graded (see :func:`needs_grading`); written atomically."""
    course.write_state(_graded_digest(job.assignment, job.student),
                       submission_digest(course.submission(job.student, job.assignment)))


# --------------------------------------------------------------------------------------------
# The worker: one submission, in a private workspace


def _private_workspace(job: GradeJob):
    """A throwaway course folder holding exactly what grading (job.student, job.assignment)
    reads, laid out as the course's nbgrader_config.py says, with its own gradebook."""
    from ..course import Course

    course = Course(job.course_root)
    ws = Path(tempfile.mkdtemp(prefix=f"mlse-grade-{job.assignment}-{job.student}-",
                               dir=job.workspace_parent or None))
    course.copy_config_to(ws)
    private = Course(ws)
    a, s = job.assignment, job.student
    shutil.copytree(course.source_of(a), private.source_of(a), ignore=_IGNORE)
    shutil.copytree(course.submission(s, a), private.submission(s, a), ignore=_IGNORE)
    if course.release_of(a).is_dir() and course.release_of(a) != course.source_of(a):
        # intake compares a submission with the released exercise
        shutil.copytree(course.release_of(a), private.release_of(a), ignore=_IGNORE)
    shutil.copyfile(job.gradebook_snapshot, private.db_path)
    return private


def grade_in_workspace(job: GradeJob) -> WorkerResult:
    """Grade one submission in a private workspace: intake, then :func:`mlse.grade.one.autograde`
    (nbgrader's Autograde with the judge's Execute step), in this worker process.

    This is the one grading path, whatever the options: ``job.sandbox`` False only lowers the
    student kernel's isolation (limits and a working copy, no namespaces), and ``job.extra_config``
    is applied on top of the course's nbgrader_config.py. Student code runs only in the kernels
    that the Execute step starts, never here. It never raises: a failure comes back as
    ``success=False`` with the exception that stopped nbgrader.
    """
    from .. import intake
    from .one import autograde

    start = time.perf_counter()
    buffer = io.StringIO()
    logger = logging.getLogger(f"mlse.grade.{job.assignment}.{job.student}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
    logger.addHandler(handler)
    workspace, incidents = "", []
    saved_stderr = os.dup(2)
    try:
        ws = _private_workspace(job)
        workspace = str(ws.root)
        # The kernels nbgrader starts inherit this process's stderr: keep their chatter (and
        # SQLAlchemy's warnings from inside nbgrader) out of the instructor's progress bar.
        with open(ws.root / "worker-stderr.log", "wb") as err:
            os.dup2(err.fileno(), 2)
        warnings.simplefilter("ignore")
        outcome = intake.inspect(ws, job.assignment, job.student)
        if outcome.problems:
            logger.warning("intake: %s", outcome.summary())
        if outcome.status == "flagged":
            incidents.append(f"intake: {outcome.summary()}")
        if outcome.status == "no_submission" or ("symlink" in outcome.codes and outcome.status == "nothing_gradable"):
            success, error = False, f"intake: {outcome.summary()}"
        else:
            settings = {"SandboxedKernelManager.course_root": str(ws.root), **_flatten(job.extra_config)}
            if not job.sandbox:
                settings["SandboxedKernelManager.namespaces"] = False
            prepared = None if outcome.status == "nothing_gradable" else outcome.submitted_directory
            result = autograde(ws.root, job.assignment, job.student, settings=settings,
                               submitted_directory=prepared, log=logger)
            incidents += result.incidents
            if outcome.status == "nothing_gradable":
                success, error = False, f"intake: {outcome.summary()}"
            else:
                success, error = result.ok, result.error
    except BaseException:  # noqa: BLE001  (one submission must never stop the batch)
        success, error = False, traceback.format_exc(limit=3)
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        logger.removeHandler(handler)
    return WorkerResult(job, workspace, success, buffer.getvalue(), error,
                        time.perf_counter() - start, incidents)


def _flatten(config: dict) -> dict:
    """``{"Class": {"trait": v}}`` or ``{"Class.trait": v}`` as ``{"Class.trait": v}``."""
    flat = {}
    for key, value in (config or {}).items():
        if isinstance(value, dict) and "." not in key:
            flat.update({f"{key}.{trait}": v for trait, v in value.items()})
        else:
            flat[key] = value
    return flat


def snapshot_gradebook(db_path: Path, dest: Path) -> Path:
    """A consistent copy of the class gradebook (SQLite's online backup), for workers to copy."""
    src = sqlite3.connect(str(db_path))
    out = sqlite3.connect(str(dest))
    try:
        src.backup(out)
    finally:
        out.close()
        src.close()
    return dest


def merge_into_gradebook(gb, private_db_url: str, assignment: str, student: str) -> None:
    """Copy one student's rows for one assignment from a worker's gradebook into ``gb``.

    Copies what nbgrader's autograde writes (the student record, the submission's timestamp and
    extension, each notebook's flag and late penalty, every grade and comment, all of their
    fields), so the class gradebook ends as if nbgrader had graded the submission there.
    """
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(private_db_url) as private, warnings.catch_warnings():
        # nbgrader's own add_submission makes SQLAlchemy warn about autoflush; it is harmless
        warnings.simplefilter("ignore")
        try:
            student_row = private.find_student(student)
        except MissingEntry:
            return  # nbgrader failed before it recorded anything: nothing to copy
        gb.update_or_create_student(student, first_name=student_row.first_name,
                                    last_name=student_row.last_name, email=student_row.email,
                                    lms_user_id=student_row.lms_user_id)
        try:
            sub = private.find_submission(assignment, student)
        except MissingEntry:
            return
        target = gb.update_or_create_submission(assignment, student)
        target.timestamp = sub.timestamp
        target.extension = sub.extension
        for nb in sub.notebooks:
            tnb = gb.find_submission_notebook(nb.name, assignment, student)
            tnb.flagged = nb.flagged
            tnb.late_submission_penalty = nb.late_submission_penalty
            grades = {g.name: g for g in tnb.grades}
            for g in nb.grades:
                t = grades[g.name]
                t.auto_score, t.manual_score = g.auto_score, g.manual_score
                t.extra_credit, t.needs_manual_grade = g.extra_credit, g.needs_manual_grade
            comments = {c.name: c for c in tnb.comments}
            for c in nb.comments:
                t = comments[c.name]
                t.auto_comment, t.manual_comment = c.auto_comment, c.manual_comment
        gb.db.commit()


def _copy_autograded(course, result: WorkerResult) -> None:
    """Replace the class's autograded copy of the submission with the worker's (or remove it on
    a failure, as nbgrader does, so that a rerun tries the submission again)."""
    from ..course import Course

    job = result.job
    dest = course.autograded_of(job.student, job.assignment)
    src = Course(result.workspace).autograded_of(job.student, job.assignment)
    if dest.exists():
        remove_tree(dest)  # never recursing, whatever the submission's folders look like
    if result.success and src.is_dir():
        # Copied beside, then renamed: a run killed mid-copy leaves no half-written notebook that
        # the next run's resume rule (needs_grading) would take for a graded one.
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = dest.with_name(f".{dest.name}.partial")
        remove_tree(partial)
        shutil.copytree(src, partial)
        os.rename(partial, dest)


def _score(gb, assignment: str, student: str) -> tuple[float | None, float | None]:
    from nbgrader.api import MissingEntry

    try:
        sub = gb.find_submission(assignment, student)
    except MissingEntry:
        return None, None
    return sub.score, sub.max_score


def _default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _pool_context():
    """How worker processes start. On Linux, ``fork``: the workers inherit the parent's imports
    (nbgrader, nbclient), so the pool costs nothing to start. The pool is created before the
    parent opens the class gradebook or starts the progress bar, so no open database connection
    or running thread is forked. Elsewhere, ``spawn`` (fork is unsafe on macOS)."""
    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")


def _run_jobs(jobs: list[GradeJob], workers: int, on_start: Callable[[], None],
              on_result: Callable[[WorkerResult], None]) -> None:
    """Run ``jobs`` on a pool of ``workers`` processes, handing each result to ``on_result`` as it
    arrives (``on_start`` runs once every worker exists). If a worker process dies (the pool
    breaks), the jobs it took down are retried one at a time, each in a fresh process, so a
    submission that kills its worker twice is reported as failed and the batch goes on."""
    import nbclient  # noqa: F401  (imported once here, inherited by forked workers)
    import nbgrader.converters  # noqa: F401

    with _one_zygote_for_the_workers(jobs):
        _run_jobs_in_pool(jobs, workers, on_start, on_result)


@contextmanager
def _one_zygote_for_the_workers(jobs: list[GradeJob]):
    """One warm zygote for the whole run, started before the workers are forked (they find it
    through ``MLSE_ZYGOTE``; each kernel still dies with the worker that asked for it): its
    imports, about 2 s of CPU, are paid once per run rather than once per worker. Without one
    (a course configured cold, or no zygote possible here), each worker does as before."""
    from ..sandbox import zygote

    address = None
    if not any(job.extra_config.get("SandboxedKernelManager", {}).get("warm") is False
               or job.extra_config.get("SandboxedKernelManager.warm") is False for job in jobs):
        try:
            address = zygote.ensure_zygote().address
        except Exception:  # noqa: BLE001 - ZygoteUnavailable: the workers start kernels themselves
            address = None
    saved = os.environ.get(zygote.ZYGOTE_ENV_VAR)
    if address:
        os.environ[zygote.ZYGOTE_ENV_VAR] = address
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(zygote.ZYGOTE_ENV_VAR, None)
        else:
            os.environ[zygote.ZYGOTE_ENV_VAR] = saved
        if address:
            zygote.stop_zygote()  # a run starts its own (and pays for it, as `mlse grade` does)


def _run_jobs_in_pool(jobs: list[GradeJob], workers: int, on_start: Callable[[], None],
                      on_result: Callable[[WorkerResult], None]) -> None:
    retry: list[GradeJob] = []
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=_pool_context(),
                             initializer=_worker_init) as pool:
        futures: dict[Future, GradeJob] = {pool.submit(grade_in_workspace, j): j for j in jobs}
        try:
            on_start()
            for fut in as_completed(futures):
                try:
                    result = fut.result()
                except BrokenProcessPool:
                    retry.append(futures[fut])
                    continue
                on_result(result)
        except KeyboardInterrupt:
            _stop_pool(pool, futures)
            raise
    for job in retry:
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_worker_init) as pool:
            future = pool.submit(grade_in_workspace, job)
            try:
                result = future.result()
            except BrokenProcessPool:
                result = WorkerResult(job, "", False, "", "the grading worker process died (out of "
                                      "memory, or killed) while grading this submission")
            except KeyboardInterrupt:
                _stop_pool(pool, {future: job})
                raise
        on_result(result)


def grade_assignment(root: str | Path, assignment: str, *, workers: int | None = None,
                     force: bool = False, extra_config: dict | None = None, sandbox: bool = True,
                     students: Iterable[str] | None = None,
                     progress: Callable[[SummaryLine], None] | None = None) -> list[SummaryLine]:
    """Autograde every submission of ``assignment`` under ``root``; return one outcome each.

    ``workers`` defaults to one per available core. Without ``force``, submissions already graded
    are skipped (nbgrader's rule, see :func:`needs_grading`). ``progress`` is called after each
    submission, in the parent process. One failing submission never stops the others.
    """
    from ..course import Course, GradebookMissing

    course = Course.of(root)
    if not course.source_of(assignment).is_dir():
        raise GradingError(f"No assignment {assignment!r} in {course.source}.")
    try:  # grading never creates an empty class gradebook by accident
        course.require_gradebook()
    except GradebookMissing as missing:
        raise GradingError(str(missing)) from None
    if course.db_path is None:
        raise GradingError(f"mlse grade needs a SQLite gradebook; this course's is {course.db_url}.")
    with course_lock(course), _deferred_interrupts() as interrupts:
        return _grade_assignment_locked(course, assignment, workers=workers, force=force,
                                        extra_config=extra_config, sandbox=sandbox,
                                        students=students, progress=progress, interrupts=interrupts)


def _grade_assignment_locked(course, assignment: str, *, workers, force, extra_config, sandbox,
                             students, progress, interrupts) -> list[SummaryLine]:
    from nbgrader.api import Gradebook, MissingEntry

    from ..course import Course

    wanted = list(students) if students is not None else course.submitters(assignment)
    outcomes: list[SummaryLine] = []
    skipped: list[SummaryLine] = []
    to_grade: list[str] = []
    with Gradebook(course.db_url) as gb:
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            raise GradingError(
                f"Assignment {assignment!r} is not in the gradebook yet: run `mlse release "
                f"{assignment}` first (it runs nbgrader generate_assignment).") from None
        graded = {s.student.id for s in gb.assignment_submissions(assignment)}
        for student in wanted:
            if force or needs_grading(course, assignment, student, graded):
                to_grade.append(student)
            else:
                score, max_score = _score(gb, assignment, student)
                skipped.append(SummaryLine(student, assignment, "skipped", score, max_score,
                                       message="already graded (use --force to regrade)"))

    def report(outcome: SummaryLine) -> None:
        outcomes.append(outcome)
        if progress:
            progress(outcome)

    def report_skipped() -> None:
        for outcome in skipped:
            report(outcome)

    if not to_grade:
        report_skipped()
        return sorted(outcomes, key=lambda o: o.student)

    tmp = Path(tempfile.mkdtemp(prefix="mlse-grade-run-"))
    gb = None
    try:
        snapshot = snapshot_gradebook(course.db_path, tmp / "gradebook-snapshot.db")
        jobs = [GradeJob(str(course.root), assignment, student, str(snapshot), dict(extra_config or {}), sandbox,
                         workspace_parent=str(tmp))
                for student in to_grade]

        def on_start() -> None:  # every worker exists: now open the gradebook, start reporting
            nonlocal gb
            gb = Gradebook(course.db_url)
            report_skipped()

        def on_result(result: WorkerResult) -> None:
            job = result.job
            with interrupts.held():  # Ctrl-C waits until this student's rows are all written
                try:
                    if result.workspace:
                        merge_into_gradebook(gb, Course(result.workspace).db_url,
                                             job.assignment, job.student)
                        _copy_autograded(course, result)
                except Exception:  # noqa: BLE001
                    gb.db.rollback()
                    result.success = False
                    result.error += "\nmerging into the class gradebook failed:\n" + traceback.format_exc()
                finally:
                    if result.workspace:
                        remove_tree(result.workspace)  # never raises, never recurses
                reason = "" if result.success else (result.error or "grading failed")
                _record_attention(course, gb, job, reason)
                _record_graded(course, job)
                if result.success and result.incidents:
                    _flag_in(gb, job)  # tampering signs: graded, and marked for a person
                score, max_score = _score(gb, job.assignment, job.student)
                report(SummaryLine(job.student, job.assignment, "graded" if result.success else "failed",
                               score, max_score, result.seconds, reason, incidents=result.incidents))

        try:
            _run_jobs(jobs, workers or _default_workers(), on_start, on_result)
        except KeyboardInterrupt:
            done = {o.student for o in outcomes}
            raise GradingInterrupted(assignment, sorted(outcomes, key=lambda o: o.student),
                                     [s for s in to_grade if s not in done]) from None
    finally:
        if gb is not None:
            gb.close()
        remove_tree(tmp)
    return sorted(outcomes, key=lambda o: o.student)


# --------------------------------------------------------------------------------------------
# Never stale, never lost (issue 13): the needs-attention state, the course lock, Ctrl-C


class GradingInterrupted(KeyboardInterrupt):
    """Ctrl-C: queued and running submissions were cancelled; ``done`` were graded and kept."""

    def __init__(self, assignment: str, done: list, not_done: list[str]):
        super().__init__(f"interrupted: {len(done)} graded and kept, {len(not_done)} cancelled")
        self.assignment, self.done, self.not_done = assignment, done, not_done


def _flag_in(gb, job: GradeJob) -> None:
    """Mark a graded submission's notebooks ``flagged`` in the class gradebook."""
    from nbgrader.api import MissingEntry

    try:
        for notebook in gb.find_submission(job.assignment, job.student).notebooks:
            notebook.flagged = True
        gb.db.commit()
    except MissingEntry:
        pass


def _record_attention(root, gb, job: GradeJob, reason: str) -> None:
    """A failed submission is put in the needs-attention state (old scores cleared, notebooks
    flagged, old feedback moved aside: :mod:`mlse.attention`); a graded one leaves it."""
    from .. import attention

    try:
        if reason:
            attention.mark(root, gb, job.assignment, job.student, reason, "grade")
        else:
            attention.clear(root, gb, job.assignment, job.student)
    except Exception:  # noqa: BLE001  (the summary still reports the failure)
        gb.db.rollback()


def failed_students(root, assignment: str) -> list[str]:
    """``--only-failed``: students whose last grading of ``assignment`` failed (in the
    needs-attention state from grading, or a submission with no autograded copy)."""
    from .. import attention
    from ..course import Course

    course = Course.of(root)
    out = {s for (a, s), r in attention.reasons(course, assignment).items() if r.get("stage") != "collect"}
    for student in course.submitters(assignment):
        if not course.autograded_of(student, assignment).is_dir():
            out.add(student)
    return sorted(s for s in out if course.submission(s, assignment).is_dir())


class CourseBusy(GradingError):
    """Another ``mlse grade`` holds the course's lock."""


class course_lock:  # noqa: N801  (used as a context manager, like a function)
    """One grading run per course: an exclusive ``flock`` on ``.mlse/grade.lock``, released when
    the run ends (or its process dies: the kernel drops the lock)."""

    def __init__(self, root):
        from ..course import Course

        self.path = Course.of(root).state_path("grade.lock")

    def __enter__(self):
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.path, "a+")
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.fh.seek(0)
            holder = self.fh.read().strip() or "another process"
            self.fh.close()
            raise CourseBusy(f"Another grading run is going on in this course ({holder}); wait for "
                             f"it to finish (or stop it), then run this again. Nothing was changed.") from None
        self.fh.seek(0)
        self.fh.truncate()
        self.fh.write(f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}")
        self.fh.flush()
        return self

    def __exit__(self, *exc):
        import fcntl

        self.fh.seek(0)
        self.fh.truncate()
        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()
        return False


class _deferred_interrupts:  # noqa: N801
    """Ctrl-C while a finished submission is being written to the class gradebook waits until
    that write is complete, then stops the run (never a half-merged student). Only in the main
    thread, where Python delivers signals."""

    def __init__(self):
        self.holding = 0
        self.pending = False

    def __enter__(self):
        import signal
        import threading

        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc):
        import signal

        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        return False

    def _handler(self, signum, frame):
        if self.holding:
            self.pending = True
        else:
            raise KeyboardInterrupt

    def held(self):
        import contextlib

        @contextlib.contextmanager
        def hold():
            self.holding += 1
            try:
                yield
            finally:
                self.holding -= 1
            if not self.holding and self.pending:
                self.pending = False
                raise KeyboardInterrupt
        return hold()


def _worker_init() -> None:
    """Each worker in its own process group: Ctrl-C at the terminal reaches only the parent, which
    stops the workers itself (:func:`_stop_pool`), with everything they started. And each worker
    dies with the parent (``PR_SET_PDEATHSIG``): a parent killed with -9 cannot stop them itself,
    and a worker left behind would keep a zygote and kernels alive."""
    import signal

    from ..sandbox.launcher import die_with_parent

    os.setpgrp()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from ..sandbox import zygote

    zygote._zygote = None  # the parent's zygote object is not this process's to stop or restart
    if sys.platform.startswith("linux"):
        die_with_parent()
        if os.getppid() == 1:  # the parent died before the line above took effect
            os._exit(1)


def _stop_pool(pool: ProcessPoolExecutor, futures: dict) -> None:
    """Cancel what has not started and kill the workers' process groups (the worker, its nbgrader
    child and, through PR_SET_PDEATHSIG, the kernels), so Ctrl-C takes effect at once."""
    import signal

    for fut in futures:
        fut.cancel()
    for proc in list(getattr(pool, "_processes", {}).values()):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            try:
                proc.kill()
            except Exception:  # noqa: BLE001
                pass
    pool.shutdown(wait=True, cancel_futures=True)


# --------------------------------------------------------------------------------------------
# The console: a progress bar while grading, a summary table at the end


def grade_with_progress(root: str | Path, assignment: str, *, workers: int | None = None,
                        force: bool = False, extra_config: dict | None = None, sandbox: bool = True,
                        console=None, students: list[str] | None = None,
                        verbose: bool = False) -> list[SummaryLine]:
    """:func:`grade_assignment` with a rich progress bar, then the summary of
    :mod:`mlse.outputs.summary` (counts and problems; per-student lines with ``verbose``) and its
    JSON log. ``students``: only these (``--student``, ``--only-failed``)."""
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)

    console = console or Console()
    total = len(students) if students is not None else len(submissions_of(root, assignment))
    workers = workers or _default_workers()
    console.print(f"Grading {total} submission(s) of [bold]{assignment}[/] with {workers} worker(s)")
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                   console=console, transient=False)
    task = bar.add_task(assignment, total=total)

    def advance(o: SummaryLine) -> None:
        # started at the first result, after the worker processes were forked: no refresh
        # thread exists when they fork
        if not bar.live.is_started:
            bar.start()
        bar.update(task, advance=1, description=f"{assignment} [dim]{o.student}: {o.status}[/]")

    try:
        outcomes = grade_assignment(root, assignment, workers=workers, force=force,
                                    extra_config=extra_config, sandbox=sandbox, students=students,
                                    progress=advance)
    finally:
        bar.stop()
    from ..outputs.summary import print_grade_summary

    print_grade_summary(root, assignment, outcomes, console=console, verbose=verbose)
    print_flagged(outcomes, console)
    return outcomes


def print_flagged(outcomes: list[SummaryLine], console) -> None:
    """The submissions a person should look at (marked ``flagged`` in the gradebook), and why:
    a call into the student's code that failed in a telling way, a kernel that died, intake's
    findings. Honest and blank submissions have none."""
    flagged = [o for o in outcomes if o.incidents]
    if not flagged:
        return
    console.print(f"[bold yellow]{len(flagged)} submission(s) flagged for a person to look at[/] "
                  "(marked flagged in the gradebook):")
    for o in flagged:
        console.print(f"  [bold]{o.student}[/]: " + "; ".join(dict.fromkeys(o.incidents)))


def summary_table(outcomes: list[SummaryLine], assignment: str):
    from rich.table import Table

    counts = {s: sum(o.status == s for o in outcomes) for s in ("graded", "skipped", "failed")}
    table = Table(title=f"{assignment}: {counts['graded']} graded, {counts['skipped']} skipped, "
                        f"{counts['failed']} failed")
    for col, kw in (("student", {}), ("outcome", {}), ("score", {"justify": "right"}),
                    ("seconds", {"justify": "right"}), ("note", {"overflow": "fold"})):
        table.add_column(col, **kw)
    style = {"graded": "green", "skipped": "dim", "failed": "bold red"}
    for o in outcomes:
        score = "" if o.score is None else f"{o.score:g} / {o.max_score:g}"
        table.add_row(o.student, f"[{style[o.status]}]{o.status}[/]", score,
                      f"{o.seconds:.1f}" if o.seconds else "", o.message)
    return table
