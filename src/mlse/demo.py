"""A simulated class: N students, each with a submission of every assignment, made from the real
exercises, so an instructor can try the whole workflow (and we can benchmark it) in a minute.

Each student gets a *profile*, as in a real class: most finish, some forget the edge cases that
the hidden tests check, some make one typical slip (an off-by-one, a wrong comparison, a swapped
label), some stop half way, a few hand in the blank exercise or a cell that does not even parse.
Answers are built from the solution of each answer cell (matched by nbgrader's ``grade_id``) and
mutated with Python's ``ast``; everything is seeded, so the same N gives the same class every time.
Nothing is specific to one assignment: whatever is in ``solutions/`` gets simulated.
"""

from __future__ import annotations

import ast
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import nbformat

from .notebook_cells import nbgrader_meta
from .workspace import list_assignments, notebooks_of

__all__ = ["PROFILES", "DemoStudent", "demo_students", "make_submission", "make_demo_class"]

#: profile -> weight in a class (roughly what a first assignment of a real class looks like)
PROFILES = {
    "complete": 30,
    "forgot_edge_cases": 20,
    "one_mistake": 20,
    "partial": 15,
    "blank": 8,
    "syntax_error": 7,
}

_FIRST = ["Ada", "Grace", "Alan", "Katherine", "Edsger", "Barbara", "Donald", "Frances", "Tim",
          "Margaret", "Linus", "Radia", "Guido", "Hedy", "Ken", "Sophie", "Dennis", "Annie",
          "John", "Mary", "Niklaus", "Karen", "Bjarne", "Shafi", "Leslie", "Fei-Fei", "Yann",
          "Joy", "Andrew", "Daphne", "Geoffrey", "Cynthia", "Judea", "Rosalind", "Claude",
          "Jean", "Tony", "Adele", "Butler", "Evelyn", "Kristen", "Ivan", "Lynn", "Raj",
          "Timnit", "Yoshua", "Mira", "Chen", "Amara", "Diego"]
_LAST = ["Lovelace", "Hopper", "Turing", "Johnson", "Dijkstra", "Liskov", "Knuth", "Allen",
         "Berners-Lee", "Hamilton", "Torvalds", "Perlman", "van Rossum", "Lamarr", "Thompson",
         "Wilson", "Ritchie", "Easley", "McCarthy", "Keller", "Wirth", "Sparck Jones",
         "Stroustrup", "Goldwasser", "Lamport", "Li", "LeCun", "Buolamwini", "Ng", "Koller",
         "Hinton", "Dwork", "Pearl", "Picard", "Shannon", "Bartik", "Hoare", "Goldberg",
         "Lampson", "Boyd Granville", "Nygaard", "Sutherland", "Conway", "Reddy", "Gebru",
         "Bengio", "Murati", "Ning", "Okafor", "Ramirez"]


@dataclass(frozen=True)
class DemoStudent:
    id: str
    first_name: str
    last_name: str
    profile: str


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def demo_students(n: int, seed: int = 0) -> list[DemoStudent]:
    """``n`` students with names, ids such as ``alovelace`` and a seeded mix of profiles."""
    rng = random.Random(seed)
    names = [(f, l) for f, l in zip(_FIRST, _LAST)]
    rng.shuffle(names)
    profiles = list(PROFILES)
    weights = [PROFILES[p] for p in profiles]
    students, seen = [], set()
    for i in range(n):
        first, last = names[i % len(names)]
        sid = _slug(first[0] + last) + (str(i // len(names) + 1) if i >= len(names) else "")
        while sid in seen:
            sid += "x"
        seen.add(sid)
        # the first few always cover every profile, so even a class of 6 shows each kind
        profile = profiles[i] if i < len(profiles) else rng.choices(profiles, weights)[0]
        students.append(DemoStudent(sid, first, last, profile))
    return students


# --------------------------------------------------------------------------------------------
# Mistakes, as ast transformations of a solution


def _solution_text(source: str) -> str:
    """A solution cell as a learner would have written it: without nbgrader's markers."""
    return "\n".join(l for l in source.splitlines()
                     if "### BEGIN SOLUTION" not in l and "### END SOLUTION" not in l)


class _DropGuards(ast.NodeTransformer):
    """Forgetting the edge cases: drop every ``if ...: raise ...`` check."""

    def __init__(self):
        self.dropped = 0

    def visit_If(self, node):
        self.generic_visit(node)
        if len(node.body) == 1 and isinstance(node.body[0], ast.Raise) and not node.orelse:
            self.dropped += 1
            return None
        return node


_SWAP_CMP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
             ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}
_SWAP_OP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Div: ast.FloorDiv, ast.Mult: ast.Add}


