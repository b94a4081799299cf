"""What grading one submission came to: the one result type of the grade floor.

Every stage fills in the same :class:`Outcome`: the worker (nbgrader's run in a private workspace,
with intake's and the judge's findings), the parent (the score from the class gradebook once the
rows are merged, or ``skipped`` for a submission already graded), and the summary, the JSON log
and the console read it. A failure is carried, never raised: ``status`` is ``failed`` and
``message`` says why, in full.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

__all__ = ["Outcome", "GRADED", "SKIPPED", "FAILED", "GradingError", "GradingInterrupted"]

GRADED, SKIPPED, FAILED = "graded", "skipped", "failed"


@dataclass
class Outcome:
    """One student's submission of one assignment, as far as grading got."""

    student: str
    assignment: str
    status: str = GRADED          # "graded", "skipped" (already graded) or "failed"
    score: float | None = None    # from the class gradebook, after the merge
    max_score: float | None = None
    seconds: float = 0.0
    message: str = ""             # why it failed (in full), or a note ("already graded ...")
    incidents: list[str] = field(default_factory=list)  # signs for a person: intake's, the judge's
    warnings: list[str] = field(default_factory=list)   # nbgrader's warnings, reduced isolation
    isolation: str = ""           # the student kernel's sandbox: "root", "userns" or "none"
    log: str = ""                 # nbgrader's log (its last lines when grading failed)
    workspace: str = ""           # the worker's private workspace, until the parent merged it

    @property
    def ok(self) -> bool:
        """Grading finished for this submission (graded, or already graded)."""
        return self.status != FAILED

    @property
    def error(self) -> str:
        """Why grading failed ("" when it did not)."""
        return "" if self.ok else self.message

    @property
    def log_tail(self) -> str:
        return self.log

    def fail(self, reason: str) -> "Outcome":
        """Mark this outcome failed, keeping an earlier reason first."""
        earlier = self.message if self.status == FAILED else ""
        self.status = FAILED
        self.message = f"{earlier}\n{reason}" if earlier else reason
        return self

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Outcome":
        return cls(**json.loads(text))


class GradingError(RuntimeError):
    """Grading cannot start at all (for example, the assignment is not in the gradebook)."""


class GradingInterrupted(KeyboardInterrupt):
    """Ctrl-C: queued and running submissions were cancelled; ``done`` were graded and kept."""

    def __init__(self, assignment: str, done: list[Outcome], not_done: list[str]):
        super().__init__(f"interrupted: {len(done)} graded and kept, {len(not_done)} cancelled")
        self.assignment, self.done, self.not_done = assignment, done, not_done
