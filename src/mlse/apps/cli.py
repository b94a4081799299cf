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
    if (args.zip is None) == (args.exchange is None):
        print("mlse collect: give either the LMS's zip or --exchange (nbgrader's exchange on a "
              "class hub), not both. Nothing was collected.", file=sys.stderr)
        return 2
    if args.exchange is not None:
        from ..collect.exchange import HubCollect, collect_exchange

        options = course.settings(HubCollect, max_notebook_mb=args.max_notebook_mb)
        report = collect_exchange(course, assignment, args.exchange or None,
                                  add_unknown=args.add_unknown, options=options)
    else:
        options = course.settings(LmsCollect, max_notebook_mb=args.max_notebook_mb,
                                  zip_timezone=args.zip_timezone)
        report = collect_zip(course, assignment, args.zip, add_unknown=args.add_unknown, options=options)
    print_collect_report(report, verbose=args.verbose)
    return 0 if report.ok else 1


def cmd_grade(args) -> int:
    from ..grade.result import GradingInterrupted
    from ..grade.selection import failed_students, resume_left, save_resume
    from .grade_console import grade_with_progress
    from ..handgrades import settle

    course = _course()
    course.require_gradebook()
    failed = 0
    for assignment in _assignments(course, args.assignment):
        if args.assignment is None:  # every assignment: those not in use yet are skipped, saying so
            why = _not_in_use(course, assignment, graded_only=False)
            if not why and args.student and not any(course.submission(s, assignment).is_dir()
                                                     for s in args.student):
                why = f"no submission from {', '.join(args.student)}"
            if why:
                print(f"{assignment}: skipped ({why})")
                continue
        settle(course, assignment)  # hand grades given in formgrader since: recorded with their answers
        students = None
        if args.student:
            absent = [s for s in args.student if not course.submission(s, assignment).is_dir()]
            if absent and args.assignment is None:  # every assignment: grade those who handed it in
                print(f"{assignment}: no submission from {', '.join(absent)}")
                absent = []
            if absent:
                print(f"mlse grade: no submission of {assignment} from {', '.join(absent)} in "
                      f"{_shown(course, course.submitted)} (collect it first). Nothing was graded.",
                      file=sys.stderr)
                return 1
            students = [s for s in args.student if course.submission(s, assignment).is_dir()]
        if args.only_failed:
            retry = failed_students(course, assignment)
            students = [s for s in (students if students is not None else retry) if s in retry]
            if not students:
                print(f"{assignment}: no failed submission to grade again")
                continue
        left = None if args.restart else resume_left(course, assignment)
        if args.restart:
            save_resume(course, assignment, None)
        # One run per assignment. ``regrade``: submissions graded whatever their state (the rest
        # of an interrupted --force run, resumed); ``keep``: the resume list this run writes.
        chosen, force, regrade, keep = students, bool(args.force), [], None
        if left is not None:  # an interrupted --force run: what it had not reached is regraded
            regrade = [s for s in left if (students is None or s in students)
                       and course.submission(s, assignment).is_dir()]
            print(f"{assignment}: resuming the interrupted `--force` run: {len(regrade)} "
                  f"submission(s) it had not regraded yet"
                  + ("" if args.force else ", with anything new since")
                  + " (--restart starts it over)")
            if args.force:  # under --force, only those
                chosen = regrade
        elif args.force:
            chosen = keep = students if students is not None else course.submitters(assignment)
        resuming = force or left is not None
        if chosen is not None and not chosen:  # nothing left of the --force run
            save_resume(course, assignment, None)
            continue

        def started(keep=keep):
            # written only once this run holds the lock (a run refused by it must not touch the
            # running one's list), and before anything is graded (a run killed outright resumes
            # with all of it)
            if keep is not None:
                save_resume(course, assignment, keep)
        try:
            outcomes = grade_with_progress(course, assignment, workers=args.workers, force=force,
                                           sandbox=not args.no_sandbox, students=chosen,
                                           verbose=args.verbose, started=started, regrade=regrade)
        except GradingInterrupted as stop:
            settle(course, assignment)
            if resuming:
                save_resume(course, assignment,  # None: nothing of a --force run was left
                            [s for s in stop.not_done if force or s in regrade] or None)
            print(f"\nInterrupted: {len(stop.done)} submission(s) of {assignment} finished and "
                  f"were kept; {len(stop.not_done)} queued or running were cancelled and left as "
                  f"they were. The run's workspaces were removed; the cancelled kernels' sandbox "
                  f"folders are swept by the next run. To resume, run the same command again: "
                  + ("it regrades the submissions this --force run had not reached, and only "
                     "those (--restart regrades everything again)." if resuming else
                     "what finished is skipped."), file=sys.stderr)
            return 130
        if resuming:
            save_resume(course, assignment, None)
        failed += sum(o.status == "failed" for o in outcomes)
        settle(course, assignment)
    return 1 if failed else 0


