"""Removing a sandbox's folder: never recursing in Python, never failing a grade.

Student code controls what is in its working folder: a directory chain thousands deep makes
``shutil.rmtree`` raise ``RecursionError`` on Python 3.11 (``ignore_errors`` does not catch it),
a folder made unreadable or a file made immutable makes it fail. So a sandbox is removed in
three steps, each of which can fail without stopping the next or raising:

1. every mount at or under the folder is detached (``umount -l``): a per-submission tmpfs takes
   everything the student wrote with it, whatever its shape, without walking it;
2. what is left is deleted by ``rm -rf --one-file-system`` in a child process (GNU rm walks
   iteratively, never recursively, and a child process cannot take the grader down);
3. if ``rm`` is missing or fails, a bottom-up walk with an explicit stack deletes what it can,
   catching errors per entry.

:func:`remove_tree` returns the problems it met (an empty list when the folder is gone); the
callers log them. Nothing here raises for the folder's content.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import subprocess
from pathlib import Path

__all__ = ["remove_tree", "mounts_under", "detach_mounts"]

MNT_DETACH = 2
_libc = None


def _umount(path: str) -> int:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if _libc.umount2(os.fsencode(path), MNT_DETACH) != 0:
        return ctypes.get_errno()
    return 0


def _unescape_mountinfo(field: str) -> str:
    # /proc/self/mountinfo escapes space, tab, newline and backslash as octal (\040 ...)
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 3 < len(field) and field[i + 1:i + 4].isdigit():
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def mounts_under(path: str | Path) -> list[str]:
    """Mount points at or under ``path`` in this process's mount namespace, deepest first."""
    root = os.path.realpath(path)
    found = []
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                parts = line.split()
                if len(parts) > 4:
                    point = _unescape_mountinfo(parts[4])
                    if point == root or point.startswith(root.rstrip("/") + "/"):
                        found.append(point)
    except OSError:
        return []
    return sorted(set(found), key=lambda p: (-p.count("/"), p))


def detach_mounts(path: str | Path) -> list[str]:
    """Lazily unmount everything mounted at or under ``path``; return the problems met."""
    problems = []
    for point in mounts_under(path):
        err = _umount(point)
        if err and err != 22:  # EINVAL: not a mount point (any more)
            problems.append(f"umount {point}: {os.strerror(err)}")
    return problems


def _walk_remove(path: str) -> list[str]:
    """Bottom-up removal with an explicit stack (``os.fwalk`` recurses on Python 3.11); errors
    are caught per entry, and a folder made unsearchable is given back to us first."""
    problems: list[str] = []
    stack = [(path, False)]
    while stack:
        folder, emptied = stack.pop()
        if emptied:
            try:
                os.rmdir(folder)
            except FileNotFoundError:
                pass
            except OSError as exc:
                problems.append(f"{folder}: {exc.strerror}")
            continue
        try:
            os.chmod(folder, 0o700)
        except OSError:
            pass
        stack.append((folder, True))
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append((entry.path, False))
                        else:
                            os.unlink(entry.path)
                    except FileNotFoundError:
                        pass
                    except OSError as exc:
                        problems.append(f"{entry.path}: {exc.strerror}")
        except FileNotFoundError:
            pass
        except NotADirectoryError:
            try:
                os.unlink(folder)
            except OSError as exc:
                problems.append(f"{folder}: {exc.strerror}")
        except OSError as exc:
            problems.append(f"{folder}: {exc.strerror}")
    return problems[:20]


def remove_tree(path: str | Path, *, timeout: float = 300) -> list[str]:
    """Remove ``path`` and everything in it (see the module docstring); return the problems met.

    Never raises for what is inside the folder. A missing folder is not a problem.
    """
    path = os.path.abspath(str(path))
    if not os.path.lexists(path):
        return []
    problems = detach_mounts(path) if os.name == "posix" else []
    if not os.path.lexists(path):
        return problems
    rm = shutil.which("rm") or ("/bin/rm" if os.path.exists("/bin/rm") else None)
    if rm and os.name == "posix":
        try:
            proc = subprocess.run([rm, "-rf", "--one-file-system", "--", path], capture_output=True,
                                  text=True, timeout=timeout, stdin=subprocess.DEVNULL)
            if proc.returncode == 0 and not os.path.lexists(path):
                return problems
            if proc.stderr.strip():
                problems.append("rm: " + proc.stderr.strip().splitlines()[0])
        except (OSError, subprocess.TimeoutExpired) as exc:
            problems.append(f"rm: {exc}")
    if os.path.lexists(path):
        problems += _walk_remove(path)
    return problems
