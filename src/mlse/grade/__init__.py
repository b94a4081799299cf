"""Stage 4, grade: autograde submissions with nbgrader's own pipeline, one class at a time.

:mod:`.execute` is the Execute step (where each cell runs); :mod:`.batch` runs a whole class in
parallel private workspaces and merges each result into the class gradebook.
"""
