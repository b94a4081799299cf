"""The judge's side of the call boundary: runs in the judge kernel J, never runs student code.

J runs the notebook's test cells. Every name the student's code defined (an answer's function, a
dictionary, a model) is bound in J's namespace to what :class:`StudentKernel` brings back from the
student's kernel S: a **value** when it is data (decoded by :mod:`mlse.judge.wire`), otherwise a
:class:`Handle`. Calling a handle, or reading an attribute of it, is a request to S; what comes
back is again data or a handle. So ``answer_of(salary_midpoint, 1, 2)`` in a test cell calls the
student's function in S and compares its answer in J, where the expected values stay.

J talks to S through S's own Jupyter connection (a second client of S's kernel): the first request
is an ``execute_request`` whose code calls :func:`mlse.judge.agent.serve`, the reply one display
message; it opens a *call line* (a Unix socket beside S's own, answered on S's main thread, see
:func:`mlse.judge.agent.open_line`) that carries every later request, one frame each way. A kernel
over TCP, or one whose line cannot be opened, keeps the execute path. Requests are pickled *towards* S (S decoding J's bytes harms nobody; that is how a test's
own mock objects reach the student's function); nothing from S is ever unpickled here.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import hmac
import io
import json
import os
import queue
import random
import re
import socket
import struct
import sys
import time
import warnings
from typing import Any

from ..intake.code_reading import read_definitions
from . import wire
from .agent import HANDLE_KEY, REPLY_MIME, read_exact as _read_exact

__all__ = ["Handle", "Judge", "StudentKernel", "StudentKernelError"]

#: Most bytes of the student's printed output relayed into one test cell.
MAX_RELAYED_OUTPUT = 100_000
#: Most warnings of the student's code issued again in the test cells, per judge.
MAX_RELAYED_WARNINGS = 200
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def warning_category(mro: Any) -> type[Warning]:
    """The warning class a student's warning is issued under here: the first class of its MRO
    (names sent by the student's kernel) that is a Warning subclass in a module this process has
    already imported (``sklearn.exceptions.ConvergenceWarning`` when the tests import scikit-learn,
    ``builtins.RuntimeWarning`` always). Nothing is imported by name: a name the student chose
    never runs code here. A class unknown here falls back to ``UserWarning``."""
    for name in mro if isinstance(mro, list) else []:
        if not isinstance(name, str):
            continue
        module, _, qualname = name.rpartition(".")
        if not (module and _IDENTIFIER.fullmatch(qualname)):
            continue
        found = getattr(sys.modules.get(module), qualname, None)
        if isinstance(found, type) and issubclass(found, Warning):
            return found
    return UserWarning
#: Largest reply frame read from the call line (wire's own limits apply after).
MAX_REPLY_BYTES = 64 * 1024 * 1024


class StudentKernelError(RuntimeError):
    """The student's kernel did not answer the judge (it is busy, died, or sent no reply)."""


class Handle:
    """Something the student's code made that is not data; it stays in the student's kernel.

    Calls and attribute reads go to the student's kernel. A handle cannot be compared, hashed or
    turned into a bool here: those would need the judge to trust the student's ``__eq__``.
    """

    __slots__ = ("_kernel", "_id", "_type", "_callable", "__name__", "_source_text", "_source_refused",
                 "__weakref__")

    def __init__(self, kernel: "StudentKernel", info: dict):
        object.__setattr__(self, "_kernel", kernel)
        object.__setattr__(self, "_id", int(info.get("id", 0)))
        object.__setattr__(self, "_type", str(info.get("type", "object"))[:100])
        object.__setattr__(self, "_callable", bool(info.get("callable")))
        object.__setattr__(self, "__name__", str(info.get("name") or info.get("type") or "object")[:100])
        object.__setattr__(self, "_source_text", None)
        object.__setattr__(self, "_source_refused", "")

    @property
    def _source(self) -> str | None:
        """The learner's text of this function as the tests read it (``helpers.checks.source_of``),
        decided from the whole submission (:mod:`mlse.intake.code_reading`); a reading that is not
        trusted fails the code-reading test with the reason."""
        refused = object.__getattribute__(self, "_source_refused")
        if refused:
            from helpers.checks import CheckFailed

            raise CheckFailed(f"the code of {self.__name__}", "a definition the grader can read",
                              refused, "Define it once, plainly, at the top level of its answer cell "
                              "(def, or name = ...), and call other functions by their names.")
        return object.__getattribute__(self, "_source_text")

    def __call__(self, *args, **kwargs):
        if not self._callable:
            raise TypeError(f"'{self._type}' object is not callable")
        return self._kernel.request(("call", self, args, kwargs))

    def __getattr__(self, attribute: str):
        if attribute.startswith("__") and attribute.endswith("__"):
            raise AttributeError(attribute)  # dunders are never fetched: they are the judge's own
        return self._kernel.request(("getattr", self, attribute))

    def __setattr__(self, attribute, value):
        raise AttributeError("a test cannot change the student's objects")

    def __enter__(self):
        return self._kernel.request(("call", self._kernel.request(("getattr", self, "__enter__")), (), {}))

    def __exit__(self, *exc_info):
        exit_ = self._kernel.request(("getattr", self, "__exit__"))
        self._kernel.request(("call", exit_, (None, None, None), {}))
        return False

    def _refuse(self, *_args, **_kwargs):
        raise TypeError(f"the judge does not compare or hash a {self._type} made by student code: "
                        "a test compares data that a call returns")

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __hash__ = __bool__ = _refuse

    def __repr__(self) -> str:
        return f"<{self._type} in the student's kernel>"


class _RequestPickler:
    """cloudpickle with handles written as references (S turns them back into its objects)."""

    @staticmethod
    def dumps(request) -> bytes:
        import cloudpickle

        class Pickler(cloudpickle.Pickler):
            def persistent_id(self, obj):
                if type(obj) is Handle:
                    return (HANDLE_KEY, obj._id)
                return None

        buffer = io.BytesIO()
        Pickler(buffer, protocol=4).dump(request)
        return buffer.getvalue()


class StudentKernel:
    """A client of the student's kernel that sends requests and decodes replies."""

    def __init__(self, connection_info: dict, call_timeout: float = 60.0):
        from ..sandbox.guarded_client import GuardedBlockingKernelClient

        self.client = GuardedBlockingKernelClient()  # S's forged messages are dropped, not raised
        self.client.load_connection_info(connection_info)
        self.client.start_channels()
        # Until S has answered on shell *and* iopub, a reply published on iopub can be lost (a
        # subscriber that is still joining misses it); a restarted S needs this as much as a new one.
        self.call_timeout = call_timeout
        self.unresponsive = ""   # set when a call got no answer: later calls fail at once
        self.relayed = 0
        self.warned = 0  # warnings of the student's code issued again here (see _warn_again)
        self.incidents: list[str] = []  # replies that failed in a telling way, for a person to look at
        self.served = None  # the implementation a run of learner tests calls back (mutation_grading._Served)
        self.line: socket.socket | None = None
        self._open_line(connection_info)
        if self.line is not None:
            return
        try:
            self.client.wait_for_ready(timeout=max(30.0, call_timeout))
        except Exception as exc:  # noqa: BLE001 - died, or answered with something that is not a message
            self.unresponsive = f"the student's kernel did not answer once started ({exc})"

    def _open_line(self, connection_info: dict) -> None:
        """Ask S for a call line beside its kernel sockets; without one, requests keep the execute path.

        The request is a user expression, answered on the shell channel: unlike iopub, it needs no
        wait for the subscription to be joined (the execute path's ``wait_for_ready``)."""
        if connection_info.get("transport") != "ipc":
            return
        path = os.path.join(os.path.dirname(str(connection_info.get("ip", ""))), "judge-line")
        expression = f"__import__('mlse.judge.agent', fromlist=['open_line']).open_line({path!r})"
        try:
            msg_id = self.client.execute("", silent=True, store_history=False, allow_stdin=False,
                                         user_expressions={"line": expression})
            deadline = time.monotonic() + max(30.0, self.call_timeout)
            while True:
                reply = self.client.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
                if reply.get("parent_header", {}).get("msg_id") == msg_id:
                    break
            result = reply["content"]["user_expressions"]["line"]
            if result.get("status") != "ok":
                return
            line = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            line.settimeout(10)
            line.connect(path)
        except Exception:  # noqa: BLE001 - no line: the execute path still works
            return
        self.line = line

    def close(self) -> None:
        self.unresponsive = "the student's kernel was restarted: what it held is gone"
        if self.line is not None:
            self.line.close()
            self.line = None
        self.client.stop_channels()

    def _make_handle(self, info: dict) -> Handle:
        return Handle(self, info)

    def request(self, request: tuple) -> Any:
        """Send one request to S and return its decoded answer (or raise what S's code raised)."""
        if self.unresponsive:
            raise StudentKernelError(self.unresponsive)
        if self.line is not None:
            return self._request_by_line(request)
        return self._request_by_execute(request)

    def _request_by_line(self, request: tuple) -> Any:
        payload = _RequestPickler.dumps(request)
        line = self.line
        try:
            line.settimeout(self.call_timeout)
            line.sendall(struct.pack("!Q", len(payload)) + payload)
            while True:
                (size,) = struct.unpack("!Q", _read_exact(line, 8))
                if size > MAX_REPLY_BYTES:
                    raise wire.DecodeError(f"a reply of {size:,} bytes")
                data = _read_exact(line, size)
                callback = self._callback_of(data)
                if callback is None:
                    break
                answer = json.dumps(self._answer_callback(callback)).encode()
                line.sendall(struct.pack("!Q", len(answer)) + answer)
        except socket.timeout:
            self.unresponsive = (f"the student's code did not answer within {self.call_timeout:g} s "
                                 "(an endless loop, or a kernel that stopped listening)")
            raise StudentKernelError(self.unresponsive) from None
        except wire.DecodeError as exc:
            self.incidents.append(f"the student's kernel sent a reply that is not data: {exc}")
            self.unresponsive = "the student's kernel broke the call line"
            raise
        except (OSError, ConnectionError, struct.error):
            self.unresponsive = "the student's kernel died"
            self.incidents.append("the student's kernel died while a test was calling it")
            raise StudentKernelError(self.unresponsive) from None
        try:
            reply = json.loads(data)
        except (ValueError, RecursionError) as exc:
            self.incidents.append("the student's kernel sent a reply that is not data: not JSON")
            raise wire.DecodeError("a reply that is not JSON") from exc
        if not isinstance(reply, dict) or "reply" not in reply:
            self.incidents.append("the student's kernel sent no answer to a test's call")
            raise StudentKernelError("the student's kernel sent no answer (its code replaced or "
                                     "broke the grader's connection)")
        for key, is_stderr in (("out", False), ("err", True)):
            if isinstance(reply.get(key), str) and reply[key]:
                self._relay(reply[key], is_stderr)
        self._warn_again(reply.get("warnings"))
        try:
            return self._decode(reply["reply"])
        except wire.DecodeError as exc:
            self.incidents.append(f"the student's kernel sent a reply that is not data: {exc}")
            raise

    @staticmethod
    def _callback_of(data: bytes) -> dict | None:
        """The callback in a frame (a learner's test calling the implementation under test), or
        None when the frame is the request's reply. A frame too short to be a callback is a reply."""
        if not data.startswith(b'{"callback"'):
            return None
        try:
            frame = json.loads(data)
        except (ValueError, RecursionError):
            return None
        callback = frame.get("callback") if isinstance(frame, dict) else None
        return callback if isinstance(callback, dict) else None

    def _answer_callback(self, callback: dict) -> dict:
        """Answer one call of a learner's test on the implementation being served (the reference
        or a seeded bug, which stays here): data back, never the implementation."""
        from helpers.mutation_grading import serve_candidate_call

        seq = callback.get("seq") if type(callback.get("seq")) is int else -1
        if self.served is None:
            answer = {"reply": wire.encode_exception(RuntimeError("no implementation is under test now"))}
        else:
            answer = serve_candidate_call(self.served, callback)
        return dict(answer, seq=seq)

    def _request_by_execute(self, request: tuple) -> Any:
        code = ("__import__('mlse.judge.agent', fromlist=['serve']).serve("
                + repr(base64.b64encode(_RequestPickler.dumps(request)).decode()) + ")")
        msg_id = self.client.execute(code, silent=False, store_history=False, allow_stdin=False)
        reply, deadline = None, time.monotonic() + self.call_timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.unresponsive = (f"the student's code did not answer within {self.call_timeout:g} s "
                                     "(an endless loop, or a kernel that stopped listening)")
                raise StudentKernelError(self.unresponsive)
            try:
                msg = self.client.get_iopub_msg(timeout=min(remaining, 5))
            except queue.Empty:
                if not self.client.is_alive() and not self._beats_again():
                    self.unresponsive = "the student's kernel died"
                    self.incidents.append("the student's kernel died while a test was calling it")
                    raise StudentKernelError(self.unresponsive) from None
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "display_data" and reply is None and REPLY_MIME in content.get("data", {}):
                reply = content["data"][REPLY_MIME]
            elif kind == "stream":
                self._relay(content.get("text", ""), content.get("name") == "stderr")
            elif kind == "status" and content.get("execution_state") == "idle":
                break
        if not isinstance(reply, dict) or "reply" not in reply:
            self.incidents.append("the student's kernel sent no answer to a test's call")
            raise StudentKernelError("the student's kernel sent no answer (its code replaced or "
                                     "broke the grader's connection)")
        self._warn_again(reply.get("warnings"))
        try:
            return self._decode(reply["reply"])
        except wire.DecodeError as exc:
            self.incidents.append(f"the student's kernel sent a reply that is not data: {exc}")
            raise

    def _warn_again(self, described: Any) -> None:
        """Issue here, in the test cell, the warnings the student's code raised during the call
        (recorded there by the agent), so that the test's own filters apply: under
        ``warnings.catch_warnings()`` + ``simplefilter("ignore")`` they are silent, as in one
        kernel; otherwise Python prints them as it would have. The data are the student's: only
        well-formed entries, at most :data:`MAX_RELAYED_WARNINGS` per judge, each as a category
        this process already has (see :func:`warning_category`)."""
        if not isinstance(described, list):
            return
        for entry in described:
            if self.warned >= MAX_RELAYED_WARNINGS:
                return
            if not isinstance(entry, dict):
                continue
            message, filename, lineno = entry.get("message"), entry.get("filename"), entry.get("lineno")
            if not (isinstance(message, str) and isinstance(filename, str) and type(lineno) is int):
                continue
            self.warned += 1
            warnings.warn_explicit(message[:2000], warning_category(entry.get("mro")),
                                   filename[:500], lineno)

    def _beats_again(self, wait: float = 2.0) -> bool:
        """A missed heartbeat on a busy machine is not a dead kernel: look again before deciding."""
        time.sleep(wait)
        return self.client.is_alive()

    def _decode(self, data: Any) -> Any:
        if isinstance(data, dict) and data.get("$") == "raised":
            raise wire.rebuild_exception(data)
        if isinstance(data, dict) and data.get("$") == "missing":
            raise NameError("the student's code did not define it")
        return wire.decode(data, self._make_handle)

    def _relay(self, text: str, is_stderr: bool) -> None:
        """What the student's code printed during a call appears in the test cell, as it would in
        one kernel, up to :data:`MAX_RELAYED_OUTPUT` bytes per judge."""
        if self.relayed >= MAX_RELAYED_OUTPUT:
            return
        text = text[: MAX_RELAYED_OUTPUT - self.relayed]
        self.relayed += len(text)
        (sys.stderr if is_stderr else sys.stdout).write(text)


class Judge:
    """The object a judge kernel keeps as ``__mlse_judge__``: binds the student's names into the
    test cells' namespace, and runs learner-written tests (:mod:`helpers.mutation_grading` asks
    for it by that name)."""

    def __init__(self, connection_info: dict | str, call_timeout: float = 60.0, order_key: str = ""):
        if isinstance(connection_info, str):
            connection_info = json.loads(connection_info)
        self.connection_info, self.call_timeout = connection_info, call_timeout
        self.order_key = order_key.encode()
        self.student = StudentKernel(connection_info, call_timeout)
        self.cells: list[str] = []   # the text of every cell that ran in S, in order (never run here)
        self.bound: set[str] = set()  # the names taken from S so far

    def reconnect(self) -> None:
        """S was restarted (its kernel died or ignored a timeout): a fresh client, ready on every
        channel; the old one's handles are gone, and what it recorded is kept."""
        old = self.student
        try:
            old.close()
        except Exception:  # noqa: BLE001 - its sockets may already be gone
            pass
        self.student = StudentKernel(self.connection_info, self.call_timeout)
        self.student.incidents = old.incidents
        self.student.relayed = old.relayed

    def incidents(self) -> str:
        """What a person should look at, as JSON (read by the grader at the end of the notebook)."""
        return json.dumps(self.student.incidents[:20])

    def namespace(self) -> dict:
        from IPython import get_ipython

        return get_ipython().user_ns

    def bind(self, names: list[str], cell_source: str = "") -> dict[str, str]:
        """Bind each of ``names`` to what the student's code bound it to (a value or a handle).

        ``cell_source`` is the student's cell text (data, parsed here and never run): a function's
        handle keeps its own source, for tests that read code (:func:`helpers.checks.source_of`).
        Returns what each name became, for the grader's log.
        """
        namespace, done = self.namespace(), {}
        self.cells.append(cell_source)
        self.bound.update(names)
        readings = read_definitions(self.cells, sorted(self.bound))
        for name in names:
            try:
                value = self.student.request(("value", name))
            except NameError:
                done[name] = "missing"
                continue
            except StudentKernelError as exc:
                done[name] = f"unavailable: {exc}"
                continue
            except Exception as exc:  # noqa: BLE001 - a value the judge refuses: the name stays unbound
                done[name] = f"refused: {type(exc).__name__}: {exc}"
                namespace.pop(name, None)
                continue
            reading = readings.get(name)
            if type(value) is Handle and reading is not None:
                object.__setattr__(value, "_source_text", reading.source)
                object.__setattr__(value, "_source_refused", reading.untrusted)
            namespace[name] = value
            done[name] = type(value).__name__
        for name, reading in readings.items():  # code whose text hides which definition runs
            if reading.unclear and type(namespace.get(name)) is Handle:  # (data is judged as data)
                namespace[name] = _Unclear(name, reading.unclear)
                done[name] = "unclear"
                self.flag(f"{reading.unclear}: its tests score nothing")
        return done

    def flag(self, reason: str) -> None:
        """Record something a person should look at (the submission is flagged)."""
        if reason not in self.student.incidents:
            self.student.incidents.append(reason)

    def learner_test_sources(self) -> dict[str, str]:
        """``{name: text}`` of every ``test...`` function the learner's cells define at their top
        level, from the cells' text (read, never run), the last definition of each name."""
        found: dict[str, str] = {}
        for cell in self.cells:
            try:
                tree = ast.parse(cell)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                continue
            for node in tree.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                    found[node.name] = ast.get_source_segment(cell, node) or ""
        return found

    def shuffled(self, name: str, items: list) -> list:
        """``items`` (the runs of the learner's tests of ``name``: the reference twice, each seeded
        bug once) in an order the student's code cannot know in advance: a permutation drawn from
        the course's secret key and the text of every cell the student ran. The same submission
        gets the same order on every regrade (deterministic scores); a test that keeps what it saw
        from one run to the next (a file, a counter in the kernel) cannot tell which run holds the
        reference, as it could when the reference always ran first."""
        text = "\0".join([name, *self.cells]).encode("utf-8", "surrogatepass")
        seed = hmac.new(self.order_key, text, hashlib.sha256).digest()
        order = list(items)
        random.Random(seed).shuffle(order)
        return order

    def run_learner_tests(self, name: str, implementation: Any, time_limit: float,
                          stop_at_first_failure: bool = False, meta: dict | None = None
                          ) -> list[tuple[str, bool, str]]:
        """Run the learner's tests (in a fresh fork of the student's kernel) with ``name`` bound to
        a proxy described by ``meta`` (:func:`helpers.mutation_grading.candidate_meta`); the
        proxy's calls come back here and are answered by ``implementation``, which never leaves
        the judge. Only each test's name, pass/fail and reason come back."""
        from helpers.mutation_grading import _Served, candidate_meta

        meta = meta or candidate_meta(name, implementation)
        self.student.served = _Served(implementation, meta.get("interface", ()))
        try:
            rows = self.student.request(("run_tests", name, meta, time_limit, stop_at_first_failure))
        finally:
            self.student.served = None
        if not isinstance(rows, list):
            raise StudentKernelError("the learner's tests sent back no results")
        out = []
        for row in rows:
            if not (isinstance(row, tuple) and len(row) == 3):
                raise StudentKernelError("the learner's tests sent back malformed results")
            out.append((str(row[0])[:200], row[1] is True, str(row[2])[:500]))
        return out


class _Unclear:
    """What the judge binds for a name the learner's text does not define plainly (a definition
    nested in a block, a ``global`` rebinding...): every use fails with the reason."""

    __slots__ = ("_name", "_why")

    def __init__(self, name: str, why: str):
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_why", why)

    def _fail(self, *_args, **_kwargs):
        from helpers.checks import CheckFailed

        raise CheckFailed(self._name, "a definition the grader can read: one plain def (or "
                          f"{self._name} = ...) at the top level of its answer cell",
                          self._why, "Move the definition out of the block, so the text shows "
                          "which code runs.")

    __call__ = _fail

    def __getattr__(self, attribute):
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        self._fail()

    @property
    def _source(self):
        self._fail()

    def __repr__(self) -> str:
        return f"<{self._name}: not graded ({self._why})>"


def source_of_handle(obj: Any) -> str | None:
    """The student's source text of a function bound in the judge, or None if ``obj`` is not one."""
    if type(obj) is Handle:
        return obj._source
    return None
