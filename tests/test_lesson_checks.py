"""Every check in every lesson, run with its intended answer (it must say right) and with wrong
ones (they must say wrong, and never raise).

nbval runs the lessons as stored, with every check unanswered, so it never executes a check's right
answer, its predicate or its explanation. This test does, in one kernel per lesson, cell by cell:

* a **value check** is a code cell with an ``answer = ...`` line and a ``quiz(...)`` call. Its cell
  metadata ``lesson_check`` holds ``right`` and ``wrong``: lists of Python expressions. Each is put
  in place of the ``...`` and the cell is run: a right one must print "✔", a wrong one "✘", and no
  run may raise. ``right`` starts with the intended answer, written as the cell's comment asks (it
  must say "✔ Right.", not merely "right idea"), followed by at least three other forms a person
  writes the right idea in ("b)", "$50,000", ``TypeError`` unquoted, a list for a set...);
  ``wrong`` holds at least two wrong answers. An optional ``unreadable`` list holds answers in a
  form the check cannot read ("sixty" for a number): the check must say what form it wants, and
  must not give the hint, which is about the reasoning;
* a **coding exercise** is a code cell (the learner's stub) followed by a check cell that calls
  ``quiz_function(...)``, whose metadata ``lesson_check`` holds ``{"exercise": true, "wrong": [...]}``
  (wrong code for the stub cell). The solution is the one the learner can reveal: the Python block
  inside the ``<details>`` of the first markdown cell after the check. Blank, the check must say
  "Your turn"; with each wrong code, "✘"; with the revealed solution, "✔". The stub cell is run
  again afterwards, so the rest of the lesson sees what a learner who skipped the exercise sees.

A check cell without metadata, metadata without a check, or an exercise without a revealable
solution fails the test: no check can be skipped silently.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "course").glob("*.ipynb"))
#: Lessons that must hold at least two coding exercises (issue 14).
CODING_LESSONS = ("02a_", "02b_", "03_", "04_")

#: Besides its intended answer, every value check is fed this many other right forms and wrong answers.
MIN_OTHER_RIGHT_FORMS = 3
MIN_WRONG = 2

ANSWER_LINE = re.compile(r"^answer = \.\.\.(.*)$", re.MULTILINE)
SOLUTION = re.compile(r"<details>.*?```python\n(.*?)```.*?</details>", re.DOTALL)


def _is_check(cell) -> bool:
    return cell.cell_type == "code" and bool(re.search(r"\bquiz(_function)?\(", cell.source))


def _text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type == "error":
            parts.append(f"ERROR {output.ename}: {output.evalue}")
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
    return "".join(parts)


def _run(client, source: str, index: int) -> str:
    cell = nbformat.v4.new_code_cell(source)
    client.execute_cell(cell, index)
    return _text(cell)


def _solution_after(cells, index: int) -> str | None:
    for cell in cells[index + 1:]:
        if cell.cell_type == "markdown":
            found = SOLUTION.search(cell.source)
            if found:
                return found.group(1)
        if cell.cell_type == "code" and _is_check(cell):
            return None
    return None


def test_every_lesson_is_collected():
    names = [lesson.name for lesson in LESSONS]
    for prefix in CODING_LESSONS:
        assert any(name.startswith(prefix) for name in names), f"no lesson {prefix}*"


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.stem for lesson in LESSONS])
def test_every_check_says_right_to_its_answer_and_wrong_to_wrong_ones(lesson):
    nb = nbformat.read(lesson, as_version=4)
    cells = nb.cells
    checks = [i for i, c in enumerate(cells) if _is_check(c)]
    marked = [i for i, c in enumerate(cells) if "lesson_check" in c.metadata]
    assert checks == marked, (f"{lesson.name}: every check cell needs lesson_check metadata, and only they: "
                              f"checks {checks}, with metadata {marked}")
    exercises = [i for i in checks if cells[i].metadata["lesson_check"].get("exercise")]
    if lesson.name.startswith(CODING_LESSONS):
        assert len(exercises) >= 2, f"{lesson.name}: at least two coding exercises, found {len(exercises)}"

    client = NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(lesson.parent)}})
    problems, verified = [], 0
    with client.setup_kernel():
        for index, cell in enumerate(cells):
            if cell.cell_type != "code":
                continue
            client.execute_cell(cell, index)
            out = _text(cell)
            if "ERROR " in out and "red on purpose" not in cell.source.lower():
                problems.append(f"cell {index} fails as stored: {out[-300:]}")
            if index not in checks:
                continue
            spec = cell.metadata["lesson_check"]
            where = f"{lesson.name} cell {index}"
            if spec.get("exercise"):  # blank, or the bug still in: never "right"
                if "✔" in out or not ("Your turn" in out or "✘" in out):
                    problems.append(f"{where}: as stored, it should say 'Your turn' or '✘', said {out!r}")
            elif "Your turn" not in out:
                problems.append(f"{where}: unanswered, it should say 'Your turn', said {out!r}")
            if spec.get("exercise"):
                stub_index = max(i for i in range(index) if cells[i].cell_type == "code")
                stub = cells[stub_index].source
                solution = _solution_after(cells, index)
                if solution is None:
                    problems.append(f"{where}: no <details> block with a ```python solution after the check")
                    continue
                trials = [(code, False) for code in spec.get("wrong", [])] + [(solution, True)]
                if not spec.get("wrong"):
                    problems.append(f"{where}: no wrong code to try")
                for code, should_pass in trials:
                    _run(client, code, stub_index)
                    said = _run(client, cell.source, index)
                    problems += _verdict_problems(where, code, said, should_pass)
                    verified += 1
                _run(client, stub, stub_index)  # back to what a learner who skipped it has
            else:
                if not ANSWER_LINE.search(cell.source):
                    problems.append(f"{where}: a value check needs an 'answer = ...' line")
                    continue
                right, wrong = spec.get("right", []), spec.get("wrong", [])
                if len(right) < 1 + MIN_OTHER_RIGHT_FORMS or len(set(right)) != len(right):
                    problems.append(f"{where}: needs its intended answer and at least {MIN_OTHER_RIGHT_FORMS} "
                                    f"other right forms, all different, in lesson_check.right (has {right})")
                if len(wrong) < MIN_WRONG or len(set(wrong)) != len(wrong):
                    problems.append(f"{where}: needs at least {MIN_WRONG} different wrong answers in "
                                    f"lesson_check.wrong (has {wrong})")
                trials = ([(e, True) for e in right] + [(e, False) for e in wrong]
                          + [(e, None) for e in spec.get("unreadable", [])])
                for number, (expression, should_pass) in enumerate(trials):
                    source = ANSWER_LINE.sub(lambda m: f"answer = {expression}{m.group(1)}", cell.source, count=1)
                    said = _run(client, source, index)
                    if should_pass is None:
                        problems += _form_problems(where, expression, said)
                    else:
                        problems += _verdict_problems(where, expression, said, should_pass,
                                                      intended=number == 0)
                    verified += 1
    assert not problems, "\n".join(problems)
    assert verified >= 2 * len(checks)


def _verdict_problems(where: str, tried: str, said: str, should_pass: bool, intended: bool = False) -> list[str]:
    if "ERROR " in said or "Traceback" in said:
        return [f"{where}: {tried!r} made the check raise: {said[-400:]}"]
    if intended and "✔ Right." not in said:
        return [f"{where}: the intended answer {tried!r} (first of 'right') should say '✔ Right.': {said.strip()!r}"]
    if should_pass and "✔" not in said:
        return [f"{where}: the right answer {tried!r} was not accepted: {said.strip()!r}"]
    if not should_pass and ("✔" in said or "✘" not in said):
        return [f"{where}: the wrong answer {tried!r} was not called wrong: {said.strip()!r}"]
    return []


def _form_problems(where: str, tried: str, said: str) -> list[str]:
    """An answer the check cannot read is told the form it wants, and not the hint."""
    if "ERROR " in said or "Traceback" in said:
        return [f"{where}: {tried!r} made the check raise: {said[-400:]}"]
    if "Not quite readable" not in said or "Hint:" in said:
        return [f"{where}: the unreadable answer {tried!r} should be told the form wanted, not the hint: "
                f"{said.strip()!r}"]
    return []


# --- The forms every check accepts, whichever lesson it is in (issue 20 item 5) ---------------
# quiz() reads an answer the way a person meant it, in one place for every lesson; these tables
# say which forms of a right answer are right, which near misses stay wrong, and which answers are
# told the form they need instead of a hint about reasoning they may well have got right.

from helpers.checks import quiz  # noqa: E402

TEAM_Q = "Which team has the lowest F1 on the test set?"
MINUTES_Q = "How many minutes go to the incident?"
SALARY_Q = "How much higher is the top of the ML engineer range than the data scientist's?"
PAIR = ("access", "technical")
SKILLS = {"software engineering", "data science"}

ACCEPTED = [  # (answer, correct, question, accept)
    *[(form, "b", "Which option?", ()) for form in
      ("b", "B", "b)", "(b)", "b.", "[b]", " b ", "'b'", "option b", "Answer B", "b) Restart the kernel")],
    *[(form, "access", TEAM_Q, ()) for form in
      ("Access", "access.", "ACCESS", "the access team", "access team", "acess", "accesss", ["access"])],
    *[(form, 60, MINUTES_Q, ()) for form in
      (60, 60.0, "60", "60 minutes", "60 min", "60 mins.", "1 hour", "an hour", "about 60", "60.")],
    *[(form, 50_000, SALARY_Q, ()) for form in
      (50_000, 50000.0, "50000", "50,000", "$50,000", "$50,000.", "50k", "$50K", "50 thousand",
       "50,000 dollars", "USD 50,000", "50 000")],
    ("8.5%", 0.085, "What share?", ()), (".085", 0.085, "What share?", ()),
    ("220 more jobs", 220, "How many more jobs out of 1,000?", ()),
    *[(form, "TypeError", "Which exception does it raise?", ()) for form in
      (TypeError, TypeError("no len"), "typeerror", "TypeError.", "a TypeError", "TypeError()", "Type Error",
       "TypeError: object of type 'int' has no len()")],
    *[(form, "ml", "Who looks into it?", ("ml engineer",)) for form in
      ("ML", "ml engineer", "the ML engineer", "machine learning engineer", "Machine-learning engineer.")],
    *[(form, "macro F1", "Which number?", ("macro averaged F1",)) for form in
      ("macro-F1", "Macro_F1", "macro F1.", "macro-averaged F1", "Macro averaged F1")],
    *[(form, False, "May it?", ()) for form in (False, "False", "false", "no", "No.")],
    *[(form, SKILLS, "Which two?", ()) for form in
      (SKILLS, ["Data Science", "Software Engineering"], ("data science", "software engineering"),
       "software engineering, data science", "data science and software engineering",
       "{data science; software engineering}", "Software-Engineering & Data Science")],
    *[(form, PAIR, "Which pair?", ()) for form in
      (PAIR, list(PAIR), "access, technical", "access -> technical", "access → technical", "(access, technical)",
       "('access', 'technical')", "Access / Technical")],
]

REJECTED = [  # near misses stay wrong, with the hint
    *[(form, "b", "Which option?") for form in ("c", "C)", "(a)", "option c")],
    *[(form, "access", TEAM_Q) for form in ("sales", "technical team", "acces team x", "axxess", "not access")],
    *[(form, 60, MINUTES_Q) for form in (30, "90", "90 minutes", "2 hours", 59.5)],
    *[(form, 50_000, SALARY_Q) for form in (180_000, "$5,000", "500k", "-50000")],
    ("8.5", 0.085, "What share?"), (AttributeError, "TypeError", "Which exception?"),
    ("ValueError: bad", "TypeError", "Which exception?"), ("se", "ml", "Who?"), ("software engineer", "ml", "Who?"),
    ("yes", False, "May it?"), (True, False, "May it?"), ("data science", SKILLS, "Which two?"),
    ({"data science", "statistics"}, SKILLS, "Which two?"), ("technical, access", PAIR, "Which pair?"),
    ({"access", "technical"}, PAIR, "Which pair?"),
]

UNREADABLE = [  # told the form wanted, never the hint
    ("sixty", 60, MINUTES_Q), ("60 seconds", 60, MINUTES_Q), ("fifty thousand", 50_000, SALARY_Q),
    ("0,085", 0.085, "What share?"), ("restart the kernel", "b", "Which option?"), ("b or c", "b", "Which option?"),
    (2, "b", "Which option?"), (0.357, "b", "Which option?"), (150, "experiments", "Which kind?"),
    (None, "access", TEAM_Q), (1, False, "May it?"), (42, PAIR, "Which pair?"), (3.5, SKILLS, "Which two?"),
]


@pytest.mark.parametrize("answer, correct, question, accept", ACCEPTED, ids=repr)
def test_a_right_answer_in_a_form_people_write_is_right(answer, correct, question, accept, capsys):
    assert quiz(answer, correct, question, "HINT", accept=accept)
    out = capsys.readouterr().out
    assert out.startswith("✔") and "HINT" not in out


@pytest.mark.parametrize("answer, correct, question", REJECTED, ids=repr)
def test_a_wrong_answer_stays_wrong_and_gets_the_hint(answer, correct, question, capsys):
    assert not quiz(answer, correct, question, "HINT")
    out = capsys.readouterr().out
    assert out.startswith("✘ Not quite (") and "Hint: HINT" in out


@pytest.mark.parametrize("answer, correct, question", UNREADABLE, ids=repr)
def test_an_unreadable_answer_is_told_the_form_not_the_hint(answer, correct, question, capsys):
    assert not quiz(answer, correct, question, "HINT")
    out = capsys.readouterr().out
    assert out.startswith("✘ Not quite readable") and "HINT" not in out and "only the form" in out


def test_a_number_check_says_it_wants_digits_when_given_words(capsys):
    quiz("sixty", 60, MINUTES_Q, "HINT")
    assert "a number in digits" in capsys.readouterr().out
