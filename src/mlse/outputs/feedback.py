"""Per-student HTML feedback that never shows a hidden test (nbgrader issue #917).

nbgrader's ``generate_feedback`` renders the autograded notebook: the student's answers, each
cell's score, the tests' output. The course's ``nbgrader_config.py`` runs ``ClearHiddenTests`` on
it, which removes the *source* between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``.
That is not enough: the *outputs* of a hidden test cell stay, and a traceback quotes the failing
source lines, so a hidden test that raises prints itself (and a test-writing part graded by
seeded buggy variants, which live in a hidden region, would print the variants). Two layers:

1. :class:`RedactHiddenOutputs`, a preprocessor that nbgrader_config.py runs *before*
   ClearHiddenTests: in every cell with a hidden region it keeps only what a learner should read
   (the friendly ``CheckFailed`` message, the error's name and message, printed lines, a numeric
   partial-credit result) and drops tracebacks, rich displays and any line that quotes the hidden
   region.
2. :func:`leaked_lines`, a check of the finished HTML against the hidden regions, run on every
   file by ``mlse feedback``: a file that still contains a line of a hidden test is deleted and
   reported, never sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor

__all__ = ["RedactHiddenOutputs", "hidden_regions", "significant_lines", "leaked_lines",
           "html_text", "generate_feedback", "feedback_with_report"]

BEGIN, END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
WITHHELD = "(output withheld: it would show a hidden test)"


def hidden_regions(source: str) -> list[str]:
    """The lines inside every hidden-test region of a cell's source (markers excluded)."""
    out, inside = [], False
    for line in source.splitlines():
        if BEGIN in line:
            inside = True
        elif END in line:
            inside = False
        elif inside:
            out.append(line)
    return out


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def significant_lines(lines, visible: set[str] = frozenset()) -> set[str]:
    """Hidden lines worth guarding: long enough to identify the test (at least 8 characters
    besides spaces, so ``else:`` and ``pass`` do not count) and not also visible elsewhere."""
    out = set()
    for line in lines:
        n = _norm(line)
        if len(n.replace(" ", "")) >= 8 and n not in visible:
            out.add(n)
    return out


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)


class RedactHiddenOutputs(NbGraderPreprocessor):
    """Keep only learner-safe output in cells that hold hidden tests (see the module docstring).

    An nbgrader preprocessor, so it is enabled as soon as it is listed in
    ``GenerateFeedback.preprocessors`` (nbconvert's own preprocessors start disabled).
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or BEGIN not in cell.source:
            return cell, resources
        hidden = significant_lines(hidden_regions(cell.source))

        def clean(text: str) -> tuple[str, bool]:
            kept, dropped = [], False
            for line in text.splitlines():
                n = _norm(_strip_ansi(line))
                if n and any(h in n or (len(n) >= 8 and n in h) for h in hidden):
                    dropped = True
                else:
                    kept.append(line)
            return "\n".join(kept), dropped

        outputs, withheld = [], False
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "stream":
                text, dropped = clean(out.get("text", ""))
                withheld |= dropped
                if text.strip():
                    out["text"] = text + "\n"
                    outputs.append(out)
            elif kind == "error":
                name = out.get("ename", "Error")
                value, dropped = clean(_strip_ansi(str(out.get("evalue", ""))))
                withheld |= dropped
                if name == "CheckFailed":  # written for learners: what was expected, a hint
                    out["traceback"] = ["CheckFailed", *value.splitlines()]
                else:
                    out["traceback"] = [f"{name}: {value}",
                                        "(raised by a hidden test; the test's code is not shown)"]
                out["evalue"] = value
                outputs.append(out)
            elif kind == "execute_result":  # a number here is partial credit: keep it, as text
                text, dropped = clean(str(out.get("data", {}).get("text/plain", "")))
                withheld |= dropped
                if text.strip():
                    out["data"] = {"text/plain": text}
                    outputs.append(out)
            else:
                withheld = True
        if withheld:
            outputs.append(nbformat.v4.new_output("stream", name="stdout", text=WITHHELD + "\n"))
        cell.outputs = outputs
        return cell, resources


def html_text(path: str | Path) -> str:
    """The text a reader sees in an HTML file (tags removed, entities decoded), whitespace
    collapsed: highlighted code is split into many tags, so a raw substring search would miss it."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(Path(path).read_text(encoding="utf-8"), "html.parser")
    for tag in soup(["style", "script"]):
        tag.decompose()
    return _norm(soup.get_text(" "))


