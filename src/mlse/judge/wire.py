"""What crosses from the student's kernel to the judge: data, as JSON, decoded by a strict decoder.

The student's kernel S encodes whatever a call returned with :func:`encode`; the judge J decodes
it with :func:`decode`, which builds every value from J's own types and never runs code that S
chose: no pickle, no ``eval``, no import of a module S names, no constructor of a class S names
except the few listed in :data:`DATACLASS_MODULES` (the course's own value types, built field by
field without calling their ``__init__``). What is not data stays in S and crosses as a *handle*
(an id and a type name): the judge may call it or read its attributes (each a new request), but
never compares or hashes it.

A malicious S can send wrong data, or nothing: it can never make the judge run its code. The
encoder lives here too, beside its decoder, so the two are read together; S imports this module
from the read-only environment, and whatever S does to its own copy only changes what it sends.

Encoding (every non-JSON value is a dict with a ``"$"`` tag):

=============================  =================================================================
Python value                   JSON
=============================  =================================================================
None, bool, int, str           themselves
float                          itself, or ``{"$": "float", "v": "nan" | "inf" | "-inf"}``
list                           a JSON list
tuple / set / frozenset        ``{"$": "tuple" | "set" | "frozenset", "v": [...]}``
dict                           ``{"$": "dict", "v": [[key, value], ...]}``
bytes                          ``{"$": "bytes", "v": base64}``
a subclass of one of those     the builtin's plain contents, as above (``defaultdict``, ``Counter``,
(or of int, float, str)        ``OrderedDict``: a dict; a namedtuple: a tuple; ``IntEnum``: an int)
fractions.Fraction             ``{"$": "fraction", "n": numerator, "d": denominator}``
decimal.Decimal                ``{"$": "decimal", "v": "12.50"}``
numpy scalar                   ``{"$": "npscalar", "dtype": "<f8", "v": value}``
numpy array (no objects)       ``{"$": "ndarray", "npy": base64 of np.save(allow_pickle=False)}``
                               (a subclass of ndarray crosses as a plain ndarray)
numpy array of objects         ``{"$": "ndarray_obj", "shape": [...], "v": [items...]}``
pandas Series / DataFrame      ``{"$": "series" | "dataframe", ...}``: columns as arrays, an index
a course dataclass             ``{"$": "dataclass", "cls": "helpers.shipping.RoutingDecision", "v": {...}}``
an exception raised            ``{"$": "raised", "mro": ["TicketError", ...], "message": ..., "traceback": ...}``
anything else                  ``{"$": "handle", "id": 7, "type": "Pipeline", "callable": false}``
=============================  =================================================================
"""

from __future__ import annotations

import base64
import builtins
import dataclasses
import decimal
import fractions
import io
import math
import sys
from typing import Any, Callable

__all__ = ["DecodeError", "RemoteError", "encode", "encode_exception", "decode", "MAX_DEPTH",
           "DATACLASS_MODULES"]

MAX_DEPTH = 60            # deeper than this is not data a test needs; it stays in S as a handle
MAX_ITEMS = 5_000_000     # values in one reply, all containers together
#: Modules whose dataclasses cross as values (the course's own value types: Ticket, RoutingDecision).
DATACLASS_MODULES = ("helpers.",)
#: Numpy dtype kinds the judge rebuilds: booleans, numbers, strings, dates (never objects).
SAFE_DTYPE_KINDS = set("biufcUSmM")


class DecodeError(ValueError):
    """A reply that is not data the judge accepts (malformed, too deep, too big, an unknown type)."""


# ------------------------------------------------------------------------------ S side: encode

