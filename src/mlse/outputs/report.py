"""Item analysis of one assignment: where did the class struggle?

A teacher acts on three things, so the report shows three things, from the class gradebook and the
autograded notebooks:

* the **score distribution** (a histogram of each student's total, with mean and median);
* the **pass rate per part** (the share of students who earned every autograded point of a part,
  and the mean share of its points), a part being what the notebook's ``## Part ...`` heading
  calls it;
* the **tests failed most often**, each with the message most students got from it (the first line
  of the friendly ``CheckFailed`` message, or the error's name), so the teacher knows what to
  re-teach.

It writes ``reports/ASSIGNMENT/index.html`` (self-contained: the plots are embedded) and the
plots as PNG files beside it. The report is for instructors: it may name hidden tests.
"""

from __future__ import annotations

import base64
import html
import io
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..notebook_cells import grade_id
from ..workspace import notebooks_of

__all__ = ["ItemAnalysis", "TestStat", "PartStat", "analyse", "write_report"]


@dataclass
class TestStat:
    notebook: str
    cell: str
    part: str
    max_score: float
    attempts: int = 0
    failures: int = 0
    messages: Counter = field(default_factory=Counter)

    @property
    def fail_rate(self) -> float:
        return self.failures / self.attempts if self.attempts else 0.0


@dataclass
class PartStat:
    part: str
    max_score: float
    full_marks: int = 0
    students: int = 0
    points: float = 0.0

    @property
    def pass_rate(self) -> float:
        return self.full_marks / self.students if self.students else 0.0

    @property
    def mean_share(self) -> float:
        return self.points / (self.students * self.max_score) if self.students and self.max_score else 0.0


@dataclass
class ItemAnalysis:
    assignment: str
    max_score: float
    totals: dict[str, float]  # student -> total score (autograded and hand-graded)
    parts: list[PartStat]
    tests: list[TestStat]  # most failed first
    not_graded: list[str]  # students whose submission has no autograde result (grading failed)
    needs_manual: int  # answers still waiting for a hand grade


def part_of_cells(notebook: Path) -> dict[str, str]:
    """grade_id -> the title of the part it belongs to: the last markdown heading (## or ###)
    above it in the solution notebook, with its leading #'s removed."""
    parts, current = {}, "(before the first part)"
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("## ") or line.startswith("### "):
                    current = line.lstrip("#").strip()
                    break
        gid = grade_id(cell)
        if gid:
            parts[gid] = current
    return parts


def _failure_message(cell) -> str | None:
    """What a student whose test failed was told: CheckFailed's first line, or the error name."""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            if out.get("ename") == "CheckFailed":
                first = str(out.get("evalue", "")).strip().splitlines()
                return first[0] if first else "CheckFailed"
            return f"{out.get('ename')}: {str(out.get('evalue', '')).splitlines()[0][:80] if out.get('evalue') else ''}"
    return None


def analyse(root, assignment: str) -> ItemAnalysis:
    from nbgrader.api import Gradebook

    from ..course import Course

    course = Course.of(root)
    parts_of = {nb.stem: part_of_cells(nb) for nb in notebooks_of(course.source_of(assignment))}
    tests: dict[tuple[str, str], TestStat] = {}
    part_points: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0]))
    totals, not_graded, needs_manual = {}, [], 0
    from .. import attention

    waiting = {s for (_, s) in attention.reasons(course, assignment)}  # grades that are not current
    with Gradebook(course.db_url) as gb:
        assignment_row = gb.find_assignment(assignment)
        max_score = assignment_row.max_score
        for sub in gb.assignment_submissions(assignment):
            student = sub.student.id
            if student in waiting:
                not_graded.append(student)
                continue
            graded_nbs = {}
            for nb in sub.notebooks:
                path = course.autograded_of(student, assignment) / f"{nb.name}.ipynb"
                if path.is_file():
                    graded_nbs[nb.name] = {grade_id(c): c
                                           for c in nbformat.read(path, as_version=4).cells}
            if not graded_nbs:
                not_graded.append(student)
                continue
            totals[student] = sub.score
            for nb in sub.notebooks:
                answers = {c.name for c in nb.notebook.solution_cells}
                for grade in nb.grades:
                    if grade.needs_manual_grade:
                        needs_manual += 1
                    if grade.name in answers:  # hand-graded answer: not an autograded test
                        continue
                    part = parts_of.get(nb.name, {}).get(grade.name, "(unknown part)")
                    stat = tests.setdefault((nb.name, grade.name),
                                            TestStat(nb.name, grade.name, part, grade.max_score))
                    score = grade.score or 0.0
                    stat.attempts += 1
                    pp = part_points[part][student]
                    pp[0] += score
                    pp[1] += grade.max_score
                    if score < grade.max_score:
                        stat.failures += 1
                        cell = graded_nbs.get(nb.name, {}).get(grade.name)
                        message = _failure_message(cell) if cell is not None else None
                        stat.messages[message or "no error shown (partial credit or no output)"] += 1
    parts = []
    for part, per_student in part_points.items():
        max_part = max(m for _, m in per_student.values())
        stat = PartStat(part, max_part)
        for got, possible in per_student.values():
            stat.students += 1
            stat.points += got
            stat.full_marks += got >= possible
        parts.append(stat)
    order = {p: i for i, p in enumerate(dict.fromkeys(
        part for nb in parts_of.values() for part in nb.values()))}
    parts.sort(key=lambda p: order.get(p.part, len(order)))
    ranked = sorted(tests.values(), key=lambda t: (-t.fail_rate, -t.failures, t.cell))
    return ItemAnalysis(assignment, max_score, totals, parts, ranked, sorted(not_graded), needs_manual)


