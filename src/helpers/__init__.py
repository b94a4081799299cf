"""Learner-facing helpers for the course *ML Engineer vs Software Engineer, hands on*.

Notebooks import from here instead of copying code between lessons:

* :mod:`helpers.checks`: friendly checks (what was expected, a hint) for lessons and exercises;
* :mod:`helpers.data`: the course's data files, shipped with the package (no downloads);
* :mod:`helpers.style` and :mod:`helpers.timeline`: one plotting style and the "day" picture;
* :mod:`helpers.setup_check`: module 0's check of the learner's set-up.
* :mod:`helpers.tickets`: the help desk's synthetic support tickets, generated from a seed;
* :mod:`helpers.drift` and :mod:`helpers.model_card`: drift shares and a model saved with its card.

Instructor tooling (grading a class, reports) lives in the separate package ``mlse``.
"""

__version__ = "0.1.0"
