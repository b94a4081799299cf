"""Every file path that the docs or the code cite exists (issue 17: docs that match the code).

A path is cited when it starts with one of the project's folders (``src/``, ``tests/``, ``docs/``,
``benchmarks/``, ``course/``, ``solutions/``, ``exercises/``) and names a file or folder, in any
Markdown file, in the README, or anywhere in the Python sources and tests (docstrings and
comments included). Globs and placeholders (``*``, ``ASSIGNMENT``, ``STUDENT``, ``NAME``, ``X``)
are not paths.
"""

from __future__ import annotations

import re
from pathlib import Path

from conftest import ROOT

FOLDERS = ("src", "tests", "docs", "benchmarks", "course", "solutions", "exercises")
CITED = re.compile(r"(?<![\w./-])((?:%s)/[\w./*-]*[\w*])" % "|".join(FOLDERS))
PLACEHOLDERS = re.compile(r"\*|<|\{|ASSIGNMENT|STUDENT|NAME|NOTEBOOK|NN_|\bX\b|\.\.\.|/N\b|OUT\b")
GENERATED = {"tests/artifacts"}  # made by a test run (the browser test's screenshots on failure)


def _sources() -> list[Path]:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for folder in ("src", "tests", "benchmarks"):
        files += sorted((ROOT / folder).rglob("*.py"))
    return [f for f in files if f.is_file() and ".egg-info" not in str(f)]


def _prose_lines(path: Path) -> list[tuple[int, str]]:
    """The lines that speak to a reader: all of a Markdown file; in Python, the comments and
    docstrings (a test's string literals are test data, such as an LMS file name)."""
    import ast
    import io
    import tokenize

    text = path.read_text(errors="replace")
    if path.suffix != ".py":
        return list(enumerate(text.splitlines(), 1))
    lines = text.splitlines()
    keep: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT:
            keep.add(token.start[0])
    for node in ast.walk(ast.parse(text)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(getattr(body[0], "value", None), ast.Constant) and isinstance(body[0].value.value, str):
            keep.update(range(body[0].lineno, body[0].end_lineno + 1))
    return [(n, lines[n - 1]) for n in sorted(keep)]


def test_every_cited_path_exists():
    missing = []
    for path in _sources():
        for number, line in _prose_lines(path):
            for cited in CITED.findall(line):
                if PLACEHOLDERS.search(cited):
                    continue
                cited = cited.rstrip(".")
                if cited not in GENERATED and not (ROOT / cited).exists():
                    missing.append(f"{path.relative_to(ROOT)}:{number}: {cited}")
    assert not missing, "cited paths that do not exist:\n" + "\n".join(missing)


def test_the_check_finds_paths_at_all():
    """The pattern must match real citations, or the test above could never fail."""
    assert CITED.findall("see `src/mlse/judge/wire.py` and docs/judge.md.") == ["src/mlse/judge/wire.py", "docs/judge.md"]