def _not_in_use(course: Course, assignment: str, graded_only: bool) -> str:
    """Why a command run on every assignment skips this one ("" if it does not): not released
    (not in the gradebook), nothing collected, or (``graded_only``) nothing graded yet."""
    from nbgrader.api import MissingEntry

    with course.gradebook() as gb:
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            return f"not released yet: not in the gradebook (`mlse release {assignment}`)"
    if not course.submitters(assignment):
        return "no submission collected yet"
    if graded_only and not course.graded_students(assignment):
        return f"nothing graded yet (`mlse grade {assignment}`)"
    return ""


def cmd_feedback(args) -> int:
    from ..outputs.feedback import feedback_with_report

    course = _course()
    course.require_gradebook()
    problems = 0
    for assignment in _assignments(course, args.assignment):
        if args.assignment is None:  # every assignment: those not in use yet are skipped, saying so
            why = _not_in_use(course, assignment, graded_only=True)
            if why:
                print(f"{assignment}: skipped ({why})")
                continue
        problems += feedback_with_report(course, assignment, students=args.student,
                                         verbose=args.verbose, force=args.force,
                                         wait_for_hand_grades=args.wait_for_hand_grades)
    return 1 if problems else 0


def cmd_export(args) -> int:
    from ..outputs.export import export_grades

    course = _course()
    wanted = args.assignment if isinstance(args.assignment, list) else [args.assignment] if args.assignment else []
    for name in wanted:  # a typo must not write an empty grade file over a good one
        _assignments(course, name)
    if args.output and args.format is None:
        print("mlse export: -o names one file: say which with --format canvas or --format csv. "
              "Nothing was written.", file=sys.stderr)
        return 2
    fmt = args.format or "both"
    options = {"all_assignments": args.all_assignments or None,
               "missing_as_zero": args.missing_as_zero or None}
    plugin, status = None, 0
    for one in (["canvas", "csv"] if fmt == "both" else [fmt]):
        try:
            plugin = export_grades(course, args.output, one, students=args.student,
                                   assignments=args.assignment, options=options)
            options["settle_first"] = False  # settled once is enough for the second file
        except ValueError as exc:
            if fmt != "both":
                raise
            print(f"canvas_grades.csv not written: {exc}", file=sys.stderr)
            status = 1
            continue
        if one == "canvas":
            print(f"wrote {plugin.written} (Canvas gradebook import"
                  + (f"; not written, no Canvas assignment id: {', '.join(plugin.left_out)}"
                     if plugin.left_out else "") + ")")
            if plugin.without_id:
                print(f"  no Canvas user id (Canvas cannot match them by ID): {', '.join(plugin.without_id)}")
        else:
            print(f"wrote {plugin.written} (per-part scores, late penalties, what is pending)")
    _print_before_upload(plugin.pending, verbose=args.verbose,
                         missing_as_zero=bool(args.missing_as_zero))
    return status


def _print_before_upload(pending, verbose: bool, missing_as_zero: bool) -> None:
    """What to look at before uploading, sized for a class of 200: what needs attention and what
    is flagged, in full; hand grades and missing submissions as counts per assignment."""
    attention = [p for p in pending if p.status == "attention"]
    flagged = [p for p in pending if p.flagged]
    hand: dict[str, list[str]] = {}
    missing: dict[str, list[str]] = {}
    ungraded: dict[tuple[str, str], list[str]] = {}  # (assignment, why) -> students
    for p in pending:
        if p.status == "pending":
            hand.setdefault(p.assignment, []).append(p.student)
        elif p.status == "missing":
            missing.setdefault(p.assignment, []).append(p.student)
        elif p.status == "ungraded":
            ungraded.setdefault((p.assignment, p.why), []).append(p.student)
    if attention:
        print(f"Before you upload: {len(attention)} grade(s) need attention (blank in Canvas, "
              f"which then keeps its old grade; see `mlse attention`):")
        for p in attention:
            print(f"  {p.student} {p.assignment}: {p.why}")
    for (a, why), who in sorted(ungraded.items()):
        print(f"Before you upload: {a}: {len(who)} submission(s) not graded yet, blank in Canvas "
              f"(see `mlse attention`): {why}: {', '.join(who)}")
    for a, who in sorted(hand.items()):
        print(f"{a}: {len(who)} student(s) wait for a hand grade (blank): grade them with "
              f"`mlse handgrade export {a}` or in formgrader"
              + (f": {', '.join(who)}" if verbose else ""))
    for a, who in sorted(missing.items()):
        print(f"{a}: {len(who)} missing submission(s) "
              + ("(0 in Canvas: --missing-as-zero)" if missing_as_zero else
                 "(blank; --missing-as-zero writes 0)")
              + (f": {', '.join(who)}" if verbose else " (--verbose lists them)"))
    if flagged:
        print(f"{len(flagged)} graded submission(s) flagged for review in formgrader (their "
              f"scores count): " + ", ".join(f"{p.student} {p.assignment}" for p in flagged))


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


