"""Instructor tooling for the course: release, grade and inspect assignments with nbgrader.

Kept apart from :mod:`helpers`, which is what learners' notebooks import. Everything here drives
real nbgrader (its command line and its SQLite gradebook).
"""

import sys

__version__ = "0.1.0"

# nbformat validates notebooks with jsonschema, whose format checker imports `rfc3987_syntax` when
# it is installed (jupyter's dependencies install it): that module builds ~38 Lark parsers at
# import, 2 to 4 s here, in every process that imports nbformat, for the "iri" format that no
# notebook schema uses (python-jsonschema/jsonschema#1428, #1392). Marking it absent before
# nbformat is first imported makes jsonschema skip that one checker; nothing else changes.
if "jsonschema._format" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)
