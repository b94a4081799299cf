"""Friendly checks for lessons and exercises.

A learner who runs a check should read *what was expected* and *a hint*, never a bare
``AssertionError``. Two kinds of checks live here:

* **Graded checks** (``check``, ``check_equal``, ``check_close``, ``check_type``, ``answer_of``)
  raise :class:`CheckFailed` when the answer is wrong. ``CheckFailed`` is an ``AssertionError``,
  so nbgrader counts the test cell as failed, but IPython shows only the friendly message
  instead of a long traceback.
* **Lesson quizzes** (``quiz``) never raise: a lesson must run top to bottom on a fresh kernel,
  so an unanswered or wrong quiz prints advice instead of stopping the notebook.

Every graded check prints a one-line confirmation when it passes, so a learner sees progress.
"""

from __future__ import annotations

import math
import numbers
import re as _re
from typing import Any, Callable

__all__ = [
    "CheckFailed",
    "check",
    "check_equal",
    "check_close",
    "check_type",
    "check_raises",
    "answer_of",
    "source_of",
    "names_used",
    "same_code",
    "quiz",
    "quiz_function",
    "explain_unquoted_answers",
    "Verdict",
    "NOT_ANSWERED",
]

#: Placeholder a lesson puts in a quiz variable before the learner answers it.
NOT_ANSWERED = ...


class CheckFailed(AssertionError):
    """A failed check, with a message written for a learner.

    IPython calls ``_render_traceback_`` to display an exception; returning only the message
    hides the check's own internals, which say nothing useful to a learner.
    """

    def __init__(self, what: str, expected: str, got: str | None = None, hint: str | None = None):
        self.what = what
        self.expected = expected
        self.got = got
        self.hint = hint
        super().__init__(self._message())

    def _message(self) -> str:
        lines = [f"✘ {self.what}: not right yet.", f"  Expected: {self.expected}"]
        if self.got is not None:
            lines.append(f"  Got:      {self.got}")
        if self.hint:
            lines.append(f"  Hint:     {self.hint}")
        return "\n".join(lines)

    def _render_traceback_(self) -> list[str]:  # IPython's hook for custom tracebacks
        return ["CheckFailed", *self._message().splitlines()]


def _one_line(text: str, limit: int) -> str:
    """``text`` on one line (runs of spaces and line breaks become one space), cut to ``limit``."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short(value: Any, limit: int = 200) -> str:
    """A one-line ``repr`` cut to a readable length, so a huge wrong answer does not flood the cell.

    Tables and arrays are described by their shape rather than printed: their ``repr`` spans many
    lines, and a message must keep its "Got:" and "Hint:" lines in view (``mlse check`` keeps the
    first four lines of a failure).
    """
    kind = type(value).__name__
    # only the judge's own tables and arrays are asked for a shape (a stand-in for an object of the
    # learner's, in a judge, would have to ask the learner's kernel)
    shape = getattr(value, "shape", None) if kind in ("DataFrame", "Series", "ndarray") else None
    try:
        if kind == "DataFrame" and shape is not None:
            columns = ", ".join(map(str, list(value.columns)[:8]))
            more = ", ..." if len(value.columns) > 8 else ""
            return _one_line(f"DataFrame of {shape[0]} rows, columns [{columns}{more}]", limit)
        if kind == "Series" and shape is not None:
            return _one_line(f"Series of {shape[0]} values, named {getattr(value, 'name', None)!r}", limit)
        if kind == "ndarray" and shape is not None and getattr(value, "size", 0) > 12:
            return _one_line(f"array of shape {tuple(shape)}, dtype {value.dtype}", limit)
        text = repr(value)
    except Exception:  # noqa: BLE001 - a value whose repr fails still gets a message
        text = f"<a {kind} that cannot be shown>"
    return _one_line(text, limit)


def _passed(what: str) -> None:
    print(f"✔ {what}: looks right.")


def check(condition: bool, what: str, expected: str, got: Any = None, hint: str | None = None) -> None:
    """Pass if ``condition`` is true; otherwise explain ``expected`` (and what was ``got``)."""
    if not condition:
        raise CheckFailed(what, expected, None if got is None else _short(got), hint)
    _passed(what)


def check_equal(actual: Any, expected: Any, what: str, hint: str | None = None) -> None:
    """Pass if ``actual == expected``; the message shows both values."""
    check(actual == expected, what, _short(expected), actual if actual is not None else "None", hint)


def check_close(actual: Any, expected: float, what: str, tol: float = 1e-6, hint: str | None = None) -> None:
    """Pass if ``actual`` is a number within ``tol`` (absolute or relative) of ``expected``."""
    if not isinstance(actual, numbers.Real) or isinstance(actual, bool):
        raise CheckFailed(what, "a number", f"{type(actual).__name__}: {_short(actual)}",
                          "Return a number (not a string or a list). Did you print it instead of returning it?")
    ok = math.isclose(float(actual), float(expected), rel_tol=tol, abs_tol=tol)
    check(ok, what, f"{expected!r} (give or take {tol:g})", actual, hint)


def check_type(value: Any, types: type | tuple[type, ...], what: str, hint: str | None = None,
               quiet: bool = False) -> None:
    """Pass if ``value`` is an instance of ``types`` (``bool`` does not count as a number)."""
    types = types if isinstance(types, tuple) else (types,)
    ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
    names = " or ".join(t.__name__ for t in types)
    if not ok:
        raise CheckFailed(what, f"a value of type {names}", f"{type(value).__name__}: {_short(value)}", hint)
    if not quiet:
        _passed(what)


def _call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the learner's function, turning nbgrader's "not written yet" stub into a message."""
    name = getattr(function, "__name__", "your function")
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        raise CheckFailed(
            f"{name}()",
            "your own code in the answer cell",
            "the code stub still raises NotImplementedError",
            "Replace `raise NotImplementedError()` with your answer, run that cell, then this one.",
        ) from None


