"""Unit tests for module 5's self-assessment."""

import pytest

from helpers.self_assessment import STATEMENTS, assess, blank_answers, learning_plan


def _answers(**values):
    answers = blank_answers()
    answers.update({key: 3 for key in answers})
    answers.update(values)
    return answers


def test_strong_ml_answers_lean_ml_and_say_why():
    result = assess(_answers(patterns=5, statistics=5, experiments=5, users=1, design=1, done=1))
    assert result.lean == "ml" and result.ml > result.se
    assert "machine learning engineer role" in str(result)
    assert any("patterns in data" in reason for reason in result.reasons)


def test_strong_se_answers_lean_se():
    result = assess(_answers(patterns=1, statistics=1, users=5, design=5, done=5))
    assert result.lean == "se"
    assert learning_plan(result)[0].startswith("Redo module 3")


def test_equal_answers_lean_both_with_a_mixed_plan():
    result = assess(_answers())
    assert result.lean == "both" and result.ml == result.se == 3
    plan = learning_plan(result)
    assert len(plan) == 4 and "module 2" in plan[0] and "module 3" in plan[1]


def test_shared_statements_count_for_both_roles():
    low, high = assess(_answers(debugging=1, tradeoffs=1)), assess(_answers(debugging=5, tradeoffs=5))
    assert high.ml - low.ml == pytest.approx(high.se - low.se) and high.ml > low.ml


@pytest.mark.parametrize("change, message", [
    ({"patterns": None}, "still missing: patterns"),
    ({"patterns": 6}, "1 to 5"),
    ({"patterns": "five"}, "1 to 5"),
    ({"patterns": 4.5}, "1 to 5"),
    ({"patterns": True}, "1 to 5"),
    ({"typo": 3}, "Unknown statement keys: typo"),
])
def test_bad_answers_get_a_clear_error(change, message):
    with pytest.raises(ValueError, match=message):
        assess(_answers(**change))


def test_every_statement_points_to_a_role():
    assert {role for _, _, role in STATEMENTS} == {"ml", "se", "both"}
    assert len({key for key, _, _ in STATEMENTS}) == len(STATEMENTS)


def test_every_statement_says_where_it_comes_from():
    from helpers.self_assessment import ORIGINS

    assert set(ORIGINS) == {key for key, _, _ in STATEMENTS}
    assert all(origin.startswith(("the article", "the course")) for origin in ORIGINS.values())


def test_an_empty_or_unfinished_self_assessment_gives_no_verdict_and_never_raises(capsys):
    from helpers.self_assessment import plot_assessment, your_result

    assert your_result(blank_answers()) is None
    assert "Your turn" in capsys.readouterr().out
    half = blank_answers()
    half.update(patterns=4, users=2)
    assert your_result(half) is None
    said = capsys.readouterr().out
    assert "2 of 8" in said and "statistics" in said and "patterns" not in said
    assert your_result(_answers(patterns="five")) is None
    assert "1 to 5" in capsys.readouterr().out
    assert your_result("not a dict") is None
    assert plot_assessment(None) is None
    assert learning_plan(None) == []


def test_the_chart_shows_both_scores_and_every_rating():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.self_assessment import plot_assessment, your_result

    result = your_result(_answers(patterns=5, statistics=5, users=1))
    ax = plot_assessment(result)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["machine learning engineer", "software engineer"]
    assert ax.get_ylabel() and ax.get_xlabel()
    widths = sorted(round(bar.get_width() + 1, 6) for bar in ax.patches if bar.get_height() == 0.5)
    assert widths == sorted([round(result.ml, 6), round(result.se, 6)])
    dots = sum(len(c.get_offsets()) for c in ax.collections)
    assert dots == len(STATEMENTS) + 2  # shared statements are drawn on both bars
    assert ax.get_title() == result.verdict
    plt.close("all")


def test_a_rating_typed_in_quotes_or_as_a_whole_float_counts_as_the_number():
    typed = assess(_answers(patterns="5", statistics=5.0, experiments=" 5 "))
    assert typed == assess(_answers(patterns=5, statistics=5, experiments=5))
    assert typed.ratings["patterns"] == 5
