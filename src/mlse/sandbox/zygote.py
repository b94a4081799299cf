"""Warm kernels: a fork server ("zygote") that pays the course's imports once per worker.

A cold kernel is a new interpreter that imports ipykernel (about 0.9 s to answer ``kernel_info``)
and then numpy, pandas, scikit-learn, matplotlib and the course's helpers (1-3 s more) in the
student's first cell. The zygote imports all of that once, then forks one kernel per request:

* it is started with an exact environment (``OPENBLAS_NUM_THREADS=1`` and friends set **before**
  numpy is imported; ``PYTHONHASHSEED=0`` as for cold kernels; nothing of the grader's
  environment, since a forked child's ``/proc/self/environ`` shows the zygote's);
* it checks that it is single-threaded before serving (no BLAS threads, no zmq context, no
  matplotlib timer), so a fork is safe; it never runs student code and never opens a kernel;
* it serves requests on a unix socket in a folder only its owner can enter (the sandboxes do not
  have it in their file system at all); each ``spawn`` forks a child that calls ``setsid()``,
  joins the submission's cgroup, enters new namespaces (:func:`mlse.sandbox.launcher.unshare`),
  and forks once more (a new PID namespace applies to children); the grandchild, PID 1 of its
  namespace, enters the sandbox exactly as the cold path does (:func:`launcher.enter`: empty
  root, limits, unprivileged uid), reseeds ``random`` and numpy, sets the environment from the
  plan, and starts ``IPKernelApp`` on the connection file it was given;
* the middle process watches the requester (the grader that asked): when that process dies, the
  kernel is killed, as ``PR_SET_PDEATHSIG`` does on the cold path; the grader gets a pidfd of
  the middle process, through which it polls and signals safely (no pid reuse); the middle
  process passes signals on to the kernel (an interrupt) and its death kills the kernel (which
  dies with its parent), and with it the kernel's PID namespace;
* children are reaped; the zygote exits when its owner does; :func:`ensure_zygote` starts a new
  one if it died.

:class:`ZygoteProcess` is the ``subprocess.Popen``-like handle that jupyter_client's provisioner
holds for a warm kernel (see :class:`mlse.sandbox.kernel.SandboxedKernelManager`).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

__all__ = ["PRELOAD", "Zygote", "ZygoteClient", "ZygoteProcess", "ZygoteUnavailable",
           "ensure_zygote", "start_in_background", "zygote_client", "ZYGOTE_ENV_VAR", "stop_zygote",
           "forget_inherited", "shared_with_children"]

ZYGOTE_ENV_VAR = "MLSE_ZYGOTE"  # the socket of a zygote a parent process started for us

#: Modules imported once by the zygote (missing ones are skipped).
PRELOAD = [
    "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.comm",
    "IPython.core.interactiveshell", "jupyter_client.session", "zmq",
    "numpy", "pandas", "sklearn", "sklearn.base", "sklearn.pipeline", "sklearn.linear_model",
    "sklearn.feature_extraction.text", "sklearn.model_selection", "sklearn.metrics",
    "sklearn.dummy", "sklearn.naive_bayes", "sklearn.preprocessing", "sklearn.compose",
    "joblib", "matplotlib", "matplotlib.pyplot", "matplotlib_inline.backend_inline",
    "sqlite3", "json", "csv", "dataclasses", "statistics",
    "helpers", "helpers.checks", "helpers.data", "helpers.style", "helpers.timeline",
    "helpers.tickets", "helpers.ticket_service", "helpers.drift", "helpers.model_card",
    "helpers.shipping", "helpers.self_assessment", "helpers.pytest_summary",
    "helpers.mutation_grading",
    "cloudpickle", "mlse.judge.wire", "mlse.judge.agent", "mlse.judge.client",
]

#: The zygote's whole environment (what a forked child's /proc/self/environ shows).
_THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "NUMEXPR_NUM_THREADS": "1", "VECLIB_MAXIMUM_THREADS": "1"}


class ZygoteUnavailable(RuntimeError):
    """No warm start possible: the caller falls back to a cold kernel (or refuses)."""


# ---------------------------------------------------------------------------------------------
# The server (runs in the zygote process)


def _task_count() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def _preload(modules: list[str]) -> list[str]:
    import importlib

    missing = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001  (a course without one of them still runs)
            missing.append(name)
    if "matplotlib" in sys.modules:
        sys.modules["matplotlib"].use("Agg")
    return missing


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _recv_line(conn: socket.socket, limit: int = 1 << 20) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
        if len(data) > limit:
            raise ValueError("request too large")
    return data


def _grandchild(plan: dict, argv: list[str], status_fd: int) -> None:
    """PID 1 of the new namespaces: enter the sandbox, become the kernel."""
    from . import launcher

    launcher.die_with_parent()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    launcher.enter(plan)
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    # Fresh per submission: environment, random state, the kernel's own sys.path entry.
    os.environ.clear()
    os.environ.update(plan["env"])
    import random

    random.seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    sys.path.insert(0, plan["workdir"])
    sys.argv = ["ipykernel_launcher", *argv]
    os.write(status_fd, b"ok\n")
    os.close(status_fd)
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(argv)
    app.start()


def _middle(plan: dict, argv: list[str], requester: int, status_fd: int, zygote: int) -> None:
    """The forked child: its own session, the cgroup, the namespaces; then watch over the kernel."""
    from . import launcher

    os.setsid()
    launcher.die_with_parent()
    if os.getppid() != zygote:
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # an interrupt is for the kernel, not for us
    try:
        watch = os.pidfd_open(requester)
    except OSError:
        os._exit(1)  # the grader that asked is gone already
    launcher.join_cgroup(plan)
    launcher.unshare(plan)
    kernel = os.fork()
    if kernel == 0:
        try:
            os.close(watch)
            _grandchild(plan, argv, status_fd)
        except BaseException as exc:  # noqa: BLE001
            try:
                os.write(status_fd, f"error {type(exc).__name__}: {exc}\n".encode())
            except OSError:
                pass
            os._exit(126)
        os._exit(0)
    os.close(status_fd)

    def forward(signum, _frame):  # the grader signals us through a pidfd: pass it on
        try:
            os.kill(kernel, signum)
        except OSError:
            pass

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(signum, forward)
    poller = select.poll()
    poller.register(watch, select.POLLIN)
    while True:
        try:
            pid, status = os.waitpid(kernel, os.WNOHANG)
        except ChildProcessError:
            os._exit(0)
        if pid:
            os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
        if poller.poll(200):  # the requester died: so does its kernel
            try:
                os.kill(kernel, signal.SIGKILL)
            except OSError:
                pass


def _spawn(req: dict, requester: int, server: socket.socket, conn: socket.socket) -> tuple[dict, list[int]]:
    r, w = os.pipe()
    zygote = os.getpid()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            server.close()
            conn.close()
            os.close(r)
            _middle(req["plan"], req["argv"], requester, w, zygote)
        except BaseException as exc:  # noqa: BLE001
            try:
                os.write(w, f"error {type(exc).__name__}: {exc}\n".encode())
            except OSError:
                pass
            code = 125
        os._exit(code)
    os.close(w)
    pidfd = os.pidfd_open(pid)
    status = b""
    deadline = time.monotonic() + 60
    while not status.endswith(b"\n") and time.monotonic() < deadline:
        ready, _, _ = select.select([r], [], [], 1.0)
        if ready:
            chunk = os.read(r, 4096)
            if not chunk:
                break
            status += chunk
    os.close(r)
    text = status.decode(errors="replace").strip()
    if text != "ok":
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
        os.close(pidfd)
        return {"ok": False, "error": text or "the sandbox did not start"}, []
    return {"ok": True, "pid": pid}, [pidfd]


def serve(sock_path: str, owner: int) -> None:
    """The zygote's main loop (run by :class:`Zygote` in ``python -P``: no folder on sys.path)."""
    if os.getppid() != owner:
        return
    started = time.monotonic()
    missing = _preload(PRELOAD)
    import gc

    gc.collect()
    gc.freeze()  # imported objects stay shared (copy-on-write) with every child
    tasks = _task_count()
    zmq = sys.modules.get("zmq")
    if tasks != 1 or (zmq is not None and getattr(zmq.Context, "_instance", None) is not None):
        print(json.dumps({"ready": False, "error": f"not single-threaded after imports ({tasks} "
                          "threads) or a zmq context exists: forking would be unsafe"}), flush=True)
        return
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(sock_path)
    os.chmod(sock_path, 0o600)
    server.listen(16)
    server.settimeout(0.5)
    print(json.dumps({"ready": True, "pid": os.getpid(), "missing": missing,
                      "import_seconds": round(time.monotonic() - started, 2)}), flush=True)
    while True:
        _reap()
        if os.getppid() != owner:
            return
        try:
            conn, _ = server.accept()
        except socket.timeout:
            continue
        with conn:
            conn.settimeout(60)
            fds: list[int] = []
            try:
                pid, uid, _gid = struct.unpack("3i", conn.getsockopt(
                    socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
                if uid not in (0, os.getuid()):
                    raise PermissionError("only the zygote's owner may ask it")
                req = json.loads(_recv_line(conn) or b"{}")
                if req.get("op") == "ping":
                    reply = {"ok": True, "pid": os.getpid(), "threads": _task_count()}
                elif req.get("op") == "spawn":
                    reply, fds = _spawn(req, pid, server, conn)
                else:
                    reply = {"ok": False, "error": f"unknown request {req.get('op')!r}"}
            except Exception as exc:  # noqa: BLE001
                reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            try:
                socket.send_fds(conn, [json.dumps(reply).encode() + b"\n"], fds)
            except OSError:
                pass
            for fd in fds:
                os.close(fd)


# ---------------------------------------------------------------------------------------------
# The client side (runs in the grader)


class ZygoteProcess:
    """A ``Popen``-like handle on a warm kernel (the zygote's child, through a pidfd).

    The process is not our child, so its exit code is unknown: ``poll()`` returns 1 once it has
    exited. Signals go through the pidfd (``pidfd_send_signal``), never to a reused pid.
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int, pidfd: int):
        self.pid, self._pidfd, self.returncode = pid, pidfd, None

    def poll(self) -> int | None:
        if self.returncode is None and self._pidfd is not None:
            ready, _, _ = select.select([self._pidfd], [], [], 0)
            if ready:
                self.returncode = 1
                os.close(self._pidfd)
                self._pidfd = None
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("warm kernel", timeout)
            time.sleep(0.05)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is not None:
            return  # as Popen: signalling a process that has exited does nothing
        try:
            signal.pidfd_send_signal(self._pidfd, signum)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def __del__(self):
        if getattr(self, "_pidfd", None) is not None:
            try:
                os.close(self._pidfd)
            except OSError:
                pass


class ZygoteClient:
    """Talks to a zygote at a socket path."""

    def __init__(self, address: str):
        self.address = address

    def _request(self, req: dict, timeout: float = 90) -> tuple[dict, list[int]]:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(self.address)
            s.sendall(json.dumps(req).encode() + b"\n")
            data, fds = b"", []
            while not data.endswith(b"\n"):
                msg, got, _flags, _addr = socket.recv_fds(s, 1 << 20, 4)
                if not msg:
                    break
                data += msg
                fds += got
        except OSError as exc:
            raise ZygoteUnavailable(f"zygote at {self.address}: {exc}") from exc
        finally:
            s.close()
        if not data:
            raise ZygoteUnavailable(f"zygote at {self.address} closed the connection")
        return json.loads(data), fds

    def ping(self) -> dict:
        reply, _ = self._request({"op": "ping"}, timeout=10)
        return reply

    def spawn(self, plan: dict, argv: list[str]) -> ZygoteProcess:
        reply, fds = self._request({"op": "spawn", "plan": plan, "argv": argv})
        if not reply.get("ok") or not fds:
            for fd in fds:
                os.close(fd)
            raise RuntimeError(f"warm kernel: {reply.get('error', 'no process')}")
        return ZygoteProcess(reply["pid"], fds[0])


class Zygote:
    """A zygote process owned by this process (one per grading worker)."""

    def __init__(self, python: str | None = None, preload_timeout: float = 180):
        if not sys.platform.startswith("linux") or not hasattr(os, "pidfd_open") \
                or not hasattr(socket, "send_fds"):
            raise ZygoteUnavailable("warm kernels need Linux 5.3+ and Python 3.9+ (fork, pidfd)")
        self.python = python or sys.executable
        base = tempfile.gettempdir()
        if len(os.fsencode(base)) > 76 and os.path.isdir("/tmp"):  # a unix socket path: 107 bytes
            base = "/tmp"
        self.folder = Path(tempfile.mkdtemp(prefix="mlse-zygote-", dir=base))
        os.chmod(self.folder, 0o700)
        (self.folder / "owner.pid").write_text(str(os.getpid()))  # for sweep_stale_sandboxes
        self.address = str(self.folder / "zygote.sock")
        env = {"PATH": os.pathsep.join([str(Path(self.python).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
               "HOME": str(self.folder), "LANG": "C.UTF-8", "PYTHONHASHSEED": "0",
               "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg",
               "MPLCONFIGDIR": str(self.folder / "mpl"), **_THREADS}
        started = time.monotonic()
        self.proc = subprocess.Popen(
            [self.python, "-P", "-c", "import sys; from mlse.sandbox.zygote import serve; "
             "serve(sys.argv[1], int(sys.argv[2]))", self.address, str(os.getpid())],
            env=env, cwd="/", stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=open(self.folder / "zygote.log", "wb"), close_fds=True)
        line = b""
        ready, _, _ = select.select([self.proc.stdout], [], [], preload_timeout)
        if ready:
            line = self.proc.stdout.readline()
        try:
            info = json.loads(line or b"{}")
        except ValueError:
            info = {}
        if not info.get("ready"):
            self.stop()
            log = ""
            try:
                log = (self.folder / "zygote.log").read_text()[-500:]
            except OSError:
                pass
            raise ZygoteUnavailable(info.get("error") or f"the zygote did not start: {log}")
        self.info = {**info, "start_seconds": round(time.monotonic() - started, 2)}
        self.client = ZygoteClient(self.address)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        from .cleanup import remove_tree

        remove_tree(self.folder)


_lock = threading.Lock()
_zygote: Zygote | None = None
_atexit_registered: list[bool] = []


def ensure_zygote() -> Zygote:
    """This process's zygote, started (or restarted, if it died) on first use."""
    global _zygote
    with _lock:
        # dead, or its socket gone (a temp folder cleaned under it): start another
        if _zygote is not None and (not _zygote.alive() or not os.path.exists(_zygote.address)):
            _zygote.stop()
            _zygote = None
        if _zygote is None:
            _zygote = Zygote()
            if not _atexit_registered:
                import atexit

                atexit.register(stop_zygote)
                _atexit_registered.append(True)
        return _zygote


def start_in_background() -> None:
    """Start this process's zygote in a thread (its imports take seconds): for a command that
    has its own start-up to do meanwhile (``mlse check``). Kernels wait for it when they start;
    if it cannot start, they start cold as they would have anyway."""
    def start() -> None:
        try:
            ensure_zygote()
        except Exception:  # noqa: BLE001 - ZygoteUnavailable or worse: cold kernels
            pass

    if _zygote is None:
        threading.Thread(target=start, name="mlse-zygote-start", daemon=True).start()


def stop_zygote() -> None:
    global _zygote
    with _lock:
        if _zygote is not None:
            _zygote.stop()
            _zygote = None


def forget_inherited() -> None:
    """In a process forked from one that had a zygote: that zygote object is the parent's, not
    this process's to stop or restart (this process still reaches it through ``MLSE_ZYGOTE``)."""
    global _zygote
    _zygote = None


@contextlib.contextmanager
def shared_with_children(enabled: bool = True):
    """One warm zygote for this process and the processes it starts meanwhile (they find it
    through ``MLSE_ZYGOTE``; each kernel still dies with the process that asked for it), stopped
    at the end: its imports, about 2 s of CPU, are paid once rather than once per child. Without
    one (``enabled`` False, or no zygote possible here), each child starts kernels as before."""
    address = None
    if enabled:
        try:
            address = ensure_zygote().address
        except Exception:  # noqa: BLE001 - ZygoteUnavailable: the children start kernels themselves
            address = None
    saved = os.environ.get(ZYGOTE_ENV_VAR)
    if address:
        os.environ[ZYGOTE_ENV_VAR] = address
    try:
        yield address
    finally:
        if saved is None:
            os.environ.pop(ZYGOTE_ENV_VAR, None)
        else:
            os.environ[ZYGOTE_ENV_VAR] = saved
        if address:
            stop_zygote()  # a run starts its own (and pays for it, as `mlse grade` does)


def zygote_client(start: bool = True) -> ZygoteClient:
    """A client for the zygote a parent process named (``MLSE_ZYGOTE``), else for our own."""
    address = os.environ.get(ZYGOTE_ENV_VAR)
    if address and os.path.exists(address):
        return ZygoteClient(address)
    if not start:
        raise ZygoteUnavailable("no zygote running")
    return ensure_zygote().client


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
