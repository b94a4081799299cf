"""The end of ``mlse grade``: a summary a person reads at 200 students, and a log of everything.

The console gets counts, then only what needs a person: every failure with its reason in full,
submissions that need attention since collect, missing submissions, and the points that wait for
a hand grade. One line per student only with ``--verbose``. Everything (every outcome, every
reason, the lists) goes to a JSON log in ``.mlse/logs/``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["GradeSummary", "grade_summary", "print_grade_summary"]


@dataclass
class GradeSummary:
    assignment: str
    counts: dict[str, int]
    failed: list[tuple[str, str]]  # student, reason in full
    attention: list[tuple[str, str]]  # student, reason (from collect, or an earlier run)
    missing: list[str]  # gradebook students with no submission
    manual_answers: int  # answers waiting for a hand grade
    manual_points: float
    manual_students: list[str]
    outcomes: list[dict] = field(default_factory=list)
    log: str = ""


def grade_summary(root, assignment: str, outcomes: list) -> GradeSummary:
    from nbgrader.api import Gradebook

    from .. import attention
    from ..course import Course

    course = Course.of(root)
    counts = {s: sum(o.status == s for o in outcomes) for s in ("graded", "skipped", "failed")}
    failed = [(o.student, o.message) for o in outcomes if o.status == "failed"]
    failed_ids = {s for s, _ in failed}
    waiting = [(s, r["reason"]) for (a, s), r in sorted(attention.reasons(course, assignment).items())
               if s not in failed_ids]
    manual_answers, manual_points, manual_students = 0, 0.0, set()
    with Gradebook(course.db_url) as gb:
        roster = sorted(s.id for s in gb.students)
        for sub in gb.assignment_submissions(assignment):
            for nb in sub.notebooks:
                for g in nb.grades:
                    if g.needs_manual_grade:
                        manual_answers += 1
                        manual_points += g.max_score
                        manual_students.add(sub.student.id)
    missing = [s for s in roster if not course.submission(s, assignment).is_dir()]
    return GradeSummary(assignment, counts, failed, waiting, missing, manual_answers, manual_points,
                        sorted(manual_students), [asdict(o) for o in outcomes])


def _write_log(course, summary: GradeSummary) -> Path:
    from ..course import Course

    course = Course.of(course)
    path = course.log_path("grade", summary.assignment)
    summary.log = str(path.relative_to(course.root))
    return course.write_log("grade", summary.assignment, asdict(summary), path)


def print_grade_summary(root, assignment: str, outcomes: list, console=None,
                        verbose: bool = False) -> GradeSummary:
    from rich.console import Console
    from rich.markup import escape

    from ..course import Course

    root = Course.of(root)
    console = console or Console(soft_wrap=True)
    summary = grade_summary(root, assignment, outcomes)
    _write_log(root, summary)
    if verbose:
        from ..grade.batch import summary_table

        console.print(summary_table(outcomes, assignment))
    c = summary.counts
    console.print(f"[bold]{assignment}[/]: {len(outcomes)} submission(s): {c['graded']} graded, "
                  f"{c['skipped']} already graded (skipped), "
                  f"{'[bold red]' if c['failed'] else ''}{c['failed']} failed{'[/]' if c['failed'] else ''}")
    if summary.failed:
        console.print("[bold red]Failed[/] (needs attention: the old grade no longer counts, old "
                      "feedback moved to .mlse/stale-feedback/):", soft_wrap=True)
        for student, reason in summary.failed:
            console.print(f"  {student}: {escape(reason)}", soft_wrap=True)
    if summary.attention:
        console.print("[bold yellow]Needs attention[/] (from collect or an earlier run; not counted "
                      "in the export):", soft_wrap=True)
        for student, reason in summary.attention:
            console.print(f"  {student}: {escape(reason)}", soft_wrap=True)
    if summary.missing:
        console.print(f"Missing: {len(summary.missing)} student(s) of the gradebook have no "
                      f"submission: {', '.join(summary.missing)}", soft_wrap=True)
    if summary.manual_answers:
        console.print(f"Waiting for a hand grade: {summary.manual_answers} answer(s), "
                      f"{summary.manual_points:g} point(s), from {len(summary.manual_students)} "
                      f"student(s): grade them in formgrader (their scores stay blank in the export "
                      f"until then)", soft_wrap=True)
    console.print(f"Everything, per student: {summary.log}"
                  + ("" if verbose else " (or --verbose)"), soft_wrap=True)
    return summary
