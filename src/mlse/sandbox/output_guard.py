"""A cap on what a kernel may put into a notebook: per cell and for the whole notebook.

Kernel output is hostile. nbgrader's ``LimitOutput`` trims lines only after the fact, once
everything is in the grader's memory; a cap inside nbclient's ``output()`` misses display
updates: ``update_display_data`` (and a ``display_data`` that reuses a display id) rewrites
*every* earlier output with that id, in every cell, so 1,000 tiny displays and one 1 MB update
make 1 GB of notebook. :class:`OutputGuard` sees every iopub message before it is applied and
charges it for what it would add to the notebook:

* a stream message: its text (cut to what is left, so a big print keeps its beginning);
* a display or result: its data, times the number of outputs it would write (the outputs
  that already carry its display id, plus itself);
* an error: always kept (nbgrader scores a cell by whether it has an error output: dropping one
  would turn a failure into a pass), but its message and traceback are cut to ``max_error_bytes``;
* ``clear_output`` gives nothing back: the cap is on what was sent, which bounds what is kept.

Past the cell's or the notebook's budget a message is dropped, and the cell gets one note saying
so. The guard is plain Python with no nbclient dependency beyond the message format, so any
executor (the Execute step here, the judge's executor) can use it::

    guard = OutputGuard(max_cell_bytes=1_000_000, max_total_bytes=5_000_000)
    verdict = guard.check(msg, cell_index, outputs_with_display_id=n)
    if verdict.drop: ...            # do not apply msg; add verdict.note to the cell once
    else: apply(verdict.msg)        # possibly a truncated copy
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass

__all__ = ["OutputGuard", "Verdict", "OUTPUT_TYPES", "display_id_count"]

OUTPUT_TYPES = {"stream", "display_data", "execute_result", "error", "update_display_data"}
OVERHEAD = 200  # bytes charged per output besides its content (many tiny outputs add up too)


@dataclass
class Verdict:
    msg: dict | None          # the message to apply (possibly truncated); None when dropped
    drop: bool = False
    note: str = ""            # a note for the cell (only the first time it is cut)


def _size(obj) -> int:
    try:
        return len(json.dumps(obj, ensure_ascii=False))
    except (TypeError, ValueError):
        return len(repr(obj))


def display_id_count(display_id_map: dict, display_id: str | None) -> int:
    """How many outputs carry ``display_id`` (nbclient's ``_display_id_map`` shape)."""
    if not display_id or display_id not in display_id_map:
        return 0
    return sum(len(v) for v in display_id_map[display_id].values())


class OutputGuard:
    """Budgets for one notebook's output (call :meth:`reset` before each notebook)."""

    def __init__(self, max_cell_bytes: int = 1_000_000, max_total_bytes: int = 5_000_000,
                 max_error_bytes: int = 20_000):
        self.max_cell_bytes = max_cell_bytes
        self.max_total_bytes = max_total_bytes
        self.max_error_bytes = max_error_bytes
        self.reset()

    def reset(self) -> None:
        self.total = 0
        self.per_cell: dict[int, int] = {}
        self.noted: set[int] = set()
        self.dropped_bytes = 0

    def _left(self, cell_index: int) -> int:
        return min(self.max_cell_bytes - self.per_cell.get(cell_index, 0),
                   self.max_total_bytes - self.total)

    def _charge(self, cell_index: int, n: int) -> None:
        self.per_cell[cell_index] = self.per_cell.get(cell_index, 0) + n
        self.total += n

    def _note(self, cell_index: int) -> str:
        if cell_index in self.noted:
            return ""
        self.noted.add(cell_index)
        which = ("this notebook's" if self.total >= self.max_total_bytes - OVERHEAD
                 else "this cell's")
        limit = self.max_total_bytes if which == "this notebook's" else self.max_cell_bytes
        return (f"\n[output truncated by the grader: {which} output went past "
                f"{limit:,} bytes; the rest was dropped]\n")

    def check(self, msg: dict, cell_index: int, outputs_with_display_id: int = 0) -> Verdict:
        """Decide what to do with one iopub message of the cell ``cell_index``.

        ``outputs_with_display_id``: how many outputs already carry the message's display id
        (see :func:`display_id_count`); they are all rewritten if the message is applied.
        """
        kind = msg.get("msg_type") or msg.get("header", {}).get("msg_type")
        if kind not in OUTPUT_TYPES:
            return Verdict(msg)
        content = msg.get("content") or {}
        if kind == "error":
            return Verdict(self._cut_error(msg, cell_index))
        if kind == "stream":
            text = content.get("text", "")
            if not isinstance(text, str):
                text = str(text)
            left = self._left(cell_index)
            cost = len(text.encode("utf-8", "replace")) + OVERHEAD
            if cost <= left:
                self._charge(cell_index, cost)
                return Verdict(msg)
            self.dropped_bytes += cost
            keep = max(0, left - OVERHEAD)
            note = self._note(cell_index)
            if keep <= 0:
                return Verdict(None, drop=True, note=note)
            cut = copy.deepcopy(msg)
            cut["content"]["text"] = text.encode("utf-8", "replace")[:keep].decode("utf-8", "ignore")
            self._charge(cell_index, keep + OVERHEAD)
            return Verdict(cut, note=note)
        # display_data, execute_result, update_display_data
        transient = content.get("transient") or {}
        has_id = bool(transient.get("display_id"))
        copies = outputs_with_display_id if has_id else 0
        if kind != "update_display_data":
            copies += 1  # the output this message appends
        size = _size(content.get("data")) + _size(content.get("metadata")) + OVERHEAD
        cost = size * max(copies, 1)
        if cost <= self._left(cell_index):
            self._charge(cell_index, cost)
            return Verdict(msg)
        self.dropped_bytes += cost
        return Verdict(None, drop=True, note=self._note(cell_index))

    def _cut_error(self, msg: dict, cell_index: int) -> dict:
        content = msg.get("content") or {}
        size = _size(content)
        if size <= self.max_error_bytes:
            self._charge(cell_index, size)
            return msg
        cut = copy.deepcopy(msg)
        c = cut["content"]
        c["ename"] = str(c.get("ename", "Error"))[:200]
        c["evalue"] = str(c.get("evalue", ""))[: self.max_error_bytes // 2]
        tb = [str(line) for line in (c.get("traceback") or [])]
        kept, used = [], 0
        for line in reversed(tb):  # the end of a traceback says what failed
            if used + len(line) > self.max_error_bytes // 2:
                break
            kept.append(line)
            used += len(line)
        c["traceback"] = ["[traceback cut by the grader]", *reversed(kept)]
        self._charge(cell_index, _size(c))
        return cut
