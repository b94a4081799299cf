"""Check a learner's set-up and say, in plain words, what is missing and how to fix it.

Module 0 runs :func:`check_setup` first, so a problem shows up in the first minute rather than
half-way through a lesson.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field
from importlib import metadata

__all__ = ["SetupReport", "check_setup", "course_requirements"]

#: The course's own distribution: its declared dependencies (pyproject.toml) are what is checked.
COURSE_DISTRIBUTION = "mlse-course"
#: Packages whose import name is not their distribution name.
IMPORT_NAMES = {"scikit-learn": "sklearn", "beautifulsoup4": "bs4"}


def course_requirements(dist: str = COURSE_DISTRIBUTION) -> list[tuple[str, str, str]]:
    """(import name, distribution name, oldest version allowed) for each dependency that
    pyproject.toml declares (read from the installed course's metadata, so the pins live in one
    place); the test-only extras are left out. Empty when the course itself is not installed."""
    from packaging.requirements import Requirement

    try:
        lines = metadata.requires(dist) or []
    except metadata.PackageNotFoundError:
        return []
    out = []
    for line in lines:
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue  # an optional extra, such as the test tools
        oldest = next((s.version for s in req.specifier if s.operator in (">=", "==", "~=")), "0")
        out.append((IMPORT_NAMES.get(req.name, req.name.replace("-", "_")), req.name, oldest))
    return out


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
            return ("✔ Your set-up is ready: Python and every package the course needs are "
                    "installed and recent enough.")
        lines = [f"✘ {len(self.problems)} problem(s) with your set-up:"]
        lines += [f"  - {p}" for p in self.problems]
        lines.append(f"  How to fix: {FIX}")
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle):  # IPython shows the plain-words report
        printer.text(str(self))


def check_setup(requirements=None, python_version=None) -> SetupReport:
    """Check the Python version and each required package (default: the course's own declared
    dependencies, :func:`course_requirements`); never raises, always explains."""
    python_version = python_version or sys.version_info[:2]
    if requirements is None:
        requirements = course_requirements()
        if not requirements:
            report = SetupReport(checked=0)
            report.problems.append(f"the course's own package ({COURSE_DISTRIBUTION}) is not installed.")
            return report
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
