"""The instructor's command line, ``mlse``: run it from the course folder.

Each subcommand is a thin layer over nbgrader's own API and gradebook, kept in its own module
(grading, collect, feedback, export, report, demo, selfcheck); see ``mlse --help``. Learners only
need ``mlse check`` (their notebooks import :mod:`helpers`).
"""

from __future__ import annotations

import argparse
import sys

from ..course import Course
from ..nbgrader_cli import NbgraderError, environment_with_bin, run_nbgrader
from ..workspace import find_course_root


def _course() -> Course:
    """The course this command runs in (found from the current folder), built once."""
    return Course(find_course_root())


def _shown(course: Course, folder) -> str:
    """A course folder as the instructor sees it: relative to the course, with a slash."""
    try:
        return f"{folder.relative_to(course.root).as_posix()}/"
    except ValueError:
        return f"{folder}/"


def _assignments(course: Course, name: str | None) -> list[str]:
    """``[name]`` if it is an assignment of the source folder, every assignment if None; else an
    error."""
    known = course.assignments()
    if name is None:
        return known
    if name not in known:
        raise FileNotFoundError(f"No such assignment in {_shown(course, course.source)}: {name}. "
                                f"Known: {', '.join(known)}")
    return [name]


def cmd_release(args) -> int:
    """Regenerate the release folder (exercises/) from the source (solutions/) with
    `nbgrader generate_assignment`."""
    course = _course()
    known = course.assignments()
    names = [args.assignment] if args.assignment else known
    unknown = sorted(set(names) - set(known))
    if unknown:
        print(f"No such assignment in {_shown(course, course.source)}: {', '.join(unknown)}. "
              f"Known: {', '.join(known)}", file=sys.stderr)
        return 2
    for name in names:
        run_nbgrader(["generate_assignment", name, "--force"], cwd=course.root)
        print(f"released {_shown(course, course.release_of(name))} from "
              f"{_shown(course, course.source_of(name))}")
    return 0


def cmd_collect(args) -> int:
    from ..collect import LmsCollect, collect_zip, print_collect_report

    course = _course()
    (assignment,) = _assignments(course, args.assignment)
    options = course.settings(LmsCollect, max_notebook_mb=args.max_notebook_mb,
                              zip_timezone=args.zip_timezone)
    report = collect_zip(course, assignment, args.zip, add_unknown=args.add_unknown, options=options)
    print_collect_report(report, verbose=args.verbose)
    return 0 if report.ok else 1


def cmd_grade(args) -> int:
    from ..grade.result import GradingInterrupted
    from ..grade.selection import failed_students
    from .grade_console import grade_with_progress

    course = _course()
    course.require_gradebook()
    failed = 0
    for assignment in _assignments(course, args.assignment):
        students = None
        if args.student:
            absent = [s for s in args.student if not course.submission(s, assignment).is_dir()]
            if absent:
                print(f"mlse grade: no submission of {assignment} from {', '.join(absent)} in "
                      f"{_shown(course, course.submitted)} (collect it first). Nothing was graded.",
                      file=sys.stderr)
                return 1
            students = list(args.student)
        if args.only_failed:
            retry = failed_students(course, assignment)
            students = [s for s in (students if students is not None else retry) if s in retry]
            if not students:
                print(f"{assignment}: no failed submission to grade again")
                continue
        try:
            outcomes = grade_with_progress(course, assignment, workers=args.workers, force=args.force,
                                           sandbox=not args.no_sandbox, students=students,
                                           verbose=args.verbose)
        except GradingInterrupted as stop:
            print(f"\nInterrupted: {len(stop.done)} submission(s) of {assignment} finished and were "
                  f"kept; {len(stop.not_done)} queued or running were cancelled and left as they "
                  f"were. The run's workspaces were removed; the cancelled kernels' sandbox "
                  f"folders are swept by the next run. To resume, run the same command again"
                  f"{' without --force' if args.force else ''}: what finished is skipped.",
                  file=sys.stderr)
            return 130
        failed += sum(o.status == "failed" for o in outcomes)
    return 1 if failed else 0


