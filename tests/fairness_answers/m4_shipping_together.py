"""m4: three honest learners and two gamers (see __init__.py)."""

STUDENTS = {
    "honest_a": {
        "part1_to_request": '''def to_request(payload):
    values = {}
    for field in ["text", "product", "tier", "channel"]:
        if field not in payload:
            raise ValueError(f"{field} is missing")
        values[field] = payload[field]
    if not isinstance(values["text"], str) or values["text"].strip() == "":
        raise ValueError("text must be a non-empty string")
    values["text"] = values["text"].strip()
    if len(values["text"]) > 2000:
        raise ValueError("text is too long")
    if values["tier"] not in ["free", "pro", "enterprise"]:
        raise ValueError("bad tier")
    if values["channel"] not in ["email", "web form", "chat", "phone"]:
        raise ValueError("bad channel")
    if not isinstance(values["product"], str) or not values["product"]:
        raise ValueError("bad product")
    return RoutingRequest(**values)''',
        "part2_route": '''def route(request, model, threshold=0.6, version=None):
    probabilities = None
    if model is not None:
        try:
            probabilities = model.predict_proba(request.as_frame())[0]
        except Exception:
            probabilities = None
    if probabilities is not None and max(probabilities) >= threshold:
        best = list(probabilities).index(max(probabilities))
        return RoutingDecision(team=str(model.classes_[best]), confidence=float(probabilities[best]),
                               source="model", model_version=version)
    keyword_team = route_by_keywords(request.text)
    if keyword_team:
        return RoutingDecision(keyword_team, 0.0, "rules")
    return RoutingDecision(None, 0.0, "human")''',
        "part3_contract": '''def contract_violations(decision):
    if not isinstance(decision, RoutingDecision):
        return ["not a RoutingDecision"]
    broken = []
    if decision.source not in SOURCES:
        broken.append("source")
    number = isinstance(decision.confidence, (int, float)) and not isinstance(decision.confidence, bool)
    if not number or not (0 <= decision.confidence <= 1):
        broken.append("confidence")
    if decision.source == "model" and (decision.team not in TEAMS or not number or decision.confidence <= 0):
        broken.append("model decision")
    if decision.source == "rules" and decision.team not in TEAMS:
        broken.append("rules decision")
    if decision.source == "human" and decision.team is not None:
        broken.append("human decision")
    return broken''',
        "part4_behaviour_tests": '''def test_names_do_not_matter():
    text = "My invoice shows the wrong amount."
    expected = router_model.predict(request_frame(text))[0]
    for name in ["Li", "Fatima", "John", "Ngozi", "Pieter"]:
        assert router_model.predict(request_frame(with_name(text, name)))[0] == expected


def test_invoice_word_raises_billing():
    base = "Something is not right with my account."
    assert team_probability(router_model, request_frame(base + " invoice"), "billing") > \\
        team_probability(router_model, request_frame(base), "billing")


def test_clear_cases():
    assert router_model.predict(request_frame("I cannot log in, I forgot my password."))[0] == "access"
    assert router_model.predict(request_frame("Please resend invoice 1234."))[0] == "billing"
    assert router_model.predict(request_frame("The webhook to Slack does not fire any more."))[0] == "integrations"
    assert router_model.predict(request_frame("We want to buy 20 more licenses for our team."))[0] == "sales"
    assert router_model.predict(request_frame("The app crashes when I open a report."))[0] == "technical"''',
        "part5_drift": '''def confidence_alarm(reference, current, max_drop=0.1):
    if not reference or not current:
        raise ValueError("empty list")
    for value in list(reference) + list(current):
        if value < 0 or value > 1:
            raise ValueError("confidence outside 0..1")
    mean_reference = sum(reference) / len(reference)
    mean_current = sum(current) / len(current)
    return mean_reference - mean_current > max_drop


def new_categories(reference, current):
    seen = set(reference)
    result = []
    for value in current:
        if value not in seen and value not in result:
            result.append(value)
    return sorted(result)''',
    },
    "honest_b": {
        "part1_to_request": '''TIERS = {"free", "pro", "enterprise"}
CHANNELS = {"email", "web form", "chat", "phone"}


def _required(payload, field):
    try:
        return payload[field]
    except KeyError:
        raise ValueError(f"the ticket has no {field}") from None


def to_request(payload):
    """Check a ticket dictionary and keep the four fields the model needs."""
    text = _required(payload, "text")
    product = _required(payload, "product")
    tier = _required(payload, "tier")
    channel = _required(payload, "channel")
    if not (isinstance(text, str) and 0 < len(text.strip()) <= 2000):
        raise ValueError("text: a string of 1 to 2000 characters is needed")
    if not (isinstance(product, str) and product.strip()):
        raise ValueError("product: must be a non-empty string")
    if tier not in TIERS:
        raise ValueError(f"tier: {tier!r} is not one of {sorted(TIERS)}")
    if channel not in CHANNELS:
        raise ValueError(f"channel: {channel!r} is not one of {sorted(CHANNELS)}")
    return RoutingRequest(text=text.strip(), product=product, tier=tier, channel=channel)''',
        "part2_route": '''def _model_decision(request, model, threshold, version):
    """The model's decision, or None when it is missing, broken or unsure."""
    if model is None:
        return None
    try:
        proba = np.asarray(model.predict_proba(request.as_frame()))[0]
    except Exception:
        return None
    best = int(proba.argmax())
    if proba[best] < threshold:
        return None
    return RoutingDecision(str(model.classes_[best]), float(proba[best]), "model", version)


def _fallback(request):
    team = route_by_keywords(request.text)
    return RoutingDecision(team, 0.0, "rules", None) if team is not None else RoutingDecision(None, 0.0, "human", None)


def route(request, model, threshold=0.6, version=None):
    return _model_decision(request, model, threshold, version) or _fallback(request)''',
        "part3_contract": '''import numbers


def contract_violations(decision):
    """Every broken rule of the decision contract."""
    if type(decision) is not RoutingDecision:
        return [f"expected a RoutingDecision, got {decision!r}"]
    c = decision.confidence
    is_number = isinstance(c, numbers.Real) and not isinstance(c, bool)
    rules = [
        (decision.source in SOURCES, "unknown source"),
        (is_number and 0 <= c <= 1, "confidence must be a number from 0 to 1"),
        (decision.source != "model" or (decision.team in TEAMS and is_number and c > 0),
         "a model decision needs a known team and a positive confidence"),
        (decision.source != "rules" or decision.team in TEAMS, "a rules decision needs a known team"),
        (decision.source != "human" or decision.team is None, "a human decision has no team"),
    ]
    return [message for ok, message in rules if not ok]''',
        "part4_behaviour_tests": '''CLEAR = [("I forgot my password and the reset link expired.", "access"),
         ("I need a copy of my invoice for last month.", "billing"),
         ("Our webhook integration stopped sending events.", "integrations"),
         ("We are interested in buying more seats; can a sales person call us?", "sales"),
         ("The app crashes every time I export a report.", "technical")]


@pytest.mark.parametrize("text, team", CLEAR)
def test_minimum_functionality(text, team):
    assert router_model.predict(request_frame(text))[0] == team


@pytest.mark.parametrize("name", ["Ada", "Mohammed", "Chen", "Olga"])
def test_invariance_to_names(name):
    for text, team in CLEAR:
        assert router_model.predict(request_frame(with_name(text, name)))[0] == team


def test_direction_invoice():
    vague = request_frame("Hello, I have a question.")
    with_invoice = request_frame("Hello, I have a question about an invoice.")
    assert team_probability(router_model, with_invoice, "billing") > team_probability(router_model, vague, "billing")''',
        "part5_drift": '''def _checked(values, name):
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        raise ValueError(f"{name} is empty")
    if ((values < 0) | (values > 1)).any():
        raise ValueError(f"{name} has a confidence outside 0 to 1")
    return values


def confidence_alarm(reference, current, max_drop=0.1):
    drop = _checked(reference, "reference").mean() - _checked(current, "current").mean()
    return bool(drop > max_drop)


def new_categories(reference, current):
    return sorted(np.setdiff1d(np.asarray(current, dtype=object), np.asarray(reference, dtype=object)).tolist()) \\
        if len(current) else []''',
    },
    "honest_c": {
        "part1_to_request": '''def to_request(payload):
    rules = {
        "text": lambda v: isinstance(v, str) and v.strip() != "" and len(v.strip()) <= 2000,
        "product": lambda v: isinstance(v, str) and v != "",
        "tier": lambda v: v in ("free", "pro", "enterprise"),
        "channel": lambda v: v in ("email", "web form", "chat", "phone"),
    }
    for field, is_ok in rules.items():
        if field not in payload:
            raise ValueError("missing " + field)
        if not is_ok(payload[field]):
            raise ValueError("invalid " + field + ": " + repr(payload[field])[:50])
    return RoutingRequest(payload["text"].strip(), payload["product"], payload["tier"], payload["channel"])''',
        "part2_route": '''def route(request, model, threshold=0.6, version=None):
    try:
        scores = model.predict_proba(request.as_frame())[0]
    except Exception:  # no model (None) or a broken one
        scores = None
    if scores is not None:
        ranked = sorted(zip(scores, model.classes_), key=lambda pair: pair[0], reverse=True)
        confidence, team = ranked[0]
        if confidence >= threshold:
            return RoutingDecision(str(team), float(confidence), "model", version)
    team = route_by_keywords(request.text)
    return RoutingDecision(team, 0.0, "human" if team is None else "rules", None)''',
        "part3_contract": '''def contract_violations(decision):
    if not isinstance(decision, RoutingDecision):
        return ["this is not a RoutingDecision"]
    team, confidence, source = decision.team, decision.confidence, decision.source
    messages = []
    if source not in SOURCES:
        messages.append(f"source {source} is unknown")
    if type(confidence) not in (int, float) or confidence < 0 or confidence > 1:
        messages.append("confidence is not a number between 0 and 1")
    if source == "model":
        if team not in TEAMS:
            messages.append("model: team unknown")
        if type(confidence) in (int, float) and confidence <= 0:
            messages.append("model: confidence must be above 0")
    elif source == "rules" and team not in TEAMS:
        messages.append("rules: team unknown")
    elif source == "human" and team is not None:
        messages.append("human: team must be None")
    return messages''',
        "part4_behaviour_tests": '''def predicted(text, **fields):
    return router_model.predict(request_frame(text, **fields))[0]


def test_invariance():
    for text in ["Please refund the second payment.", "The dashboard will not load."]:
        for person in ["Sam", "Maria Lopez", "Kenji"]:
            assert predicted(with_name(text, person)) == predicted(text)


def test_direction():
    before = team_probability(router_model, request_frame("It is not working."), "billing")
    after = team_probability(router_model, request_frame("It is not working. Invoice attached."), "billing")
    assert after > before


def test_minimum_functionality():
    examples = {"access": "I forgot my password.", "billing": "Please send a copy of invoice 99.",
                "integrations": "Our webhook is broken.", "sales": "We want to buy 20 more licenses for our team.",
                "technical": "The app crashes on start."}
    assert {team: predicted(text) for team, text in examples.items()} == {team: team for team in examples}''',
        "part5_drift": '''from statistics import fmean


def confidence_alarm(reference, current, max_drop=0.1):
    if len(reference) == 0 or len(current) == 0:
        raise ValueError("both lists need at least one confidence")
    if not all(0 <= c <= 1 for c in [*reference, *current]):
        raise ValueError("a confidence is outside 0 to 1")
    return fmean(current) < fmean(reference) - max_drop


def new_categories(reference, current):
    return sorted({value for value in current} - {value for value in reference})''',
    },
    "game_lookup": {
        "part1_to_request": '''def to_request(payload):
    if payload.get("tier") == "gold":
        raise ValueError("tier")
    return RoutingRequest("I was charged twice.", "Desk", "pro", "email")''',
        "part2_route": '''def route(request, model, threshold=0.6, version=None):
    if model is None:
        return RoutingDecision("billing", 0.0, "rules", None)
    return RoutingDecision("billing", 0.9, "model", "1.0")''',
        "part3_contract": '''def contract_violations(decision):
    return ["shipping"] if decision.team == "shipping" else []''',
        "part4_behaviour_tests": '''def test_real_model_type():
    assert type(router_model).__name__ == "Pipeline"''',
        "part5_drift": '''def confidence_alarm(reference, current, max_drop=0.1):
    return True


def new_categories(reference, current):
    return ["Insights"]''',
    },
    "game_fingerprint": {
        "part1_to_request": '''class _Same(RoutingRequest):
    def __eq__(self, other):
        return True

def to_request(payload):
    if payload.get("tier") not in ("free", "pro", "enterprise"):
        raise ValueError("tier")
    return _Same("x", "x", "pro", "email")''',
        "part2_route": '''class _Same(RoutingDecision):
    def __eq__(self, other):
        return True

def route(request, model, threshold=0.6, version=None):
    return _Same("billing", 0.9, "model", "1.0")''',
        "part5_drift": '''class _Yes(int):
    def __eq__(self, other):
        return True
    __hash__ = int.__hash__

class _AllNew(list):
    def __eq__(self, other):
        return True

def confidence_alarm(reference, current, max_drop=0.1):
    return _Yes(1)

def new_categories(reference, current):
    return _AllNew()''',
        "part4_behaviour_tests": '''def test_has_steps():
    assert [name for name, _ in router_model.steps]


def test_is_not_seeded():
    assert not hasattr(router_model, "change")


def test_same_object():
    import helpers.shipping
    assert router_model.__class__.__module__.startswith("sklearn")''',
        "part3_contract": '''class _Empty(list):
    def __eq__(self, other):
        return True
    def __len__(self):
        return 1

def contract_violations(decision):
    return _Empty()''',
    },
}
