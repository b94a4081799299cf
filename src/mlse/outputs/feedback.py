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
from traitlets import Enum

from ..notebook_cells import hidden_lines, split_hidden
from ..course import TIMESTAMP_FILE

__all__ = ["RedactHiddenOutputs", "hidden_lines", "significant_lines", "leaked_lines",
           "html_text", "generate_feedback", "feedback_with_report"]

WITHHELD = "(output withheld: it would show a hidden test)"


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

    hidden_feedback = Enum(
        ["full", "hint_only", "hint_only_until_due"], "full",
        help="What a hidden test's failure tells the student. 'full': its friendly message "
             "(what was expected, what the answer gave, the hint); 'hint_only': pass or fail and "
             "the hint, never the expected values or inputs (nor printed output); "
             "'hint_only_until_due': hint only until the assignment's latest due date (extensions "
             "included) has passed, then full; with no due date, hint only.").tag(config=True)

    def _hint_only(self, resources) -> bool:
        if self.hidden_feedback != "hint_only_until_due":
            return self.hidden_feedback == "hint_only"
        info = (resources or {}).get("nbgrader", {})
        if not info.get("db_url") or not info.get("assignment"):
            return True
        key = (info["db_url"], info["assignment"])
        if getattr(self, "_due_cache", (None,))[0] != key:
            self._due_cache = (key, _latest_due(info["db_url"], info["assignment"]))
        due = self._due_cache[1]
        from datetime import datetime, timezone

        return due is None or datetime.now(timezone.utc).replace(tzinfo=None) < due

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
            from ..selfcheck import answer_error_note  # an answer cell that raised says so (issue 20)

            note = answer_error_note(cell)
            if note and not any(note in str(o.get("text", "")) for o in cell.get("outputs", [])):
                cell.outputs.append(nbformat.v4.new_output("stream", name="stderr", text=note + "\n"))
            return cell, resources
        if cell.cell_type != "code" or not hidden_lines(cell.source):
            return cell, resources
        if self._hint_only(resources):
            return _hint_only_outputs(cell), resources
        hidden = significant_lines(hidden_lines(cell.source))

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


HINT_ONLY_NOTE = ("(a hidden test: details such as expected values are shown after the due date)")


