"""The processes of a grading run: the worker pool, the shared zygote, Ctrl-C and the course lock.

* :func:`run_jobs` grades jobs on a pool of worker processes (:class:`WorkerPool`), with one warm
  zygote for the whole run; a job whose worker process dies is retried alone in a fresh process.
* Workers run in their own process groups and ignore SIGINT: Ctrl-C reaches only the parent, which
  kills the workers' groups (:meth:`WorkerPool.kill`; the kernels follow through
  ``PR_SET_PDEATHSIG``). :class:`deferred_interrupts` holds a Ctrl-C until the student being
  merged is written in full.
* :class:`course_lock`: one grading run per course.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Callable

from .result import GradingError, Outcome
from .worker import GradeJob, grade_in_workspace

__all__ = ["run_jobs", "WorkerPool", "default_workers", "deferred_interrupts", "course_lock",
           "CourseBusy"]


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def pool_context():
    """How worker processes start. On Linux, ``fork``: the workers inherit the parent's imports
    (nbgrader, nbclient), so the pool costs nothing to start. The pool is created before the
    parent opens the class gradebook or starts the progress bar, so no open database connection
    or running thread is forked. Elsewhere, ``spawn`` (fork is unsafe on macOS)."""
    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")


def _worker_init(pids) -> None:
    """Each worker in its own process group: Ctrl-C at the terminal reaches only the parent, which
    stops the workers itself (:meth:`WorkerPool.kill`), with everything they started. Each worker
    tells the parent its pid (``pids``), and dies with the parent (``PR_SET_PDEATHSIG``): a parent
    killed with -9 cannot stop them itself, and a worker left behind would keep a zygote and
    kernels alive."""
    import signal

    from ..sandbox import zygote
    from ..sandbox.launcher import die_with_parent

    os.setpgrp()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    zygote.forget_inherited()
    pids.put(os.getpid())
    if sys.platform.startswith("linux"):
        die_with_parent()
        if os.getppid() == 1:  # the parent died before the line above took effect
            os._exit(1)


class WorkerPool:
    """A process pool whose workers can be killed at once, with all they started (Ctrl-C)."""

    def __init__(self, workers: int, context=None):
        context = context or pool_context()
        self._pids = context.SimpleQueue()
        self._known: set[int] = set()
        self.executor = ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                            initializer=_worker_init, initargs=(self._pids,))

    def submit(self, fn, *args) -> Future:
        return self.executor.submit(fn, *args)

    def kill(self, futures) -> None:
        """Cancel what has not started and kill the workers' process groups (the worker, its
        nbgrader child and, through PR_SET_PDEATHSIG, the kernels), so Ctrl-C takes effect at once."""
        for fut in futures:
            fut.cancel()
        self._kill_known()
        self.executor.shutdown(wait=False, cancel_futures=True)
        # a worker still starting registers within milliseconds: catch it too
        for _ in range(5):
            time.sleep(0.05)
            self._kill_known()
        self.executor.shutdown(wait=True, cancel_futures=True)

    def _kill_known(self) -> None:
        import signal

        while not self._pids.empty():
            self._known.add(self._pids.get())
        for pid in self._known:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc) -> bool:
        self.executor.shutdown(wait=True)
        return False


def run_jobs(jobs: list[GradeJob], workers: int, on_start: Callable[[], None],
             on_result: Callable[[Outcome], None]) -> None:
    """Run ``jobs`` on a pool of ``workers`` processes, handing each outcome to ``on_result`` as
    it arrives (``on_start`` runs once every worker exists). If a worker process dies (the pool
    breaks), the jobs it took down are retried one at a time, each in a fresh process, so a
    submission that kills its worker twice is reported as failed and the batch goes on."""
    import nbclient  # noqa: F401  (imported once here, inherited by forked workers)
    import nbgrader.converters  # noqa: F401

    from ..sandbox import zygote

    cold = any(job.extra_config.get("SandboxedKernelManager", {}).get("warm") is False
               or job.extra_config.get("SandboxedKernelManager.warm") is False for job in jobs)
    with zygote.shared_with_children(enabled=not cold):
        _run_in_pool(jobs, workers, on_start, on_result)


def _run_in_pool(jobs: list[GradeJob], workers: int, on_start: Callable[[], None],
                 on_result: Callable[[Outcome], None]) -> None:
    retry: list[GradeJob] = []
    with WorkerPool(min(workers, len(jobs))) as pool:
        futures: dict[Future, GradeJob] = {pool.submit(grade_in_workspace, j): j for j in jobs}
        try:
            on_start()
            for fut in as_completed(futures):
                try:
                    outcome = fut.result()
                except BrokenProcessPool:
                    retry.append(futures[fut])
                    continue
                on_result(outcome)
        except KeyboardInterrupt:
            pool.kill(futures)
            raise
    for job in retry:
        with WorkerPool(1, multiprocessing.get_context("spawn")) as pool:
            future = pool.submit(grade_in_workspace, job)
            try:
                outcome = future.result()
            except BrokenProcessPool:
                outcome = Outcome(job.student, job.assignment).fail(
                    "the grading worker process died (out of memory, or killed) while grading "
                    "this submission")
            except KeyboardInterrupt:
                pool.kill({future: job})
                raise
        on_result(outcome)


class deferred_interrupts:  # noqa: N801
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


class CourseBusy(GradingError):
    """Another ``mlse grade`` holds the course's lock."""


class course_lock:  # noqa: N801  (used as a context manager, like a function)
    """One grading run per course: an exclusive ``flock`` on ``.mlse/grade.lock``, released when
    the run ends (or its process dies: the kernel drops the lock)."""

    def __init__(self, course):
        from ..course import Course

        self.path = Course.of(course).state_path("grade.lock")

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