def cmd_feedback(args) -> int:
    from ..outputs.feedback import feedback_with_report

    course = _course()
    problems = 0
    for assignment in _assignments(course, args.assignment):
        problems += feedback_with_report(course, assignment, students=args.student)
    return 1 if problems else 0


def cmd_export(args) -> int:
    from ..outputs.export import export_grades

    course = _course()
    status = 0
    wanted = args.assignment if isinstance(args.assignment, list) else [args.assignment] if args.assignment else []
    for name in wanted:  # a typo must not write an empty grade file over a good one
        _assignments(course, name)
    for fmt in (["csv", "canvas"] if args.format == "both" else [args.format]):
        plugin = export_grades(course, args.output if args.format != "both" else None, fmt,
                               students=args.student, assignments=args.assignment)
        print(f"wrote {plugin.written}" + (" (Canvas gradebook import)" if fmt == "canvas" else
                                           " (per-part scores, late penalties, what is pending)"))
        if fmt == "canvas" and plugin.without_id:
            print(f"  no Canvas user id (Canvas cannot match them by ID): {', '.join(plugin.without_id)}")
    if plugin.pending:
        print(f"{len(plugin.pending)} score(s) to look at (blank when not final yet):")
        for student, assignment, why in plugin.pending:
            if args.verbose or not why.startswith("no submission"):
                print(f"  {student} {assignment}: {why}")
        missing = sum(why.startswith("no submission") for _, _, why in plugin.pending)
        if missing and not args.verbose:
            print(f"  and {missing} missing submission(s) (--verbose lists them)")
    return status


def cmd_extension(args) -> int:
    from datetime import timedelta

    from ..extensions import grant_extension

    course = _course()
    if args.days is None and args.hours is None and args.minutes is None:
        print("mlse extension: say how long, e.g. --days 2 or --hours 36 (--days 0 removes it)",
              file=sys.stderr)
        return 2
    delta = timedelta(days=args.days or 0, hours=args.hours or 0, minutes=args.minutes or 0)
    info = grant_extension(course, args.assignment, args.student, delta)
    if info["duedate"] is None:
        print(f"{args.student}: extension of {delta} recorded for {args.assignment}, but "
              f"{args.assignment} has no due date in the gradebook, so nothing is late yet "
              f"(set one with `nbgrader db assignment add {args.assignment} --duedate=...`)")
    else:
        print(f"{args.student}: {args.assignment} now due {info['extended_duedate']} UTC "
              f"(extension {delta}); late by {info['seconds_late']:g} s, penalty {info['penalty']:g}")
    return 0


def cmd_report(args) -> int:
    from ..outputs.report import write_report

    course = _course()
    course.require_gradebook()
    for assignment in _assignments(course, args.assignment):
        page = write_report(course, assignment, course.root / args.output)
        print(f"wrote {page}")
    return 0


def cmd_demo_class(args) -> int:
    from ..demo import make_demo_class

    course = _course()
    students = make_demo_class(course, args.n, seed=args.seed)
    profiles = {}
    for s in students:
        profiles[s.profile] = profiles.get(s.profile, 0) + 1
    mix = ", ".join(f"{n} {p}" for p, n in sorted(profiles.items()))
    print(f"wrote {len(students)} demo students' submissions of {', '.join(course.assignments())} "
          f"into {_shown(course, course.submitted)} ({mix})")
    return 0


def cmd_student_edition(args) -> int:
    from ..edition import build_student_edition

    written = build_student_edition(_course(), args.out)
    print(f"wrote the student edition to {args.out}: {', '.join(written)}")
    print("checked: no solutions, no hidden tests. Learners run `make course`, and "
          "`mlse check NOTEBOOK` there grades with the visible tests.")
    return 0


