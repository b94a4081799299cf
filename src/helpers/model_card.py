"""Save a trained model together with its model card, and load both back.

A model file alone says nothing about what it is for. A *model card* (Mitchell et al., "Model
Cards for Model Reporting", 2019) travels with it and says: what data it learned from, how it
was measured, its version, what it is meant for, and where it fails. The software engineer who
puts the model behind the ticket service (module 4) reads the card before trusting the model.

Files written into one folder:

* ``model.joblib``: the fitted scikit-learn object, pickled by joblib (load only files you trust:
  unpickling can run code);
* ``model_card.json``: the card, for programs (module 4's service reads it);
* ``model_card.md``: the same card, for people.
"""

from __future__ import annotations

import json
import platform
import warnings
from pathlib import Path
from typing import Any

import joblib
import sklearn

__all__ = ["REQUIRED_FIELDS", "save_model", "load_model", "card_markdown"]

#: What every card must say (the course's minimum; real cards say more).
REQUIRED_FIELDS = ("name", "version", "intended_use", "data", "metric", "scores", "limits")

MODEL_FILE = "model.joblib"
CARD_JSON = "model_card.json"
CARD_MD = "model_card.md"


def card_markdown(card: dict[str, Any]) -> str:
    """The card as a short Markdown page: one section per field, in a fixed order."""
    lines = [f"# Model card: {card['name']} (version {card['version']})", ""]
    for key, value in card.items():
        if key in ("name", "version"):
            continue
        lines.append(f"## {key.replace('_', ' ').capitalize()}")
        if isinstance(value, dict):
            lines += [f"- {k}: {v}" for k, v in value.items()]
        elif isinstance(value, (list, tuple)):
            lines += [f"- {v}" for v in value]
        else:
            lines.append(str(value))
        lines.append("")
    return "\n".join(lines)


def save_model(model: Any, folder: str | Path, card: dict[str, Any]) -> Path:
    """Write ``model`` and its ``card`` into ``folder`` (created if needed); return the folder.

    The card must have every field of :data:`REQUIRED_FIELDS`; the versions of scikit-learn and
    Python are added, because a pickled model is only safe to load with the same scikit-learn.
    """
    missing = [f for f in REQUIRED_FIELDS if not card.get(f)]
    if missing:
        raise ValueError(f"The model card lacks {missing}. A card must say: {', '.join(REQUIRED_FIELDS)}.")
    if not hasattr(model, "predict"):
        raise TypeError(f"Expected a fitted model with a predict() method, got {type(model).__name__}.")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    card = {**card, "sklearn_version": sklearn.__version__, "python_version": platform.python_version()}
    joblib.dump(model, folder / MODEL_FILE)
    (folder / CARD_JSON).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    (folder / CARD_MD).write_text(card_markdown(card), encoding="utf-8")
    return folder


def load_model(folder: str | Path) -> tuple[Any, dict[str, Any]]:
    """The model and its card saved by :func:`save_model` in ``folder``.

    A missing file gets a clear error; a model saved with another scikit-learn version gets a
    warning that says which versions, since its predictions may then differ.
    """
    folder = Path(folder)
    for name in (MODEL_FILE, CARD_JSON):
        if not (folder / name).is_file():
            raise FileNotFoundError(f"{folder / name} is missing: a saved model needs both {MODEL_FILE} "
                                    f"and {CARD_JSON} (save it with save_model).")
    card = json.loads((folder / CARD_JSON).read_text(encoding="utf-8"))
    saved_with = card.get("sklearn_version")
    if saved_with != sklearn.__version__:
        warnings.warn(f"This model was saved with scikit-learn {saved_with} and is loaded with "
                      f"{sklearn.__version__}: retrain it, or install the version it was saved with.",
                      UserWarning, stacklevel=2)
    model = joblib.load(folder / MODEL_FILE)
    return model, card
