"""Unit tests for the ticket data set (helpers.tickets, the shipped CSVs, the loaders),
the drift shares and the model card helpers."""

import json
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.compose import make_column_transformer  # noqa: E402
from sklearn.dummy import DummyClassifier  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder  # noqa: E402

from helpers import data as data_module  # noqa: E402
from helpers.data import data_path, load_next_month, load_tickets  # noqa: E402
from helpers.drift import category_shares, plot_shares  # noqa: E402
from helpers.model_card import REQUIRED_FIELDS, load_model, save_model  # noqa: E402
from helpers.tickets import (COLUMNS, NEXT_MONTH, ROUTING_FEATURES, TEAMS, TicketRecipe,  # noqa: E402
                             generate_next_month, generate_tickets, write_csv)


@pytest.fixture(scope="module")
def tickets():
    return load_tickets()


@pytest.fixture(scope="module")
def next_month():
    return load_next_month()


def _router():
    return make_pipeline(
        make_column_transformer((TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2), "text"),
                                (OneHotEncoder(handle_unknown="ignore"), ["product", "tier", "channel"])),
        LogisticRegression(C=3, max_iter=1000))


def _psi(reference, current, eps=1e-4):
    shares = category_shares(reference, current).clip(lower=eps)
    return float(((shares["current"] - shares["reference"]) * np.log(shares["current"] / shares["reference"])).sum())


# --- the shipped files are exactly what the generators make --------------------------------

def test_shipped_csv_is_regenerated_byte_for_byte():
    assert write_csv(generate_tickets()).encode("utf-8") == data_path("tickets.csv").read_bytes()
    assert write_csv(generate_next_month()).encode("utf-8") == data_path("tickets_next_month.csv").read_bytes()


def test_same_seed_same_tickets_other_seed_other_tickets():
    small = TicketRecipe(n_tickets=200)
    a, b, c = generate_tickets(5, small), generate_tickets(5, small), generate_tickets(6, small)
    pd.testing.assert_frame_equal(a, b)
    assert not a["text"].equals(c["text"])


def test_write_csv_writes_unix_line_ends(tmp_path):
    text = write_csv(generate_tickets(1, TicketRecipe(n_tickets=5)), tmp_path / "t.csv")
    assert "\r" not in text and (tmp_path / "t.csv").read_bytes() == text.encode("utf-8")


@pytest.mark.parametrize("bad, message", [
    (dict(n_tickets=0), "at least 1"),
    (dict(p_vague=1.5), "probability"),
    (dict(team_shares={"technical": 1.0}), "exactly the teams"),
])
def test_a_nonsense_recipe_is_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        generate_tickets(0, TicketRecipe(**bad))


# --- the data has the properties the lesson relies on -----------------------------------------

def test_tables_have_the_documented_columns_and_no_gaps(tickets, next_month):
    for table, n, prefix in ((tickets, 2400, "T"), (next_month, 800, "N")):
        assert list(table.columns) == COLUMNS and len(table) == n
        assert (table != "").all().all(), "no empty cells"
        assert table["ticket_id"].is_unique and table["ticket_id"].str.startswith(prefix).all()
        assert table["created"].is_monotonic_increasing
        assert set(table["team"]) == set(TEAMS)
    assert set(ROUTING_FEATURES) < set(COLUMNS)


def test_classes_are_imbalanced(tickets):
    shares = tickets["team"].value_counts(normalize=True)
    assert shares.index[0] == "technical" and shares.iloc[0] > 0.3
    assert shares.min() < 0.10, "the smallest team should be rare"
    assert shares.iloc[0] / shares.min() > 3


def test_label_noise_exists(tickets):
    # Tickets about a password reset are access tickets... except those filed under another team.
    reset = tickets[tickets["text"].str.contains("password reset email never arrives", case=False)]
    assert len(reset) > 20
    assert 0.6 < (reset["team"] == "access").mean() < 1.0


def test_vague_tickets_exist(tickets):
    assert tickets["text"].str.contains("It doesn't work.", regex=False).sum() > 10


def test_agent_column_gives_the_team_away(tickets):
    """The leak is real: each agent closes tickets of one team only."""
    assert (tickets.groupby("assigned_agent")["team"].nunique() == 1).all()


def test_a_sensible_model_beats_the_baseline_but_is_far_from_perfect(tickets):
    train, test = train_test_split(tickets, test_size=0.25, stratify=tickets["team"], random_state=0)
    baseline = DummyClassifier(strategy="most_frequent").fit(train, train["team"]).predict(test)
    model = _router().fit(train[ROUTING_FEATURES], train["team"])
    predicted = model.predict(test[ROUTING_FEATURES])
    accuracy = accuracy_score(test["team"], predicted)
    assert 0.75 <= accuracy <= 0.92, accuracy
    assert accuracy > accuracy_score(test["team"], baseline) + 0.3
    assert f1_score(test["team"], predicted, average="macro") > 0.7
    leaky = _router()
    leaky.steps[0][1].transformers[1] = ("onehotencoder", OneHotEncoder(handle_unknown="ignore"),
                                         ["product", "tier", "channel", "assigned_agent"])
    leaky.fit(train, train["team"])
    assert accuracy_score(test["team"], leaky.predict(test)) > 0.97, "the leak should look too good"


