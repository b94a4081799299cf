"""The course's stated times agree wherever a learner reads them.

A learner plans their week from these figures, and they are written in five places: the README's
course map, the website's home page, lesson 0's chart, each lesson's "Estimated time" line (which
also gives the time of the exercise that follows), and each exercise's own header. A newcomer
review once found the exercises' headers still saying 75 minutes and 2 hours after the lessons and
README had been re-estimated to 100 minutes and 2.5-3 hours; this test keeps one figure per part.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]

#: module number -> (lesson notebook, graded exercise folder or None)
MODULES = {
    "0": ("00_start_here", None),
    "1": ("01_two_roles", "m1_roles_warmup"),
    "2a": ("02a_ml_engineer_build", None),
    "2b": ("02b_ml_engineer_ship", "m2_ml_engineer"),
    "3": ("03_software_engineer", "m3_software_engineer"),
    "4": ("04_shipping_together", "m4_shipping_together"),
    "5": ("05_choosing_your_path", "m5_reflection"),
}

_AMOUNT = r"(\d+(?:\.\d+)?)(?:\s*(?:-|to)\s*(\d+(?:\.\d+)?))?\s*(min|minutes|h|hours?)\b"


def minutes(text: str) -> tuple[float, float]:
    """The first time in ``text`` as a (low, high) range of minutes: "25 min", "2.5-3 h",
    "2.5 to 3 hours", "100 minutes"."""
    found = re.search(_AMOUNT, text)
    assert found, f"no time in {text!r}"
    low, high, unit = float(found[1]), float(found[2] or found[1]), found[3]
    scale = 60 if unit.startswith("h") else 1
    return low * scale, high * scale


def table(path: Path) -> dict[str, tuple[tuple[float, float], tuple[float, float] | None]]:
    """The course map's rows: module -> (lesson time, exercise time or None)."""
    rows = {}
    for line in path.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0] in MODULES:
            rows[cells[0]] = (minutes(cells[3]), minutes(cells[5]) if cells[5] else None)
    assert set(rows) == set(MODULES), f"{path.name}: course map rows {sorted(rows)}"
    return rows


def header(notebook: Path) -> str:
    for cell in nbformat.read(notebook, as_version=4).cells:
        found = re.search(r"\*\*Estimated time:\*\*\s*([^\n·]*(?:\n[^\n*]*)?)", cell.source)
        if found:
            return " ".join(found[1].split())
    raise AssertionError(f"{notebook.name}: no **Estimated time:** line")


def stated_totals() -> dict[str, float]:
    """The whole course's stated hours, wherever they are said."""
    said = {}
    for name, text in [("README.md", (ROOT / "README.md").read_text()),
                       ("site/index.md", (ROOT / "site" / "index.md").read_text()),
                       ("lesson 0", header(ROOT / "course" / "00_start_here.ipynb"))]:
        found = re.search(r"about (\d+(?:\.\d+)?) hours", text, re.IGNORECASE)
        assert found, f"{name}: no 'about N hours' for the whole course"
        said[name] = float(found[1])
    return said


def chart_minutes() -> tuple[list[int], list[int]]:
    """Lesson 0's chart data: minutes per module for the lesson and for its exercise."""
    source = nbformat.read(ROOT / "course" / "00_start_here.ipynb", as_version=4).cells
    code = next(c.source for c in source if c.cell_type == "code" and "exercise = [" in c.source)
    lesson = ast.literal_eval(re.search(r"^lesson = (\[.*?\])", code, re.M)[1])
    exercise = ast.literal_eval(re.search(r"^exercise = (\[.*?\])", code, re.M)[1])
    return lesson, exercise


@pytest.fixture(scope="module")
def readme():
    return table(ROOT / "README.md")


def test_the_website_gives_the_readmes_times(readme):
    assert table(ROOT / "site" / "index.md") == readme


@pytest.mark.parametrize("module", MODULES)
def test_each_lesson_and_exercise_states_the_readmes_time(module, readme):
    lesson_name, exercise = MODULES[module]
    lesson_time, exercise_time = readme[module]
    line = header(ROOT / "course" / f"{lesson_name}.ipynb")
    assert minutes(line) == lesson_time, f"lesson {module}: {line!r}, README {lesson_time}"
    if exercise is None:
        return
    after = re.search(r"\((?:then )?(.*)\)", line)
    assert after, f"lesson {module} should say how long its exercise takes: {line!r}"
    assert minutes(after[1]) == exercise_time, f"lesson {module}: {line!r}, README {exercise_time}"
    for folder in ("solutions", "exercises"):
        notebook = next((ROOT / folder / exercise).glob("*.ipynb"))
        said = header(notebook)
        assert minutes(said) == exercise_time, f"{folder}/{exercise}: {said!r}, README {exercise_time}"


def test_lesson_zeros_chart_draws_the_readmes_times(readme):
    lesson, exercise = chart_minutes()
    for i, module in enumerate(MODULES):
        lesson_time, exercise_time = readme[module]
        assert lesson_time[0] <= lesson[i] <= lesson_time[1], f"chart, lesson {module}: {lesson[i]}"
        low, high = exercise_time or (0, 0)
        assert low <= exercise[i] <= high, f"chart, exercise of module {module}: {exercise[i]}"


def test_the_whole_course_is_the_sum_of_its_parts(readme):
    optional = readme["5"][1][0]  # module 5's reflection is optional: "plus an optional 15 minutes"
    lesson, exercise = chart_minutes()
    required_hours = (sum(lesson) + sum(exercise) - optional) / 60
    for where, hours in stated_totals().items():
        assert abs(hours - required_hours) < 0.75, \
            f"{where} says about {hours} hours; its parts add up to {required_hours:.1f} (the reflection left out)"


def test_times_are_read_as_written():
    assert minutes("25 min") == (25, 25)
    assert minutes("2.5-3 h") == (150, 180)
    assert minutes("about 2.5 to 3 hours for the assignment") == (150, 180)
    assert minutes("an optional reflection, about 15 minutes") == (15, 15)
    assert minutes("2 hours") == (120, 120)
