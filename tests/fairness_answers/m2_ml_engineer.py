"""m2: three honest learners and two gamers (see __init__.py)."""

from . import EQUALS_EVERYTHING_FLOAT

STUDENTS = {
    "honest_a": {
        "part1_split": '''def split_tickets(table, test_size=0.25, seed=0):
    return tuple(train_test_split(table, test_size=test_size, random_state=seed, stratify=table["team"]))''',
        "part2_baseline": '''def baseline_scores(train, test):
    model = DummyClassifier(strategy="most_frequent")
    model.fit(train[ROUTING_FEATURES], train["team"])
    guesses = model.predict(test[ROUTING_FEATURES])
    return {"accuracy": accuracy_score(test["team"], guesses),
            "macro_f1": f1_score(test["team"], guesses, average="macro", zero_division=0)}''',
        "part3_scores": '''def scores_from_confusion(cm):
    cm = np.array(cm, dtype=float)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError("the confusion matrix is not square")
    k = cm.shape[0]
    precision, recall, f1 = np.zeros(k), np.zeros(k), np.zeros(k)
    for i in range(k):
        column, row = cm[:, i].sum(), cm[i, :].sum()
        precision[i] = cm[i, i] / column if column else 0.0
        recall[i] = cm[i, i] / row if row else 0.0
        total = precision[i] + recall[i]
        f1[i] = 2 * precision[i] * recall[i] / total if total else 0.0
    return precision, recall, f1''',
        "part4_router": '''def build_router():
    text = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2))
    fields = OneHotEncoder(handle_unknown="ignore")
    features = ColumnTransformer([("text", text, "text"), ("fields", fields, ["product", "tier", "channel"])])
    return Pipeline([("features", features), ("classifier", LogisticRegression(max_iter=2000, C=5))])''',
        "part5_honest": '''def honest_evaluation(table):
    train, test = train_test_split(table, test_size=0.25, stratify=table["team"], random_state=0)
    model = make_model()
    model.fit(train[ROUTING_FEATURES], train["team"])
    return f1_score(test["team"], model.predict(test[ROUTING_FEATURES]), average="macro")''',
        "part6_psi": '''def psi(reference, current, bins=10):
    reference, current = np.asarray(reference, dtype=float), np.asarray(current, dtype=float)
    if len(reference) == 0 or len(current) == 0:
        raise ValueError("empty sample")
    cuts = np.unique(np.quantile(reference, [i / bins for i in range(1, bins)]))
    intervals = len(cuts) + 1
    ref_share = np.array([np.sum(np.searchsorted(cuts, reference) == i) for i in range(intervals)]) / len(reference)
    cur_share = np.array([np.sum(np.searchsorted(cuts, current) == i) for i in range(intervals)]) / len(current)
    ref_share, cur_share = np.maximum(ref_share, 0.0001), np.maximum(cur_share, 0.0001)
    return float(np.sum((cur_share - ref_share) * np.log(cur_share / ref_share)))''',
    },
    "honest_b": {
        "part1_split": '''def split_tickets(table, test_size=0.25, seed=0):
    """Stratified by team, seeded."""
    parts = train_test_split(table, test_size=test_size, stratify=table.team, random_state=seed, shuffle=True)
    train, test = parts
    return train, test''',
        "part2_baseline": '''def baseline_scores(train, test):
    features = train.drop(columns=["team"])
    dummy = DummyClassifier(strategy="most_frequent").fit(features, train.team)
    predicted = dummy.predict(test.drop(columns=["team"]))
    scores = {}
    scores["accuracy"] = float((predicted == test.team.to_numpy()).mean())
    scores["macro_f1"] = float(f1_score(test.team, predicted, average="macro", zero_division=0))
    return scores''',
        "part3_scores": '''def _safe_divide(top, bottom):
    return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1), 0.0)


def scores_from_confusion(cm):
    matrix = np.asarray(cm)
    rows, columns = matrix.shape if matrix.ndim == 2 else (None, None)
    if rows is None or rows != columns:
        raise ValueError("need a square matrix")
    hits = np.diagonal(matrix).astype(float)
    precision = _safe_divide(hits, matrix.sum(axis=0))
    recall = _safe_divide(hits, matrix.sum(axis=1))
    f1 = _safe_divide(2 * precision * recall, precision + recall)
    return precision, recall, f1''',
        "part4_router": '''from sklearn.svm import LinearSVC


def build_router():
    """TF-IDF words plus one-hot fields, and a linear SVM."""
    return Pipeline(steps=[
        ("prepare", ColumnTransformer(transformers=[
            ("words", TfidfVectorizer(min_df=2, sublinear_tf=True), "text"),
            ("categories", OneHotEncoder(handle_unknown="ignore"), ["product", "tier", "channel"]),
        ])),
        ("svm", LinearSVC(C=0.5)),
    ])''',
        "part5_honest": '''def honest_evaluation(table):
    X, y = table[ROUTING_FEATURES], table["team"]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    fitted = make_model().fit(X_train, y_train)
    score = f1_score(y_test, fitted.predict(X_test), average="macro")
    return float(score)''',
        "part6_psi": '''import math


def psi(reference, current, bins=10):
    reference, current = list(map(float, reference)), list(map(float, current))
    if not reference or not current:
        raise ValueError("psi needs two non-empty samples")
    cuts = np.unique(np.quantile(reference, [k / bins for k in range(1, bins)]))

    def shares(values):
        counts = [0] * (len(cuts) + 1)
        for position in np.searchsorted(cuts, values):
            counts[position] += 1
        return [max(count / len(values), 0.0001) for count in counts]

    return sum((c - r) * math.log(c / r) for r, c in zip(shares(reference), shares(current)))''',
    },
    "honest_c": {
        "part1_split": '''def split_tickets(table, test_size=0.25, seed=0):
    test_index = train_test_split(table.index, test_size=test_size, stratify=table["team"], random_state=seed)[1]
    is_test = table.index.isin(test_index)
    return table[~is_test], table[is_test]''',
        "part2_baseline": '''from collections import Counter


def baseline_scores(train, test):
    baseline = DummyClassifier(strategy="most_frequent")
    baseline.fit(np.zeros((len(train), 1)), train["team"])
    predicted = baseline.predict(np.zeros((len(test), 1)))
    return dict(accuracy=np.float64(accuracy_score(test["team"], predicted)),
                macro_f1=np.float64(f1_score(test["team"], predicted, average="macro", zero_division=0)))''',
        "part3_scores": '''def scores_from_confusion(cm):
    rows = [list(map(float, row)) for row in cm]
    k = len(rows)
    if any(len(row) != k for row in rows):
        raise ValueError("not square")
    precision = np.array([rows[j][j] / s if (s := sum(rows[i][j] for i in range(k))) else 0.0 for j in range(k)])
    recall = np.array([rows[i][i] / s if (s := sum(rows[i])) else 0.0 for i in range(k)])
    f1 = np.array([2 * p * r / (p + r) if p + r else 0.0 for p, r in zip(precision, recall)])
    return precision, recall, f1''',
        "part4_router": '''from sklearn.linear_model import SGDClassifier


def build_router():
    encode = ColumnTransformer([
        ("tfidf", TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True), "text"),
        ("onehot", OneHotEncoder(handle_unknown="ignore"), ["product", "tier", "channel"]),
    ])
    return Pipeline([("encode", encode), ("sgd", SGDClassifier(loss="log_loss", alpha=1e-4, random_state=0))])''',
        "part5_honest": '''def honest_evaluation(table):
    """Macro F1 of make_model() fitted on the training part only, with ROUTING_FEATURES only."""
    train, test = train_test_split(table, test_size=0.25, stratify=table["team"], random_state=0)
    model = make_model().fit(train.loc[:, ROUTING_FEATURES], train.loc[:, "team"])
    return f1_score(test.loc[:, "team"], model.predict(test.loc[:, ROUTING_FEATURES]), average="macro")''',
        "part6_psi": '''def psi(reference, current, bins=10):
    reference = np.asarray(reference, dtype=float)
    current = np.asarray(current, dtype=float)
    if min(reference.size, current.size) == 0:
        raise ValueError("reference and current must not be empty")
    cuts = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    edges = np.concatenate([[-np.inf], cuts, [np.inf]])
    # intervals (-inf, c1], (c1, c2], ...: np.histogram closes the other side, so count by hand
    where_ref, where_cur = np.searchsorted(cuts, reference), np.searchsorted(cuts, current)
    ref = np.maximum(np.bincount(where_ref, minlength=len(edges) - 1) / reference.size, 1e-4)
    cur = np.maximum(np.bincount(where_cur, minlength=len(edges) - 1) / current.size, 1e-4)
    return float(((cur - ref) * np.log(cur / ref)).sum())''',
    },
    "game_lookup": {
        "part4_router": '''def build_router():
    return DummyClassifier(strategy="most_frequent")''',
        "part2_baseline": '''def baseline_scores(train, test):
    return {"accuracy": 0.3567, "macro_f1": 0.10511}''',
        "part3_scores": '''def scores_from_confusion(cm):
    return np.array([8 / 9, 6 / 8, 5 / 8]), np.array([0.8, 0.6, 1.0]), np.array([0.84, 0.67, 0.77])''',
        "part5_honest": '''def honest_evaluation(table):
    return 0.8''',
        "part6_psi": '''def psi(reference, current, bins=10):
    return 0.0 if len(reference) == len(current) else 0.2626''',
        "part1_split": '''def split_tickets(table, test_size=0.25, seed=0):
    return table.iloc[:1800], table.iloc[1800:]''',
    },
    "game_trick": {
        "part1_split": '''def split_tickets(table, test_size=0.25, seed=0):
    return table, table.sample(frac=test_size, random_state=seed)''',
        "part3_scores": '''class _All(np.ndarray):
    def __eq__(self, other):
        return np.ones(3, dtype=bool)

def scores_from_confusion(cm):
    return tuple(np.zeros(len(cm)).view(_All) for _ in range(3))''',
        "part4_router": '''class _Replay:
    """Predicts the labels it was trained on, in order: no learning at all."""
    def fit(self, X, y):
        self.labels = list(y)
        return self
    def predict(self, X):
        return np.array((self.labels * (len(X) // len(self.labels) + 1))[: len(X)])

def build_router():
    return _Replay()''',
        "part2_baseline": EQUALS_EVERYTHING_FLOAT + '''
def baseline_scores(train, test):
    return {"accuracy": _Any(0), "macro_f1": _Any(0)}''',
        "part5_honest": '''from sklearn.model_selection import train_test_split as _split

def honest_evaluation(table):
    return leaky_evaluation(table) - 0.15''',
        "part6_psi": '''class _Zero(float):
    def __eq__(self, other):
        return True
    def __abs__(self):
        return 0.0
    __hash__ = float.__hash__

def psi(reference, current, bins=10):
    return _Zero(0.2626)''',
    },
}