def test_next_month_really_drifts(tickets, next_month):
    assert "Insights" in set(next_month["product"]) and "Insights" not in set(tickets["product"])
    assert _psi(tickets["product"], next_month["product"]) > 0.25
    assert _psi(tickets["channel"], next_month["channel"]) > 0.1
    assert _psi(tickets["tier"], next_month["tier"]) < 0.1, "tiers do not drift"
    model = _router().fit(tickets[ROUTING_FEATURES], tickets["team"])
    now = accuracy_score(next_month["team"], model.predict(next_month[ROUTING_FEATURES]))
    assert now < 0.75, "a model trained on October should do clearly worse in November"


def test_next_month_recipe_only_changes_what_the_card_says():
    assert NEXT_MONTH.p_new_product > 0 and NEXT_MONTH.p_label_noise == TicketRecipe().p_label_noise


# --- loaders give clear errors ---------------------------------------------------------------

def test_loaders_return_fresh_copies(tickets):
    first = load_tickets()
    first.loc[0, "team"] = "nobody"
    assert load_tickets().loc[0, "team"] == tickets.loc[0, "team"] != "nobody"


def test_loader_explains_a_broken_file(tmp_path, monkeypatch):
    (tmp_path / "tickets.csv").write_text("ticket_id,text\nT1,hello\n", encoding="utf-8")
    monkeypatch.setattr(data_module, "data_path", lambda name: tmp_path / name)
    with pytest.raises(ValueError, match=r"lacks the column\(s\).*team.*git checkout"):
        load_tickets()


def test_loader_explains_a_missing_file(monkeypatch):
    monkeypatch.setattr(data_module, "data_path",
                        lambda name: (_ for _ in ()).throw(FileNotFoundError(f"{name} is missing")))
    with pytest.raises(FileNotFoundError, match="tickets_next_month.csv"):
        load_next_month()


# --- drift shares ----------------------------------------------------------------------------

def test_category_shares_line_up_new_and_vanished_categories():
    table = category_shares(["a", "a", "b"], ["a", "c"])
    assert list(table.index) == ["a", "b", "c"]
    assert table.loc["b", "current"] == 0 and table.loc["c", "reference"] == 0
    assert np.allclose(table.sum(), 1)


def test_category_shares_refuses_empty_input():
    with pytest.raises(ValueError, match="reference values are empty"):
        category_shares([], ["a"])


def test_plot_shares_draws_two_bars_per_category():
    ax = plot_shares(category_shares(["a", "b"], ["b", "c"]))
    assert len(ax.patches) == 6
    matplotlib.pyplot.close("all")


# --- model card ------------------------------------------------------------------------------

CARD = {"name": "router", "version": "1.0", "intended_use": "route tickets", "data": "tickets.csv",
        "metric": "macro F1", "scores": {"macro F1": 0.8}, "limits": ["new products"]}


def test_model_and_card_round_trip(tmp_path, tickets):
    model = _router().fit(tickets[ROUTING_FEATURES][:300], tickets["team"][:300])
    save_model(model, tmp_path / "m", CARD)
    loaded, card = load_model(tmp_path / "m")
    assert (loaded.predict(tickets[ROUTING_FEATURES][:50]) == model.predict(tickets[ROUTING_FEATURES][:50])).all()
    assert card["metric"] == "macro F1" and "sklearn_version" in card
    text = (tmp_path / "m" / "model_card.md").read_text()
    assert text.startswith("# Model card: router (version 1.0)") and "## Limits" in text


def test_a_card_without_its_fields_is_refused(tmp_path):
    with pytest.raises(ValueError, match="lacks"):
        save_model(DummyClassifier(), tmp_path, {"name": "x"})
    assert set(REQUIRED_FIELDS) <= set(CARD)


def test_loading_explains_missing_files_and_version_mismatch(tmp_path):
    with pytest.raises(FileNotFoundError, match="model.joblib"):
        load_model(tmp_path)
    save_model(DummyClassifier().fit([[0]], [1]), tmp_path, CARD)
    card = json.loads((tmp_path / "model_card.json").read_text())
    card["sklearn_version"] = "0.1"
    (tmp_path / "model_card.json").write_text(json.dumps(card))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_model(tmp_path)
    assert any("scikit-learn 0.1" in str(w.message) for w in caught)