def _latest_due(db_url: str, assignment: str):
    """The assignment's latest due date over every student (its due date plus the longest
    extension), naive UTC as nbgrader stores it; None without a due date."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gb:
        try:
            a = gb.find_assignment(assignment)
        except MissingEntry:
            return None
        if a.duedate is None:
            return None
        extensions = [s.extension for s in gb.assignment_submissions(assignment) if s.extension]
        return a.duedate + max(extensions, default=a.duedate - a.duedate)


def _hint_only_outputs(cell):
    """Pass or fail and the hint only: a failed CheckFailed keeps its first line ("✘ what: not
    right yet.") and its "Hint:" lines; any other error keeps only its name; printed output and
    displays are dropped (they may show inputs); a bare number (partial credit) is kept."""
    outputs = []
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "error":
            name = out.get("ename", "Error")
            lines = str(out.get("evalue", "")).splitlines()
            if name == "CheckFailed":
                kept = lines[:1] + [l for l in lines[1:] if l.strip().startswith("Hint")]
            else:
                kept = [f"{name} (raised by a hidden test)"]
            out["evalue"] = "\n".join(kept)
            out["traceback"] = [name, *kept]
            outputs.append(out)
        elif kind == "execute_result":
            text = str(out.get("data", {}).get("text/plain", "")).strip()
            if re.fullmatch(r"-?\d+(\.\d+)?", text):
                out["data"] = {"text/plain": text}
                outputs.append(out)
    if any(o.get("output_type") == "error" for o in outputs):
        outputs.append(nbformat.v4.new_output("stream", name="stdout", text=HINT_ONLY_NOTE + "\n"))
    cell.outputs = outputs
    return cell


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
    return {_norm(line) for cell in nb.cells for line in split_hidden(cell.source)[0]}


def leaked_lines(html_path: str | Path, graded_notebook: str | Path) -> list[str]:
    """Lines of the hidden regions of ``graded_notebook`` that appear in the HTML file.

    Lines that the learner can see anyway (in their own answers or the visible tests) are not
    counted as leaks.
    """
    nb = nbformat.read(graded_notebook, as_version=4)
    hidden = set()
    for cell in nb.cells:
        hidden |= significant_lines(hidden_lines(cell.source))
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
    status: str  # "written", "withheld" (leak found, not placed), "missing", "attention" (not
    # current), "not graded" (a new version waits for mlse grade), "unchanged" (nothing changed
    # since it was written), "waiting" (for hand grades)
    note: str = ""


def generate_feedback(root: str | Path, assignment: str, students: list[str] | None = None,
                      force: bool = False, wait_for_hand_grades: bool = False) -> list[FeedbackFile]:
    """Run nbgrader's generate_feedback for the graded submissions of ``assignment`` (or only
    ``students``), then check every file for hidden-test leaks.

    nbgrader writes into a temporary feedback folder; each file that passes the check then
    replaces that student's file in the course's feedback folder, one by one. So a step that fails
    (a missing gradebook, nbgrader stopping on one notebook) never deletes feedback that exists,
    and a leaking file is never placed (reported as withheld). Submissions that need attention
    (:mod:`mlse.attention`), or whose version collected is not graded yet, get no feedback: their
    grade is not current.

    Only what changed is generated again (:mod:`mlse.outputs.feedback_state`: the graded
    notebooks, the student's grades and comments, the hidden-feedback mode); ``force`` writes
    every file. Answers still waiting for a hand grade are marked "Pending" in the file, or, with
    ``wait_for_hand_grades``, the student gets no feedback until they are graded.
    """
    import shutil
    import tempfile

    from .. import attention
    from ..course import Course

    course = Course.of(root)
    root = course.root
    course.require_gradebook()
    graded = course.autograded
    all_graded = course.graded_students(assignment)
    waiting = attention.reasons(course, assignment)
    results = []
    if students:
        unknown = [s for s in students if s not in all_graded]
        for s in unknown:
            why = waiting.get((assignment, s), {}).get("reason") or "no graded submission (run mlse grade)"
            results.append(FeedbackFile(s, None, "missing", why))
        wanted = [s for s in students if s in all_graded]
    else:
        wanted = all_graded
    for s in [s for s in wanted if (assignment, s) in waiting]:
        results.append(FeedbackFile(s, None, "attention", waiting[(assignment, s)]["reason"]))
    wanted = [s for s in wanted if (assignment, s) not in waiting]
    ungraded = _not_graded_yet(course, assignment)
    for s in [s for s in wanted if s in ungraded]:
        results.append(FeedbackFile(s, None, "not graded", ungraded[s] + " first (the feedback "
                                    "already there, if any, is of the version graded before)"))
    wanted = [s for s in wanted if s not in ungraded]
    if not wanted and not results:
        raise FileNotFoundError(f"No graded submissions of {assignment} in {graded.name}/: "
                                f"run `mlse grade {assignment}` first.")
    from .feedback_state import select, remember

    wanted, skipped, digests = select(course, assignment, wanted, force, wait_for_hand_grades)
    results += skipped
    if not wanted:
        return results
    tmp = Path(tempfile.mkdtemp(prefix="mlse-feedback-"))
    try:
        staged = Course(root, course.config, extra={"CourseDirectory": {"feedback_directory": str(tmp)}})
        others = sorted(set(all_graded) - set(wanted))  # only these: leave out everyone else
        failures = _render(staged, assignment, wanted, exclude=others)
        for student in wanted:
            for nb_path in sorted(course.autograded_of(student, assignment).glob("*.ipynb")):
                html = staged.feedback_of(student, assignment) / (nb_path.stem + ".html")
                results.append(_check_and_place(html, nb_path, course.feedback_of(student, assignment),
                                                student, root, _why_missing(failures, student, nb_path.stem)))
            if all(r.status == "written" for r in results if r.student == student):
                remember(course, assignment, student, digests[student])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return results


def _not_graded_yet(course, assignment: str) -> dict[str, str]:
    """Students whose version collected is not the one graded (their feedback would be of the old
    version): :func:`mlse.grade.selection.not_graded_yet`."""
    from ..grade.selection import not_graded_yet

    with course.gradebook() as gb:
        in_gradebook = {sub.student.id for sub in gb.assignment_submissions(assignment)}
    return not_graded_yet(course, assignment, in_gradebook)


def _render(staged, assignment: str, students: list[str], exclude: list[str] = ()) -> dict[tuple[str, str], str]:
    """nbgrader's GenerateFeedback, in this process, into ``staged``'s feedback folder. Returns
    ``{(student, notebook): why}`` for each notebook nbgrader could not render (it goes on with
    the other students, and leaves none of that student's files)."""
    import logging

    from nbgrader.converters import GenerateFeedback
    from nbgrader.converters.base import NbGraderException
    from nbgrader.coursedir import CourseDirectory

    failures: dict[tuple[str, str], str] = {}

    class _Feedback(GenerateFeedback):
        def convert_single_notebook(self, notebook_filename):
            try:
                super().convert_single_notebook(notebook_filename)
            except BaseException as exc:
                info = self.init_single_notebook_resources(notebook_filename)["nbgrader"]
                first = str(exc).strip().splitlines()
                failures[(info["student"], info["notebook"])] = \
                    f"{type(exc).__name__}: {first[0][:300]}" if first else type(exc).__name__
                raise

    log = logging.getLogger(f"mlse.feedback.{assignment}")
    log.propagate = False  # nbgrader's progress lines are not the instructor's to read
    if not log.handlers:
        log.addHandler(logging.NullHandler())
    coursedir = CourseDirectory(config=staged.config, log=log)
    coursedir.root = str(staged.root)
    coursedir.assignment_id = assignment
    if len(students) == 1:
        coursedir.student_id = students[0]
    elif exclude:
        coursedir.student_id_exclude = ",".join(exclude)
    app = _Feedback(coursedir=coursedir, config=staged.config, log=log)
    app.force = True
    try:
        app.start()
    except NbGraderException as exc:  # at the end when a notebook failed (recorded above), or at once
        if not failures:
            first = str(exc).strip().splitlines()
            failures[("", "")] = f"nbgrader stopped: {first[0][:300] if first else type(exc).__name__}"
    return failures


def _why_missing(failures: dict[tuple[str, str], str], student: str, notebook: str) -> str:
    """Why nbgrader wrote no feedback for this notebook ("" if it did not say)."""
    if (student, notebook) in failures:
        return failures[(student, notebook)]
    others = [f"{nb}: {why}" for (s, nb), why in sorted(failures.items()) if s == student]
    if others:
        return f"nbgrader stopped on another notebook of this submission ({others[0]})"
    return failures.get(("", ""), "")


#: Files nbgrader's release_feedback matches a student's feedback by: they follow the graded version.
RELEASE_KEYS = (TIMESTAMP_FILE, "submission_secret.txt")


def _check_and_place(html: Path, graded_notebook: Path, dest_folder: Path, student: str,
                     root: Path, note: str) -> FeedbackFile:
    """Check one freshly generated file, then put it in place (replacing only its own old copy)."""
    import shutil

    if not html.is_file():
        old = dest_folder / html.name
        why = (note or "nbgrader wrote none") + (" (the earlier file was kept)" if old.is_file() else "")
        return FeedbackFile(student, None, "missing", why)
    leaks = leaked_lines(html, graded_notebook)
    if leaks:
        return FeedbackFile(student, None, "withheld",
                            f"{len(leaks)} hidden line(s) found, file not placed: {leaks[0][:60]}")
    dest_folder.mkdir(parents=True, exist_ok=True)
    # nbgrader copies every other file of the autograded folder beside the page, and autograde
    # put the assignment's own files there: rubric.md, with its model answers, would reach a
    # student (and, released while a classmate has an extension, before that classmate's
    # deadline). Only the pages and the files release_feedback matches them by are placed; any
    # other file an earlier version placed is removed.
    for old in dest_folder.iterdir():
        if old.is_file() and old.suffix != ".html" and old.name not in RELEASE_KEYS:
            old.unlink()
    for name in RELEASE_KEYS:
        # The submission's timestamp and secret always follow the version just graded: after a
        # resubmission, `nbgrader release_feedback` finds the student's feedback by the new secret.
        if (html.parent / name).is_file():
            shutil.copy2(html.parent / name, dest_folder / name)
    dest = dest_folder / html.name
    tmp = dest.with_name(dest.name + ".new")
    shutil.copy2(html, tmp)
    tmp.replace(dest)
    return FeedbackFile(student, dest.relative_to(root), "written")


def feedback_with_report(root: str | Path, assignment: str, console=None,
                         students: list[str] | None = None, verbose: bool = False,
                         force: bool = False, wait_for_hand_grades: bool = False) -> int:
    """:func:`generate_feedback`, then counts and every problem in full (a table of every
    file with ``verbose``); returns the number of problems."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console(soft_wrap=True)
    results = generate_feedback(root, assignment, students, force=force,
                                wait_for_hand_grades=wait_for_hand_grades)
    quiet = {"written", "unchanged", "waiting"}
    if verbose:
        table = Table(title=f"{assignment}: feedback for {len(results)} notebook(s)")
        for col in ("student", "outcome", "file or reason"):
            table.add_column(col, overflow="fold")
        for r in results:
            style = "green" if r.status in quiet else "bold red"
            table.add_row(r.student, f"[{style}]{r.status}[/]", str(r.path) if r.path else r.note)
        console.print(table)
    counts = {k: sum(r.status == k for r in results) for k in ("written", "unchanged", "waiting")}
    console.print(f"[bold]{assignment}[/]: feedback {counts['written']} written, "
                  f"{counts['unchanged']} unchanged (not regenerated; --force to redo), "
                  f"{counts['waiting']} waiting for hand grades, "
                  f"{sum(r.status not in quiet for r in results)} not written")
    for r in results:
        if r.status not in quiet:
            console.print(f"  {r.student}: [bold red]{r.status}[/]: {r.note}")
    return sum(r.status not in quiet for r in results)
