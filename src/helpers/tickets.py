"""The help desk's support tickets: a synthetic but realistic data set, made from a seed.

Module 2 trains a model that routes each ticket to the team that should answer it. Real tickets
are private, so the course makes its own, and makes them *hard in the ways real tickets are hard*.
Each difficulty is a named knob of :class:`TicketRecipe`, so a reader can see (and change) why a
sensible model lands well below 100% accuracy:

* **class imbalance** (``team_shares``): most tickets are technical problems, few are sales;
* **ambiguity** (``p_ambiguous``): a ticket mentions a second team's topic ("I was charged twice
  *and* now I cannot log in"); its team is the one that must act first;
* **vague tickets** (``p_vague``): "It stopped working, please help": only the structured fields
  (product, tier, channel) hint at the team;
* **label noise** (``p_label_noise``): agents sometimes file a ticket under the wrong team, and the
  recorded team is what the model learns from;
* **typos** (``p_typo``): customers type fast;
* **drift** (:func:`generate_next_month`): next month a new product, *Insights*, brings words the
  model never saw, and the mix of teams and channels shifts.

Everything is drawn from one seeded :class:`numpy.random.Generator`, so the same seed gives the
same tickets, byte for byte, on every machine: the shipped files ``data/tickets.csv`` and
``data/tickets_next_month.csv`` are exactly ``write_csv(generate_tickets())`` and
``write_csv(generate_next_month())`` (a test checks it). Rebuild them with
``python -m helpers.tickets``.

One column is a trap on purpose: ``assigned_agent`` is the agent who *closed* the ticket, known
only after routing. A model that uses it scores almost perfectly and is useless (module 2, data
leakage).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "TEAMS",
    "COLUMNS",
    "ROUTING_FEATURES",
    "TicketRecipe",
    "THIS_MONTH",
    "NEXT_MONTH",
    "generate_tickets",
    "generate_next_month",
    "write_csv",
]

from .teams import TEAMS  # noqa: E402  (the one list, shared with the ticket service)

#: The columns of a ticket table, in file order.
COLUMNS = ["ticket_id", "created", "channel", "product", "tier", "text", "assigned_agent", "team"]

#: What is known when a ticket *arrives*, so what a routing model may use.
ROUTING_FEATURES = ["text", "product", "tier", "channel"]

# --- what customers write -------------------------------------------------------------------
# Each team has its own sentences; slots in braces are filled from SLOTS. Several words ("account",
# "plan", "user", "error") appear in more than one team on purpose: real vocabularies overlap.
TEMPLATES = {
    "technical": [
        "The {product} app crashes every time I open the {screen} page.",
        "Since the last update {product} is really slow, pages take {n} seconds to load.",
        "I get error {code} when I try to save a ticket in {product}.",
        "Attachments fail to upload in {product}, the progress bar stops at {pct}%.",
        "Notifications stopped arriving on my {device}.",
        "The {screen} page shows a blank screen in {browser}.",
        "Search in {product} returns no results even for tickets I can see.",
        "The {product} app freezes on my {device} after the latest version.",
        "Replies are sent twice to our customers, looks like a bug.",
        "Error {code} appears when our agents switch between tickets.",
        "The {screen} page does not load, we just see a spinning wheel.",
        "Some tickets disappeared from the queue after the outage this morning.",
    ],
    "billing": [
        "I was charged twice this month, invoice {invoice} and another one.",
        "Please send a copy of invoice {invoice} with our VAT number on it.",
        "Our card was declined but the payment of ${amount} still went through.",
        "I need a refund for the ${amount} charged after we cancelled.",
        "How do I change the credit card on our account?",
        "The invoice for {month} shows the wrong company address.",
        "Why did our bill go up to ${amount} this month?",
        "We were billed for {n} seats but only use {m}.",
        "Can we pay by bank transfer instead of card?",
        "The receipt for {month} never arrived in our inbox.",
        "Our payment failed and now we get reminder emails every day.",
    ],
    "access": [
        "I can't log in, it says my password is wrong but I just reset it.",
        "The password reset email never arrives.",
        "My account is locked after too many attempts.",
        "Two-factor codes from my {device} are always rejected.",
        "Single sign-on stopped working for our team this morning.",
        "A new colleague needs access to {product} but the invite link expired.",
        "How do I remove a user who left the company?",
        "I lost my phone and can't get the two-factor code.",
        "I changed my email address and now I can't sign in.",
        "Please give admin rights to {name} on our workspace.",
        "The login page keeps sending me back to the start.",
    ],
    "integrations": [
        "The API returns {code} for every request since this morning.",
        "Our webhook to {tool} stopped firing when a ticket is closed.",
        "The {tool} integration does not sync new contacts any more.",
        "We hit the API rate limit with only {n} requests a minute.",
        "Which API token scope do we need to create tickets?",
        "Tickets created through the API have no subject.",
        "The {tool} connector shows 'authorization expired'.",
        "Our script gets a timeout from the REST endpoint /tickets.",
        "Can the webhook payload include the customer's tier?",
        "After rotating the API key our {tool} sync broke.",
        "The SDK throws a JSON parsing error on paginated results.",
    ],
    "sales": [
        "We'd like a quote for {n} more seats.",
        "Can we extend our trial by two weeks?",
        "What is the difference between the pro and enterprise plans?",
        "We want to upgrade to enterprise, who should we talk to?",
        "Do you offer a discount for non-profits?",
        "Can I book a demo of {product} for our support team?",
        "We are comparing you with {competitor}, can you send pricing?",
        "Is there an annual plan with a lower price per user?",
        "Our contract renews in {month}, we'd like to discuss the terms.",
    ],
}

#: Next month's new product speaks its own language: none of these words exist this month.
INSIGHTS_TEMPLATES = {
    "technical": [
        "The Insights dashboard shows zero for every chart since yesterday.",
        "Exporting a report from Insights to CSV gives an empty file.",
        "The response-time widget on the Insights dashboard never finishes loading.",
        "Insights charts and the numbers in the weekly report do not match.",
        "The heatmap in Insights is cut off on my {device}.",
    ],
    "integrations": [
        "Can we pull Insights metrics into {tool} through the API?",
        "The Insights data export to our warehouse fails every night.",
        "Scheduled Insights reports are not delivered to our {tool} channel.",
    ],
    "billing": [
        "We were charged ${amount} for Insights but never turned it on.",
        "Is the Insights add-on billed per seat or per workspace?",
    ],
    "access": [
        "My colleague can't see the Insights dashboard, it says no permission.",
        "How do I give read-only access to Insights reports?",
    ],
    "sales": [
        "What does the Insights add-on cost for {n} agents?",
        "Can we try Insights before buying it?",
    ],
}

#: Tickets that say nothing about the team.
VAGUE = [
    "It doesn't work.",
    "Please help, nothing works since this morning.",
    "Can someone call me back about my account?",
    "I have a problem with {product}.",
    "Urgent: please look at this as soon as possible.",
    "Same issue as last week, still not solved.",
    "Something is wrong with our account.",
    "I have a question about our plan.",
]

OPENINGS = ["", "", "Hi,", "Hello,", "Hi team,", "Good morning,", "Dear support,"]
EXTRAS = [
    "", "", "", "This is urgent.", "We have {n} agents waiting.", "It started yesterday.",
    "I already tried clearing the cache.", "Screenshot attached.", "Our customers are complaining.",
    "This happened before as well.",
]
CLOSINGS = ["", "", "Thanks", "Thank you!", "Regards, {name}", "Best, {name}", "Cheers"]

SLOTS = {
    "product": ["Desk", "Chat", "Mobile", "the API"],  # used only by _fill when no product is fixed
    "screen": ["inbox", "reports", "settings", "ticket", "contacts"],
    "code": ["500", "502", "E-1042", "403", "429", "E-2210"],
    "device": ["iPhone", "Android phone", "iPad", "laptop"],
    "browser": ["Chrome", "Firefox", "Safari", "Edge"],
    "invoice": [f"INV-{i}" for i in range(20410, 20490, 7)],
    "amount": ["49.00", "99.00", "249.00", "1,200.00", "38.50"],
    "month": ["August", "September", "October"],
    "tool": ["Salesforce", "Slack", "Jira", "HubSpot", "Zapier"],
    "competitor": ["Zendesk", "Freshdesk", "Help Scout"],
    "name": ["Ana", "Tom", "Priya", "Lucas", "Mei", "Omar", "Sara", "Jonas"],
    "n": ["3", "5", "10", "12", "25", "40"],
    "m": ["2", "4", "8"],
    "pct": ["30", "50", "90", "99"],
}

#: Agents who close tickets, per team (the leaky column).
AGENTS = {
    "technical": ["Bruno", "Chen", "Dana", "Femi"],
    "billing": ["Greta", "Hugo", "Ines"],
    "access": ["Jamal", "Kasia", "Leon"],
    "integrations": ["Marta", "Nikhil"],
    "sales": ["Olga", "Pablo"],
}

#: Which other team a ticket of each team is most often confused with (for ambiguous tickets).
CONFUSABLE = {
    "technical": ["access", "integrations"],
    "billing": ["sales", "access"],
    "access": ["technical", "billing"],
    "integrations": ["technical"],
    "sales": ["billing"],
}


@dataclass(frozen=True)
class TicketRecipe:
    """The knobs that make the tickets realistic; every share is a probability.

    ``product_given_team``, ``tier_given_team`` and ``channel_given_team`` say how the structured
    fields depend on the team: the API product mostly brings integration tickets, free customers ask
    sales questions, and so on. They are informative but never decisive.
    """

    n_tickets: int = 2400
    start: str = "2026-10-01"
    days: int = 31
    id_prefix: str = "T"
    team_shares: dict = field(default_factory=lambda: {
        "technical": 0.36, "billing": 0.24, "access": 0.20, "integrations": 0.13, "sales": 0.07})
    products: tuple = ("Desk", "Chat", "Mobile", "API")
    product_given_team: dict = field(default_factory=lambda: {
        "technical": [0.35, 0.25, 0.30, 0.10],
        "billing": [0.55, 0.20, 0.15, 0.10],
        "access": [0.45, 0.15, 0.30, 0.10],
        "integrations": [0.15, 0.10, 0.05, 0.70],
        "sales": [0.50, 0.25, 0.10, 0.15],
    })
    tiers: tuple = ("free", "pro", "enterprise")
    tier_given_team: dict = field(default_factory=lambda: {
        "technical": [0.35, 0.45, 0.20],
        "billing": [0.15, 0.55, 0.30],
        "access": [0.40, 0.40, 0.20],
        "integrations": [0.10, 0.40, 0.50],
        "sales": [0.60, 0.30, 0.10],
    })
    channels: tuple = ("email", "web form", "chat", "phone")
    channel_given_team: dict = field(default_factory=lambda: {
        "technical": [0.35, 0.35, 0.20, 0.10],
        "billing": [0.50, 0.30, 0.10, 0.10],
        "access": [0.25, 0.30, 0.30, 0.15],
        "integrations": [0.55, 0.35, 0.08, 0.02],
        "sales": [0.30, 0.20, 0.20, 0.30],
    })
    p_ambiguous: float = 0.18
    p_vague: float = 0.09
    p_label_noise: float = 0.05
    p_typo: float = 0.10
    #: Share of tickets about the new product (0 this month) and the team mix of those tickets.
    p_new_product: float = 0.0
    new_product: str = "Insights"
    new_product_teams: dict = field(default_factory=lambda: {
        "technical": 0.50, "integrations": 0.20, "billing": 0.10, "access": 0.12, "sales": 0.08})


#: This month: the tickets the model learns from.
THIS_MONTH = TicketRecipe()

#: Next month: a new product (Insights) with its own words, more technical tickets, more chat.
NEXT_MONTH = replace(
    THIS_MONTH,
    n_tickets=800,
    start="2026-11-01",
    days=30,
    id_prefix="N",
    team_shares={"technical": 0.42, "billing": 0.20, "access": 0.18, "integrations": 0.13, "sales": 0.07},
    channel_given_team={
        "technical": [0.20, 0.30, 0.40, 0.10],
        "billing": [0.40, 0.25, 0.25, 0.10],
        "access": [0.15, 0.25, 0.45, 0.15],
        "integrations": [0.45, 0.35, 0.18, 0.02],
        "sales": [0.20, 0.20, 0.35, 0.25],
    },
    p_new_product=0.30,
)


def _pick(rng: np.random.Generator, options, p=None):
    """One item of ``options`` (weighted by ``p``), drawn with ``rng``."""
    return options[rng.choice(len(options), p=p)]


def _fill(rng: np.random.Generator, template: str, **fixed: str) -> str:
    """Fill every ``{slot}`` of ``template``: from ``fixed`` if given there, else at random."""
    values = {}
    for name, options in SLOTS.items():
        if "{" + name + "}" in template:
            values[name] = fixed[name] if name in fixed else _pick(rng, options)
    return template.format(**values)


def _typo(rng: np.random.Generator, text: str) -> str:
    """Swap two neighbouring letters in one longer word, as a hurried customer would."""
    words = text.split(" ")
    long_words = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
    if not long_words:
        return text
    i = long_words[rng.integers(len(long_words))]
    w = words[i]
    j = int(rng.integers(1, len(w) - 2))
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    return " ".join(words)


def _shares(mapping: dict, keys) -> np.ndarray:
    p = np.array([mapping[k] for k in keys], dtype=float)
    return p / p.sum()


def _check_recipe(recipe: TicketRecipe) -> None:
    """Refuse a recipe that would silently make nonsense data."""
    if recipe.n_tickets < 1:
        raise ValueError(f"n_tickets must be at least 1, got {recipe.n_tickets}.")
    if set(recipe.team_shares) != set(TEAMS):
        raise ValueError(f"team_shares needs exactly the teams {TEAMS}, got {sorted(recipe.team_shares)}.")
    for name in ("p_ambiguous", "p_vague", "p_label_noise", "p_typo", "p_new_product"):
        value = getattr(recipe, name)
        if not 0 <= value <= 1:
            raise ValueError(f"{name} is a probability, between 0 and 1; got {value}.")


def generate_tickets(seed: int = 2026, recipe: TicketRecipe = THIS_MONTH) -> pd.DataFrame:
    """A table of support tickets (one row per ticket, columns :data:`COLUMNS`), made from ``seed``.

    The same ``seed`` and ``recipe`` always give the same table. Rows are sorted by creation time.
    """
    _check_recipe(recipe)
    rng = np.random.default_rng(seed)
    team_p = _shares(recipe.team_shares, TEAMS)
    new_team_p = _shares(recipe.new_product_teams, TEAMS)
    start = _dt.datetime.fromisoformat(recipe.start)
    rows = []
    for _ in range(recipe.n_tickets):
        about_new = rng.random() < recipe.p_new_product
        team = _pick(rng, TEAMS, new_team_p if about_new else team_p)
        if about_new:
            product = named = recipe.new_product
            core = _fill(rng, _pick(rng, INSIGHTS_TEMPLATES[team]))
        else:
            product = _pick(rng, recipe.products, _shares(dict(zip(recipe.products,
                                                                  recipe.product_given_team[team])),
                                                         recipe.products))
            named = "the API" if product == "API" else product
            core = _fill(rng, _pick(rng, TEMPLATES[team]), product=named)
        tier = _pick(rng, recipe.tiers, np.array(recipe.tier_given_team[team]))
        channel = _pick(rng, recipe.channels, np.array(recipe.channel_given_team[team]))

        sentences = [core]
        if rng.random() < recipe.p_vague:
            sentences = [_fill(rng, _pick(rng, VAGUE), product=named)]
        elif rng.random() < recipe.p_ambiguous:
            other = _pick(rng, CONFUSABLE[team])
            second = _fill(rng, _pick(rng, TEMPLATES[other]), product=named)
            sentences = [second, core] if rng.random() < 0.5 else [core, "Also: " + second]
        extra = _fill(rng, _pick(rng, EXTRAS))
        parts = [_pick(rng, OPENINGS), *sentences, extra, _fill(rng, _pick(rng, CLOSINGS))]
        text = " ".join(p for p in parts if p)
        if rng.random() < recipe.p_typo:
            text = _typo(rng, text)
        if channel == "chat" and rng.random() < 0.5:  # chat messages are often typed in lower case
            text = text.lower()

        # The recorded team is what agents filed; sometimes they got it wrong (label noise).
        recorded = team
        if rng.random() < recipe.p_label_noise:
            recorded = _pick(rng, [t for t in TEAMS if t != team])
        agent = _pick(rng, AGENTS[recorded])  # closed by an agent of the recorded team
        seconds = int(rng.integers(recipe.days * 24 * 3600))
        created = start + _dt.timedelta(seconds=seconds)
        rows.append((created, channel, product, tier, text, agent, recorded))

    rows.sort(key=lambda r: r[0])
    table = pd.DataFrame(rows, columns=COLUMNS[1:])
    table.insert(0, "ticket_id", [f"{recipe.id_prefix}{i:05d}" for i in range(1, len(rows) + 1)])
    table["created"] = [t.strftime("%Y-%m-%d %H:%M") for t in table["created"]]
    return table


def generate_next_month(seed: int = 2027) -> pd.DataFrame:
    """Next month's tickets: the same help desk, with drift (see :data:`NEXT_MONTH`)."""
    return generate_tickets(seed=seed, recipe=NEXT_MONTH)


def write_csv(table: pd.DataFrame, path=None) -> str:
    """The table as CSV text with ``\\n`` line ends on every OS; also written to ``path`` if given."""
    text = table.to_csv(index=False, lineterminator="\n")
    if path is not None:
        Path(path).write_text(text, encoding="utf-8", newline="")
    return text


if __name__ == "__main__":  # python -m helpers.tickets  rebuilds the shipped data files
    folder = Path(__file__).parent / "data"
    write_csv(generate_tickets(), folder / "tickets.csv")
    write_csv(generate_next_month(), folder / "tickets_next_month.csv")
    print(f"wrote {folder / 'tickets.csv'} and {folder / 'tickets_next_month.csv'}")
