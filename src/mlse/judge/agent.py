"""The student's side of the call boundary: runs in the student's kernel S, answers the judge.

The judge sends each request as an ordinary ``execute_request`` whose code is one call to
:func:`serve` with the request pickled (the judge's own bytes: S decoding them harms nobody). The
answer goes back as one ``display_data`` message of type :data:`REPLY_MIME`, encoded by
:mod:`mlse.judge.wire`; whatever the call prints goes back as the call's ordinary output.

Everything here runs in S, which the student controls completely: they may replace this module,
forge replies, or never answer. That is why nothing here decides anything: the judge decodes
replies as data and decides pass or fail itself.

Once connected, the judge asks for a **call line** (``("open_line", path)``, :func:`open_line`): a
Unix socket in the folder of S's own sockets, served by S's event loop on its main thread, so
each later request is one length-prefixed frame each way instead of a whole ``execute_request``
(measured: about 17 ms a call through the kernel's messages, about 1 ms on the line). Whatever the
student's code prints during a call comes back in the reply and the judge relays it. When the line
cannot be opened the judge keeps using the kernel's messages.

Requests (tuples):

* ``("value", name)``: the value the student's code bound to ``name`` (or ``{"$": "missing"}``);
* ``("call", target, args, kwargs)``: call a handle (``target`` is a handle, resolved while
  unpickling) and return what it returns, or what it raised;
* ``("getattr", target, attribute)``: read an attribute of a handle;
* ``("run_tests", name, meta, time_limit, stop_at_first_failure)``: run the learner's ``test_...``
  functions with ``name`` bound to a :class:`helpers.mutation_grading.Candidate` described by
  ``meta`` (the reference's name, module, docstring and interface), in a forked copy of S so no
  run leaves anything behind for the next; only ``[(test name, passed, reason), ...]`` comes back.
  The implementation under test (the reference or a seeded bug) never comes here: each call the
  tests make is a *callback* frame on the call line, ``{"callback": {"seq": n, ...}}``, answered
  by the judge with ``{"seq": n, "reply": data}`` before the run's own reply;
* ``("release", ids)``: forget handles the judge no longer holds.
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
import pickle
import traceback
import warnings
from typing import Any

from . import wire

REPLY_MIME = "application/vnd.mlse.judge-reply+json"
HANDLE_KEY = "mlse-handle"

_objects: dict[int, Any] = {}     # handle id -> the object it stands for
_ids: dict[int, int] = {}         # id(object) -> handle id, so fit() returning self is the same handle
_next = [1]


def _keep(obj: Any) -> dict:
    """A handle for ``obj``: the object stays here; the judge gets its id and type name."""
    hid = _ids.get(id(obj))
    if hid is None or _objects.get(hid) is not obj:
        hid = _next[0]
        _next[0] += 1
        _objects[hid], _ids[id(obj)] = obj, hid
    kind = type(obj)
    return {"$": "handle", "id": hid, "type": getattr(kind, "__qualname__", "object"),
            "callable": callable(obj), "name": str(getattr(obj, "__name__", ""))[:100]}


class _Unpickler(pickle.Unpickler):
    """Unpickles the judge's request, turning the judge's handles back into the objects they name."""

    def persistent_load(self, pid):
        kind, hid = pid
        if kind != HANDLE_KEY or hid not in _objects:
            raise pickle.UnpicklingError(f"no such object in the student's kernel: {pid!r}")
        return _objects[hid]


def _user_namespace() -> dict:
    from IPython import get_ipython

    return get_ipython().user_ns


def _raised(exc: BaseException) -> dict:
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return wire.encode_exception(exc, text)


def _handle(request: tuple) -> Any:
    op = request[0]
    if op == "value":
        namespace = _user_namespace()
        if request[1] not in namespace:
            return {"$": "missing"}
        return wire.encode(namespace[request[1]], _keep)
    if op == "call":
        _, target, args, kwargs = request
        try:
            result = target(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - any failure is an answer for the judge
            return _raised(exc)
        return wire.encode(result, _keep)
    if op == "getattr":
        _, target, attribute = request
        try:
            return wire.encode(getattr(target, attribute), _keep)
        except BaseException as exc:  # noqa: BLE001
            return _raised(exc)
    if op == "open_line":
        open_line(request[1])
        return True
    if op == "run_tests":
        return _run_tests_forked(*request[1:])
    if op == "release":
        for hid in request[1]:
            obj = _objects.pop(hid, None)
            if obj is not None:
                _ids.pop(id(obj), None)
        return None
    raise ValueError(f"unknown request {op!r}")


#: The call line being answered right now (a run of learner tests calls back on it).
_current_line: list = [None]


class _Callbacks:
    """The child's side of a candidate's calls: one callback frame to the judge per call, read
    back by its sequence number (a reply to a call cut short by a test's time limit is skipped)."""

    def __init__(self, conn):
        self.conn, self.seq = conn, 0

    def __call__(self, message: dict) -> dict:
        import json
        import struct

        self.seq += 1
        payload = json.dumps({"callback": dict(message, seq=self.seq)}).encode()
        self.conn.sendall(struct.pack("!Q", len(payload)) + payload)
        while True:
            (size,) = struct.unpack("!Q", read_exact(self.conn, 8))
            answer = json.loads(read_exact(self.conn, size))
            if isinstance(answer, dict) and answer.get("seq") == self.seq:
                return answer


def _run_tests_forked(name: str, meta: dict, time_limit: float, stop_at_first_failure: bool):
    """Run the learner's tests with ``name`` bound to a candidate proxy in a child process.

    The child is a copy of this kernel at this moment; whatever a test changes (a global, a file
    handle, the proxy itself) dies with it, so the next run starts from the same state. The
    candidate's calls go to the judge on the call line (the parent waits meanwhile).
    """
    import json
    import select
    import signal
    import time

    from helpers.mutation_grading import Candidate, _CandidateCaller, collect_tests, run_all

    conn = _current_line[0]
    if conn is None or not isinstance(meta, dict):
        raise RuntimeError("learner-written tests are graded over the judge's call line only")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, report, and leave without any clean-up of the parent's
        status = 1
        try:
            os.close(read_end)
            namespace = _user_namespace()
            namespace[name] = Candidate(_CandidateCaller(_Callbacks(conn), meta), 0, meta)
            results = run_all(collect_tests(namespace), time_limit, stop_at_first_failure)
            payload = json.dumps([[r.name, r.passed, r.reason] for r in results]).encode()
            with os.fdopen(write_end, "wb") as out:
                out.write(payload)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    chunks, deadline = [], time.monotonic() + 60 + 20 * time_limit
    with os.fdopen(read_end, "rb") as pipe:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([pipe], [], [], 1.0)
            if ready:
                chunk = os.read(pipe.fileno(), 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        else:
            os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    try:
        rows = json.loads(b"".join(chunks) or b"null")
    except ValueError:
        rows = None
    if rows is None:
        return {"$": "raised", "mro": ["builtins.RuntimeError"], "message":
                "the tests did not finish (they took too long, or ended their process)", "traceback": ""}
    return wire.encode([tuple(row) for row in rows], _keep)


def serve(request_b64: str) -> None:
    """Answer one request of the judge (called by the code the judge sends)."""
    from IPython.display import display

    caught: list = []
    try:
        request = _Unpickler(io.BytesIO(base64.b64decode(request_b64))).load()
        with _warnings_recorded(caught):
            reply = _handle(request)
    except BaseException as exc:  # noqa: BLE001 - the judge must always get an answer
        reply = {"$": "raised", "mro": ["builtins.RuntimeError"],
                 "message": f"the student's kernel could not run the judge's request: "
                            f"{type(exc).__name__}: {exc}", "traceback": ""}
    display({REPLY_MIME: {"reply": reply, "warnings": _described(caught)}}, raw=True)


#: Most warnings one call's reply carries back (a loop that warns a million times sends 50).
MAX_CALL_WARNINGS = 50


@contextlib.contextmanager
def _warnings_recorded(caught: list):
    """Warnings raised by the student's code during a call are recorded, not printed: the judge
    issues them again in the test cell, where the test's own filters decide (a hidden test that
    runs the call under ``warnings.catch_warnings()`` + ``simplefilter("ignore")`` silences them,
    as it would in one kernel). Printed here, they would reach the cell as stderr text, which no
    filter of the test can stop and which costs the cell its points."""
    with warnings.catch_warnings(record=True) as recorded:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            caught.extend(recorded)


def _described(caught: list) -> list[dict]:
    """The recorded warnings as data: the category's MRO by name, message, file and line."""
    described = []
    for w in caught[:MAX_CALL_WARNINGS]:
        category = w.category if isinstance(w.category, type) else UserWarning
        described.append({"mro": [f"{c.__module__}.{c.__qualname__}" for c in category.__mro__][:20],
                          "message": str(w.message)[:2000], "filename": str(w.filename)[:500],
                          "lineno": w.lineno if isinstance(w.lineno, int) else 0})
    return described


# -- the call line ------------------------------------------------------------------------------

#: Largest request frame S reads (the judge's pickled arguments).
MAX_FRAME = 256 * 1024 * 1024
#: Most characters of output a call's reply carries back.
MAX_CALL_OUTPUT = 100_000


def read_exact(conn, n: int) -> bytes:
    """``n`` bytes from a socket of the call line (used by both ends)."""
    data = bytearray()
    while len(data) < n:
        chunk = conn.recv(min(n - len(data), 1 << 20))
        if not chunk:
            raise ConnectionError("the other end closed the call line")
        data += chunk
    return bytes(data)


def _only_in(owner: int) -> None:
    """A copy of this kernel made by ``os.fork`` in a student's cell (a fork bomb's children, once
    their loop fails) comes back to the kernel's event loop, which it shares with the real kernel
    (the same epoll instance): it must neither answer the judge nor unregister the line (that
    would unregister it for the real kernel too), so it leaves at once."""
    if os.getpid() != owner:
        os._exit(0)


def _answer_frame(conn, loop, owner: int) -> None:
    """Read one request frame, run it here on the main thread, write the reply frame."""
    import contextlib
    import json
    import signal
    import struct

    _only_in(owner)
    try:
        (size,) = struct.unpack("!Q", read_exact(conn, 8))
        if size > MAX_FRAME:
            raise ConnectionError("request too large")
        frame = read_exact(conn, size)
    except (OSError, ConnectionError, struct.error):
        loop.remove_reader(conn.fileno())
        conn.close()
        return
    _current_line[0] = conn
    out, err, caught = io.StringIO(), io.StringIO(), []
    # An interrupt (nbclient's, when a cell of S times out) stops the student's code, as it would
    # in a cell; the kernel ignores SIGINT while idle, which is when this runs.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), _warnings_recorded(caught):
            reply = _handle(_Unpickler(io.BytesIO(frame)).load())
    except BaseException as exc:  # noqa: BLE001 - the judge must always get an answer
        reply = {"$": "raised", "mro": ["builtins.RuntimeError"],
                 "message": f"the student's kernel could not run the judge's request: "
                            f"{type(exc).__name__}: {exc}", "traceback": ""}
    finally:
        signal.signal(signal.SIGINT, previous)
        _current_line[0] = None
    try:
        payload = json.dumps({"reply": reply, "out": out.getvalue()[:MAX_CALL_OUTPUT],
                              "err": err.getvalue()[:MAX_CALL_OUTPUT],
                              "warnings": _described(caught)}).encode()
    except (TypeError, ValueError) as exc:
        payload = json.dumps({"reply": {"$": "raised", "mro": ["builtins.RuntimeError"],
                                        "message": f"the reply could not be sent: {exc}",
                                        "traceback": ""}}).encode()
    try:
        conn.sendall(struct.pack("!Q", len(payload)) + payload)
    except OSError:
        loop.remove_reader(conn.fileno())
        conn.close()


def open_line(path: str) -> None:
    """Listen on ``path`` for the judge; requests are answered by this kernel's event loop, on the
    main thread (where the student's code runs in cells: a SQLite connection made in a cell works)."""
    import asyncio
    import socket

    loop = asyncio.get_running_loop()
    owner = os.getpid()
    if os.path.exists(path):
        os.unlink(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    server.setblocking(False)

    def accept() -> None:
        _only_in(owner)
        try:
            conn, _ = server.accept()
        except OSError:
            return
        conn.setblocking(True)
        loop.add_reader(conn.fileno(), _answer_frame, conn, loop, owner)
        loop.remove_reader(server.fileno())  # one judge, one line
        server.close()

    loop.add_reader(server.fileno(), accept)
