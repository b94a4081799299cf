"""``mlse.judge.wire``: what crosses from the student's kernel to the judge, and what never does.

The decoder is the judge's only reader of bytes the student controls, so it is tested on its own:
every type it rebuilds (round trip through the encoder), values that come in a subclass of a
builtin (they arrive as the builtin's plain contents), the depth and size limits, and malformed
input of every kind (a ``DecodeError``, never another exception, never the student's class).
"""

from __future__ import annotations

import base64
import collections
import dataclasses
import decimal
import enum
import fractions
import io
import json
import math

import numpy as np
import pandas as pd
import pytest

from helpers.shipping import RoutingDecision
from helpers.ticket_service import Ticket
from mlse.judge import wire


def _keep(obj):
    return {"$": "handle", "id": id(obj) % 1000, "type": type(obj).__qualname__, "callable": callable(obj)}


def _handle(info):
    return ("handle", info["type"])


def roundtrip(value):
    """Encode as the student's kernel does, through JSON, and decode as the judge does."""
    return wire.decode(json.loads(json.dumps(wire.encode(value, _keep))), _handle)


# ---------------------------------------------------------------------------------- every type

@pytest.mark.parametrize("value", [
    None, True, False, 0, -7, 2**80, 1.5, "", "héllo", b"\x00\xff", [], [1, [2, [3]]], (), (1, "a"),
    {1, 2}, frozenset({"x"}), {}, {"a": 1, 2: [3]}, {(1, 2): "tuple key"},
])
def test_plain_values_come_back_equal_and_of_the_builtin_type(value):
    back = roundtrip(value)
    assert back == value and type(back) is type(value)


@pytest.mark.parametrize("value", [math.inf, -math.inf])
def test_infinities_cross(value):
    assert roundtrip(value) == value


def test_nan_crosses():
    assert math.isnan(roundtrip(math.nan))


def test_numpy_scalars_arrays_and_pandas_cross_as_the_judges_own():
    assert roundtrip(np.float64(0.25)) == 0.25 and type(roundtrip(np.float64(0.25))) is np.float64
    assert type(roundtrip(np.int32(3))) is np.int32 and type(roundtrip(np.bool_(True))) is np.bool_
    array = np.arange(12, dtype=np.int16).reshape(3, 4)
    back = roundtrip(array)
    assert back.dtype == array.dtype and (back == array).all()
    assert roundtrip(np.array(["a", "bc"])).tolist() == ["a", "bc"]
    objects = roundtrip(np.array([1, "x", None], dtype=object))
    assert objects.dtype == object and objects.tolist() == [1, "x", None]
    series = pd.Series([1.0, 2.0], index=["a", "b"], name="s")
    pd.testing.assert_series_equal(roundtrip(series), series)
    frame = pd.DataFrame({"team": ["billing", "sales"], "n": [1, 2]})
    back = roundtrip(frame)
    assert list(back.columns) == ["team", "n"] and back["team"].tolist() == ["billing", "sales"]


def test_the_courses_dataclasses_are_built_from_the_judges_classes():
    ticket = Ticket("t", "b", "billing", id=4)
    assert roundtrip(ticket) == ticket and type(roundtrip(ticket)) is Ticket
    decision = RoutingDecision("sales", 0.5, "model", "1.0")
    assert roundtrip(decision) == decision


def test_fractions_and_decimals_are_rebuilt_from_their_contents():
    assert roundtrip(fractions.Fraction(3, 4)) == fractions.Fraction(3, 4)
    assert type(roundtrip(fractions.Fraction(3, 4))) is fractions.Fraction
    assert roundtrip(decimal.Decimal("12.50")) == decimal.Decimal("12.50")


# ------------------------------------------------------------------ subclasses: plain contents

class Color(enum.IntEnum):
    RED = 1


class Level(str, enum.Enum):
    HIGH = "high"


Point = collections.namedtuple("Point", "x y")


class Sneaky(dict):
    """A dict that lies about its items and claims to equal everything."""

    def items(self):
        return [("forged", 1)]

    def __eq__(self, other):
        return True

    __hash__ = None


class Always(float):
    def __eq__(self, other):
        return True

    def __ge__(self, other):
        return True

    __hash__ = float.__hash__