class _Encoder:
    def __init__(self, keep: Callable[[Any], dict]):
        self.keep = keep  # turns a non-data object into a handle (S's handle table)
        self.count = 0

    def __call__(self, value: Any, depth: int = 0) -> Any:
        self.count += 1
        if self.count > MAX_ITEMS or depth > MAX_DEPTH:
            return self.keep(value)
        t = type(value)
        if value is None or t in (bool, int, str):
            return value
        if t is float:
            return value if math.isfinite(value) else {"$": "float", "v": repr(value)}
        if t is list:
            return [self(v, depth + 1) for v in value]
        if t in (tuple, set, frozenset):
            items = sorted(value, key=repr) if t is not tuple else value
            return {"$": t.__name__, "v": [self(v, depth + 1) for v in items]}
        if t is dict:
            return {"$": "dict", "v": [[self(k, depth + 1), self(v, depth + 1)] for k, v in value.items()]}
        if t is bytes:
            return {"$": "bytes", "v": base64.b64encode(value).decode()}
        np = sys.modules.get("numpy")
        if np is not None:  # before the subclasses below: np.float64 is a float, np.str_ a str
            if isinstance(value, np.generic) and value.dtype.kind in SAFE_DTYPE_KINDS:
                return {"$": "npscalar", "dtype": value.dtype.str, "v": self._plain(value.item())}
            if isinstance(value, np.ndarray):  # np.ndarray itself, or a subclass viewed as one
                return self._array(np.ndarray.view(value, np.ndarray), depth)
        plain = _plain_contents(value)
        if plain is not _NOT_PLAIN:
            return self(plain, depth)
        if t is fractions.Fraction:
            return {"$": "fraction", "n": value.numerator, "d": value.denominator}
        if t is decimal.Decimal:
            return {"$": "decimal", "v": str(value)}
        pd = sys.modules.get("pandas")
        if pd is not None:
            if t is pd.Series:
                return {"$": "series", "name": self(value.name, depth + 1),
                        "v": self._array(value.to_numpy(), depth), "index": self._index(value.index, depth)}
            if t is pd.DataFrame:
                return {"$": "dataframe", "columns": [self(c, depth + 1) for c in value.columns],
                        "v": [self._array(value.iloc[:, i].to_numpy(), depth) for i in range(value.shape[1])],
                        "index": self._index(value.index, depth)}
        if dataclasses.is_dataclass(value) and not isinstance(value, type) \
                and t.__module__.startswith(DATACLASS_MODULES):
            return {"$": "dataclass", "cls": f"{t.__module__}.{t.__qualname__}",
                    "v": {f.name: self(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)}}
        return self.keep(value)

    @staticmethod
    def _plain(item):
        if isinstance(item, float) and not math.isfinite(item):
            return {"$": "float", "v": repr(item)}
        if isinstance(item, bytes):
            return {"$": "bytes", "v": base64.b64encode(item).decode()}
        if isinstance(item, (int, float, str, bool)) or item is None:
            return item
        return str(item)  # dates and times: their text

    def _array(self, array, depth):
        np = sys.modules["numpy"]
        if array.dtype.kind in SAFE_DTYPE_KINDS:
            buffer = io.BytesIO()
            np.save(buffer, array, allow_pickle=False)
            return {"$": "ndarray", "npy": base64.b64encode(buffer.getvalue()).decode()}
        return {"$": "ndarray_obj", "shape": list(array.shape),
                "v": [self(v, depth + 1) for v in array.reshape(-1).tolist()]}

    def _index(self, index, depth):
        return {"name": self(index.name, depth + 1), "v": self._array(index.to_numpy(), depth)}


_NOT_PLAIN = object()
#: The builtin types whose subclasses cross as the builtin's plain contents (most derived first:
#: ``bool`` cannot be subclassed, and an ``IntEnum`` is an ``int``).
_PLAIN_BASES = (dict, list, tuple, set, frozenset, str, bytes, int, float)


def _plain_contents(value: Any) -> Any:
    """For an instance of a *subclass* of a builtin container or number (``defaultdict``,
    ``Counter``, ``OrderedDict``, a namedtuple, an ``IntEnum``, a ``str`` enum...), its contents
    as the builtin type itself, read with the builtin's own methods (an override of ``items`` or
    ``__iter__`` is not asked); :data:`_NOT_PLAIN` for anything else. The judge then rebuilds
    the value from its own types: a test judges what the value is, never the class it came in."""
    for base in _PLAIN_BASES:
        if isinstance(value, base) and type(value) is not base:
            if base is dict:
                return dict(dict.items(value))
            if base in (list, tuple, set, frozenset):
                return base(base.__iter__(value))
            if base is str:
                return str.__str__(value)
            if base is bytes:
                return bytes(memoryview(value))
            if base is int:
                return int.__int__(value)
            return float.__float__(value)
    return _NOT_PLAIN


def encode(value: Any, keep: Callable[[Any], dict]) -> Any:
    """``value`` as JSON-ready data; ``keep(obj)`` makes a handle for whatever is not data."""
    return _Encoder(keep)(value)


def encode_exception(exc: BaseException, traceback_text: str = "") -> dict:
    """An exception raised by student code, as data: its class names (most derived first), its
    message and the student's own traceback text."""
    mro = [f"{c.__module__}.{c.__qualname__}" for c in type(exc).__mro__
           if issubclass(c, BaseException)]
    return {"$": "raised", "mro": mro[:20], "message": str(exc)[:4000], "traceback": traceback_text[-8000:]}


# ------------------------------------------------------------------------------ J side: decode

class RemoteError(Exception):
    """An exception of a type the judge does not know, raised by student code.

    Its message starts with the student's exception type, so a failed check still says what it was.
    """

    def __init__(self, type_name: str, message: str, traceback_text: str = ""):
        super().__init__(f"{type_name}: {message}" if message else type_name)
        self.type_name, self.message, self.traceback_text = type_name, message, traceback_text


def _known_class(qualified: str, base: type) -> type | None:
    """The class named ``module.qualname`` if the judge has that module loaded already (it never
    imports one because S named it), the module is the course's or Python's, and it is a ``base``."""
    module, _, qualname = qualified.rpartition(".")
    if module == "builtins":
        cls = getattr(builtins, qualname, None)
    elif module.startswith(DATACLASS_MODULES) and module in sys.modules and "." not in qualname:
        cls = getattr(sys.modules[module], qualname, None)
    else:
        return None
    return cls if isinstance(cls, type) and issubclass(cls, base) else None


def rebuild_exception(payload: dict) -> BaseException:
    """The judge's own exception for a ``raised`` payload: the most derived class it knows (for
    ``check_raises(ValueError, ...)``), or :class:`RemoteError`. Never a ``BaseException`` that
    could stop the judge (SystemExit, KeyboardInterrupt): those become RemoteError too."""
    mro = [m for m in payload.get("mro", []) if isinstance(m, str)]
    message = str(payload.get("message", ""))
    for name in mro:
        cls = _known_class(name, Exception)
        if cls is not None and cls is not Exception:
            try:
                exc = cls(message)
            except Exception:  # noqa: BLE001 - a class whose constructor wants other arguments
                continue
            exc.student_traceback = str(payload.get("traceback", ""))
            return exc
    type_name = mro[0].rpartition(".")[2] if mro else "Exception"
    return RemoteError(type_name, message, str(payload.get("traceback", "")))