def _shown_args(args: tuple, kwargs: dict) -> str:
    shown = [_short(a, 60) for a in args] + [f"{k}={_short(v, 60)}" for k, v in kwargs.items()]
    return ", ".join(shown)


def answer_of(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the learner's ``function`` and explain, rather than dump, anything that goes wrong.

    nbgrader's code stub raises ``NotImplementedError``: a learner who runs the test first is told
    what to do. Any other error the function raises becomes a :class:`CheckFailed` that names the
    call and the error, instead of a traceback into the learner's own cell.
    """
    name = getattr(function, "__name__", "your function")
    try:
        return _call(function, *args, **kwargs)
    except CheckFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - any error is an answer to explain
        raise CheckFailed(
            f"{name}({_shown_args(args, kwargs)})",
            "an answer, not an error",
            f"{type(exc).__name__}: {_one_line(exc, 160)}",
            "Which input did your function not expect? The task says what to do with it.",
        ) from None


class Verdict:
    """A quiz's result: true when right. It displays nothing, so a quiz cell shows only its message."""

    def __init__(self, right: bool):
        self.right = right

    def __bool__(self) -> bool:
        return self.right

    def __repr__(self) -> str:
        return f"Verdict(right={self.right})"

    def _ipython_display_(self) -> None:  # the printed message already said it all
        pass


# ---------------------------------------------------------------------------- lesson quizzes
#
# A lesson check judges the idea, not the typing. Before comparing, an answer is read the way a
# person meant it (one home for every form, so every lesson gets the same fairness):
#
# * text: case, quotes, hyphens and underscores, a trailing full stop, a leading "the"/"a", and
#   the course's abbreviations ("machine learning" is "ML") do not matter; nor do words the
#   question itself uses ("the sales team" answers "Which team ...?"); one slip of the keyboard
#   in a word of five letters or more is forgiven ("acess");
# * option letters: "b", "B", "b)", "(b)", "b.", "option b", or the option's line copied whole;
# * numbers: 50000, 50_000, "50,000", "$50,000", "50k", "60 minutes" (a unit the question names),
#   "1 hour" for minutes, "8.5%" for 0.085;
# * sets and ordered pairs: a set, list or tuple, or text ("access, technical", "a -> b");
# * an exception's name, quoted or not (``answer = TypeError``), or its error line pasted whole;
# * a one-item list holding the answer.
#
# An answer that cannot be read as the kind of value the check wants (text where a number is
# expected, a number where an option letter is) gets a message about the form, never the hint,
# which is about the reasoning.

#: The course's abbreviations: either spelling is the same answer.
_ABBREVIATIONS = ((r"\bmachine learning\b", "ml"), (r"\bsoftware engineer\b", "se"), (r"\beng\b", "engineer"))
#: Words a learner may put before an answer without changing it.
_ARTICLES = ("the", "a", "an")
#: Words that change an answer's meaning: never dropped, even when the question uses them.
_NEGATIONS = {"not", "no", "never", "nor", "neither", "without", "or", "and", "but", "except", "only"}
_CURRENCY_WORDS = {"dollar", "usd", "us$", "euro", "eur", "pound", "gbp"}
#: Short and plural spellings of units (after a trailing "s" is dropped).
_UNIT_ALIASES = {"min": "minute", "mn": "minute", "h": "hour", "hr": "hour", "sec": "second",
                 "s": "second", "yr": "year", "k": "thousand"}
#: Conversions a learner may use: (unit written, unit wanted) -> factor.
_CONVERSIONS = {("hour", "minute"): 60, ("minute", "second"): 60, ("hour", "second"): 3600}
_SCALES = {"thousand": 1_000, "million": 1_000_000, "percent": 0.01, "%": 0.01}
_NUMBER = _re.compile(r"[-+]?(?:[1-9]\d{0,2}(?:[,\u202f\u00a0' ]\d{3})+|\d+)(?:\.\d+)?|[-+]?\.\d+")
_OPTION_ALONE = _re.compile(r"[(\[]?\s*([a-z])\s*[)\].:!]?")
#: "b) Restart ...", "b - edge cases", "b because ...": the letter, then the option's words.
_OPTION_LINE = _re.compile(r"[(\[]?([a-z])(?:\s*[)\].:,\-\u2013\u2014]|\s+because\b)\s*(.+)")
#: "edge cases (b)": the option's words, then the letter in brackets.
_OPTION_AFTER = _re.compile(r"(.+?)\s*[(\[]([a-z])[)\]]")
#: Another option inside the words (", or c)", "b) and c)"): then the answer is not one option.
#: An "or" only counts before another letter ("b, or c"): "certifications or boot camps" is one option.
_OTHER_OPTION = _re.compile(r"(?:^|\s)[(\[]?[a-z][)\].:,](?:\s|$)|\bor\s+[(\[]?[a-z][)\].:,]?(?:\s|$)|[(\[][a-z][)\]]|^[a-z]$|^[a-z]\s+and\b")


def _bare(text: Any) -> str:
    """Text without surrounding spaces, quotes, backticks or a trailing full stop, in lower case."""
    text = str(text).strip()
    for _ in range(3):  # "'b'." or "`b`"
        text = text.strip().strip("\"'`\u2018\u2019\u201c\u201d").strip().rstrip(".!?;").strip()
    return text.lower()


def _words(text: Any) -> str:
    """A string in its plainest form: lower case, no quotes around it, no trailing full stop,
    hyphens, dashes and underscores made spaces, no leading article, the course's abbreviations
    applied ("The Macro-F1." -> "macro f1", "machine learning engineer" -> "ml engineer")."""
    text = _bare(text)
    for mark in "-_\u2010\u2011\u2012\u2013\u2014":
        text = text.replace(mark, " ")
    text = " ".join(text.split())
    for pattern, short in _ABBREVIATIONS:
        text = _re.sub(pattern, short, text)
    words = text.split()
    if len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]
    return " ".join(words)


