"""Unit tests for helpers.shipping: the interface, the seeded router, the fallback rules, the log."""

import numpy as np
import pytest

from helpers.data import load_tickets
from helpers.shipping import (KEYWORDS, SOURCES, TEAMS, PredictionLog, RoutingDecision, RoutingRequest,
                              request_frame, requests_from, route_by_keywords, team_probability,
                              train_router, with_name)


@pytest.fixture(scope="module")
def tickets():
    return load_tickets()


@pytest.fixture(scope="module")
def model(tickets):
    return train_router(tickets.head(1200), seed=0)


def test_request_frame_has_the_models_columns_and_no_leak():
    frame = request_frame("hello", product="API")
    assert list(frame.columns) == ["text", "product", "tier", "channel"]
    assert "assigned_agent" not in frame.columns and frame.loc[0, "product"] == "API"


def test_training_is_reproducible(tickets, model):
    again = train_router(tickets.head(1200), seed=0)
    sample = tickets.tail(300)[["text", "product", "tier", "channel"]]
    assert np.array_equal(model.predict_proba(sample), again.predict_proba(sample))
    assert sorted(model.classes_) == sorted(TEAMS)


def test_router_is_useful_but_not_perfect(tickets, model):
    sample = tickets.tail(600)
    accuracy = (model.predict(sample[["text", "product", "tier", "channel"]]) == sample["team"]).mean()
    assert 0.7 < accuracy < 0.95


def test_team_probability_and_its_errors(model):
    frame = request_frame("Please send a copy of invoice 1234.")
    assert team_probability(model, frame, "billing") > 0.5
    with pytest.raises(ValueError, match="unknown team 'shipping'"):
        team_probability(model, frame, "shipping")


def test_names_sign_tickets():
    assert with_name("It is slow.", "Ana") == "My name is Ana. It is slow."


@pytest.mark.parametrize("text, team", [
    ("I forgot my PASSWORD", "access"), ("Refund please, I was charged twice", "billing"),
    ("The webhook to Slack fails", "integrations"), ("Can we get a quote?", "sales"),
    ("The app crashes", "technical"), ("Hello there", None),
    ("Please activate my account", None), ("It loads rapidly now", None),  # no "vat", no "api"
    ("Our VAT number changed", "billing"), ("The API returns 500", "integrations"),
    ("I am locked out after logging in twice", "access"),
])
def test_keyword_rules(text, team):
    assert route_by_keywords(text) == team


def test_keyword_rules_cover_every_team():
    assert set(KEYWORDS) == set(TEAMS)


def test_prediction_log_counts_sources_per_product(tmp_path, tickets):
    log = PredictionLog(str(tmp_path / "log.db"))
    requests = list(requests_from(tickets.head(3)))
    log.record(requests[0], RoutingDecision("billing", 0.9, "model", "1.0"))
    log.record(requests[1], RoutingDecision(None, 0.0, "human"))
    log.record(RoutingRequest("x", "Insights", "pro", "chat"), RoutingDecision("access", 0.0, "rules"))
    assert len(log) == 3 and set(log.source_shares()) == set(SOURCES)
    assert log.source_shares() == pytest.approx({"model": 1 / 3, "rules": 1 / 3, "human": 1 / 3})
    assert log.source_shares("Insights") == {"model": 0.0, "rules": 1.0, "human": 0.0}
    assert log.source_shares("Nothing") == {"model": 0.0, "rules": 0.0, "human": 0.0}
    assert log.confidences() == [0.9]
    reopened = PredictionLog(str(tmp_path / "log.db"))
    assert len(reopened) == 3
