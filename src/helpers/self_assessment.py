"""Module 5's self-assessment: which role fits your interests, and why.

The eight statements are the course's own. Only the ML side leans on the source article's advice
on choosing, the one path it advises on: it suits "a strong interest in data analysis, statistics,
and algorithms" and people "comfortable with complex mathematical concepts and programming". The
software engineer's statements come from what the course showed of that job (user stories, tests,
interfaces, code review), with one phrase of the article's closing paragraph, "the creative
problem-solving aspects of software engineering", and its line that software engineers "build the
applications that users interact with". The shared statements are the course's own. It is a
conversation starter, not a test: the result explains itself, and its chart shows the lean at a
glance.

Learners start from an empty answers dictionary (a lesson run top to bottom gives no verdict on
anybody's answers), fill it in by hand (works everywhere, including headless runs) or with sliders
when ipywidgets is available (:func:`questionnaire`). :func:`your_result` and
:func:`plot_assessment` never raise on unfinished answers: they say what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["STATEMENTS", "ORIGINS", "SCALE", "blank_answers", "Assessment", "assess", "your_result", "plot_assessment",
           "learning_plan", "questionnaire"]

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
#: Where each statement comes from, so a lesson can attribute it honestly.
ORIGINS = {
    "patterns": 'the article, on the ML path: "a strong interest in data analysis" and "large datasets"',
    "statistics": 'the article, on the ML path: "statistics" and "complex mathematical concepts"',
    "experiments": "the course: module 2's experiments, most of which do not win",
    "users": 'the article: software engineers "build the applications that users interact with"',
    "design": "the course: module 3's interface and refactoring, module 4's contract",
    "done": "the course: module 3's acceptance criteria and tests",
    "debugging": "the course: the on-call moments and bug reports of modules 2b and 3",
    "tradeoffs": "the course: module 4, where the two roles agree a threshold and an interface",
}
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
    ratings: dict = field(default_factory=dict, compare=False)

    @property
    def lean(self) -> str:
        """"ml", "se" or "both" (within half a point counts as both)."""
        if abs(self.ml - self.se) < 0.5:
            return "both"
        return "ml" if self.ml > self.se else "se"

    @property
    def verdict(self) -> str:
        """The lean in one sentence."""
        if self.lean == "both":
            return "You lean towards both roles about equally"
        return f"You lean towards the {_ROLE_NAMES[self.lean]} role"

    def __str__(self) -> str:
        advice = ": the overlap (module 4) may suit you best." if self.lean == "both" else "."
        lines = [f"ML engineer: {self.ml:.1f} / 5    software engineer: {self.se:.1f} / 5",
                 self.verdict + advice, "What weighed most:"]
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
    ratings = {k: _rating(answers[k]) for k in keys}
    bad = [k for k in keys if ratings[k] is None]
    if bad:
        raise ValueError(f"Answers are whole numbers from 1 to 5 ({SCALE}); check: {', '.join(bad)}.")
    return ratings


def _rating(value) -> int | None:
    """A rating as a whole number from 1 to 5, or None when it is not one.

    A person may type 4, 4.0 or "4" (quotes included): all mean 4. True, 4.5, "four" and 6 do not.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value.isdigit():
            return None
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and 1 <= value <= 5:
        return int(value)
    return None


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
    return Assessment(ml=ml, se=se, reasons=reasons, ratings=dict(answers))


def _missing(answers) -> list[str]:
    """The statements still unrated in ``answers`` (all of them when it is not a dictionary)."""
    if not isinstance(answers, dict):
        return [key for key, _, _ in STATEMENTS]
    return [key for key, _, _ in STATEMENTS if answers.get(key) is None]


def your_result(answers) -> Assessment | None:
    """The learner's result, or ``None`` with a friendly message while it cannot be given yet.

    A lesson calls this instead of :func:`assess` so that running it top to bottom never stops:
    unrated statements get a "your turn" message, and a rating that is not a whole number from
    1 to 5 gets the reason. Nothing is scored until every statement is rated, so no verdict is
    ever given on answers the learner did not write.
    """
    missing = _missing(answers)
    if len(missing) == len(STATEMENTS):
        print(f"✎ Your turn: rate each of the {len(STATEMENTS)} statements in the answers above "
              f"({SCALE}), then run this cell again.")
        return None
    if missing:
        print(f"✎ Nearly: {len(STATEMENTS) - len(missing)} of {len(STATEMENTS)} statements rated; "
              f"still to rate: {', '.join(missing)}.")
        return None
    try:
        return assess(answers)
    except ValueError as error:
        print(f"✘ {error}")
        return None


def plot_assessment(result: Assessment | None, ax=None):
    """Draw the result as a chart: the lean at a glance.

    One horizontal bar per role reaches that role's score (the mean of its ratings); a dot per
    rating shows what the mean is made of, and a band half a point wide around the middle of the two
    scores marks what counts as leaning to both. With no result yet (``None``), say so
    and draw nothing. Returns the axes, or ``None``.
    """
    if result is None:
        print("✎ No chart yet: the chart shows your result once every statement is rated.")
        return None
    import matplotlib.pyplot as plt

    from .style import ROLE_COLORS

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3), layout="constrained")
    rows = [("ml", result.ml), ("se", result.se)]
    for y, (role, score) in enumerate(rows):
        ax.barh(y, score - 1, left=1, height=0.5, color=ROLE_COLORS[role], alpha=0.85)
        ax.text(score + 0.05, y, f"{score:.1f}", va="center", fontweight="bold")
        ratings = sorted(result.ratings[key] for key, _, r in STATEMENTS if r in (role, "both"))
        heights = [y + 0.33 + 0.08 * ratings[:i].count(rating) for i, rating in enumerate(ratings)]
        ax.scatter(ratings, heights, s=18, color="#333333", zorder=3,
                   label="one of your ratings" if y == 0 else None)
    low, high = min(result.ml, result.se), max(result.ml, result.se)
    middle = (low + high) / 2
    ax.axvspan(middle - 0.25, middle + 0.25, color=ROLE_COLORS["both"], alpha=0.15,
               label="half a point wide:\nboth bars end in it\n= a lean to both")
    ax.set_yticks(range(len(rows)), [_ROLE_NAMES[role] for role, _ in rows])
    ax.set_ylim(-0.4, len(rows) - 0.1)
    ax.set_xlim(1, 5.4)
    ax.set_xlabel(SCALE.replace(" = ", ": "))
    ax.set_ylabel("role")
    ax.set_title(result.verdict)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
    return ax


_PLAN = {
    "ml": [
        "Redo module 2 without the lesson open: split, baseline, pipeline, evaluation, model card.",
        "Strengthen statistics and linear algebra (a probability course; scikit-learn's free online course, its MOOC).",
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


def learning_plan(assessment: Assessment | None) -> list[str]:
    """Four next steps for the role the learner leans to (interleaved for "both"); none before
    there is a result."""
    if assessment is None:
        return []
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