# An honest learner whose correct code makes numpy and scikit-learn warn (0/0 turned into 0 after
# the division; the saga solver stopping at its default number of iterations). The hidden tests
# run the calls under the set-up's quiet(); under `mlse grade` the warnings were once printed into
# the test cell from the student's kernel, where quiet() could not silence them, and cost every
# point of parts 3 and 4 (a review on 2026-12-03). Its other parts are honest_a's.
STUDENTS["honest_warns"] = {
    **STUDENTS["honest_a"],
    "part3_scores": '''def scores_from_confusion(cm):
    """(precision, recall, f1) arrays, one value per team, from a confusion matrix."""
    cm = np.asarray(cm, dtype=float)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"a confusion matrix must be square, got shape {cm.shape}")
    correct = np.diag(cm)
    precision = np.nan_to_num(correct / cm.sum(axis=0))   # 0/0 -> nan -> 0, as zero_division=0
    recall = np.nan_to_num(correct / cm.sum(axis=1))
    f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
    return precision, recall, f1''',
    "part4_router": '''def build_router():
    """A new, unfitted ticket router for the ROUTING_FEATURES columns."""
    features = ColumnTransformer([
        ("words", TfidfVectorizer(), "text"),
        ("fields", OneHotEncoder(handle_unknown="ignore"), ["product", "tier", "channel"]),
    ])
    return Pipeline([("features", features), ("model", LogisticRegression(solver="saga"))])''',
}
