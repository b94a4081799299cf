"""Check a learner's set-up and say, in plain words, what is missing and how to fix it.

Module 0 runs :func:`check_setup` first, so a problem shows up in the first minute rather than
half-way through a lesson.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field
from importlib import metadata

__all__ = ["REQUIREMENTS", "SetupReport", "check_setup"]

#: (import name, distribution name, oldest version the course is tested with)
REQUIREMENTS = [
    ("numpy", "numpy", "1.26"),
    ("pandas", "pandas", "2.1"),
    ("matplotlib", "matplotlib", "3.8"),
    ("sklearn", "scikit-learn", "1.4"),
    ("pytest", "pytest", "8.0"),
    ("ipytest", "ipytest", "0.14"),
    ("nbgrader", "nbgrader", "0.9.3"),
    ("jupyterlab", "jupyterlab", "4.2"),
]
MIN_PYTHON = (3, 10)
FIX = "From the course folder run `make course` again: it installs everything the course needs."


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


@dataclass
class SetupReport:
    """What :func:`check_setup` found: the problems, and how many requirements were checked."""

    checked: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        if self.ok:
            return (f"✔ Your set-up is ready: Python and all {self.checked} packages the course "
                    "needs are installed and recent enough.")
        lines = [f"✘ {len(self.problems)} problem(s) with your set-up:"]
        lines += [f"  - {p}" for p in self.problems]
        lines.append(f"  How to fix: {FIX}")
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle):  # IPython shows the plain-words report
        printer.text(str(self))


def check_setup(requirements=REQUIREMENTS, python_version=None) -> SetupReport:
    """Check the Python version and each required package; never raises, always explains."""
    python_version = python_version or sys.version_info[:2]
    report = SetupReport(checked=len(requirements))
    if tuple(python_version) < MIN_PYTHON:
        report.problems.append(
            f"Python {python_version[0]}.{python_version[1]} is too old: the course needs "
            f"{MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer. Install a newer Python from python.org.")
    for module, dist, oldest in requirements:
        # find_spec locates a package without importing it: importing nbgrader alone takes seconds.
        try:
            installed = metadata.version(dist)
            found = importlib.util.find_spec(module) is not None
        except metadata.PackageNotFoundError:
            report.problems.append(f"{dist} is not installed.")
            continue
        except (ImportError, ValueError) as exc:  # a broken install: say so rather than crash
            report.problems.append(f"{dist} is installed but cannot be found by Python ({exc}).")
            continue
        if not found:
            report.problems.append(f"{dist} is recorded as installed but Python cannot find {module!r}.")
            continue
        if _version_tuple(installed) < _version_tuple(oldest):
            report.problems.append(f"{dist} {installed} is too old: the course needs {oldest} or newer.")
    return report