class _Decoder:
    def __init__(self, make_handle: Callable[[dict], Any]):
        self.make_handle = make_handle
        self.count = 0

    def __call__(self, data: Any, depth: int = 0) -> Any:
        self.count += 1
        if self.count > MAX_ITEMS or depth > MAX_DEPTH + 2:
            raise DecodeError("the reply is too big or too deeply nested")
        if data is None or type(data) in (bool, int, float, str):
            return data
        if type(data) is list:
            return [self(v, depth + 1) for v in data]
        if type(data) is not dict or not isinstance(data.get("$"), str):
            raise DecodeError(f"not a value the judge accepts: {type(data).__name__}")
        tag, v = data["$"], data.get("v")
        if tag == "float":
            if v not in ("nan", "inf", "-inf"):
                raise DecodeError(f"not a float: {v!r}")
            return float(v)
        if tag in ("tuple", "set", "frozenset"):
            items = [self(x, depth + 1) for x in self._list(v)]
            return {"tuple": tuple, "set": set, "frozenset": frozenset}[tag](items)
        if tag == "dict":
            out = {}
            for pair in self._list(v):
                if type(pair) is not list or len(pair) != 2:
                    raise DecodeError("a dict entry is not a [key, value] pair")
                out[self(pair[0], depth + 1)] = self(pair[1], depth + 1)
            return out
        if tag == "bytes":
            return base64.b64decode(self._str(v), validate=True)
        if tag == "fraction":
            numerator, denominator = data.get("n"), data.get("d")
            if type(numerator) is not int or type(denominator) is not int or denominator <= 0:
                raise DecodeError("a fraction needs an integer numerator and a positive denominator")
            return fractions.Fraction(numerator, denominator)
        if tag == "decimal":
            try:
                return decimal.Decimal(self._str(v))
            except decimal.InvalidOperation as exc:
                raise DecodeError(f"not a decimal number: {v!r:.40}") from exc
        if tag == "npscalar":
            np = self._numpy()
            dtype = self._dtype(data.get("dtype"))
            value = self(v, depth + 1)
            if dtype.kind == "S" and isinstance(value, str):
                value = value.encode()
            return dtype.type(value)
        if tag == "ndarray":
            np = self._numpy()
            array = np.load(io.BytesIO(base64.b64decode(self._str(data.get("npy")), validate=True)),
                            allow_pickle=False)
            self._dtype(array.dtype.str)
            return array
        if tag == "ndarray_obj":
            np = self._numpy()
            shape = tuple(int(s) for s in self._list(data.get("shape")))
            items = [self(x, depth + 1) for x in self._list(v)]
            array = np.empty(len(items), dtype=object)
            array[:] = items if items else array[:]
            return array.reshape(shape)
        if tag == "series":
            pd = self._pandas()
            return pd.Series(self(v, depth + 1), index=self._index(data.get("index"), depth),
                             name=self(data.get("name"), depth + 1))
        if tag == "dataframe":
            pd = self._pandas()
            columns = [self(c, depth + 1) for c in self._list(data.get("columns"))]
            arrays = [self(a, depth + 1) for a in self._list(v)]
            if len(columns) != len(arrays):
                raise DecodeError("a DataFrame whose columns and data disagree")
            frame = pd.DataFrame({i: a for i, a in enumerate(arrays)}, index=self._index(data.get("index"), depth))
            frame.columns = pd.Index(columns, dtype=object) if columns else frame.columns
            return frame
        if tag == "dataclass":
            cls = _known_class(self._str(data.get("cls")), object)
            if cls is None or not dataclasses.is_dataclass(cls):
                raise DecodeError(f"not a course value type: {data.get('cls')!r}")
            fields = {f.name for f in dataclasses.fields(cls)}
            given = v if type(v) is dict else {}
            if set(given) != fields:
                raise DecodeError(f"a {cls.__name__} with fields {sorted(given)} instead of {sorted(fields)}")
            obj = object.__new__(cls)
            for name, value in given.items():
                object.__setattr__(obj, name, self(value, depth + 1))
            return obj
        if tag == "handle":
            return self.make_handle(data)
        raise DecodeError(f"unknown tag {tag!r}")

    def _index(self, data, depth):
        if type(data) is not dict:
            raise DecodeError("an index is missing")
        pd = self._pandas()
        return pd.Index(self(data.get("v"), depth + 1), name=self(data.get("name"), depth + 1))

    @staticmethod
    def _list(v) -> list:
        if type(v) is not list:
            raise DecodeError("a list was expected")
        return v

    @staticmethod
    def _str(v) -> str:
        if type(v) is not str:
            raise DecodeError("a string was expected")
        return v

    def _dtype(self, text):
        np = self._numpy()
        try:
            dtype = np.dtype(self._str(text))
        except TypeError as exc:
            raise DecodeError(f"not a numpy dtype: {text!r}") from exc
        if dtype.kind not in SAFE_DTYPE_KINDS or dtype.fields is not None or dtype.hasobject:
            raise DecodeError(f"a numpy dtype the judge does not rebuild: {text!r}")
        return dtype

    @staticmethod
    def _numpy():
        import numpy
        return numpy

    @staticmethod
    def _pandas():
        import pandas
        return pandas


def decode(data: Any, make_handle: Callable[[dict], Any]) -> Any:
    """The judge's own value for ``data`` (see the module docstring); ``raised`` is not decoded
    here (the caller raises it). Raises :class:`DecodeError` for anything else: whatever the
    bytes, a malformed reply is never another exception (bad base64, an array whose shape does
    not fit its values, a truncated ``.npy`` buffer...)."""
    try:
        return _Decoder(make_handle)(data)
    except DecodeError:
        raise
    except (ValueError, TypeError, OverflowError, KeyError, IndexError, EOFError, MemoryError,
            RecursionError) as exc:
        raise DecodeError(f"a malformed value: {type(exc).__name__}: {str(exc)[:200]}") from exc