class _OneSlip(ast.NodeTransformer):
    """One typical slip: the ``target``-th candidate among comparisons, arithmetic, integer and
    string constants gets changed (an off-by-one, ``>`` for ``>=``, a swapped label...)."""

    def __init__(self, target: int | None, strings: list[str]):
        self.target, self.count, self.strings = target, 0, strings

    def _hit(self) -> bool:
        hit = self.count == self.target
        self.count += 1
        return hit

    def visit_Compare(self, node):
        self.generic_visit(node)
        if type(node.ops[0]) in _SWAP_CMP and self._hit():
            node.ops[0] = _SWAP_CMP[type(node.ops[0])]()
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if type(node.op) in _SWAP_OP and self._hit():
            node.op = _SWAP_OP[type(node.op)]()
        return node

    def visit_Constant(self, node):
        if isinstance(node.value, bool):
            return node
        if isinstance(node.value, int) and self._hit():
            return ast.copy_location(ast.Constant(node.value + 1), node)
        if isinstance(node.value, str) and node.value in self.strings and len(set(self.strings)) > 1 \
                and self._hit():
            others = sorted(set(self.strings) - {node.value})
            return ast.copy_location(ast.Constant(others[len(node.value) % len(others)]), node)
        return node


def _short_strings(tree) -> list[str]:
    """Short string constants used as dict values (labels such as "ml"/"se"): swap candidates."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            out += [v.value for v in node.values
                    if isinstance(v, ast.Constant) and isinstance(v.value, str) and len(v.value) < 12]
    return out


def forget_edge_cases(code: str) -> str:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    tree = _DropGuards().visit(tree)
    for node in ast.walk(tree):  # a block left empty still needs a statement
        if not isinstance(node, ast.Module) and isinstance(getattr(node, "body", None), list) \
                and not node.body:
            node.body = [ast.Pass()]
    return ast.unparse(ast.fix_missing_locations(tree))


def one_slip(code: str, rng: random.Random) -> str:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    strings = _short_strings(tree)
    counter = _OneSlip(None, strings)
    counter.visit(ast.parse(code))
    if counter.count == 0:
        return code
    tree = _OneSlip(rng.randrange(counter.count), strings).visit(tree)
    return ast.unparse(ast.fix_missing_locations(tree))


# --------------------------------------------------------------------------------------------
# Submissions


def make_submission(released: Path, solution: Path, profile: str, rng: random.Random):
    """The released exercise with answers filled in as a student of ``profile`` would."""
    nb = nbformat.read(released, as_version=4)
    sol = {(nbgrader_meta(c).get("grade_id")): c.source for c in nbformat.read(solution, as_version=4).cells
           if nbgrader_meta(c).get("solution")}
    answers = [c for c in nb.cells if nbgrader_meta(c).get("solution")]
    code_answers = [c for c in answers if c.cell_type == "code"]
    stop = rng.randrange(1, max(2, len(code_answers))) if profile == "partial" else None
    slip_at = rng.randrange(len(code_answers)) if code_answers else None
    for cell in answers:
        gid = nbgrader_meta(cell).get("grade_id")
        if gid not in sol or profile == "blank":
            continue
        text = _solution_text(sol[gid])
        if cell.cell_type != "code":  # a free-text answer, graded by hand
            cell.source = text if profile != "partial" else "The ML engineer does the model."
            continue
        index = code_answers.index(cell)
        if profile == "partial" and index >= stop:
            continue
        if profile == "forgot_edge_cases":
            text = forget_edge_cases(text)
        elif profile == "one_mistake" and index == slip_at:
            text = one_slip(text, rng)
        elif profile == "syntax_error" and index == slip_at:
            text = text.replace(":", "", 1) if ":" in text else text + "\n)"
        cell.source = text
    return nb


def make_demo_class(root: str | Path, n: int, seed: int = 0,
                    assignments: list[str] | None = None) -> list[DemoStudent]:
    """Write a submission of every assignment for ``n`` demo students into the course's submitted
    folder (nbgrader's layout, with a ``timestamp.txt``), and add the students, with their names, to
    the course's gradebook. Returns the students."""
    from nbgrader.api import Gradebook

    from .course import Course

    course = Course.of(root)
    students = demo_students(n, seed)
    assignments = assignments or course.assignments()
    start = datetime(2026, 1, 12, 9, 0, tzinfo=timezone.utc)
    for a_index, assignment in enumerate(assignments):
        for s_index, student in enumerate(students):
            rng = random.Random(f"{seed}/{student.id}/{assignment}")
            folder = course.submission(student.id, assignment)
            folder.mkdir(parents=True, exist_ok=True)
            for solution in notebooks_of(course.source_of(assignment)):
                released = course.release_of(assignment) / solution.name
                if not released.is_file():
                    raise FileNotFoundError(f"{released} is missing: run `mlse release {assignment}`.")
                nbformat.write(make_submission(released, solution, student.profile, rng),
                               folder / solution.name)
            stamp = start + timedelta(days=7 * a_index, minutes=17 * s_index)
            course.write_timestamp(folder, stamp)
    with Gradebook(course.db_url) as gb:
        for s in students:
            gb.update_or_create_student(s.id, first_name=s.first_name, last_name=s.last_name,
                                        email=f"{s.id}@students.example.edu")
    return students