def cmd_check(args) -> int:
    from ..sandbox.zygote import start_in_background

    start_in_background()  # the kernels' imports (2 s or so) while nbgrader's are done here
    from ..selfcheck import check_notebooks

    return check_notebooks(args.notebooks)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlse", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("release", help="regenerate exercises/ from solutions/")
    p.add_argument("assignment", nargs="?", help="one assignment (default: all)")
    p.set_defaults(func=cmd_release)

    p = sub.add_parser("collect", help="unpack an LMS download (Canvas or Moodle zip) into submitted/")
    p.add_argument("assignment")
    p.add_argument("zip", help="the zip file the LMS gave you")
    p.add_argument("--add-unknown", action="store_true",
                   help="add students not yet in the gradebook, named from the LMS file names")
    p.add_argument("--max-notebook-mb", type=float, default=None,
                   help="largest notebook taken in (default: LmsCollect.max_notebook_mb, 20)")
    p.add_argument("--zip-timezone", default=None,
                   help="time zone of the zip's file times when it does not record UTC "
                        "(default: LmsCollect.zip_timezone, UTC)")
    p.add_argument("--verbose", "-v", action="store_true", help="one line per student")
    p.set_defaults(func=cmd_collect)

    p = sub.add_parser("grade", help="autograde every submission in parallel")
    p.add_argument("assignment", nargs="?", help="one assignment (default: all)")
    p.add_argument("--force", action="store_true", help="regrade submissions already graded")
    p.add_argument("--workers", type=int, default=None, help="parallel workers (default: one per core)")
    p.add_argument("--no-sandbox", action="store_true",
                   help="run student code unsandboxed, with your rights (only for code you trust)")
    p.add_argument("--student", action="append",
                   help="grade only this student (repeatable); with --force, regrade them")
    p.add_argument("--only-failed", action="store_true",
                   help="grade only the submissions whose last grading failed")
    p.add_argument("--verbose", "-v", action="store_true", help="one line per student in the summary")
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("feedback", help="per-student HTML feedback, without hidden tests")
    p.add_argument("assignment", nargs="?", help="one assignment (default: all)")
    p.add_argument("--student", action="append", help="only this student (repeatable)")
    p.set_defaults(func=cmd_feedback)

    p = sub.add_parser("export", help="grades for the LMS: Canvas's import CSV, or a CSV with per-part scores")
    p.add_argument("--format", choices=["csv", "canvas", "both"], default="both",
                   help="csv: mlse_grades.csv, per-part scores and what is pending; canvas: "
                        "canvas_grades.csv, Canvas's gradebook import format (default: both)")
    p.add_argument("--output", "-o", default=None,
                   help="file to write (one format only; default: mlse_grades.csv or canvas_grades.csv)")
    p.add_argument("--student", action="append", help="only this student (repeatable)")
    p.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    p.add_argument("--verbose", "-v", action="store_true", help="list every missing submission")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("extension", help="give one student more time (nbgrader's extension; "
                                         "late penalties recomputed)")
    p.add_argument("assignment")
    p.add_argument("student")
    p.add_argument("--days", type=float, default=None)
    p.add_argument("--hours", type=float, default=None)
    p.add_argument("--minutes", type=float, default=None)
    p.set_defaults(func=cmd_extension)

    p = sub.add_parser("report", help="item analysis: score distribution, pass rates, tests failed most")
    p.add_argument("assignment", nargs="?", help="one assignment (default: all)")
    p.add_argument("--output", "-o", default="reports", help="folder for the report (default: reports/)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("demo-class", help="N simulated students with a submission of every assignment")
    p.add_argument("n", type=int, help="number of students")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_demo_class)

    p = sub.add_parser("student-edition", help="what you hand to students: lessons, exercises, "
                                               "helpers, mlse check; no solutions, no hidden tests")
    p.add_argument("out", help="a new folder to write it into")
    p.set_defaults(func=cmd_student_edition)

    p = sub.add_parser("check", help="for learners: grade your own notebook(s), touching no class gradebook")
    p.add_argument("notebooks", nargs="*", help="notebook(s) to check (default: every exercise)")
    p.set_defaults(func=cmd_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    import os

    os.environ["PATH"] = environment_with_bin()["PATH"]  # nbgrader runs `alembic` by name
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (NbgraderError, FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"mlse {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\nmlse {args.command}: interrupted; what finished was kept. Run it again to "
              f"resume.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
