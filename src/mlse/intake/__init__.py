"""Stage 2, intake: inspect a submission before grading, say what is wrong, repair what can be."""

from .review import Outcome, Problem, inspect

__all__ = ["Outcome", "Problem", "inspect"]
