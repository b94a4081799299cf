"""Run nbgrader's command line reliably from Python.

nbgrader starts ``alembic`` as a subprocess to create a gradebook, and fails with
``FileNotFoundError: 'alembic'`` when the environment's ``bin/`` is not on PATH (for example
when a virtualenv's Python is run without activating it). nbgrader's command line, where this
project runs it (``mlse release``, the tests' sequential baseline), goes through
:func:`run_nbgrader`, which puts that folder on PATH first. Grading, feedback and ``mlse check``
run nbgrader's classes in-process instead; ``mlse`` itself puts the folder on PATH when it starts
(:func:`mlse.apps.cli.main`), and :func:`environment_with_bin` gives a child process the same.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["NbgraderError", "environment_with_bin", "run_nbgrader"]


class NbgraderError(RuntimeError):
    """An nbgrader command failed; the message carries its command line and its output."""


def environment_with_bin(env: dict[str, str] | None = None) -> dict[str, str]:
    """A copy of ``env`` (default: this process's) with this Python's ``bin/`` first on PATH."""
    env = dict(os.environ if env is None else env)
    bindir = str(Path(sys.executable).parent)
    parts = env.get("PATH", "").split(os.pathsep)
    if bindir not in parts:
        env["PATH"] = os.pathsep.join([bindir, *[p for p in parts if p]])
    return env


#: ``python -m nbgrader``, after ``import mlse`` (which spares nbformat's import a slow format
#: checker no notebook uses: see mlse/__init__.py); everything nbgrader does is unchanged.
_NBGRADER = "import mlse, runpy; runpy.run_module('nbgrader', run_name='__main__', alter_sys=True)"


def run_nbgrader(args: list[str], cwd: str | os.PathLike, timeout: float | None = 1800,
                 check: bool = True, plain: bool = False) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS`` in ``cwd`` (a course directory with its nbgrader_config.py).

    Raises :class:`NbgraderError` with nbgrader's own output when it exits non-zero and
    ``check`` is true. nbgrader logs to stderr; both streams are returned as text. ``plain``
    runs ``python -m nbgrader`` exactly as an instructor would (the benchmark's baseline);
    otherwise its start-up is 2 to 4 s shorter (see :data:`_NBGRADER`).
    """
    cmd = [sys.executable, "-m", "nbgrader", *args] if plain else [sys.executable, "-c", _NBGRADER, *args]
    proc = subprocess.run(cmd, cwd=cwd, env=environment_with_bin(), capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise NbgraderError(
            f"`nbgrader {' '.join(args)}` failed in {cwd} (exit {proc.returncode}):\n"
            f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc
