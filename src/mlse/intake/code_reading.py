"""Which code a code-reading test reads: the definition that runs, found from the whole submission.

Some tests read a learner's code rather than run it (a refactoring must not call the old function:
``helpers.checks.names_used``). Under the judge the learner's function is a handle, and the text a
test reads is decided here, from the learner's cells in the order they ran (parsed, never run):

* the **effective definition** of a name is its last plain binding at the top level of a cell:
  ``def name(...)``, ``name = lambda ...: ...`` or ``name = <expression>`` (``import ... as name``
  too). Lambdas and assignments read like ``def``\\ s: ``name = lambda t: body`` reads as
  ``def name(t): return body`` and ``name = other`` as a function that calls ``other``;
* a name bound where the text does not show it plainly is **unclear**: a definition nested in an
  ``if``/``for``/``while``/``try``/``with`` block, a ``global name`` inside a function, a loop or
  ``with`` target, a walrus, a class of that name. Its tests fail with the reason, and the
  submission is flagged;
* code that can rebind anything out of sight (``exec``, ``compile``, ``setattr``, writes through
  ``globals()``/``vars()``/``locals()``, ``__code__`` and friends, ``sys.modules``) makes every
  reading **untrusted**: a code-reading test then fails with the reason;
* all the code the definition can reach is read with it: its decorators (as code), its default
  values and annotations (they stay in its signature, which ``names_used`` reads), and, for
  every global name that code reads (found with :mod:`symtable`, so parameters and locals are
  not followed), the name's last plain definition and every top-level statement that binds or
  changes it another way (:func:`_changed_names`: a class and its body, ``a, b = ...``, a block, a
  walrus, ``global name`` in a function, ``name.attr = ...``, ``name[k] = ...``,
  ``name.append(...)``), transitively;
* inside that code, indirection counts as a call of what it names: ``globals()["f"]``,
  ``vars()["f"]``, ``getattr(x, "f")``, ``eval("f")`` read as ``f``; a lookup whose name is not
  written out (``globals()[a + b]``, ``eval(text)``) makes the reading untrusted.

In one kernel (plain nbgrader) ``helpers.checks.names_used`` reads the same code by following the
live function, so both graders agree.
"""

from __future__ import annotations

import ast
import symtable
from dataclasses import dataclass
from typing import Iterable

__all__ = ["Reading", "read_definitions", "dynamic_code"]

_DYNAMIC_CALLS = {"exec", "compile", "setattr", "delattr", "__import__"}
_NAMESPACE_CALLS = {"globals", "vars", "locals"}
_FUNCTION_INTERNALS = {"__code__", "__globals__", "__closure__", "__defaults__", "__kwdefaults__",
                       "__dict__", "__wrapped__", "__call__"}
_BLOCKS = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try, ast.With, ast.AsyncWith)
if hasattr(ast, "TryStar"):
    _BLOCKS = (*_BLOCKS, ast.TryStar)
if hasattr(ast, "Match"):
    _BLOCKS = (*_BLOCKS, ast.Match)


@dataclass
class Reading:
    """What a code-reading test may read of one name."""

    source: str | None = None   # the graded text, a ``def`` (None: the name is not defined plainly)
    unclear: str = ""           # why the name's own binding is not trusted (its tests score nothing)
    untrusted: str = ""         # why no reading of code is trusted (code-reading tests score nothing)


def _parse(source: str):
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _namespace_call(node) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in _NAMESPACE_CALLS and not node.args)


