"""Answers written from the exercises' task text alone, for tests/test_fairness.py.

One module per assignment, each with ``STUDENTS``: ``{student: {grade_id: source}}``. Students
``honest_*`` answer every autograded part in a style of their own (loops or comprehensions,
container subclasses, helper functions, numpy or plain Python, other wording): each must score
full marks under ``mlse grade`` and under plain ``nbgrader autograde``. Students ``game_*`` try to
score without doing the task (a constant or a lookup table of the visible examples, a test that
fingerprints the implementation, a decoy, a value that claims to equal everything): each hidden
test cell must score 0 under ``mlse grade``. Answer cells a student does not list stay as released.
"""

#: The "value that claims to equal everything" game, as cell text: a float whose comparisons and
#: differences always look right. Games append the function that returns one.
EQUALS_EVERYTHING_FLOAT = '''class _Any(float):
    def __eq__(self, other):
        return True
    def __sub__(self, other):
        return 0.0
    __rsub__ = __sub__
    __hash__ = float.__hash__
'''
