"""What a grading run grades: every submission, minus those already graded (resume), or only the
failed ones.

A rerun of ``mlse grade`` picks up where the last one stopped: a submission is skipped when
nbgrader's own rule says it is graded *and* the files are the ones that were graded (the digest
this module records after each grading). ``docs/grading.md`` ("Reruns") says why each part of the
rule is there.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["submissions_of", "needs_grading", "submission_digest", "record_graded",
           "failed_students", "not_graded_yet", "resume_left", "save_resume"]


def submissions_of(course, assignment: str) -> list[str]:
    """Students with a submission of ``assignment`` (in the course's submitted folder)."""
    from ..course import Course

    return Course.of(course).submitters(assignment)


def needs_grading(course, assignment: str, student: str, graded: set[str]) -> bool:
    """nbgrader's own rule for skipping a submission without ``--force``, and two more.

    nbgrader skips a submission when its autograded copy holds every submitted notebook and the
    submission is not newer than what was graded (its ``timestamp.txt``). We also regrade when the
    gradebook has no record of it (``graded``: students with a submission there), and when the
    submitted files are not the ones that were graded (their digest differs from the one
    :func:`record_graded` kept: a notebook replaced by hand keeps the old ``timestamp.txt``, and
    its old grade must not look current).
    """
    from ..course import Course

    course = Course.of(course)
    src = course.submission(student, assignment)
    dest = course.autograded_of(student, assignment)
    if student not in graded or not dest.is_dir():
        return True
    if any(not (dest / nb.name).exists() for nb in src.glob("*.ipynb")):
        return True
    recorded = course.read_state(_digest_record(assignment, student))
    if recorded is not None and recorded.strip() != submission_digest(src):
        return True
    new, old = course.timestamp(src), course.timestamp(dest)
    return bool(new and old and new > old)


def submission_digest(folder: Path) -> str:
    """A digest of every file of a submitted folder (names and contents)."""
    digest = hashlib.sha256()
    skip = {".ipynb_checkpoints", "__pycache__"}  # what grading never copies
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file() and not p.is_symlink()
                       and not skip & set(p.relative_to(folder).parts)):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _digest_record(assignment: str, student: str) -> Path:
    """Where, in the course's ``.mlse/``, the digest of the files last graded is kept."""
    return Path("graded") / assignment / f"{student}.sha256"


def record_graded(course, assignment: str, student: str) -> None:
    """Remember which files were graded (see :func:`needs_grading`); written atomically."""
    course.write_state(_digest_record(assignment, student),
                       submission_digest(course.submission(student, assignment)))


def failed_students(course, assignment: str) -> list[str]:
    """``--only-failed``: students whose last grading of ``assignment`` failed (in the
    needs-attention state from grading, or a submission with no autograded copy)."""
    from .. import attention
    from ..course import Course

    course = Course.of(course)
    out = {s for (a, s), r in attention.reasons(course, assignment).items() if r.get("stage") != "collect"}
    for student in course.submitters(assignment):
        if not course.autograded_of(student, assignment).is_dir():
            out.add(student)
    return sorted(s for s in out if course.submission(s, assignment).is_dir())


def not_graded_yet(course, assignment: str, in_gradebook: set[str]) -> dict[str, str]:
    """student -> why the version collected is not the one graded: the submissions the next
    ``mlse grade ASSIGNMENT`` would grade (:func:`needs_grading`), in words.

    Until that run, the gradebook still holds the *old* version's grade (or none), so it must not
    look current: the export leaves it blank and says why, ``mlse attention`` lists it and
    ``mlse feedback`` writes none. The same holds for what an interrupted ``--force`` run has
    not regraded yet (:func:`resume_left`): ``--force`` means the old grades are wrong (a test was
    fixed). ``in_gradebook``: students with a submission of ``assignment`` in the gradebook.
    """
    from ..course import Course

    course = Course.of(course)
    out = {}
    for student in resume_left(course, assignment) or []:
        if course.submission(student, assignment).is_dir():
            out[student] = (f"a `mlse grade --force` run was stopped before it regraded this "
                            f"submission (its grade may be from the old tests): run `mlse grade "
                            f"{assignment}` to finish it")
    for student in course.submitters(assignment):
        if student in out or not needs_grading(course, assignment, student, in_gradebook):
            continue
        if student in in_gradebook and course.autograded_of(student, assignment).is_dir():
            what = "a new version was collected and is not graded yet"
        else:
            what = "the version collected is not graded yet"
        out[student] = f"{what}: run `mlse grade {assignment}`"
    return out


def _resume_record(assignment: str) -> str:
    """Where, in the course's ``.mlse/``, a ``--force`` run keeps what it has still to regrade."""
    return f"resume/grade-{assignment}.json"


def resume_left(course, assignment: str) -> list[str] | None:
    """Students an interrupted ``mlse grade --force`` had not regraded yet (None: no such run)."""
    from ..course import Course

    left = Course.of(course).read_json(_resume_record(assignment)).get("left")
    return list(left) if isinstance(left, list) else None


def save_resume(course, assignment: str, left: list[str] | None) -> None:
    """Keep (or, with None, drop) the list of what a ``--force`` run has still to regrade: it is
    written before the run starts, so even a run killed outright resumes where it could."""
    from ..course import Course

    course = Course.of(course)
    if left is None:
        course.state_path(_resume_record(assignment)).unlink(missing_ok=True)
    else:
        course.write_json(_resume_record(assignment), {"left": sorted(left)})
