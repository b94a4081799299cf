"""Real accounts and a real JupyterHub for the classroom test (test_classroom_hub.py).

* :class:`Accounts`: system accounts made with ``useradd`` and ``chpasswd`` under names unique to
  this run (two runs side by side never share one), removed with their homes afterwards, and any
  process still running as them (servers and kernels the hub started) ended by its id; each
  account's comment names the test process that made it, so that accounts left by a run that was
  killed outright (no teardown) are removed by the next run, and a live run's never are;
* :class:`HubProcess`: ``mlse classroom start`` as a child process, on ports from the OS, with its
  log; stopped with its proxy and every server it started;
* :func:`as_user`: a command run as one of those accounts (what a person types in their
  terminal on the hub).
"""

from __future__ import annotations

import os
import pwd
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: written into each account's comment (the GECOS "other" field): the pid of the run that made it
RUN_MARK = "mlse-test-run="


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Accounts:
    """System accounts for one test run: ``make(role)`` returns (name, password)."""

    def __init__(self):
        self.tag = secrets.token_hex(3)
        self.made: list[str] = []
        self.passwords: dict[str, str] = {}

    @classmethod
    def left_by_killed_runs(cls) -> "Accounts":
        """The accounts whose run no longer exists (it was killed before its teardown), as an
        :class:`Accounts` whose :meth:`remove` deletes them."""
        stale = cls()
        for account in pwd.getpwall():
            mark = account.pw_gecos.rpartition(RUN_MARK)[2]
            if account.pw_name.startswith("mlse") and RUN_MARK in account.pw_gecos \
                    and mark.isdigit() and not _alive(int(mark)):
                stale.made.append(account.pw_name)
        return stale

    def make(self, role: str, full_name: str) -> str:
        name = f"mlse{role[:1]}{len(self.made)}{self.tag}"  # e.g. mlses1a3f09c: 12 characters
        password = secrets.token_urlsafe(12)
        comment = f"{full_name},,,,{RUN_MARK}{os.getpid()}"  # full name first, as the hub reads it
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", "--comment", comment,
                        name], check=True, capture_output=True)
        self.made.append(name)
        subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True,
                       capture_output=True)
        os.chmod(pwd.getpwnam(name).pw_dir, 0o700)  # a home is its owner's alone
        self.passwords[name] = password
        return name

    def uids(self) -> set[int]:
        found = set()
        for name in self.made:
            try:
                found.add(pwd.getpwnam(name).pw_uid)
            except KeyError:
                pass
        return found

    def processes(self) -> list[int]:
        """Pids of processes running as one of these accounts."""
        uids, pids = self.uids(), []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if entry.stat().st_uid in uids:
                        pids.append(int(entry.name))
                except FileNotFoundError:
                    pass
        return pids

    def remove(self) -> list[str]:
        """End what still runs as these accounts (by pid), then delete them with their homes.
        Returns what could not be removed."""
        problems = []
        for pid in self.processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.2)
        for name in self.made:
            done = subprocess.run(["userdel", "--remove", name], capture_output=True, text=True)
            if done.returncode not in (0, 12):  # 12: home removed with a warning (mail spool)
                problems.append(f"userdel {name}: {done.stderr.strip()}")
        return problems


def as_user(name: str, cmd: list[str], env: dict | None = None, cwd: str | Path | None = None,
            check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
    """``cmd`` run as ``name`` (runuser, a login-less switch) with exactly ``env``."""
    account = pwd.getpwnam(name)
    base = {"HOME": account.pw_dir, "USER": name, "LOGNAME": name, "LANG": "C.UTF-8",
            "PATH": "/usr/local/bin:/usr/bin:/bin"}
    base.update(env or {})
    full = ["runuser", "-u", name, "--", "env", "-i", *[f"{k}={v}" for k, v in base.items()], *cmd]
    done = subprocess.run(full, cwd=cwd or account.pw_dir, capture_output=True, text=True,
                          timeout=timeout)
    if check and done.returncode:
        raise AssertionError(f"as {name}: {' '.join(cmd)} exited {done.returncode}\n"
                             f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


class HubProcess:
    """``mlse classroom start --home HOME`` in its own session, answering on ``base``."""

    def __init__(self, home: Path, port: int, log_path: Path, start_timeout: float = 120):
        self.home, self.port, self.log_path = home, port, log_path
        self.base = f"http://127.0.0.1:{port}"
        self._log = open(log_path, "w")
        env = dict(os.environ, PATH=os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
                   PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen([str(BIN / "mlse"), "classroom", "start", "--home", str(home)],
                                        stdout=self._log, stderr=subprocess.STDOUT, env=env,
                                        start_new_session=True)
        deadline = time.monotonic() + start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the hub exited with {self.process.returncode} while starting\n"
                                   f"{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base}/hub/api", timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"the hub did not answer on {self.base} in {start_timeout:.0f} s\n"
                           f"{self.log_tail()}")

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        except OSError as exc:
            return f"(no hub log: {exc})"
        return f"--- JupyterHub log, last {len(text)} lines ({self.log_path}) ---\n" + "\n".join(text)

    def stop(self) -> None:
        """SIGTERM: JupyterHub stops every server it started and its proxy, then exits; whatever
        is left in its session is killed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proxy = self.home / "state" / "proxy.pid"  # the proxy runs in a session of its own
        try:
            os.kill(int(proxy.read_text().strip()), signal.SIGKILL)
        except (OSError, ValueError):
            pass
        self._log.close()