def cmd_handgrade(args) -> int:
    from ..handsheet import SheetError, export_sheet, import_sheet

    course = _course()
    _assignments(course, args.assignment)
    try:
        if args.action == "export":
            sheet = export_sheet(course, args.assignment, args.part, args.output,
                                 pending_only=args.pending_only)
            where = _typed_path(sheet.path)
            print(f"wrote {where}: {sheet.cell} of {sheet.notebook}, {sheet.answers} answer(s) "
                  f"in {sheet.groups} group(s) of identical answers ({sheet.graded} already have a "
                  f"score{', left out' if args.pending_only else ', prefilled'}). Fill in score "
                  f"and comment, then `mlse handgrade import {args.assignment} {where}`.")
            if sheet.prefilled:
                print(f"  {sheet.prefilled} answer(s) still to grade are prefilled with the grade "
                      f"the identical answer already has: check them; importing the sheet gives it")
            for student, why in sheet.skipped:
                print(f"  not in the sheet: {student}: {why}")
        elif not args.file:
            print("mlse handgrade import ASSIGNMENT FILE: which sheet?", file=sys.stderr)
            return 2
        else:
            done = import_sheet(course, args.assignment, args.file)
            print(f"imported {done.graded} hand grade(s) for {done.students} student(s) from "
                  f"{done.rows - done.skipped_rows} row(s) ({done.skipped_rows} row(s) without a "
                  f"score skipped); late penalties recomputed")
    except SheetError as exc:
        print(f"mlse handgrade {args.action}: {exc}", file=sys.stderr)
        return 1
    return 0


def _typed_path(path) -> str:
    """A file as the instructor would type it in this shell: relative to the current folder,
    quoted when it needs to be (so a command printed for them works when pasted)."""
    import os
    import shlex

    return shlex.quote(os.path.relpath(path))


def cmd_roster(args) -> int:
    from ..roster import RosterError, import_canvas_roster

    course = _course()
    try:
        done = import_canvas_roster(course, args.file, id_column=args.id_column)
    except RosterError as exc:
        print(f"mlse roster import: {exc}", file=sys.stderr)
        return 1
    print(f"roster: {len(done.added)} student(s) added, {len(done.updated)} updated (Canvas ids, "
          f"SIS ids and sections kept for the export)")
    if done.assignments:
        print("Canvas assignment ids: " + ", ".join(f"{a} = {i}" for a, i in sorted(done.assignments.items())))
    else:
        print("No column of the file is named after one of the course's assignments: name each "
              "Canvas assignment like its folder in solutions/ (or set "
              "c.CanvasExporter.assignment_ids), or `mlse export` will have nothing to write.")
    for note in done.skipped:
        print(f"  skipped: {note}")
    return 0


def cmd_attention(args) -> int:
    from .. import attention

    course = _course()
    course.require_gradebook()
    if args.action == "resolve":
        if not args.assignment or not args.student:
            print("mlse attention resolve ASSIGNMENT STUDENT", file=sys.stderr)
            return 2
        with course.gradebook() as gb:
            entry = attention.resolve(course, gb, args.assignment, args.student)
        print(f"{args.student} {args.assignment}: resolved ({entry['reason']}). The version "
              f"collected stands; grade it with `mlse grade {args.assignment}`.")
        return 0
    waiting = attention.reasons(course, args.assignment)
    ungraded = _not_graded_yet(course, _assignments(course, args.assignment))
    ungraded = {key: why for key, why in ungraded.items() if key not in waiting}
    if not waiting and not ungraded:
        print("Nothing needs attention.")
        return 0
    if waiting:
        print(f"{len(waiting)} submission(s) need attention (their grade is blank in the export):")
        for (a, s), entry in sorted(waiting.items()):
            print(f"  {s} {a} (since {entry.get('since', '?')}): {entry['reason']}")
        print("Collect a good version, or grade again (`mlse grade A --student S --force`), or "
              "accept the version collected: `mlse attention resolve A S`.")
    if ungraded:
        print(f"{len(ungraded)} submission(s) not graded yet (their grade is blank in the export "
              f"until `mlse grade` grades them):")
        for (a, s), why in sorted(ungraded.items()):
            print(f"  {s} {a}: {why}")
    return 0


