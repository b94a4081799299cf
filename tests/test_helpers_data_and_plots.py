"""Unit tests for the data loaders, the timeline plot and the set-up check."""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from helpers.data import data_path, load_day, load_roles  # noqa: E402
from helpers.setup_check import check_setup  # noqa: E402
from helpers.style import use_course_style  # noqa: E402
from helpers.timeline import plot_day, to_hours  # noqa: E402


def test_roles_carry_the_article_facts_and_attribution():
    roles = load_roles()
    assert roles["source"]["publisher"].startswith("Resume Forrest")
    assert roles["growth"]["percent"] == 22 and (roles["growth"]["start_year"], roles["growth"]["end_year"]) == (2020, 2030)
    ranges = {s["role"]: (s["low"], s["high"]) for s in roles["salaries"]}
    assert ranges == {"AI engineer": (115000, 160000), "Data scientist": (95000, 130000),
                      "ML engineer": (120000, 180000)}
    assert "Computer Science" in roles["roles"]["ml"]["degrees"] and "Statistics" in roles["roles"]["ml"]["degrees"]


def test_loaded_data_is_a_fresh_copy():
    load_roles()["growth"]["percent"] = 0
    assert load_roles()["growth"]["percent"] == 22


def test_missing_data_file_gets_a_clear_error():
    with pytest.raises(FileNotFoundError, match="roles.json"):
        data_path("no_such_file.csv")


def test_days_are_well_formed():
    for role, rows in load_day().items():
        assert rows, role
        for activity, start, end, category in rows:
            assert to_hours(start) < to_hours(end), (role, activity)


@pytest.mark.parametrize("bad", ["9h30", "25:00", None, "ab:cd"])
def test_to_hours_rejects_what_is_not_a_time(bad):
    with pytest.raises(ValueError, match="(?i)time"):
        to_hours(bad)


def test_plot_day_draws_one_bar_per_activity():
    use_course_style()
    days = load_day()
    ax = plot_day(days)
    assert len(ax.patches) == sum(len(rows) for rows in days.values())
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "ML ENGINEER" and "SOFTWARE ENGINEER" in labels  # a heading per role
    assert any("On call" in label for label in labels)  # every bar is labelled with its activity
    categories = {t.get_text() for t in ax.texts}
    assert {"on-call", "experiments", "coding"} <= categories  # and its kind of activity
    matplotlib.pyplot.close("all")


def test_setup_check_passes_here_and_explains_problems():
    assert check_setup().ok
    report = check_setup(requirements=[("json", "no-such-dist-xyz", "1.0"), ("numpy", "numpy", "999")],
                         python_version=(3, 8))
    text = str(report)
    assert not report.ok and "3 problem(s)" in text
    assert "Python 3.8 is too old" in text and "no-such-dist-xyz is not installed" in text
    assert "numpy" in text and "too old" in text and "make course" in text