# --------------------------------------------------------------------------------------------
# Plots and the page


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def _plots(a: ItemAnalysis) -> dict[str, bytes]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = {}
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    scores = list(a.totals.values())
    bins = max(1, min(20, int(a.max_score) + 1))
    ax.hist(scores, bins=bins, range=(0, a.max_score), color="#4C72B0", edgecolor="white")
    if scores:
        ax.axvline(statistics.mean(scores), color="#C44E52", linestyle="--",
                   label=f"mean {statistics.mean(scores):.1f}")
        ax.legend()
    ax.set_xlabel(f"total score (out of {a.max_score:g})")
    ax.set_ylabel("students")
    ax.set_title(f"{a.assignment}: score distribution ({len(scores)} students)")
    out["score_distribution.png"] = _png(fig)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.5, 0.5 + 0.45 * max(1, len(a.parts))))
    labels = [p.part for p in a.parts][::-1]
    ax.barh(labels, [100 * p.pass_rate for p in a.parts][::-1], color="#55A868", label="full marks")
    ax.scatter([100 * p.mean_share for p in a.parts][::-1], labels, color="black", zorder=3,
               label="mean share of points")
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of students")
    ax.set_title("pass rate per part (autograded tests)")
    ax.legend(loc="lower right", fontsize=8)
    out["pass_rate_per_part.png"] = _png(fig)
    plt.close(fig)
    return out


def _table(headers: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_report(root: str | Path, assignment: str, out_dir: str | Path) -> Path:
    """Analyse ``assignment`` and write the page and its plots into ``out_dir/ASSIGNMENT/``."""
    a = analyse(root, assignment)
    folder = Path(out_dir) / assignment
    folder.mkdir(parents=True, exist_ok=True)
    images = _plots(a)
    for name, data in images.items():
        (folder / name).write_bytes(data)
    scores = list(a.totals.values())
    summary = (f"{len(scores)} graded submission(s); mean {statistics.mean(scores):.1f}, median "
               f"{statistics.median(scores):g} out of {a.max_score:g}." if scores else
               "No graded submissions yet: run `mlse grade` first.")
    img = "".join(f'<p><img alt="{n}" src="data:image/png;base64,{base64.b64encode(d).decode()}"></p>'
                  for n, d in images.items())
    parts = _table(["part", "points", "students with full marks", "mean share of points"],
                   [[p.part, f"{p.max_score:g}", f"{p.full_marks} of {p.students} "
                     f"({100 * p.pass_rate:.0f}%)", f"{100 * p.mean_share:.0f}%"] for p in a.parts])
    tests = _table(["test cell", "part", "failed", "most common message"],
                   [[t.cell, t.part, f"{t.failures} of {t.attempts} ({100 * t.fail_rate:.0f}%)",
                     (f"{t.messages.most_common(1)[0][0]} ({t.messages.most_common(1)[0][1]}x)"
                      if t.messages else "")] for t in a.tests])
    extra = []
    if a.not_graded:
        extra.append(f"<p><b>Not graded</b> (grading failed, see <code>mlse grade</code>): "
                     f"{html.escape(', '.join(a.not_graded))}</p>")
    if a.needs_manual:
        extra.append(f"<p>{a.needs_manual} answer(s) still need a hand grade in formgrader.</p>")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(assignment)}: item analysis</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}
th{{background:#f3f3f3}}</style></head><body>
<h1>{html.escape(assignment)}: where the class struggled</h1>
<p>{html.escape(summary)}</p>{''.join(extra)}
<h2>Score distribution</h2>{img}
<h2>Pass rate per part</h2>{parts}
<h2>Tests failed most often</h2>
<p>Most failed first. A test "fails" for a student who earned less than its points.</p>{tests}
</body></html>
"""
    index = folder / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
