"""Run pytest from a notebook and print a short summary that is the same on every run.

pytest ends with a line such as ``3 passed in 0.03s``: the time changes on every run, which makes
a lesson's stored output differ from a fresh run (nbval compares them). This module is a small
pytest plugin that prints, instead, one line per test (passed or failed, with the failure's
reason), and two ways to run tests from a notebook:

* :func:`setup_ipytest` configures ipytest so that ``%%ipytest`` cells use this summary and **raise
  when a test fails** (``raise_on_error=True``), so *Run All* stops at a broken test, as CI would;
* :func:`run_pytest` runs pytest in a separate process on a folder (as CI does on a repository) and
  prints the same summary; it never raises, so a lesson can show a failing ("red") test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["QUIET_OPTIONS", "setup_ipytest", "run_pytest", "summary_lines"]

#: pytest options for quiet, stable output: no progress dots or timings, no tracebacks (the
#: summary below gives each failure's reason in one line), no colours.
QUIET_OPTIONS = ["-qq", "--tb=no", "--no-header", "--no-summary", "--color=no",
                 "-o", "console_output_style=classic", "-p", "no:cacheprovider",
                 "-p", "helpers.pytest_summary"]


def _reason(report) -> str:
    """The one-line reason a test failed: the exception and its message, without paths."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    return " / ".join(lines[:3])[:300] if lines else "failed"


def summary_lines(reports) -> list[str]:
    """Summary lines for pytest's test reports: one per test, then a total."""
    outcome_of = {}
    for report in reports:
        name = report.nodeid.split("::", 1)[-1]
        if report.failed:
            where = "" if report.when == "call" else f" (during {report.when})"
            outcome_of[name] = f"✘ {name} FAILED{where}: {_reason(report)}"
        elif report.skipped and name not in outcome_of:
            outcome_of[name] = f"- {name} skipped"
        elif report.when == "call" and report.passed and name not in outcome_of:
            outcome_of[name] = f"✔ {name} passed"
    lines = list(outcome_of.values())
    failed = sum(line.startswith("✘") for line in lines)
    passed = sum(line.startswith("✔") for line in lines)
    if not lines:
        lines.append("No tests found: test functions are named test_... (and take no arguments "
                     "other than fixtures and parameters).")
    elif failed:
        lines.append(f"{failed} failed, {passed} passed.")
    else:
        lines.append(f"All {passed} passed.")
    return lines


# ---- the plugin: pytest calls these hooks when started with `-p helpers.pytest_summary` ----

def pytest_runtest_logreport(report):
    # Reports are kept on a module-level list for the running session (reset when it starts).
    _CURRENT.append(report)


def pytest_sessionstart(session):
    _CURRENT.clear()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    for line in summary_lines(_CURRENT):
        terminalreporter.write_line(line)


_CURRENT: list = []


def setup_ipytest() -> None:
    """Configure ipytest for a lesson: ``%%ipytest`` cells print the stable summary and raise
    ``ipytest.Error`` when a test fails, so a broken test never passes silently."""
    import ipytest

    ipytest.autoconfig(raise_on_error=True, addopts=QUIET_OPTIONS)


def run_pytest(folder: str | os.PathLike, *args: str, timeout: float = 60) -> int:
    """Run pytest on ``folder`` in a new process, print the stable summary, return the exit code.

    Never raises on failing tests: the exit code (0 = all passed, 1 = some failed) says how it
    went, as it does for a CI server.
    """
    folder = Path(folder)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, "-m", "pytest", *QUIET_OPTIONS, *args],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=timeout)
    text = proc.stdout.strip()
    if text:
        print(text)
    if proc.returncode not in (0, 1):
        err = proc.stderr.strip().splitlines()
        print(f"pytest could not run the tests (exit code {proc.returncode}). "
              f"{err[-1] if err else ''}".rstrip())
    return proc.returncode
