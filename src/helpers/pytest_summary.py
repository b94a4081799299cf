"""Run pytest from a notebook and print a short summary that is the same on every run.

pytest ends with a line such as ``3 passed in 0.03s``: the time changes on every run, which makes
a lesson's stored output differ from a fresh run (nbval compares them). This module is a small
pytest plugin that prints, instead, each failed test with its reason, the names of the tests
that passed, and a total. Two ways to run tests from a notebook:

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
#: summary below gives each failure's reason in one line), no colours. ``-o addopts=`` drops the
#: options of the course's own pytest configuration (pyproject.toml), which are for running the
#: course's test suite (with nbval), not for the tests a lesson writes.
QUIET_OPTIONS = ["-o", "addopts=", "-qq", "--tb=no", "--no-header", "--no-summary", "--color=no",
                 "-o", "console_output_style=classic", "-p", "no:cacheprovider",
                 "-p", "helpers.pytest_summary"]


#: Set, pytest loads no third-party plugins: a run starts in a fraction of a second instead of
#: several, and nothing installed alongside (nbval, xdist, ...) changes what a lesson shows.
NO_AUTOLOAD = "PYTEST_DISABLE_PLUGIN_AUTOLOAD"


def _reason(report) -> str:
    """The one-line reason a test failed: the exception and its message, without paths."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    return " / ".join(lines[:3])[:300] if lines else "failed"


def _grouped(names: list[str]) -> list[str]:
    """Test names with parametrized cases grouped: ``test_x (4 cases)``."""
    counts: dict[str, int] = {}
    for name in names:
        base = name.split("[", 1)[0]
        counts[base] = counts.get(base, 0) + 1
    return [base if n == 1 and base in names else f"{base} ({n} case{'s' if n != 1 else ''})" for base, n in counts.items()]


#: Above this many test functions, passed tests are counted rather than named.
NAME_AT_MOST = 5


def summary_lines(reports) -> list[str]:
    """Summary lines for pytest's test reports: one line per failed test (with its reason), then
    the tests that passed, then a total. Nothing in it depends on timings or paths."""
    failures, passed, skipped = {}, [], []
    for report in reports:
        name = report.nodeid.split("::", 1)[-1]
        if report.failed and name not in failures:
            where = "" if report.when == "call" else f" (during {report.when})"
            failures[name] = f"✘ {name} FAILED{where}: {_reason(report)}"
        elif report.skipped:
            skipped.append(name)
        elif report.when == "call" and report.passed:
            passed.append(name)
    passed = [name for name in passed if name not in failures]
    lines = list(failures.values())
    groups = _grouped(passed)
    if groups and len(groups) <= NAME_AT_MOST:
        lines.append(f"✔ passed: {', '.join(groups)}")
    if skipped:
        lines.append(f"- skipped: {', '.join(skipped)}")
    if not (failures or passed or skipped):
        lines.append("No tests found: test functions are named test_...")
    elif failures:
        lines.append(f"{len(failures)} failed, {len(passed)} passed.")
    elif len(groups) <= NAME_AT_MOST:
        lines.append(f"All {len(passed)} passed.")
    else:
        lines.append(f"✔ All {len(passed)} tests passed ({len(groups)} test functions).")
    return lines


# ---- the plugin: pytest calls these hooks when started with `-p helpers.pytest_summary` ----

def pytest_runtest_logreport(report):
    # Reports are kept on a module-level list for the running session (reset when it starts).
    _CURRENT.append(report)


def pytest_report_teststatus(report, config):
    """No progress letters (``.``, ``F``) for test calls: the summary says it all, once."""
    if report.when == "call":
        return report.outcome, "", report.outcome.upper()
    return None


def pytest_sessionstart(session):
    _CURRENT.clear()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    for line in summary_lines(_CURRENT):
        terminalreporter.write_line(line)


_CURRENT: list = []


def setup_ipytest(keep_tests: bool = False) -> None:
    """Configure ipytest for a lesson: ``%%ipytest`` cells print the stable summary and raise
    ``ipytest.Error`` when a test fails, so a broken test never passes silently.

    It also sets ``PYTEST_DISABLE_PLUGIN_AUTOLOAD`` in this kernel (see :data:`NO_AUTOLOAD`).
    With ``keep_tests=True`` every ``%%ipytest`` cell runs all the tests defined so far (a growing
    test suite), instead of only the tests of that cell (ipytest's default).
    """
    import ipytest

    # Third-party pytest plugins (nbval, xdist, ...) take seconds to load and lessons need none.
    os.environ[NO_AUTOLOAD] = "1"
    ipytest.autoconfig(raise_on_error=True, addopts=QUIET_OPTIONS,
                       clean=False if keep_tests else "[Tt]est*")


def run_pytest(folder: str | os.PathLike, *args: str, timeout: float = 60) -> int:
    """Run pytest on ``folder`` in a new process, print the stable summary, return the exit code.

    Never raises on failing tests: the exit code (0 = all passed, 1 = some failed) says how it
    went, as it does for a CI server.
    """
    folder = Path(folder)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", **{NO_AUTOLOAD: "1"})
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