def dynamic_code(tree) -> str:
    """Why ``tree`` may rebind names out of sight (see the module docstring), or ``""``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _DYNAMIC_CALLS:
            return f"it calls {node.func.id}()"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("update", "setdefault", "__setitem__", "pop") \
                and _namespace_call(node.func.value):
            return f"it changes {node.func.value.func.id}() directly"
        if isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            if isinstance(node, ast.Subscript) and _namespace_call(node.value):
                return f"it writes to {node.value.func.id}()"
            if isinstance(node, ast.Attribute) and node.attr in _FUNCTION_INTERNALS:
                return f"it replaces a function's {node.attr}"
        if isinstance(node, ast.Attribute) and node.attr in ("modules", "user_ns", "user_global_ns") \
                and isinstance(node.ctx, ast.Load) and not isinstance(node.value, ast.Call):
            if isinstance(node.value, ast.Name) and node.value.id == "sys" or node.attr != "modules":
                return f"it reaches the interpreter's namespaces ({ast.unparse(node)[:60]})"
    return ""


def _binds(node, name: str) -> bool:
    """Whether statement ``node`` binds ``name`` in the scope it is written in."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name == name
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return any((a.asname or a.name).split(".")[0] == name for a in node.names)
    targets = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        targets = [node.target]
    elif isinstance(node, (ast.For, ast.AsyncFor)):
        targets = [node.target]
    elif isinstance(node, (ast.With, ast.AsyncWith)):
        targets = [i.optional_vars for i in node.items if i.optional_vars is not None]
    return any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, (ast.Store, ast.Del))
               for t in targets for n in ast.walk(t))


def _plain(node, name: str):
    """The plain top-level binding ``node`` makes of ``name`` as a def node, or None if not plain."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
        return node
    value = None
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
            and node.targets[0].id == name:
        value = node.value
    elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name \
            and node.value is not None:
        value = node.value
    elif isinstance(node, (ast.Import, ast.ImportFrom)):
        for alias in node.names:
            if alias.asname == name or (alias.asname is None and alias.name == name):
                module = getattr(node, "module", None)
                value = ast.parse(f"{module}.{alias.name}" if module else alias.name, mode="eval").body
    if value is None:
        return None
    if isinstance(value, ast.Lambda):
        return ast.FunctionDef(name=name, args=value.args, body=[ast.Return(value=value.body)],
                               decorator_list=[], returns=None, type_params=[], lineno=1, col_offset=0)
    call = ast.Call(func=value, args=[ast.Starred(value=ast.Name("args", ast.Load()), ctx=ast.Load())],
                    keywords=[ast.keyword(arg=None, value=ast.Name("kwargs", ast.Load()))])
    args = ast.arguments(posonlyargs=[], args=[], vararg=ast.arg("args"), kwonlyargs=[], kw_defaults=[],
                         kwarg=ast.arg("kwargs"), defaults=[])
    return ast.FunctionDef(name=name, args=args, body=[ast.Return(value=call)], decorator_list=[],
                           returns=None, type_params=[], lineno=1, col_offset=0)


def _unclear_binding(tree, name: str) -> str:
    """Why ``name`` is bound in ``tree`` where the text does not show it plainly, or ``""``."""
    for node in tree.body:
        if _binds(node, name) and _plain(node, name) is None:
            return f"{name} is bound by a {type(node).__name__.lower()} statement, not by a plain definition"
        if isinstance(node, _BLOCKS):
            for inner in ast.walk(node):
                if isinstance(inner, ast.stmt) and inner is not node and _binds(inner, name) \
                        and not _inside_function(node, inner):
                    return f"{name} is defined inside an {type(node).__name__.lower()} block"
    for node in ast.walk(tree):
        if isinstance(node, ast.Global) and name in node.names:
            return f"{name} is declared global inside a function, so it can be rebound when that runs"
        if isinstance(node, ast.NamedExpr) and node.target.id == name:
            return f"{name} is bound by := inside an expression"
    return ""


def _inside_function(block, inner) -> bool:
    """Whether ``inner`` (somewhere in ``block``) sits in a function body (its own scope)."""
    for node in ast.walk(block):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            if any(sub is inner for sub in ast.walk(node)) and inner is not node:
                return True
    return False


class _Indirection(ast.NodeTransformer):
    """Reads ``globals()["f"]``, ``getattr(x, "f")`` and ``eval("f")`` as the ``f`` they name."""

    def __init__(self):
        self.untrusted = ""

    def visit_Subscript(self, node):
        self.generic_visit(node)
        if _namespace_call(node.value):
            key = node.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value.isidentifier():
                return ast.copy_location(ast.Name(key.value, ast.Load()), node)
            self.untrusted = f"it looks a name up in {node.value.func.id}() without writing the name out"
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        func = node.func
        constant = (len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
                    and isinstance(node.args[1].value, str))
        if isinstance(func, ast.Name) and func.id == "getattr" and len(node.args) >= 2:
            if constant and node.args[1].value.isidentifier():
                return ast.copy_location(ast.Attribute(node.args[0], node.args[1].value, ast.Load()), node)
            self.untrusted = "it reads an attribute whose name is not written out (getattr)"
        elif isinstance(func, ast.Name) and func.id == "eval":
            text = node.args[0] if node.args else None
            if isinstance(text, ast.Constant) and isinstance(text.value, str):
                parsed = _parse(text.value.strip())
                if parsed is not None and len(parsed.body) == 1 and isinstance(parsed.body[0], ast.Expr):
                    return ast.copy_location(self.visit(parsed.body[0].value), node)
            self.untrusted = "it runs text with eval()"
        elif isinstance(func, ast.Attribute) and func.attr == "get" and _namespace_call(func.value):
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str) \
                    and node.args[0].value.isidentifier():
                return ast.copy_location(ast.Name(node.args[0].value, ast.Load()), node)
            self.untrusted = f"it looks a name up in {func.value.func.id}() without writing the name out"
        elif isinstance(func, ast.Name) and func.id in _NAMESPACE_CALLS | {"exec", "__import__"}:
            self.untrusted = f"it uses {func.id}()"
        return node


def _global_names(node) -> set[str]:
    """The global names ``node`` (a statement) reads, in every scope inside it: the helpers, classes
    and values its code can reach. A function's parameters and locals are not global, so a
    ``for tickets in ...`` elsewhere in the notebook is not read with a function that takes
    ``tickets``. Text Python's symbol table cannot read gives every name in it."""
    try:
        table = symtable.symtable(ast.unparse(ast.Module(body=[node], type_ignores=[])), "<graded>", "exec")
    except Exception:  # noqa: BLE001 - text it cannot read: every name in it is followed
        return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    names, tables = set(), [table]
    while tables:
        current = tables.pop()
        names |= {s.get_name() for s in current.get_symbols() if s.is_global() and s.is_referenced()}
        tables += current.get_children()
    return names