@pytest.mark.parametrize("value, plain", [
    (collections.defaultdict(int, {"a": 3}), {"a": 3}),
    (collections.Counter("aab"), {"a": 2, "b": 1}),
    (collections.OrderedDict([("x", 1), ("y", 2)]), {"x": 1, "y": 2}),
    (Point(1, 2), (1, 2)),
    (Color.RED, 1),
    (Level.HIGH, "high"),
    (Sneaky(real=1), {"real": 1}),
    (Always(0.5), 0.5),
    (type("MyList", (list,), {})([1, 2]), [1, 2]),
    (type("MySet", (set,), {})({1}), {1}),
    (type("MyBytes", (bytes,), {})(b"ab"), b"ab"),
    (np.ma.masked_array([1, 2]), np.array([1, 2])),
])
def test_a_subclass_of_a_builtin_arrives_as_the_builtins_plain_contents(value, plain):
    back = roundtrip(value)
    assert type(back) is type(plain)
    if isinstance(plain, np.ndarray):
        assert (back == plain).all()
    else:
        assert back == plain


def test_nested_subclasses_are_plain_all_the_way_down():
    value = collections.defaultdict(list, {"a": [Point(1, Color.RED)], "b": collections.Counter("x")})
    back = roundtrip(value)
    assert back == {"a": [(1, 1)], "b": {"x": 1}}
    assert type(back["a"][0]) is tuple and type(back["a"][0][1]) is int and type(back["b"]) is dict


def test_anything_else_stays_a_handle():
    assert roundtrip(lambda: 1) == ("handle", "function")
    assert roundtrip(object()) == ("handle", "object")


# --------------------------------------------------------------------- depth and size limits

def test_a_value_deeper_than_the_limit_stays_in_the_student_kernel():
    deep: list = []
    for _ in range(wire.MAX_DEPTH + 5):
        deep = [deep]
    back = roundtrip(deep)
    for _ in range(wire.MAX_DEPTH + 1):
        if not isinstance(back, list):
            break
        back = back[0]
    assert back == ("handle", "list")


def test_a_forged_reply_deeper_than_the_limit_is_refused():
    data: object = 1
    for _ in range(wire.MAX_DEPTH + 10):
        data = [data]
    with pytest.raises(wire.DecodeError, match="deep"):
        wire.decode(data, _handle)


def test_a_forged_reply_with_too_many_values_is_refused(monkeypatch):
    monkeypatch.setattr(wire, "MAX_ITEMS", 1000)
    with pytest.raises(wire.DecodeError, match="big"):
        wire.decode(list(range(2000)), _handle)


# ----------------------------------------------------------------------------- malformed input

def _npy(array) -> str:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.mark.parametrize("data", [
    {"no tag": 1},
    {"$": 3},
    {"$": "unknown"},
    {"$": "float", "v": "1e308"},
    {"$": "float", "v": 1.0},
    {"$": "tuple", "v": "not a list"},
    {"$": "dict", "v": [[1]]},
    {"$": "dict", "v": [1, 2]},
    {"$": "bytes", "v": "!!not base64!!"},
    {"$": "bytes", "v": 5},
    {"$": "fraction", "n": 1, "d": 0},
    {"$": "fraction", "n": 1.5, "d": 2},
    {"$": "fraction", "n": "1", "d": 2},
    {"$": "decimal", "v": "twelve"},
    {"$": "decimal", "v": 12},
    {"$": "npscalar", "dtype": "O", "v": 1},
    {"$": "npscalar", "dtype": "not a dtype", "v": 1},
    {"$": "npscalar", "dtype": [["a", "<i4"]], "v": 1},
    {"$": "ndarray", "npy": "AAAA"},
    {"$": "ndarray", "npy": 7},
    {"$": "ndarray_obj", "shape": [5], "v": [1, 2]},
    {"$": "ndarray_obj", "shape": "x", "v": []},
    {"$": "series", "v": [1], "index": None},
    {"$": "dataframe", "columns": ["a", "b"], "v": [], "index": {"v": [], "name": None}},
    {"$": "dataclass", "cls": "os.system", "v": {}},
    {"$": "dataclass", "cls": "builtins.object", "v": {}},
    {"$": "dataclass", "cls": "helpers.ticket_service.Ticket", "v": {"title": "only one field"}},
    {"$": "dataclass", "cls": "helpers.ticket_service.Nope", "v": {}},
    {"$": "dataclass", "cls": "some_student_module.Thing", "v": {}},
    object(),
    ("a", "tuple"),
    {1: 2},
])
def test_malformed_input_is_a_decode_error(data):
    with pytest.raises(wire.DecodeError):
        wire.decode(data, _handle)


