"""Warm kernels forked from the zygote (issue 11, part 4): fresh per submission, and faster.

Each kernel is started through :class:`mlse.sandbox.SandboxedKernelManager` exactly as grading
starts it. One student's run leaves a file, an environment variable, a module attribute, a
System V and a POSIX shared-memory segment and a background process; the next student's kernel
must see none of them. Start-up times are printed (``-s``) and only loosely bounded.
"""

from __future__ import annotations

import json
import os
import signal
import time

import nbformat
import pytest
from nbclient import NotebookClient
from traitlets.config import Config

from mlse.sandbox import SandboxedKernelManager, isolation_available
from mlse.sandbox import zygote

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the zygote forks (Linux)")


@pytest.fixture
def tmp_path():
    """A short folder of this test's own for its sandboxes (their unix sockets must fit 107 bytes)."""
    import tempfile
    from pathlib import Path

    from mlse.sandbox.cleanup import remove_tree

    folder = Path(tempfile.mkdtemp(prefix="mlse-t-", dir="/tmp" if os.path.isdir("/tmp") else None))
    yield folder
    remove_tree(folder)

LEAVE = r'''
import ctypes, json, os, subprocess, sys
import helpers.checks, numpy
os.environ["MLSE_LEAK"] = "from the previous student"
helpers.checks.MLSE_LEAK = numpy.MLSE_LEAK = "from the previous student"
for where in (os.getcwd(), os.environ["TMPDIR"], os.environ["HOME"]):
    open(os.path.join(where, "leak.txt"), "w").write("from the previous student")
libc = ctypes.CDLL(None, use_errno=True)
libc.shmget.restype = ctypes.c_int
libc.shmat.restype = ctypes.c_void_p
shm = libc.shmget(0x6d6c7365, 1 << 20, 0o1666)  # IPC_CREAT | 0666
addr = libc.shmat(shm, None, 0)
ctypes.memmove(addr, b"from the previous student", 25)
try:
    open("/dev/shm/mlse-leak", "w").write("from the previous student")
except OSError:
    pass
subprocess.Popen(["sleep", "1000"])
print(json.dumps({"shm": shm}))
'''

PROBE = r'''
import ctypes, json, os, sys
import helpers.checks, numpy
libc = ctypes.CDLL(None, use_errno=True)
libc.shmget.restype = ctypes.c_int
found = {
    "env": os.environ.get("MLSE_LEAK"),
    "module attribute": getattr(helpers.checks, "MLSE_LEAK", None) or getattr(numpy, "MLSE_LEAK", None),
    "files": [p for p in (os.getcwd(), os.environ["TMPDIR"], os.environ["HOME"])
              if os.path.exists(os.path.join(p, "leak.txt"))],
    "sysv shm": libc.shmget(0x6d6c7365, 0, 0) != -1,
    "posix shm": os.path.exists("/dev/shm/mlse-leak"),
    "sleepers": [p for p in os.listdir("/proc") if p.isdigit()
                 and b"sleep" in open(f"/proc/{p}/cmdline", "rb").read()],
    "pid": os.getpid(),
}
print(json.dumps(found))
'''


def _run(code_cells: list[str], warm: bool, tmp_path) -> tuple[list[dict], SandboxedKernelManager, float]:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in code_cells])
    config = Config()
    config.SandboxedKernelManager.warm = warm
    config.SandboxedKernelManager.warm_fallback = False
    config.SandboxedKernelManager.sandbox_root = str(tmp_path)
    config.SandboxedKernelManager.limits = {"memory_mb": 1024}
    client = NotebookClient(nb, kernel_manager_class=SandboxedKernelManager, config=config,
                            timeout=60, kernel_name="python3")
    seen = {}
    orig = client.async_start_new_kernel

    async def start(**kw):
        await orig(**kw)
        seen["km"] = client.km

    client.async_start_new_kernel = start
    t = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - t
    outs = []
    for cell in nb.cells:
        for o in cell.outputs:
            if o.output_type == "error":
                raise AssertionError(f"{o.ename}: {o.evalue}")
            if o.output_type == "stream":
                outs += [json.loads(line) for line in o.text.splitlines() if line.startswith("{")]
    return outs, seen["km"], elapsed


@pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])
def test_nothing_of_one_students_kernel_reaches_the_next(tmp_path, warm):
    (left,), km1, _ = _run([LEAVE], warm, tmp_path)
    assert km1.started_warm is warm
    (found,), km2, _ = _run([PROBE], warm, tmp_path)
    assert km2.started_warm is warm
    mode, _ = isolation_available()
    assert found["env"] is None and found["module attribute"] is None
    assert found["files"] == [], found
    if mode in ("root", "userns"):  # own IPC namespace, own /dev/shm, own PID namespace
        assert not found["sysv shm"] and not found["posix shm"] and found["sleepers"] == [], found
        assert found["pid"] == 1
    assert not list(tmp_path.glob("mlse-sbx-*")), "a sandbox folder outlived its kernel"


def test_warm_kernels_start_faster_than_cold_ones(tmp_path):
    zygote.ensure_zygote()  # once per worker: not part of any submission's time
    cells = ["import numpy, pandas, sklearn, matplotlib.pyplot\nfrom helpers.checks import check"]
    times = {}
    for warm in (True, False, True, False):
        _, km, seconds = _run(cells, warm, tmp_path)
        assert km.started_warm is warm
        times.setdefault("warm" if warm else "cold", []).append(round(seconds, 2))
    print(f"\nkernel start + first cell (imports), seconds: {times}; zygote: {zygote.ensure_zygote().info}")
    assert min(times["warm"]) < 10, times
    assert min(times["warm"]) < min(times["cold"]), times


def test_the_zygote_is_single_threaded_and_is_restarted_when_it_dies(tmp_path):
    z = zygote.ensure_zygote()
    reply = z.client.ping()
    assert reply["ok"] and reply["threads"] == 1
    os.kill(z.proc.pid, signal.SIGKILL)
    z.proc.wait()
    again = zygote.ensure_zygote()
    assert again is not z and again.alive()
    (found,), km, _ = _run([PROBE], True, tmp_path)
    assert km.started_warm


def test_the_judge_kernel_starts_warm_as_its_students_uid_sharing_only_tmp(tmp_path):
    """The judge's trusted kernel J: forked from the same zygote, as the student's uid, with the
    student's sandbox temp folder as its TMPDIR (a file one writes there the other reads) and its
    own home, outside the student's sandbox."""
    import asyncio

    from mlse.sandbox.judge_kernel import JudgeKernelManager

    async def run(km, code):
        kc = km.client()
        kc.start_channels()
        await kc.wait_for_ready(timeout=60)
        out = []
        await kc.execute_interactive(code, timeout=60, output_hook=lambda m: out.append(
            m["content"].get("text", "")) if m["msg_type"] == "stream" else None)
        kc.stop_channels()
        return json.loads("".join(out))

    async def main():
        config = Config()
        config.SandboxedKernelManager.sandbox_root = str(tmp_path)
        config.SandboxedKernelManager.warm_fallback = False
        student = SandboxedKernelManager(config=config, kernel_name="python3")
        await student.start_kernel()
        judge = JudgeKernelManager(config=config, student=student, kernel_name="python3")
        await judge.start_kernel()
        try:
            code = ("import json, os\nopen(os.path.join(os.environ['TMPDIR'], '{0}.txt'), 'w').write('{0}')\n"
                    "print(json.dumps({{'uid': os.getuid(), 'tmp': os.environ['TMPDIR'], 'home': os.environ['HOME'],"
                    " 'seen': sorted(os.listdir(os.environ['TMPDIR']))}}))")
            j = await run(judge, code.format("judge"))
            s = await run(student, code.format("student"))
        finally:
            for km in (judge, student):
                await km.shutdown_kernel(now=True)
        return student, judge, s, j

    student, judge, s, j = asyncio.run(main())
    assert student.started_warm and judge.started_warm
    assert j["tmp"] == s["tmp"] and "judge.txt" in s["seen"]
    assert j["uid"] == s["uid"]
    assert not j["home"].startswith(s["tmp"].rsplit("/", 1)[0]), "the judge's home is inside the student's sandbox"
    assert not list(tmp_path.glob("mlse-sbx-*"))