def _visible_lines(nb) -> set[str]:
    """Lines a learner sees anyway: every source line outside the hidden regions."""
    seen = set()
    for cell in nb.cells:
        inside = False
        for line in cell.source.splitlines():
            if BEGIN in line:
                inside = True
            elif END in line:
                inside = False
            elif not inside:
                seen.add(_norm(line))
    return seen


def leaked_lines(html_path: str | Path, graded_notebook: str | Path) -> list[str]:
    """Lines of the hidden regions of ``graded_notebook`` that appear in the HTML file.

    Lines that the learner can see anyway (in their own answers or the visible tests) are not
    counted as leaks.
    """
    nb = nbformat.read(graded_notebook, as_version=4)
    hidden = set()
    for cell in nb.cells:
        hidden |= significant_lines(hidden_regions(cell.source))
    hidden -= _visible_lines(nb)
    # The raw bytes, scripts, comments and encodings included (sanitize.leak_views), not only the
    # text a reader sees; compare with spaces removed too: highlighting splits `a(b)` into `a ( b )`.
    from .sanitize import leak_views

    views = [_norm(v) for v in leak_views(html_path)]
    squashed = [v.replace(" ", "") for v in views]
    return sorted(h for h in hidden if any(h in v for v in views)
                  or any(h.replace(" ", "") in s for s in squashed))


@dataclass
class FeedbackFile:
    student: str
    path: Path | None
    status: str  # "written", "withheld" (leak found, file deleted) or "missing"
    note: str = ""


def generate_feedback(root: str | Path, assignment: str) -> list[FeedbackFile]:
    """Run nbgrader's generate_feedback for every graded submission of ``assignment``, then check
    every file for hidden-test leaks; a leaking file is deleted and reported as withheld."""
    from ..nbgrader_cli import NbgraderError, run_nbgrader

    root = Path(root)
    graded = root / "autograded"
    students = sorted(p.name for p in graded.iterdir() if (p / assignment).is_dir()) \
        if graded.is_dir() else []
    if not students:
        raise FileNotFoundError(f"No graded submissions of {assignment} in autograded/: "
                                f"run `mlse grade {assignment}` first.")
    note = ""
    try:
        run_nbgrader(["generate_feedback", assignment, "--force"], cwd=root)
    except NbgraderError as exc:  # nbgrader goes on past a bad notebook, then exits non-zero
        note = str(exc).splitlines()[0]
    results = []
    for student in students:
        for nb_path in sorted((graded / student / assignment).glob("*.ipynb")):
            html = root / "feedback" / student / assignment / (nb_path.stem + ".html")
            if not html.is_file():
                results.append(FeedbackFile(student, None, "missing", note or "nbgrader wrote none"))
                continue
            leaks = leaked_lines(html, nb_path)
            if leaks:
                html.unlink()
                results.append(FeedbackFile(student, None, "withheld",
                                            f"{len(leaks)} hidden line(s) found, file deleted: "
                                            f"{leaks[0][:60]}"))
            else:
                results.append(FeedbackFile(student, html.relative_to(root), "written"))
    return results


def feedback_with_report(root: str | Path, assignment: str, console=None) -> int:
    """:func:`generate_feedback` with a summary table; returns the number of problems."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    results = generate_feedback(root, assignment)
    table = Table(title=f"{assignment}: feedback for {len(results)} notebook(s)")
    for col in ("student", "outcome", "file or reason"):
        table.add_column(col, overflow="fold")
    for r in results:
        style = "green" if r.status == "written" else "bold red"
        table.add_row(r.student, f"[{style}]{r.status}[/]", str(r.path) if r.path else r.note)
    console.print(table)
    return sum(r.status != "written" for r in results)
