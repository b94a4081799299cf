"""Instructor tooling for the course: release, grade and inspect assignments with nbgrader.

Kept apart from :mod:`helpers`, which is what learners' notebooks import. Everything here drives
real nbgrader (its command line and its SQLite gradebook).
"""

__version__ = "0.1.0"