def _changed_names(statement, modules: set[str] = frozenset()) -> set[str]:
    """The global names ``statement`` (a top-level statement, with everything inside it) may bind
    or change in a way a plain definition does not show: a class of that name, ``a, name = ...``,
    a loop or ``with`` target, a walrus, a binding inside a block, ``global name`` in a function,
    ``name.attribute = ...``, ``name[key] = ...``, ``del name...``, or a method call on it
    (``name.append(...)``, ``name.update(...)``). A plain definition of a name (read as the
    latest one, or superseded by a later one) is not a change of that name.

    A call of a function of an imported name (``modules``: ``dataclasses.replace(...)``,
    ``sqlite3.connect(...)``) is not a change of it, or every cell that uses the module would be
    read with any code that does; a call through its namespace (``vars(m).update(...)``,
    ``m.__dict__.update(...)``) and a store (``m.old = ...``) are."""
    names = set()
    for node in ast.walk(statement):
        if isinstance(node, ast.stmt):
            names |= _bound_here(node)
        if isinstance(node, (ast.With, ast.AsyncWith)):
            names |= {n.id for i in node.items if i.optional_vars is not None
                      for n in ast.walk(i.optional_vars) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif getattr(node, "name", None) and type(node).__name__ in ("MatchAs", "MatchStar"):
            names.add(node.name)
        elif getattr(node, "rest", None) and type(node).__name__ == "MatchMapping":
            names.add(node.rest)
        elif isinstance(node, ast.Global):
            names.update(node.names)
        elif isinstance(node, ast.NamedExpr):
            names.add(node.target.id)
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names |= _root_name(node.value)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target, root = node.func.value, _root_name(node.func.value)
            through_namespace = isinstance(target, ast.Call) or \
                any(isinstance(n, ast.Attribute) and n.attr == "__dict__" for n in ast.walk(target))
            if through_namespace or not root & modules:
                names |= root
            if node.func.attr in ("__setattr__", "__delattr__") and node.args:  # type.__setattr__(name, ...)
                names |= _root_name(node.args[0])
    return {name for name in names if _plain(statement, name) is None}


def _root_name(node) -> set[str]:
    """``{name}`` when ``node`` is ``name`` or an attribute or item of it (``name.a[0].b``,
    ``vars(name)["a"]``)."""
    while True:
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "vars" \
                and len(node.args) == 1:
            node = node.args[0]
        else:
            return {node.id} if isinstance(node, ast.Name) else set()


def read_definitions(cells: Iterable[str], names: Iterable[str]) -> dict[str, Reading]:
    """The reading of each of ``names`` from the learner's ``cells`` (their text, in the order
    they ran): see the module docstring."""
    trees = [t for t in (_parse(c) for c in cells) if t is not None]
    untrusted = next((f"the notebook runs code the grader cannot read ({why})"
                      for why in (dynamic_code(t) for t in trees) if why), "")
    # the last plain top-level definition of every name, in execution order
    latest: dict[str, ast.AST] = {}
    modules: set[str] = set()  # names whose latest plain binding is an import
    for tree in trees:
        for node in tree.body:
            for bound in _bound_here(node):
                plain = _plain(node, bound)
                if plain is not None:
                    latest[bound] = plain
                else:
                    latest.pop(bound, None)
                if plain is not None and isinstance(node, (ast.Import, ast.ImportFrom)):
                    modules.add(bound)
                else:
                    modules.discard(bound)
    changes: dict[str, list] = {}  # name -> the statements that bind or change it not plainly
    for tree in trees:
        for node in tree.body:
            for changed in _changed_names(node, modules):
                changes.setdefault(changed, []).append(node)
    reads: dict[int, tuple] = {}
    readings = {}
    for name in names:
        unclear = next((why for why in (_unclear_binding(t, name) for t in trees) if why), "")
        if unclear or name not in latest:
            readings[name] = Reading(None, unclear, untrusted)
            continue
        try:
            source, why = _graded_text(name, latest, changes, reads)
        except (RecursionError, MemoryError):  # text nested deeper than Python's own recursion
            source, why = None, "its code is nested too deeply for the grader to read"
        readings[name] = Reading(source, "", untrusted or why)
    return readings


def _bound_here(node) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    found = set()
    for target in getattr(node, "targets", None) or ([node.target] if hasattr(node, "target") else []):
        found |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del))}
    return found


