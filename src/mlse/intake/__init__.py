"""Stage 2, intake: inspect a submission before grading, say what is wrong, repair what can be."""

from .review import IntakeReport, Problem, inspect

__all__ = ["IntakeReport", "Problem", "inspect"]
