"""Module 4: the pieces both roles agree on when the model goes inside the ticket service.

The ML engineer and the software engineer meet at an *interface*. Writing it down as code makes
it checkable by both sides:

* :class:`RoutingRequest`: what the service sends the model (only what is known when a ticket
  arrives: no ``assigned_agent``, which would leak the answer);
* :class:`RoutingDecision`: what comes back: a team, how sure, and *who decided* (the model, the
  keyword rules, or a person), so monitoring can count each;
* :func:`train_router`: module 2's model (TF-IDF on the text, one-hot fields, logistic
  regression), trained from a seed so that the same data gives the same predictions;
* :func:`route_by_keywords`: the rule-based fallback the service uses when the model is missing;
* :class:`PredictionLog`: every decision, kept in SQLite for monitoring.

How to combine them (the routing logic with its fallback) is what the lesson and the assignment
build, in the notebook, so it stays in front of the learner.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import asdict, dataclass
from typing import Iterable

import pandas as pd

from .tickets import ROUTING_FEATURES, TEAMS

__all__ = [
    "TEAMS",
    "SOURCES",
    "RoutingRequest",
    "RoutingDecision",
    "train_router",
    "KEYWORDS",
    "route_by_keywords",
    "PredictionLog",
    "requests_from",
    "request_frame",
    "with_name",
    "team_probability",
]

#: Who made a routing decision.
SOURCES = ("model", "rules", "human")


@dataclass(frozen=True)
class RoutingRequest:
    """What the service passes to the model: the four fields known when a ticket arrives."""

    text: str
    product: str
    tier: str
    channel: str

    def as_frame(self) -> pd.DataFrame:
        """A one-row table with the columns the model was trained on."""
        return pd.DataFrame([asdict(self)], columns=ROUTING_FEATURES)


@dataclass(frozen=True)
class RoutingDecision:
    """What the service gets back.

    ``team`` is one of :data:`TEAMS`, or ``None`` when a person must decide (``source ==
    "human"``); ``confidence`` is the model's probability for that team (0 when it did not
    decide); ``model_version`` is the model card's version, or ``None``.
    """

    team: str | None
    confidence: float
    source: str
    model_version: str | None = None


def train_router(tickets: pd.DataFrame, C: float = 3.0, seed: int = 0):
    """Module 2's routing model, fitted on ``tickets`` (text plus product, tier and channel).

    Training is deterministic: the same tickets give the same model (the lbfgs solver has no
    randomness; ``seed`` is passed on for solvers that do). That is what module 4's
    reproducibility check relies on. BLAS runs on one thread: on a small laptop, several threads
    fighting over two cores make this fit many times slower, not faster.
    """
    from threadpoolctl import threadpool_limits
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    features = ColumnTransformer([
        ("text", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True), "text"),
        ("fields", OneHotEncoder(handle_unknown="ignore"), ["product", "tier", "channel"]),
    ])
    model = Pipeline([
        ("features", features),
        ("classifier", LogisticRegression(C=C, max_iter=2000, random_state=seed)),
    ])
    with threadpool_limits(1):
        return model.fit(tickets[ROUTING_FEATURES], tickets["team"])


#: The help desk's old routing rules, kept as the fallback: the first team whose keyword appears.
KEYWORDS = {
    "access": ("password", "log in", "login", "2fa", "locked", "permission", "admin rights", "sso"),
    "billing": ("invoice", "charged", "refund", "receipt", "vat", "credit card", "payment"),
    "integrations": ("api", "webhook", "slack", "zapier", "integration", "token"),
    "sales": ("upgrade", "quote", "pricing", "seats", "demo", "discount"),
    "technical": ("error", "crash", "slow", "bug", "freezes", "does not load", "blank screen"),
}


def _keyword_pattern(word: str) -> "re.Pattern[str]":
    """A keyword as a whole word or phrase, with an optional plural or verb ending: "crash" matches
    "crashes", "vat" matches "VAT" but not "activate", "api" not "rapidly"."""
    phrase = r"\s+".join(map(re.escape, word.split()))
    return re.compile(r"(?<![\w])" + phrase + r"(?:s|es|ed|ing)?(?![\w])")


_PATTERNS = {team: [_keyword_pattern(word) for word in words] for team, words in KEYWORDS.items()}


def route_by_keywords(text: str) -> str | None:
    """The first team (in :data:`KEYWORDS` order) with a keyword in ``text`` as a whole word, or
    None. Whole words only: "activate" is not about "vat", nor "rapidly" about an "api"."""
    lowered = text.lower()
    for team, patterns in _PATTERNS.items():
        if any(pattern.search(lowered) for pattern in patterns):
            return team
    return None


class PredictionLog:
    """Every routing decision, stored in SQLite (``":memory:"`` by default) for monitoring.

    The service writes one row per ticket; the ML engineer reads the share of each source and
    the confidence over time to decide when to retrain.
    """

    def __init__(self, path: str = ":memory:"):
        self.db = sqlite3.connect(path)
        self.db.execute("""CREATE TABLE IF NOT EXISTS decisions (
            n INTEGER PRIMARY KEY AUTOINCREMENT, product TEXT, team TEXT,
            confidence REAL NOT NULL, source TEXT NOT NULL, model_version TEXT)""")

    def record(self, request: RoutingRequest, decision: RoutingDecision) -> None:
        with self.db:
            self.db.execute("INSERT INTO decisions (product, team, confidence, source, model_version) "
                            "VALUES (?, ?, ?, ?, ?)",
                            (request.product, decision.team, decision.confidence, decision.source,
                             decision.model_version))

    def source_shares(self, product: str | None = None) -> dict[str, float]:
        """The share of decisions made by each source (0 for a source never used), optionally
        for one product."""
        query, args = "SELECT source, COUNT(*) FROM decisions", ()
        if product is not None:
            query, args = query + " WHERE product = ?", (product,)
        rows = dict(self.db.execute(query + " GROUP BY source", args))
        total = sum(rows.values())
        return {source: (rows.get(source, 0) / total if total else 0.0) for source in SOURCES}

    def confidences(self, product: str | None = None) -> list[float]:
        """The model's confidences, in order, optionally for one product."""
        query, args = "SELECT confidence FROM decisions WHERE source = 'model'", ()
        if product is not None:
            query, args = query + " AND product = ?", (product,)
        return [row[0] for row in self.db.execute(query + " ORDER BY n", args)]

    def __len__(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM decisions").fetchone()[0]


def requests_from(tickets: pd.DataFrame) -> Iterable[RoutingRequest]:
    """One :class:`RoutingRequest` per row of a ticket table, in order."""
    for row in tickets[ROUTING_FEATURES].itertuples(index=False):
        yield RoutingRequest(*row)



def request_frame(text: str, product: str = "Desk", tier: str = "pro", channel: str = "email") -> pd.DataFrame:
    """A one-row table for the model, from a ticket's text (and optional fields): handy in tests."""
    return RoutingRequest(text, product, tier, channel).as_frame()


def with_name(text: str, name: str) -> str:
    """The same ticket, signed by a customer called ``name`` (for invariance tests)."""
    return f"My name is {name}. {text}"


def team_probability(model, frame: pd.DataFrame, team: str) -> float:
    """The model's probability that the first row of ``frame`` belongs to ``team``."""
    classes = list(model.classes_)
    if team not in classes:
        raise ValueError(f"unknown team {team!r}: the model knows {', '.join(classes)}")
    return float(model.predict_proba(frame)[0][classes.index(team)])