def _graded_text(name: str, latest: dict[str, ast.AST], changes: dict[str, list],
                 reads: dict[int, tuple]) -> tuple[str, str]:
    """The text of ``name``'s definition with indirection resolved and all the code it can reach
    read with it (transitively), and why it is untrusted, if it is.

    Its own decorators are read as code, and its defaults and annotations stay in its signature,
    which the tests read too (``helpers.checks.names_used``). For every global name that code
    reads, what the notebook binds to it is read with it: the last plain definition, and every
    top-level statement that binds or changes it another way (``changes``, from
    :func:`_changed_names`: a class and its body, ``a, b = ...``, ``name[key] = ...``, a function
    that declares it ``global``). ``reads`` keeps each statement's reading for the other names."""
    main, names, untrusted = _read_node(latest[name], {})
    if main.decorator_list:  # a decorator may replace the function: read what it names too
        main.body = [*(ast.Expr(value=d) for d in main.decorator_list), *main.body]
        main.decorator_list = []
    seen, queue, helpers, why = set(), [name, *sorted(names)], [], untrusted
    while queue:
        other = queue.pop(0)
        if other in seen:
            continue
        seen.add(other)
        found = [latest[other]] if other in latest and other != name else []
        for node in found + changes.get(other, []):  # name.old = ... too
            helper, more, untrusted = _read_node(node, reads)
            helpers.append(helper)
            queue += sorted(more)
            why = why or untrusted
    main.body = [*main.body, *helpers]
    ast.fix_missing_locations(main)
    return ast.unparse(main), why


def _read_node(node, reads: dict[int, tuple]) -> tuple:
    """A copy of ``node`` with indirection resolved, the global names it reads, and why it is
    untrusted (``""``); remembered in ``reads`` (the copy is shared: it is only read after)."""
    import copy

    if id(node) not in reads:
        indirection = _Indirection()
        read = indirection.visit(copy.deepcopy(node))
        reads[id(node)] = (read, _global_names(read), indirection.untrusted)
    return reads[id(node)]
