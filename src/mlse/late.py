"""Late work: a late-penalty policy an instructor would choose, and penalties that are never stale.

nbgrader computes a notebook's late penalty in ``AssignLatePenalties``, a step of ``nbgrader
autograde``, from the notebook's score *at that moment*: the automatic points only, while an answer
graded by hand is still pending. A hand grade given later (in formgrader, or with ``mlse handgrade
import``) does not change the penalty, so "zero" on a week-late submission left the hand-graded
points standing, and a percentage was taken from the wrong total. Here:

* :class:`PercentLatePenalty`, an nbgrader ``LateSubmissionPlugin`` beside nbgrader's own
  ``none`` and ``zero``: a percentage of the score per day (or hour) late, capped; set it in
  ``nbgrader_config.py``::

      c.AssignLatePenalties.plugin_class = "mlse.late.PercentLatePenalty"
      c.PercentLatePenalty.percent = 10       # per started day late
      c.PercentLatePenalty.unit = "day"       # or "hour"
      c.PercentLatePenalty.max_percent = 50   # never more than half the score

* :func:`apply_late_penalties` runs nbgrader's own ``AssignLatePenalties`` (and so whichever
  plugin the course configured) again on the gradebook, with each notebook's *current* score,
  automatic and hand points together, and the submission's extension. ``mlse`` calls it whenever a
  score or an extension changes (after grading, after a hand-grade import, on every export), so the
  penalty is always computed once, at the end, from the final total; nbgrader's own ``nbgrader
  export`` and formgrader then read the same numbers.
"""

from __future__ import annotations

import math
from textwrap import dedent

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Bool, Enum, Float

__all__ = ["PercentLatePenalty", "apply_late_penalties"]


class PercentLatePenalty(LateSubmissionPlugin):
    """A percentage of the notebook's score off per day (or hour) late, capped.

    Lateness is nbgrader's: the submission's ``timestamp.txt`` against the assignment's due date
    plus the student's extension. A started day (or hour) counts as a whole one unless
    ``whole_units_only`` is False (then 36 hours late at 10 % a day costs 15 %). Submissions within
    ``grace_minutes`` of the due date lose nothing.
    """

    percent = Float(10.0, help="Percentage of the score taken off per unit late.").tag(config=True)
    unit = Enum(["day", "hour"], "day", help="The unit of lateness: 'day' or 'hour'.").tag(config=True)
    max_percent = Float(100.0, help=dedent("""\
        The most that lateness can cost, as a percentage of the score (100: a late enough
        submission scores 0; 50: it keeps at least half).""")).tag(config=True)
    grace_minutes = Float(0.0, help="Minutes after the due date (and extension) that cost "
                                    "nothing.").tag(config=True)
    whole_units_only = Bool(True, help="Count a started day (or hour) as a whole one (True), or "
                                       "pro rata (False).").tag(config=True)

    def percent_off(self, total_seconds_late: float) -> float:
        """The percentage taken off for this much lateness (0 to ``max_percent``)."""
        if total_seconds_late <= self.grace_minutes * 60:
            return 0.0
        units = total_seconds_late / (86400.0 if self.unit == "day" else 3600.0)
        if self.whole_units_only:
            units = math.ceil(units - 1e-9)
        return max(0.0, min(self.max_percent, self.percent * units))

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float):
        pct = self.percent_off(total_seconds_late)
        if not pct:
            return None
        return round((score or 0.0) * pct / 100.0, 6)


def apply_late_penalties(course, assignment: str, students: list[str] | None = None,
                         gb=None) -> int:
    """Recompute every late penalty of ``assignment`` (or only ``students``') from the current
    scores, with nbgrader's own :class:`~nbgrader.preprocessors.AssignLatePenalties` and the
    course's configured plugin. Returns the number of notebooks whose penalty changed.

    It does what AssignLatePenalties.preprocess does for one notebook, for all of them in one
    gradebook session (opening the gradebook once per notebook costs seconds at 200 students).
    """
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import AssignLatePenalties

    from .course import Course

    course = Course.of(course)
    import logging

    quiet = logging.getLogger("mlse.late")  # the plugins log at INFO for every notebook
    quiet.setLevel(logging.ERROR)
    step = AssignLatePenalties(config=course.config, log=quiet)
    step.init_plugin()
    wanted = set(students) if students is not None else None

    def run(book) -> int:
        n = 0
        for sub in book.assignment_submissions(assignment):
            if wanted is not None and sub.student.id not in wanted:
                continue
            late = sub.total_seconds_late
            for nb in sub.notebooks:
                penalty = None
                if late > 0:
                    penalty = step.plugin_inst.late_submission_penalty(sub.student.id, nb.score, late)
                    if penalty is not None:
                        penalty = step._check_late_penalty(nb, penalty)
                if (nb.late_submission_penalty or 0) != (penalty or 0):
                    n += 1
                nb.late_submission_penalty = penalty
        book.db.commit()
        return n

    if gb is not None:
        return run(gb)
    with Gradebook(course.db_url) as book:
        return run(book)