def _not_graded_yet(course: Course, assignments: list[str]) -> dict[tuple[str, str], str]:
    """(assignment, student) -> why the version collected is not the graded one
    (:func:`mlse.grade.selection.not_graded_yet`), for each assignment in the gradebook."""
    from nbgrader.api import MissingEntry

    from ..grade.selection import not_graded_yet

    out = {}
    with course.gradebook() as gb:
        for a in assignments:
            try:
                gb.find_assignment(a)
            except MissingEntry:
                continue  # not released: nothing of it is graded
            in_gradebook = {sub.student.id for sub in gb.assignment_submissions(a)}
            for student, why in not_graded_yet(course, a, in_gradebook).items():
                out[(a, student)] = why
    return out


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


def cmd_classroom(args) -> int:
    """``mlse classroom setup`` / ``start``: a JupyterHub classroom on one server (docs/classroom.md)."""
    from pathlib import Path

    from ..classroom import (DEFAULT_ENV_ROOT, Classroom, ClassroomError, _roster, setup_classroom,
                             start_hub)

    try:
        if args.action == "start":
            return start_hub(Classroom.load(args.home))
        root = find_course_root()
        students = list(args.student or [])
        for roster in args.roster or []:
            students += _roster(Path(roster))
        lti = None
        if args.auth == "lti13":
            lti = {"issuer": args.lti_issuer or "", "client_id": list(args.lti_client_id or []),
                   "authorize_url": args.lti_authorize_url or "",
                   "jwks_endpoint": args.lti_jwks_url or "", "username_key": args.lti_username_key}
            missing = [k for k, v in lti.items() if not v]
            if missing:
                print(f"mlse classroom setup: --auth lti13 needs {', '.join(missing)} (see "
                      f"docs/classroom.md). Nothing was changed.", file=sys.stderr)
                return 2
        classroom, seats = setup_classroom(
            root, args.course_id, list(args.instructor or []), students, home=Path(args.home),
            exchange=Path(args.exchange) if args.exchange else None,
            course_dir=Path(args.course_dir) if args.course_dir else None, port=args.port, ip=args.ip,
            hub_port=args.hub_port, proxy_api_port=args.proxy_api_port, auth=args.auth, lti=lti,
            env_root=Path(args.env_root or DEFAULT_ENV_ROOT), python=args.python)
    except ClassroomError as exc:
        print(f"mlse classroom {args.action}: {exc}", file=sys.stderr)
        return 1
    print(f"Classroom ready in {classroom.home}: course {seats.course_id}, "
          f"{len(seats.instructors)} instructor(s), {len(seats.students)} student(s).\n"
          f"  course folder (the instructor's): {seats.course_dir}\n"
          f"  exchange: {classroom.exchange}\n  students' Python: {classroom.env}\n"
          f"Start it with: sudo {sys.argv[0] if sys.argv else 'mlse'} classroom start"
          + (f" --home {classroom.home}" if Path(classroom.home) != Path("/srv/mlse-classroom") else ""))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlse", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("release", help="regenerate exercises/ from solutions/")
    p.add_argument("assignment", nargs="?", help="one assignment (default: all)")
    p.set_defaults(func=cmd_release)

    p = sub.add_parser("collect", help="take submissions into submitted/: an LMS download (Canvas or "
                                       "Moodle zip), or nbgrader's exchange on a class hub")
    p.add_argument("assignment")
    p.add_argument("zip", nargs="?", help="the zip file the LMS gave you")
    p.add_argument("--exchange", nargs="?", const="", default=None, metavar="PATH",
                   help="collect from nbgrader's exchange instead (default PATH: c.Exchange.root "
                        "in nbgrader_config.py); see docs/classroom.md")
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
    p.add_argument("--restart", action="store_true",
                   help="forget an interrupted --force run (by default the next run resumes it)")
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("feedback", help="per-student HTML feedback, without hidden tests")
    p.add_argument("assignment", nargs="?", help="one assignment (default: all)")
    p.add_argument("--student", action="append", help="only this student (repeatable)")
    p.add_argument("--force", action="store_true",
                   help="write every file again (by default only what changed)")
    p.add_argument("--wait-for-hand-grades", action="store_true",
                   help="no feedback for a submission until its hand grades are in (by default "
                        "it is written with those answers marked Pending)")
    p.add_argument("--verbose", "-v", action="store_true", help="a line per file")
    p.set_defaults(func=cmd_feedback)

    p = sub.add_parser("export", help="grades for the LMS: Canvas's import CSV, or a CSV with per-part scores")
    p.add_argument("--format", choices=["csv", "canvas", "both"], default=None,
                   help="csv: mlse_grades.csv, per-part scores and what is pending; canvas: "
                        "canvas_grades.csv, Canvas's gradebook import format (default: both)")
    p.add_argument("--output", "-o", default=None,
                   help="file to write (one format only; default: mlse_grades.csv or canvas_grades.csv)")
    p.add_argument("--student", action="append", help="only this student (repeatable)")
    p.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    p.add_argument("--all-assignments", action="store_true",
                   help="Canvas: also assignments without a Canvas assignment id")
    p.add_argument("--missing-as-zero", action="store_true",
                   help="Canvas: 0 for a missing submission (default: blank, which Canvas leaves "
                        "unchanged)")
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

    p = sub.add_parser("handgrade", help="hand grading without a browser: one part's answers for "
                                         "the class in one sheet, identical answers grouped")
    p.add_argument("action", choices=["export", "import"])
    p.add_argument("assignment")
    p.add_argument("file", nargs="?", help="import: the filled sheet")
    p.add_argument("--part", default=None,
                   help="export: the part (its cell id or title), when there are several")
    p.add_argument("--output", "-o", default=None,
                   help="export: the sheet to write (default: handgrade-ASSIGNMENT-CELL.csv)")
    p.add_argument("--pending-only", action="store_true",
                   help="export: only answers that have no hand grade yet")
    p.set_defaults(func=cmd_handgrade)

    p = sub.add_parser("roster", help="import the class from Canvas's gradebook CSV")
    p.add_argument("action", choices=["import"])
    p.add_argument("file", help="Canvas: Grades, Export, CSV")
    p.add_argument("--id-column", default="SIS Login ID", choices=["SIS Login ID", "SIS User ID", "ID"],
                   help="which column is nbgrader's student id (default: SIS Login ID)")
    p.set_defaults(func=cmd_roster)

    p = sub.add_parser("attention", help="list the submissions that need attention, or resolve one")
    p.add_argument("action", nargs="?", choices=["list", "resolve"], default="list")
    p.add_argument("assignment", nargs="?")
    p.add_argument("student", nargs="?")
    p.set_defaults(func=cmd_attention)

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

    p = sub.add_parser("classroom", help="a JupyterHub classroom on this server: setup, then start "
                                         "(as root; docs/classroom.md)")
    p.add_argument("action", choices=["setup", "start"])
    p.add_argument("--home", default="/srv/mlse-classroom",
                   help="the classroom's folder, shared by its courses (default: /srv/mlse-classroom)")
    p.add_argument("--course-id", default=None,
                   help="the course's name on the hub (default: c.CourseDirectory.course_id)")
    p.add_argument("--instructor", action="append", help="an instructor's account (repeatable)")
    p.add_argument("--student", action="append", help="a student's account (repeatable)")
    p.add_argument("--roster", action="append",
                   help="students from a file: nbgrader's roster CSV (column id) or one per line")
    p.add_argument("--course-dir", default=None,
                   help="the instructor's course folder (default: ~INSTRUCTOR/COURSE_ID)")
    p.add_argument("--exchange", default=None, help="nbgrader's exchange (default: /srv/nbgrader/exchange)")
    p.add_argument("--port", type=int, default=None, help="where students connect (default: 8000)")
    p.add_argument("--ip", default=None, help="the address to listen on (default: every interface)")
    p.add_argument("--hub-port", type=int, default=None, help="the hub's API port on localhost (8081)")
    p.add_argument("--proxy-api-port", type=int, default=None, help="the proxy's API port (8001)")
    p.add_argument("--env-root", default=None,
                   help="where the students' Python environment is built (default: /opt/mlse-classroom)")
    p.add_argument("--python", default="/usr/bin/python3",
                   help="a Python every account can read, for the students' servers")
    p.add_argument("--auth", choices=["pam", "lti13"], default=None,
                   help="pam: system accounts (default); lti13: launched from an LMS")
    p.add_argument("--lti-issuer", default=None)
    p.add_argument("--lti-client-id", action="append")
    p.add_argument("--lti-authorize-url", default=None)
    p.add_argument("--lti-jwks-url", default=None)
    p.add_argument("--lti-username-key", default="email")
    p.set_defaults(func=cmd_classroom)

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
