"""Autograde ONE submission with real nbgrader: the single grading path of the course.

:func:`autograde` runs nbgrader's own :class:`~nbgrader.converters.Autograde` in this process,
with nbgrader's own preprocessor list except its Execute step, which is
:class:`~mlse.judge.execute.JudgedExecute` (the student's code in a sandboxed kernel, the test
cells in a judge kernel). Student code never runs in this process: only nbgrader, nbclient and
the judge's bookkeeping do. Its result is an :class:`~mlse.grade.result.Outcome` built from what
happened (exceptions caught, warnings logged as records, the judge's findings handed back through
nbgrader's resources), never parsed from log text.

``mlse grade`` calls :func:`autograde` inside its worker processes (one long-lived process per
worker, so nbgrader is imported once per worker, not once per submission). :func:`autograde_one`
runs the same function in a child process, for a caller that wants one submission graded with
nothing of it in its own process; the child writes the Outcome as JSON.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
import traceback
from pathlib import Path

from .result import FAILED, GRADED, Outcome

__all__ = ["autograde", "autograde_one", "autograde_preprocessors"]


def autograde_preprocessors() -> list:
    """nbgrader's own autograde preprocessors, in its order, with its Execute step replaced by the
    judge's (read from nbgrader, so a new nbgrader step is never silently dropped)."""
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute

    from ..judge.execute import JudgedExecute

    steps = list(Autograde.autograde_preprocessors.default())
    if Execute not in steps:
        raise RuntimeError("nbgrader's autograde has no Execute step any more: mlse needs updating")
    return [JudgedExecute if step is Execute else step for step in steps]


class _Records(logging.Handler):
    """Keeps warnings and errors as records (their messages), and the last lines for a person."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.warnings: list[str] = []
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        self.lines.append(f"[{record.levelname}] {message}")
        del self.lines[:-60]
        if record.levelno == logging.WARNING and not message.startswith("Attribute 'checksum'"):
            self.warnings.append(message[:500])


def autograde(course_root: str | Path, assignment: str, student: str, *, settings: dict | None = None,
              submitted_directory: str | None = None, log: logging.Logger | None = None) -> Outcome:
    """Autograde ``student``'s submission of ``assignment`` in the course at ``course_root``.

    ``settings`` ({"Class.trait": value}) are applied over the course's nbgrader_config.py.
    ``submitted_directory`` (intake's repaired copy) replaces nbgrader's ``submitted`` folder.
    Never raises for a bad submission: ``status`` "failed" and ``message`` say what happened;
    ``incidents`` are the judge's findings (:data:`mlse.judge.execute.FINDINGS`).
    """
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    from ..judge import execute as judged
    from ..sandbox import isolation_available

    root = Path(course_root).resolve()
    start = time.monotonic()
    mode, reason = isolation_available()
    records = _Records()
    logger = log or logging.getLogger(f"mlse.grade.{assignment}.{student}")
    logger.addHandler(records)
    errors: list[str] = []
    findings: list[str] = judged.Findings()  # survives nbconvert's copy of the resources

    class _Autograde(Autograde):
        """nbgrader's Autograde, keeping the exception that stopped a notebook (nbgrader logs it
        and goes on to the next student; here it is the result), and handing every notebook's
        preprocessors the list the judge's findings go into."""

        def init_single_notebook_resources(self, notebook_filename):
            resources = super().init_single_notebook_resources(notebook_filename)
            resources[judged.FINDINGS] = findings
            return resources

        def convert_single_notebook(self, notebook_filename):
            try:
                super().convert_single_notebook(notebook_filename)
            except BaseException as exc:
                errors.append(f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ''}".rstrip(": "))
                raise

    try:
        config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
        extra = Config()
        extra.Autograde.autograde_preprocessors = autograde_preprocessors()
        for key, value in (settings or {}).items():
            cls, trait = key.split(".")
            extra[cls][trait] = value
        config.merge(extra)
        config.CourseDirectory.root = str(root)
        if submitted_directory:
            config.CourseDirectory.submitted_directory = str(submitted_directory)
        coursedir = CourseDirectory(config=config, log=logger)
        coursedir.assignment_id, coursedir.student_id = assignment, student
        app = _Autograde(coursedir=coursedir, config=config, log=logger)
        app.force = True
        app.create_student = True
        app.start()
        ok = not errors
    except BaseException as exc:  # noqa: BLE001 - one submission must never stop the caller
        ok = False
        if not errors:
            errors.append(f"{type(exc).__name__}: {exc}"[:300] or traceback.format_exc(limit=1))
    finally:
        logger.removeHandler(records)
    warnings = ([] if mode == "root" else [f"reduced isolation ({mode}): {reason}"]) + records.warnings
    return Outcome(student, assignment, GRADED if ok else FAILED, isolation=mode,
                   seconds=round(time.monotonic() - start, 2), warnings=warnings,
                   message="" if ok else errors[0], incidents=findings,
                   log="" if ok else "\n".join(records.lines))