def test_an_array_of_objects_or_pickles_is_refused():
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises((wire.DecodeError, ValueError)):
        wire.decode({"$": "ndarray", "npy": base64.b64encode(buffer.getvalue()).decode()}, _handle)


def test_a_structured_dtype_is_refused():
    with pytest.raises(wire.DecodeError):
        wire.decode({"$": "ndarray", "npy": _npy(np.zeros(2, dtype=[("a", "<i4")]))}, _handle)


def test_a_dataclass_is_built_without_running_its_constructor():
    @dataclasses.dataclass
    class _Local:  # not a course class: never rebuilt
        x: int

    with pytest.raises(wire.DecodeError):
        wire.decode({"$": "dataclass", "cls": f"{__name__}._Local", "v": {"x": 1}}, _handle)


def test_exceptions_are_rebuilt_as_the_judges_own_classes_or_remote_errors():
    exc = wire.rebuild_exception({"$": "raised", "mro": ["builtins.ValueError", "builtins.Exception"],
                                  "message": "bad", "traceback": "tb"})
    assert type(exc) is ValueError and str(exc) == "bad"
    exc = wire.rebuild_exception({"$": "raised", "mro": ["student.Odd", "builtins.SystemExit"],
                                  "message": "bye"})
    assert type(exc) is wire.RemoteError and "Odd" in str(exc)
    exc = wire.rebuild_exception({"$": "raised", "mro": "not a list"})
    assert type(exc) is wire.RemoteError


# -- warnings: what the student's code warned during a call, issued again in the test cell ------


def test_a_warning_comes_back_as_a_class_this_process_already_has_and_never_imports_one():
    import sys
    import warnings as _warnings

    from mlse.judge.agent import _described, _warnings_recorded
    from mlse.judge.client import warning_category
    from sklearn.exceptions import ConvergenceWarning

    caught: list = []
    with _warnings_recorded(caught):
        np.array([0.0]) / np.array([0.0])
        _warnings.warn("did not converge", ConvergenceWarning)
    described = _described(caught)
    assert [warning_category(d["mro"]) for d in described] == [RuntimeWarning, ConvergenceWarning]
    assert described[1]["message"] == "did not converge"
    # A class only the student has: the nearest one this process knows, by its MRO.
    assert warning_category(["__main__.Mine", "builtins.DeprecationWarning", "builtins.Warning"]) \
        is DeprecationWarning
    # A module this process never imported is never imported for a name the student sent.
    assert "antigravity" not in sys.modules
    assert warning_category(["antigravity.Fly", "os.system", "builtins.print", 3, None]) is UserWarning
    assert "antigravity" not in sys.modules
    assert warning_category("builtins.RuntimeWarning") is UserWarning  # not a list: nothing read


def test_warnings_sent_back_obey_the_test_cells_filters_and_malformed_ones_are_dropped(capsys):
    import warnings as _warnings

    from mlse.judge.client import StudentKernel

    kernel = StudentKernel.__new__(StudentKernel)  # only the warning relay is used here
    kernel.warned = 0
    good = {"mro": ["builtins.RuntimeWarning"], "message": "invalid value encountered",
            "filename": "/student/cell.py", "lineno": 3}
    with _warnings.catch_warnings(record=True) as seen:
        _warnings.simplefilter("always")
        kernel._warn_again([good, {"mro": [], "message": 1}, "text", {"filename": "x"}])
    assert [(w.category, str(w.message), w.lineno) for w in seen] == \
        [(RuntimeWarning, "invalid value encountered", 3)]
    with _warnings.catch_warnings(record=True) as seen:
        _warnings.simplefilter("ignore")  # what the exercises' quiet() does
        kernel._warn_again([good])
    assert seen == []
    kernel._warn_again("not a list")
