"""Module 5's self-assessment: which role fits your interests, and why.

The statements are the course's own, built from what the source article says about choosing:
an ML engineer's path suits "a strong interest in data analysis, statistics, and algorithms" and
comfort with "complex mathematical concepts and programming"; a software engineer's path suits
"the creative problem-solving aspects of software engineering" and building "the applications
that users interact with". It is a conversation starter, not a test: the result explains itself.

Learners answer in a plain dictionary (works everywhere, including headless runs), or with
sliders when ipywidgets is available (:func:`questionnaire`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["STATEMENTS", "SCALE", "blank_answers", "Assessment", "assess", "learning_plan", "questionnaire"]

#: (key, statement, role it points to: "ml", "se" or "both")
STATEMENTS = [
    ("patterns", "I enjoy finding patterns in data and asking why a number changed.", "ml"),
    ("statistics", "I like statistics and probability, and mathematical notation does not scare me.", "ml"),
    ("experiments", "I am fine when an experiment fails, because I learned something from it.", "ml"),
    ("users", "I like building something people click on and use every day.", "se"),
    ("design", "I enjoy designing clean interfaces and code that others can change safely.", "se"),
    ("done", "I like knowing exactly when my work is done: the tests pass.", "se"),
    ("debugging", "I enjoy reproducing a bug until I understand it.", "both"),
    ("tradeoffs", "I like explaining trade-offs to people in other roles.", "both"),
]
SCALE = "1 = not me at all, 3 = sometimes, 5 = very much me"
_ROLE_NAMES = {"ml": "machine learning engineer", "se": "software engineer"}


def blank_answers() -> dict[str, int | None]:
    """The answers dictionary a learner fills in: one key per statement, 1 to 5."""
    return {key: None for key, _, _ in STATEMENTS}


@dataclass(frozen=True)
class Assessment:
    """Scores per role (1 to 5), the lean, and the statements that weighed most."""

    ml: float
    se: float
    reasons: tuple[str, ...]

    @property
    def lean(self) -> str:
        """"ml", "se" or "both" (within half a point counts as both)."""
        if abs(self.ml - self.se) < 0.5:
            return "both"
        return "ml" if self.ml > self.se else "se"

    def __str__(self) -> str:
        if self.lean == "both":
            verdict = "You lean towards both roles about equally: the overlap (module 4) may suit you best."
        else:
            verdict = f"You lean towards the {_ROLE_NAMES[self.lean]} role."
        lines = [f"ML engineer: {self.ml:.1f} / 5    software engineer: {self.se:.1f} / 5", verdict,
                 "What weighed most:"]
        lines += [f"  - {reason}" for reason in self.reasons]
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))


def _validated(answers: dict) -> dict[str, int]:
    keys = [key for key, _, _ in STATEMENTS]
    missing = [k for k in keys if answers.get(k) is None]
    if missing:
        raise ValueError(f"Answer every statement (1 to 5); still missing: {', '.join(missing)}.")
    unknown = sorted(set(answers) - set(keys))
    if unknown:
        raise ValueError(f"Unknown statement keys: {', '.join(unknown)}. Start from blank_answers().")
    bad = [k for k in keys if not isinstance(answers[k], int) or isinstance(answers[k], bool)
           or not 1 <= answers[k] <= 5]
    if bad:
        raise ValueError(f"Answers are whole numbers from 1 to 5 ({SCALE}); check: {', '.join(bad)}.")
    return {k: answers[k] for k in keys}


def assess(answers: dict) -> Assessment:
    """Score the answers: each role's score is the mean of its statements and the shared ones."""
    answers = _validated(answers)
    per_role = {"ml": [], "se": []}
    for key, _, role in STATEMENTS:
        for target in (("ml", "se") if role == "both" else (role,)):
            per_role[target].append(answers[key])
    ml, se = (sum(v) / len(v) for v in (per_role["ml"], per_role["se"]))
    strongest = sorted(STATEMENTS, key=lambda s: (-answers[s[0]], s[0]))[:3]
    reasons = tuple(f'"{text}" ({answers[key]}/5, {"both roles" if role == "both" else _ROLE_NAMES[role]})'
                    for key, text, role in strongest)
    return Assessment(ml=ml, se=se, reasons=reasons)


_PLAN = {
    "ml": [
        "Redo module 2 without the lesson open: split, baseline, pipeline, evaluation, model card.",
        "Strengthen statistics and linear algebra (a probability course; scikit-learn's MOOC).",
        "Build a small end-to-end project on data you care about, and write its model card.",
        "Learn the software side of ML: module 3's tests and module 4's contract tests.",
    ],
    "se": [
        "Redo module 3 test-first on a feature of your own: user story, failing test, code, refactor.",
        "Learn a web framework and a SQL database in depth; put a small service online.",
        "Read and review other people's code: open-source pull requests are good practice.",
        "Learn enough ML to work with ML engineers: module 2's evaluation and module 4's fallback.",
    ],
}


def learning_plan(assessment: Assessment) -> list[str]:
    """Four next steps for the role the learner leans to (interleaved for "both")."""
    if assessment.lean == "both":
        ml, se = _PLAN["ml"], _PLAN["se"]
        return [step for pair in zip(ml[:2], se[:2]) for step in pair]
    return list(_PLAN[assessment.lean])


def questionnaire(answers: dict):
    """Sliders for the statements (needs ipywidgets and a live JupyterLab); they fill ``answers``.

    Returns the widget, or None with an explanation when ipywidgets is not available, in which
    case the learner fills the dictionary by hand.
    """
    try:
        import ipywidgets as widgets
    except ImportError:
        print("ipywidgets is not installed: fill in the answers dictionary by hand instead.")
        return None
    rows = []
    for key, text, _ in STATEMENTS:
        slider = widgets.IntSlider(value=answers.get(key) or 3, min=1, max=5, description="",
                                   layout=widgets.Layout(width="200px"))
        answers[key] = slider.value

        def _update(change, key=key):
            answers[key] = change["new"]

        slider.observe(_update, names="value")
        rows.append(widgets.HBox([slider, widgets.Label(text)]))
    return widgets.VBox([widgets.Label(SCALE), *rows])