def _question_words(question: str) -> set[str]:
    """The words of a question a learner may repeat in an answer ("team" in "Which team ...?")."""
    words = {w.removesuffix("'s").removesuffix("\u2019s") for w in _re.findall(r"[a-z][a-z'\u2019]*", question.lower())}
    return (words | set(_ARTICLES)) - _NEGATIONS


def _without_question_words(text: str, question: str, keep: str) -> str:
    """``text`` without the words of ``question`` (but those of ``keep``, the answer sought);
    '' when nothing was dropped."""
    words = _words(text).split()
    drop = _question_words(question) - set(keep.split())
    kept = [w for w in words if w.removesuffix("'s") not in drop]
    return " ".join(kept) if kept and len(kept) < len(words) else ""


def _one_slip(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by one typed character: one added, missing, wrong, or
    two neighbours swapped (Damerau-Levenshtein distance 1)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
        return len(diffs) == 1 or (len(diffs) == 2 and diffs[1] == diffs[0] + 1
                                   and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def _option_letter(text: str) -> str | None:
    """The option letter in "b", "B", "b)", "(b)", "b.", "option b" or a copied option line
    "b) Restart the kernel"; None when the text is not one option."""
    text = _bare(text)
    text = _re.sub(r"^(?:option|answer|choice)\s+", "", text)
    alone = _OPTION_ALONE.fullmatch(text)
    if alone:
        return alone.group(1)
    line = _OPTION_LINE.fullmatch(text)
    if line and not _OTHER_OPTION.search(line.group(2)):
        return line.group(1)
    after = _OPTION_AFTER.fullmatch(text)
    if after and not _OTHER_OPTION.search(after.group(1)):
        return after.group(2)
    return None


def _singular(word: str) -> str:
    word = word.strip(".,")
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return _UNIT_ALIASES.get(word, word)


def _number_in(text: str, question: str, units: tuple) -> tuple[float | None, str]:
    """Read a number a learner typed as text: separators, a currency sign, "k"/"thousand",
    a percent sign, and a unit the question (or ``units``) names. Returns (the number, "") or
    (None, why it could not be read)."""
    text = _bare(text).replace("\u2212", "-")
    text = _re.sub(r"^(?:about|around|approximately|approx|roughly|~|≈)\s*", "", text)
    text = _re.sub(r"^(?:us\$|\$|€|£|usd|eur|gbp)\s*", "", text)
    question_words = set(_re.findall(r"[a-z]{3,}", question.lower())) | {"number", "no", "item", "option"}
    lead = _re.match(r"(?:(?:[a-z]+)\s+|#|no\.\s*)+", text)
    if lead and all(w in question_words for w in _re.findall(r"[a-z]+", lead.group(0))) \
            and _NUMBER.match(text[lead.end():]):
        text = text[lead.end():]  # "item 3", "#3", "number 3"
    text = _re.sub(r"^(?:an?|one)\s+(?=[a-z])", "1 ", text)  # "an hour"
    if _re.fullmatch(r"[\d\s.+\-*/()]+", text) and _re.search(r"\d\s*[-+*/]\s*[\d(]", text):
        value = _arithmetic(text)  # "30 + 30", "51/600"
        return (value, "") if value is not None else (None, "it could not work out that sum")
    found = _NUMBER.match(text)
    if not found:
        return None, "it has no number in digits"
    value = float(_re.sub(r"[,\u202f\u00a0' ]", "", found.group(0)))
    allowed = {_singular(w) for w in _re.findall(r"[a-z]{3,}", question.lower())}
    allowed |= {_singular(u) for u in units} | _CURRENCY_WORDS
    wanted = [_singular(u) for u in units] + sorted(w for w in allowed if w in ("minute", "second"))
    rest = text[found.end():].strip()
    rest = _re.sub(r"^(?:us\$|\$|€|£)", "", rest).strip()
    for word in _re.findall(r"%|[a-z$€£]+", rest):
        word = _singular(word)
        if word in wanted:
            continue
        if word in _SCALES:
            value *= _SCALES[word]
        elif any((word, want) in _CONVERSIONS for want in wanted):
            value *= next(_CONVERSIONS[(word, w)] for w in wanted if (word, w) in _CONVERSIONS)
        elif word in allowed or word in "$€£":
            continue
        else:
            return None, f"it does not expect {word!r} after the number"
    if _re.search(r"[^\sa-z%$€£.,]", rest):
        return None, "it found more than one number"
    return value, ""


def _cleaned(part: str) -> str:
    """One part of a list typed as text, without spaces, quotes or a full stop around it."""
    for _ in range(2):
        part = part.strip().strip("\"'`\u2018\u2019\u201c\u201d").strip().rstrip(".!?;").strip()
    return part


def _arithmetic(text: str) -> float | None:
    """The value of a sum typed as text ("30 + 30"): numbers and + - * / only, never any other code."""
    import ast
    import operator

    operations = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}

    def value(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, ast.BinOp) and type(node.op) in operations:
            return operations[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        raise ValueError("not a sum")

    try:
        if len(text) > 100:
            return None
        return value(ast.parse(text.strip(), mode="eval").body)
    except (ValueError, SyntaxError, ZeroDivisionError, RecursionError, TypeError, OverflowError):
        return None


def _items(answer: Any) -> list | None:
    """The parts of an answer that lists several things: a list, tuple or set, or a text such as
    "access, technical", "access -> technical" or "{access, technical}". None when it is not such
    an answer."""
    if isinstance(answer, str):
        text = answer.strip()
        if len(text) > 1 and text[0] + text[-1] in ("()", "[]", "{}"):
            text = text[1:-1]
        for separator in ("->", "→", "=>", ",", ";", "/", "&", "+", " and ", " vs. ", " vs ", " versus ", " to "):
            if separator in text:
                return [part for part in (_cleaned(p) for p in text.split(separator)) if part]
        return None
    if isinstance(answer, (list, tuple, set, frozenset)):
        return list(answer)
    try:  # a NumPy array or a pandas Index of names
        return list(answer) if hasattr(answer, "__len__") and not isinstance(answer, (dict, bytes)) else None
    except Exception:  # noqa: BLE001
        return None


def _plain(value: Any) -> Any:
    """A value as a learner means it: an exception class or instance by its name (``TypeError``
    unquoted), a NumPy scalar as a Python number."""
    if isinstance(value, type):
        return value.__name__
    if isinstance(value, BaseException):
        return type(value).__name__
    if hasattr(value, "item") and getattr(value, "shape", None) == ():  # numpy scalar
        try:
            return value.item()
        except Exception:  # noqa: BLE001
            return value
    return value


def _same_text(answer: str, correct: str, question: str) -> bool:
    """Is the text ``answer`` the text ``correct``, read as a person meant it?"""
    want = _words(correct)
    if len(want) == 1 and want.isalpha():  # an option letter
        return _option_letter(answer) == want
    if _re.fullmatch(r"[A-Za-z]+(?:Error|Exception|Warning)", str(correct).strip()):
        # "TypeError: object of type 'int' has no len()" pasted whole, "a TypeError", "Type Error"
        name = _re.sub(r"\(.*\)$", "", _words(str(answer).split(":")[0]))
        if name.replace(" ", "") == want.replace(" ", ""):
            return True
    if _re.fullmatch(r"[A-Za-z_]\w*", str(correct).strip()):
        # a name from code: "fit()", ".fit", "toy_model.fit(X, y)" all name fit
        called = _re.fullmatch(r"\s*[`'\"]?(?:[A-Za-z_]\w*\.|\.)?([A-Za-z_]\w*)(?:\(.*\))?[`'\"]?\.?\s*", str(answer))
        if called and called.group(1).lower() == str(correct).strip().lower():
            return True
    forms = [answer]
    remark = _re.fullmatch(r"(.+?)\s*\([^()]*\)[.!]?", str(answer).strip())
    if remark:  # "access team (0.769)": a remark in brackets after the answer
        forms.append(remark.group(1))
    for form in forms:
        got = _words(form)
        if got == want or _without_question_words(form, question, want) == want:
            return True
        if not _re.search(r"\d", want) and len(want) >= 5 and _one_slip(got, want):
            return True
    return False


def _kind(correct: Any) -> str:
    if isinstance(correct, bool):
        return "bool"
    if isinstance(correct, numbers.Real):
        return "number"
    if isinstance(correct, str):
        word = _words(correct)
        return "letter" if len(word) == 1 and word.isalpha() else "text"
    if isinstance(correct, (set, frozenset)):
        return "set"
    if isinstance(correct, (tuple, list)):
        return "sequence"
    return "other"


#: What each kind of check wants, said without giving the answer away.
_FORMS = {
    "bool": "True or False, without quotes",
    "number": "a number in digits, such as 12 or 0.5",
    "letter": 'the letter of one option, in quotes, such as "a"',
    "text": 'a word or a name, in quotes, such as "meetings"',
    "set": 'a set of names, such as {"A", "B"}',
    "sequence": 'names in order, such as ("A", "B")',
}


class _Reading:
    """How an answer was read against one correct value: ``right``; ``loose`` when it was right
    only once read from text (a number or True in quotes); ``form`` says why it could not be read
    as the kind of value the check wants ('' when it could)."""

    def __init__(self, right: bool = False, loose: bool = False, form: str = ""):
        self.right, self.loose, self.form = right, loose, form


def _read(answer: Any, correct: Any, question: str, tol: float | None, units: tuple) -> _Reading:
    """Compare ``answer`` with one ``correct`` value, reading the answer as a person meant it.
    Never raises."""
    try:
        answer = _plain(answer)
        kind = _kind(correct)
        if kind in ("text", "letter") and isinstance(answer, (list, tuple, set, frozenset)) \
                and len(answer) == 1 and isinstance(next(iter(answer)), str):
            answer = next(iter(answer))  # ["sales"] for "sales": a name given as a list of one
        if kind == "bool":
            if isinstance(answer, bool):
                return _Reading(answer == correct)
            first = _re.match(r"\s*['\"]?(true|false|yes|no|nope|yep|yeah)\b(?:\s*$|\s*[,.;:!\u2013\u2014-])",
                              answer, _re.I) if isinstance(answer, str) else None
            if first:  # "no", "No.", "no, it is a leak"
                return _Reading((first.group(1).lower() in ("true", "yes", "yep", "yeah")) == correct, loose=True)
            return _Reading(form=_FORMS[kind])
        if kind == "number":
            limit = 1e-9 if tol is None else tol
            if isinstance(answer, numbers.Real) and not isinstance(answer, bool):
                return _Reading(math.isclose(float(answer), float(correct), rel_tol=0, abs_tol=limit))
            if isinstance(answer, str):
                value, why = _number_in(answer, question, units)
                if value is None:
                    return _Reading(form=f"{_FORMS[kind]}; {why}")
                return _Reading(math.isclose(value, float(correct), rel_tol=0, abs_tol=limit), loose=True)
            return _Reading(form=_FORMS[kind])
        if kind in ("text", "letter"):
            if not isinstance(answer, str):
                return _Reading(form=_FORMS[kind])
            if kind == "letter" and _option_letter(answer) is None:
                return _Reading(form=_FORMS[kind])
            return _Reading(_same_text(answer, correct, question))
        if kind in ("set", "sequence"):
            items = _items(answer)
            if items is None:
                return _Reading(form=_FORMS[kind]) if not isinstance(answer, str) else _Reading(False)
            loose = isinstance(answer, str) or (kind == "set") != isinstance(answer, (set, frozenset))
            items = [_plain(i) for i in items]
            if kind == "set":
                wanted = {_set_key(c) for c in correct}
                if {_set_key(i) for i in items} == wanted:
                    return _Reading(True, loose=loose)
                # "data science skills" answers "Which two kinds of skills ...?"
                keep = " ".join(w for c in wanted if isinstance(c, str) for w in c.split())
                trimmed = {_without_question_words(i, question, keep) or _set_key(i) if isinstance(i, str)
                           else _set_key(i) for i in items}
                return _Reading(trimmed == wanted, loose=loose)
            right = len(items) == len(correct) and all(
                _read(a, c, "", tol, units).right for a, c in zip(items, correct))
            return _Reading(right and not isinstance(answer, (set, frozenset)), loose=loose)
        return _Reading(bool(answer == correct))
    except Exception:  # noqa: BLE001 - an answer that cannot be compared is not this answer
        return _Reading(False)


def _set_key(value: Any) -> Any:
    """An item of a set as it is compared: a number by its value ("81" is 81), a name in its
    plainest form."""
    if isinstance(value, str):
        number, _ = _number_in(value, "", ())
        return number if number is not None else _words(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    return value


def _written(correct: Any) -> str:
    """How to write ``correct`` in a cell, said for a learner."""
    if isinstance(correct, bool):
        return f"{correct} (True or False without quotes)"
    if isinstance(correct, numbers.Real):
        return f"{correct!r} (a number, without quotes)"
    if isinstance(correct, (set, frozenset)):
        return "{" + ", ".join(repr(c) for c in sorted(correct, key=str)) + "} (a set)"
    if isinstance(correct, tuple):
        return "(" + ", ".join(repr(c) for c in correct) + ") (a tuple, in that order)"
    return repr(correct)


def _parsed(text: str) -> Any:
    """What a learner probably meant by typing ``text`` in quotes: a number, a bool, None, or a
    Python literal (``"(1, 2)"``); the text itself when it is none of those."""
    import ast

    plain = text.strip()
    lowered = plain.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    value, _ = _number_in(plain, "", ())
    if value is not None:
        return int(value) if value.is_integer() and "." not in plain else value
    try:
        return ast.literal_eval(plain)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def quiz(answer: Any, correct: Any, question: str, hint: str, explanation: str = "", *,
         accept: tuple = (), tol: float | None = None, form: str | None = None,
         units: tuple | str = ()) -> Verdict:
    """A lesson check that never raises, whatever the learner typed: it prints a verdict and
    returns whether it was right (a :class:`Verdict`, true when right).

    ``correct`` is the right value: a string (an option letter such as "b", or a word or name),
    a number (within ``tol``; exact for whole numbers by default), a bool, a set (any order) or a
    tuple (in order); or a predicate, a function of the answer that returns true when it is right.
    ``accept`` lists other right values: the lesson's own terms and their common synonyms
    ("macro-averaged F1"). ``units`` names the unit a number is in ("minutes") when the question
    does not. The answer is read as a person meant it (see the notes above: case, punctuation,
    option letters, separators, units, currency, a set as a list, an exception's name unquoted).

    A right answer says "✔ Right"; the right idea in a loose form ("0.085" in quotes, "False" for
    False) says "✔ Right idea" and how to write it (``form`` overrides that advice). An answer
    that cannot be read as the kind of value wanted ("sixty" for a number) is told the form, not
    the hint: the hint is about the reasoning.
    """
    if answer is NOT_ANSWERED:
        print(f"✎ Your turn: {question}\n  Replace the ... with your answer and run the cell again.")
        return Verdict(False)
    units = (units,) if isinstance(units, str) else tuple(units)
    right = idea = False
    form_problem = ""
    try:
        if callable(correct) and not isinstance(correct, type):
            right = _predicate(correct, answer) or _predicate(correct, _plain(answer))
            if not right and isinstance(answer, str):
                parsed = _parsed(answer)
                items = _items(answer)  # "mathematics and statistics" for a set of names
                idea = (parsed is not answer and _predicate(correct, parsed)) or \
                    (items is not None and _predicate(correct, set(items)))
            advice = form
        else:
            readings = [_read(answer, value, question, tol, units) for value in (correct, *accept)]
            right = any(r.right and not r.loose for r in readings)
            idea = not right and any(r.right for r in readings)
            if not right and not idea and all(r.form for r in readings):
                form_problem = form or readings[0].form
            advice = form or _written(correct)
    except Exception:  # noqa: BLE001 - a check never stops the lesson
        right, idea, advice = False, False, form
    if right:
        print(f"✔ Right. {explanation}".rstrip())
    elif idea:
        how = f" Next time you can write it as {advice}." if advice else ""
        print(f"✔ Right idea.{how} {explanation}".rstrip())
    elif form_problem:
        print(f"✘ Not quite readable: this check could not read {_short(answer, 80)} as the kind of answer "
              f"it wants. Write {form_problem}. Your reasoning may well be right: only the form is off.")
    else:
        print(f"✘ Not quite ({_short(answer, 120)}). Hint: {hint}")
    return Verdict(right or idea)


def explain_unquoted_answers() -> None:
    """In a lesson's kernel: when a check's cell stops with a ``NameError`` because its answer was
    typed without quotes (``answer = b``), say so under the error.

    A check never raises, but Python reads ``b`` as a variable before the check runs. Lessons call
    this once, in their first code cell; graded exercises do not, so grading is unchanged. Every
    other error is shown exactly as before.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing to do
        return
    shell = get_ipython()
    if shell is None:
        return

    def explain(self, etype, value, tb, tb_offset=None):
        self.showtraceback((etype, value, tb), tb_offset=tb_offset)
        try:
            cell = self.history_manager.input_hist_raw[-1]
            name = getattr(value, "name", None) or _re.findall(r"'(\w+)'", str(value))[0]
            if "quiz(" in cell and _re.search(rf"^answer\s*=.*\b{_re.escape(name)}\b", cell, _re.M):
                print(f"✎ Python read {name} as the name of a variable, and there is none. If it is your answer, "
                      f'put it in quotes: answer = "{name}" (numbers, True and False need no quotes).')
        except Exception:  # noqa: BLE001 - an explanation must never hide the error itself
            pass

    shell.set_custom_exc((NameError,), explain)


def _predicate(correct: Callable[[Any], Any], answer: Any) -> bool:
    """A predicate's verdict on an answer; an answer that makes the predicate fail is wrong."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return bool(correct(answer))
    except Exception:  # noqa: BLE001 - wrong type or shape: simply not the right answer
        return False


def _close_enough(got: Any, want: Any, tol: float) -> bool:
    """``got`` equals ``want``: numbers within ``tol``, arrays and tables element by element."""
    try:
        import numpy as np

        if isinstance(want, bool) or isinstance(got, bool):
            return got == want and isinstance(got, (bool, np.bool_)) == isinstance(want, (bool, np.bool_))
        if isinstance(want, numbers.Real):
            return isinstance(got, numbers.Real) and math.isclose(float(got), float(want),
                                                                  rel_tol=tol, abs_tol=tol)
        if hasattr(want, "equals") and hasattr(got, "equals"):  # pandas
            return bool(want.equals(got))
        if isinstance(want, np.ndarray) or isinstance(got, np.ndarray):
            got_a, want_a = np.asarray(got), np.asarray(want)
            if got_a.shape != want_a.shape:
                return False
            if want_a.dtype.kind in "fiu" and got_a.dtype.kind in "fiub":
                return bool(np.allclose(got_a, want_a, rtol=tol, atol=tol))
            return bool((got_a == want_a).all())
        if isinstance(want, dict):
            return isinstance(got, dict) and set(got) == set(want) and all(
                _close_enough(got[k], want[k], tol) for k in want)
        if isinstance(want, (list, tuple)):
            return isinstance(got, (list, tuple)) and len(got) == len(want) and all(
                _close_enough(g, w, tol) for g, w in zip(got, want))
        return bool(got == want)
    except Exception:  # noqa: BLE001
        return False


def quiz_function(function: Any, cases: list, what: str, hint: str, explanation: str = "",
                  tol: float = 1e-6) -> Verdict:
    """A lesson's coding exercise, checked without ever raising: call ``function`` on each case
    and print a verdict (a :class:`Verdict`, true when every case is right).

    ``cases`` is a list of ``(args, expected)``: ``args`` a tuple of arguments, ``expected`` the
    value the call must return (numbers within ``tol``), or ``(args, error)`` with an exception
    class the call must raise. The first wrong case is shown with what was expected.
    """
    if function is NOT_ANSWERED or function is None:
        print(f"✎ Your turn: {what}\n  Write your code in the cell above, run it, then run this cell.")
        return Verdict(False)
    if not callable(function):
        print(f"✘ Not quite: {what} should be a function, but it is {_short(function, 80)}. "
              f"Hint: define it with def, and run that cell.")
        return Verdict(False)
    for args, expected in cases:
        args = args if isinstance(args, tuple) else (args,)
        call = f"{getattr(function, '__name__', 'your function')}({_shown_args(args, {})})"
        wants_error = isinstance(expected, type) and issubclass(expected, BaseException)
        try:
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got = function(*args)
        except NotImplementedError:
            print(f"✎ Your turn: {what}\n  Replace the ... (or raise NotImplementedError) in the cell above "
                  "with your code, run it, then run this cell.")
            return Verdict(False)
        except Exception as exc:  # noqa: BLE001 - an error is an answer to explain
            if wants_error and isinstance(exc, expected):
                continue
            want = f"a {expected.__name__}" if wants_error else _short(expected, 120)
            print(f"✘ Not quite: {call} raised {type(exc).__name__}: {_one_line(exc, 120)}\n"
                  f"  Expected: {want}\n  Hint: {hint}")
            return Verdict(False)
        if wants_error:
            print(f"✘ Not quite: {call} returned {_short(got, 120)}\n  Expected: a {expected.__name__}\n"
                  f"  Hint: {hint}")
            return Verdict(False)
        if got is Ellipsis:
            print(f"✎ Your turn: {what}\n  Replace the ... in the cell above with your code, run it, "
                  "then run this cell.")
            return Verdict(False)
        if not _close_enough(got, expected, tol):
            print(f"✘ Not quite: {call} returned {_short(got, 120)}\n  Expected: {_short(expected, 120)}\n"
                  f"  Hint: {hint}")
            return Verdict(False)
    print(f"✔ Right: {what}. {explanation}".rstrip())
    return Verdict(True)


def check_raises(error: type[BaseException], function: Callable[..., Any], *args: Any, what: str,
                 hint: str | None = None, message_has: str | None = None, **kwargs: Any) -> None:
    """Pass if ``function(*args, **kwargs)`` raises ``error`` (and its message mentions
    ``message_has``, if given); explain what happened otherwise.

    Bad input should get a clear error that names what is wrong, so a check of an error can also
    check its message.
    """
    try:
        _call(function, *args, **kwargs)
    except CheckFailed:
        raise
    except error as exc:
        if message_has is not None and message_has.lower() not in str(exc).lower():
            raise CheckFailed(what, f"a {error.__name__} whose message mentions {message_has!r}",
                              f"{type(exc).__name__}: {_one_line(exc, 200)}", hint) from None
        _passed(what)
        return
    except Exception as exc:  # noqa: BLE001 - the wrong kind of error is an answer to explain
        raise CheckFailed(what, f"a {error.__name__}", f"{type(exc).__name__}: {_one_line(exc, 200)}",
                          hint) from None
    raise CheckFailed(what, f"a {error.__name__}", "no error", hint)


# ---------------------------------------------------------------------------- reading code

def source_of(function: Callable[..., Any]) -> str:
    """The source text of a function the learner wrote, for tests that read code (a refactoring
    must not call the old function, say).

    In a learner's kernel this is ``inspect.getsource``. When the course grades with a judge, the
    test runs in another process than the learner's code and ``function`` stands for it there;
    it carries the text of the learner's cell, which the judge parsed without running it. A
    Python function is always read from its own text (a learner cannot give it another).
    """
    import inspect
    import types

    if not isinstance(function, (types.FunctionType, types.MethodType, type)):
        judged = getattr(function, "_source", None)
        if isinstance(judged, str) and judged:
            return judged
    return inspect.getsource(function)


def _function_tree(function: Callable[..., Any]):
    """The body of ``function``'s definition without its docstring (what :func:`same_code` compares)."""
    import ast

    node = _definition(function)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return ast.Module(body=_without_docstring(node.body), type_ignores=[])
    return node


def _definition(function: Callable[..., Any]):
    """The parsed text of ``function``: its ``def`` node, or the module its text parses to."""
    import ast
    import textwrap

    tree = ast.parse(textwrap.dedent(source_of(function)))
    return tree.body[0] if tree.body and isinstance(tree.body[0], (ast.FunctionDef, ast.AsyncFunctionDef)) \
        else tree


def _without_docstring(body: list) -> list:
    import ast

    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[1:]  # the docstring is not code
    return body


def _code_names(node) -> set[str]:
    """The names and attribute names in ``node``'s code: for a ``def``, its decorators, default
    values, annotations and body (all of which run), not its name or docstring."""
    import ast

    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        parts = [*node.decorator_list, node.args, *([node.returns] if node.returns else []),
                 *_without_docstring(node.body)]
    else:
        parts = [node]
    names = set()
    for part in parts:
        for sub in ast.walk(part):
            if isinstance(sub, ast.Name):
                names.add(sub.id)
            elif isinstance(sub, ast.Attribute):
                names.add(sub.attr)
    return names


#: How many objects :func:`_reached_names` looks at before it stops (a learner's helpers are few).
_REACH_LIMIT = 100_000


def _reached_names(function: Any) -> set[str]:
    """In a learner's kernel: the names of the functions and classes that ``function`` can reach
    when it runs, and the names in the code of the learner's own ones among them.

    What a function can call is not only in its body: default values, decorators, the closure, the
    globals its code names (helper functions, classes and their bodies, ``functools.partial``\\ s,
    lists and dicts that hold functions) all reach code. This follows them through the live
    objects, so a default set after the definition (``f.__defaults__ = ...``) counts too. Only
    the learner's own code (defined in ``__main__``) is followed inside; other modules' functions
    and classes are only named. The judge's stand-in for a learner's function (see
    :func:`source_of`) is not a Python function and is never looked into: there the text decides.
    """
    atomic = (str, bytes, int, float, complex, bool, type(None))
    names: set[str] = set()
    seen: set[int] = set()
    queue = [function]
    looked = 0
    while queue and looked < _REACH_LIMIT:
        obj = queue.pop()
        if isinstance(obj, atomic) or id(obj) in seen:
            continue
        seen.add(id(obj))
        looked += 1
        try:
            names |= _reached_from(obj, function, queue)
        except Exception:  # noqa: BLE001 - an object that cannot be looked into reaches nothing more
            continue
    return names


def _reached_from(obj: Any, function: Any, queue: list) -> set[str]:
    """The names ``obj`` itself gives (see :func:`_reached_names`); what it holds goes on ``queue``."""
    import functools
    import types

    names = set()
    kind = type(obj)
    if kind in (list, tuple, set, frozenset):
        queue.extend(obj)
    elif kind is dict:
        queue.extend(obj.keys())
        queue.extend(obj.values())
    elif kind in (staticmethod, classmethod, types.MethodType):
        queue.append(obj.__func__)
    elif kind is functools.partial:
        queue.extend((obj.func, obj.args, obj.keywords))
    elif kind is types.FunctionType:
        names.add(obj.__name__)
        if obj.__module__ != "__main__":
            return names
        queue.extend((obj.__defaults__, obj.__kwdefaults__, obj.__dict__, obj.__annotations__))
        for cell in obj.__closure__ or ():
            try:
                queue.append(cell.cell_contents)
            except ValueError:  # an empty cell
                pass
        for name in _global_names(obj.__code__):
            if name in obj.__globals__:
                queue.append(obj.__globals__[name])
        if obj is not function:
            try:
                names |= _code_names(_definition(obj))
            except (OSError, TypeError, SyntaxError):
                pass  # no text (made at run time): its objects were followed above
    elif isinstance(obj, type):
        names.add(obj.__name__)
        if obj.__module__ == "__main__":
            queue.extend(vars(obj).values())
            queue.extend(obj.__bases__)
        else:  # another module's class: only what the learner put in it (Ticket.old = ...)
            queue.extend(_learners_own(vars(obj)))
    elif kind is types.ModuleType:  # a module: only what the learner put in it (collections.old = ...)
        queue.extend(_learners_own(vars(obj)))
    elif type(kind) is type and kind.__module__ == "__main__" and hasattr(obj, "__dict__"):
        queue.append(kind)  # an instance of a learner's class: its class and its attributes
        queue.append(vars(obj))
    return names


def _learners_own(namespace: dict) -> list:
    """The learner's own functions in another module's or class's ``namespace`` (put there by
    the learner's code), bare or wrapped (``staticmethod``, ``functools.partial``)."""
    import functools
    import types

    found = []
    for value in list(namespace.values()):
        inner = value
        if type(value) in (staticmethod, classmethod, types.MethodType):
            inner = value.__func__
        elif type(value) is functools.partial:
            inner = value.func
        if type(inner) in (types.FunctionType, type) and getattr(inner, "__module__", None) == "__main__":
            found.append(inner)
    return found


def _global_names(code) -> set[str]:
    """The global (and attribute) names a code object and the code nested in it refer to."""
    import types

    names, stack = set(), [code]
    while stack:
        current = stack.pop()
        names.update(current.co_names)
        stack.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
    return names


def names_used(function: Callable[..., Any]) -> set[str]:
    """Every name a function's code refers to (variables, functions it calls, attributes), and the
    functions and classes it reaches through its helpers.

    Its code is its body and also its decorators, default values and annotations. Under the judge,
    the text read is the learner's definition with the helpers it names (see
    :mod:`mlse.intake.code_reading`); in a learner's kernel, the live function is followed to
    what it can reach (:func:`_reached_names`). Both read the same code, so a call of an old
    function through a default, a class, a ``functools.partial`` or a table counts in both.
    """
    try:
        text = _code_names(_definition(function))
    except (OSError, TypeError):
        if type(function).__module__ != "__main__":
            raise
        text = set()  # an instance of the learner's class (it has no text of its own): what it reaches
    return text | _reached_names(function)


def same_code(first: Callable[..., Any], second: Callable[..., Any]) -> bool:
    """True when two functions have the same code, apart from their names and docstrings."""
    import ast

    return ast.dump(_function_tree(first)) == ast.dump(_function_tree(second))
