"""Autograde ONE submission with real nbgrader, in a child process, with the sandboxed Execute step."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..sandbox import DEFAULT_LIMITS, isolation_available

__all__ = ["AUTOGRADE_PREPROCESSORS", "GradeResult", "autograde_one"]


@dataclass
class GradeResult:
    """What happened when one student's submission was autograded."""

    student: str
    assignment: str
    ok: bool                       # nbgrader finished and wrote grades for this student
    isolation: str                 # "root", "userns" or "none"
    seconds: float
    warnings: list[str] = field(default_factory=list)
    error: str = ""                # why it did not finish, when ok is False
    log_tail: str = ""             # the end of nbgrader's log, for a person to read

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


AUTOGRADE_PREPROCESSORS = [  # nbgrader's own list, with Execute replaced
    "mlse.judge.execute.JudgedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]


def _run_autograde(settings: dict, argv: list[str]) -> None:
    """``nbgrader autograde ARGV`` in this process, with the sandbox configured on top of the
    course's nbgrader_config.py (run by :func:`autograde_one` in a child process)."""
    from nbgrader.apps.autogradeapp import AutogradeApp
    from traitlets.config import Config

    app = AutogradeApp.instance()
    app.initialize(argv)
    extra = Config()
    extra.Autograde.autograde_preprocessors = AUTOGRADE_PREPROCESSORS
    for key, value in settings.items():  # "Class.trait" -> value
        cls, trait = key.split(".")
        extra[cls][trait] = value
    app.update_config(extra)
    app.start()


def autograde_one(course_root: str | Path, assignment: str, student: str, *,
                  cell_timeout: int | None = None, limits: dict | None = None,
                  require_isolation: bool = False, force: bool = True,
                  submitted_directory: str | None = None, wall_timeout: float = 3600) -> GradeResult:
    """Autograde ``student``'s submission of ``assignment`` with real nbgrader, sandboxed.

    Runs ``nbgrader autograde ASSIGNMENT --student STUDENT`` in its own process (so nothing a
    submission does can take the caller down) with :class:`SandboxedExecute` in place of Execute.
    nbgrader itself (trusted) restores the tests from the gradebook, and saves the grades into it;
    only the kernel is sandboxed. ``cell_timeout`` overrides the course's ``Execute.timeout``.

    The submitted files are only read. Returns a :class:`GradeResult`; it never raises for a bad
    submission (``ok`` False and ``error`` say what happened).
    """
    from ..nbgrader_cli import environment_with_bin

    root = Path(course_root).resolve()
    start = time.monotonic()
    mode, reason = isolation_available()
    warnings = [] if mode == "root" else [f"reduced isolation ({mode}): {reason}"]
    settings = {
        "SandboxedKernelManager.course_root": str(root),
        "SandboxedKernelManager.limits": {**DEFAULT_LIMITS, **(limits or {})},
        "SandboxedKernelManager.require_isolation": require_isolation,
    }
    if cell_timeout is not None:
        settings["Execute.timeout"] = int(cell_timeout)
        settings["SandboxedExecute.timeout"] = int(cell_timeout)
    argv = [assignment, "--student", student, *(["--force"] if force else [])]
    if submitted_directory:
        argv.append(f"--CourseDirectory.submitted_directory={submitted_directory}")
    cmd = [sys.executable, "-m", "mlse.grade.one", "autograde", json.dumps(settings), "--", *argv]
    try:
        proc = subprocess.run(cmd, cwd=root, env=environment_with_bin(), capture_output=True,
                              text=True, timeout=wall_timeout)
        log, rc = proc.stdout + proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:
        log, rc = f"nbgrader autograde took longer than {wall_timeout} s: {exc}", -1
    warnings += [line.strip() for line in log.splitlines()
                 if "[WARNING]" in line and ("sandbox" in line or "restarting" in line or "Cell" in line)]
    failed = rc != 0 or "[ERROR]" in log and "There was an error processing" in log
    error = ""
    if failed:
        lines = log.splitlines()
        errors = [" ".join(l.strip() for l in lines[i:i + 3]) for i, l in enumerate(lines) if "[ERROR]" in l]
        error = (errors[0] if errors else textwrap.shorten(log[-1000:], 500)).replace("[AutogradeApp | ERROR] ", "")
    return GradeResult(student=student, assignment=assignment, ok=not failed, isolation=mode,
                       seconds=round(time.monotonic() - start, 2), warnings=warnings, error=error,
                       log_tail="" if not failed else log[-3000:])


if __name__ == "__main__":  # python -m mlse.grade.one autograde SETTINGS_JSON -- NBGRADER_ARGS
    if len(sys.argv) < 4 or sys.argv[1] != "autograde" or sys.argv[3] != "--":
        raise SystemExit("usage: python -m mlse.grade.one autograde SETTINGS_JSON -- ASSIGNMENT --student ID ...")
    _run_autograde(json.loads(sys.argv[2]), sys.argv[4:])