def autograde_one(course_root: str | Path, assignment: str, student: str, *,
                  cell_timeout: int | None = None, limits: dict | None = None,
                  require_isolation: bool = False, submitted_directory: str | None = None,
                  wall_timeout: float = 3600, notebook_timeout: int | None = None, warm: bool = True,
                  sandbox_root: str | None = None) -> Outcome:
    """:func:`autograde` in a child process (``python -m mlse.grade.one``), which writes its
    :class:`~mlse.grade.result.Outcome` as JSON; the child's exit status and log are never interpreted.

    ``cell_timeout`` overrides the course's ``Execute.timeout``, ``notebook_timeout`` the total
    budget per notebook; ``warm`` forks kernels from the caller's zygote (started on first use and
    kept, so a caller that grades many submissions pays the imports once; cold when it cannot
    start); ``sandbox_root``: where sandbox folders go (default: the system temp folder)."""
    import tempfile

    from ..course import Course
    from ..nbgrader_cli import environment_with_bin
    from ..sandbox import DEFAULT_LIMITS, isolation_available
    from ..sandbox.zygote import ZYGOTE_ENV_VAR, ensure_zygote

    root = Path(course_root).resolve()
    settings: dict = {
        "SandboxedKernelManager.course_root": str(root),
        "SandboxedKernelManager.judge_order_key": Course(root).judge_order_key(),
        "SandboxedKernelManager.limits": {**DEFAULT_LIMITS, **(limits or {})},
        "SandboxedKernelManager.require_isolation": require_isolation,
    }
    if cell_timeout is not None:
        settings["Execute.timeout"] = int(cell_timeout)
    if notebook_timeout is not None:
        settings["SandboxedExecute.notebook_timeout"] = int(notebook_timeout)
    if sandbox_root:
        settings["SandboxedKernelManager.sandbox_root"] = str(sandbox_root)
    settings["SandboxedKernelManager.warm"] = bool(warm)
    env = environment_with_bin()
    env.pop(ZYGOTE_ENV_VAR, None)
    if warm:  # the caller's zygote (started once, kept for its next submissions) serves the child
        try:
            env[ZYGOTE_ENV_VAR] = ensure_zygote().address
        except Exception:  # noqa: BLE001  (the child starts kernels on its own)
            pass
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mlse-one-") as tmp:
        out = Path(tmp) / "result.json"
        job = {"root": str(root), "assignment": assignment, "student": student, "settings": settings,
               "submitted_directory": submitted_directory, "result": str(out)}
        try:
            proc = subprocess.run([sys.executable, "-m", "mlse.grade.one", json.dumps(job)], cwd=root,
                                  env=env, capture_output=True, text=True,
                                  timeout=wall_timeout)
            tail = (proc.stdout + proc.stderr)[-3000:]
        except subprocess.TimeoutExpired:
            tail = f"grading took longer than {wall_timeout:g} s and was stopped"
        if out.is_file():
            return Outcome.from_json(out.read_text())
    return Outcome(student, assignment, FAILED, isolation=isolation_available()[0],
                   seconds=round(time.monotonic() - start, 2),
                   message="the grading process ended without a result", log=tail)


def _main(argv: list[str]) -> None:
    job = json.loads(argv[0])
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s] %(message)s")
    result = autograde(job["root"], job["assignment"], job["student"], settings=job["settings"],
                       submitted_directory=job.get("submitted_directory"))
    Path(job["result"]).write_text(result.to_json())


if __name__ == "__main__":  # python -m mlse.grade.one JOB_JSON
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m mlse.grade.one JOB_JSON (see autograde_one)")
    _main(sys.argv[1:])
