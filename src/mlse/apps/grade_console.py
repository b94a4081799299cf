"""What ``mlse grade`` shows: a progress bar while grading, then a summary a person reads at 200
students (counts, and only what needs a person), with every detail in the run's JSON log.

The grading itself (:func:`mlse.grade.batch.grade_assignment`) prints nothing; the summary's
content is :func:`mlse.outputs.summary.grade_summary`.
"""

from __future__ import annotations

from ..grade.batch import grade_assignment
from ..grade.pool import default_workers
from ..grade.result import FAILED, GRADED, SKIPPED, Outcome

__all__ = ["grade_with_progress", "print_grade_summary", "print_flagged", "summary_table"]


def grade_with_progress(course, assignment: str, *, workers: int | None = None,
                        force: bool = False, extra_config: dict | None = None, sandbox: bool = True,
                        console=None, students: list[str] | None = None,
                        verbose: bool = False, started=None,
                        regrade: list[str] | None = None) -> list[Outcome]:
    """:func:`~mlse.grade.batch.grade_assignment` with a rich progress bar, then the summary
    (counts and problems; per-student lines with ``verbose``) and its JSON log. ``students``:
    only these (``--student``, ``--only-failed``); ``regrade``: these are graded even if already
    graded (an interrupted ``--force`` run, resumed). ``started()`` is called once the run holds
    the course's lock, before anything is graded."""
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)

    from ..course import Course

    course = Course.of(course)
    console = console or Console()
    workers = workers or default_workers()
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                   console=console, transient=False)
    task = bar.add_task(assignment, total=None)

    def announce(to_grade: int, skipped: int) -> None:
        # once the run holds the lock: a run refused by the lock prints only why
        if started:
            started()
        if to_grade:
            console.print(f"Grading {to_grade} submission(s) of [bold]{assignment}[/] with "
                          f"{min(workers, to_grade)} worker(s)"
                          + (f" ({skipped} already graded, skipped)" if skipped else ""))
        else:
            console.print(f"[bold]{assignment}[/]: nothing new to grade ({skipped} already "
                          f"graded, skipped)")
        bar.update(task, total=to_grade + skipped)

    def advance(o: Outcome) -> None:
        # started at the first result, after the worker processes were forked: no refresh
        # thread exists when they fork
        if not bar.live.is_started:
            bar.start()
        bar.update(task, advance=1, description=f"{assignment} [dim]{o.student}: {o.status}[/]")

    try:
        outcomes = grade_assignment(course, assignment, workers=workers, force=force,
                                    extra_config=extra_config, sandbox=sandbox, students=students,
                                    progress=advance, announce=announce, regrade=regrade)
    finally:
        bar.stop()
    print_grade_summary(course, assignment, outcomes, console=console, verbose=verbose)
    print_flagged(outcomes, console)
    return outcomes


def print_grade_summary(course, assignment: str, outcomes: list[Outcome], console=None,
                        verbose: bool = False):
    """The end of ``mlse grade``: counts, every failure with its reason in full, submissions that
    need attention since collect, missing submissions, the points that wait for a hand grade; one
    line per student only with ``verbose``. Writes the run's JSON log; returns the summary."""
    from rich.console import Console
    from rich.markup import escape

    from ..course import Course
    from ..outputs.summary import grade_summary, write_log

    course = Course.of(course)
    console = console or Console(soft_wrap=True)
    summary = grade_summary(course, assignment, outcomes)
    write_log(course, summary)
    if verbose:
        console.print(summary_table(outcomes, assignment, _as_exported(course, assignment)))
    c = summary.counts
    console.print(f"[bold]{assignment}[/]: {len(outcomes)} submission(s): {c[GRADED]} graded, "
                  f"{c[SKIPPED]} already graded (skipped), "
                  f"{'[bold red]' if c[FAILED] else ''}{c[FAILED]} failed{'[/]' if c[FAILED] else ''}")
    if summary.failed:
        stale = course.state_path("stale-feedback").relative_to(course.root).as_posix()
        console.print("[bold red]Failed[/] (needs attention: the old grade no longer counts, old "
                      f"feedback moved to {stale}/):", soft_wrap=True)
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
                      f"student(s): grade them with `mlse handgrade export {assignment}` or in formgrader "
                      f"(their scores stay blank in the export until then)", soft_wrap=True)
    console.print(f"Everything, per student: {summary.log}"
                  + ("" if verbose else " (or --verbose)"), soft_wrap=True)
    return summary


def print_flagged(outcomes: list[Outcome], console) -> None:
    """The submissions a person should look at (marked ``flagged`` in the gradebook), and why:
    a call into the student's code that failed in a telling way, a kernel that died, intake's
    findings. Honest and blank submissions have none."""
    flagged = [o for o in outcomes if o.incidents]
    if not flagged:
        return
    console.print(f"[bold yellow]{len(flagged)} submission(s) flagged for a person to look at[/] "
                  "(marked flagged in the gradebook):")
    for o in flagged:
        console.print(f"  [bold]{o.student}[/]: " + "; ".join(dict.fromkeys(o.incidents)))


def _as_exported(course, assignment: str) -> dict:
    """student -> their :class:`~mlse.outputs.export.Standing` on ``assignment``: the grade
    ``mlse export`` writes (late penalty taken, blank while hand grades are pending)."""
    from ..outputs.export import standings

    with course.gradebook() as gb:
        _, table, _ = standings(gb, course, [assignment])
    return {student: st for (student, _), st in table.items()}


def _grade_cell(outcome: Outcome, standing) -> str:
    """What the export will say for this student: the final score after the late penalty, or
    "blank" and why (points so far while hand grades are pending)."""
    if outcome.score is None:
        return ""
    if standing is None:
        return f"{outcome.score:g} / {outcome.max_score:g}"
    if standing.score is not None:
        late = f" (late: -{standing.penalty:g})" if standing.penalty else ""
        return f"{standing.score:g} / {standing.max_score:g}{late}"
    so_far = (f"{standing.raw_score:g} / {standing.max_score:g} so far; "
              if standing.raw_score is not None else "")
    return f"blank: {so_far}{standing.pending}"


def summary_table(outcomes: list[Outcome], assignment: str, exported: dict | None = None):
    """One line per student: outcome, the grade as exported, seconds, note (``--verbose``).
    ``exported``: student -> Standing (:func:`_as_exported`); without it, the gradebook's points."""
    from rich.table import Table

    counts = {s: sum(o.status == s for o in outcomes) for s in (GRADED, SKIPPED, FAILED)}
    table = Table(title=f"{assignment}: {counts[GRADED]} graded, {counts[SKIPPED]} skipped, "
                        f"{counts[FAILED]} failed")
    heading = "grade (as exported)" if exported is not None else "points"
    for col, kw in (("student", {}), ("outcome", {}), (heading, {"justify": "right"}),
                    ("seconds", {"justify": "right"}), ("note", {"overflow": "fold"})):
        table.add_column(col, **kw)
    style = {GRADED: "green", SKIPPED: "dim", FAILED: "bold red"}
    for o in outcomes:
        table.add_row(o.student, f"[{style[o.status]}]{o.status}[/]",
                      _grade_cell(o, (exported or {}).get(o.student)),
                      f"{o.seconds:.1f}" if o.seconds else "", o.message)
    return table
