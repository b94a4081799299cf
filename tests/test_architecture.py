"""docs/architecture.md's claims about the imports, checked against the code (issue 22).

Imports run one way, from the commands down: nothing imports ``apps``; the judge and the sandbox
never import the grade floor; the sandbox never imports the judge; no two folders of src/mlse
import each other. Read from the sources (``ast``), nothing is imported or run.
"""

from __future__ import annotations

import ast

from conftest import ROOT

SRC = ROOT / "src" / "mlse"
FOLDERS = sorted(p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").is_file())


def _imports() -> dict[str, set[str]]:
    """folder -> the other folders of src/mlse its modules import (relative or absolute)."""
    edges: dict[str, set[str]] = {f: set() for f in FOLDERS}
    for folder in FOLDERS:
        for path in (SRC / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                targets: list[str] = []
                if isinstance(node, ast.ImportFrom):
                    if node.level == 2 and node.module:  # from ..grade.x import y
                        targets.append(node.module.split(".")[0])
                    elif node.level == 2:  # from .. import grade
                        targets += [a.name for a in node.names]
                    elif node.level == 0 and (node.module or "").startswith("mlse."):
                        targets.append(node.module.split(".")[1])
                elif isinstance(node, ast.Import):
                    targets += [a.name.split(".")[1] for a in node.names if a.name.startswith("mlse.")]
                edges[folder] |= {t for t in targets if t in FOLDERS and t != folder}
    return edges


def test_the_folders_of_src_mlse_form_no_cycle():
    edges = _imports()
    both_ways = sorted({tuple(sorted((a, b))) for a in edges for b in edges[a] if a in edges.get(b, ())})
    assert not both_ways, f"folders that import each other: {both_ways}"


def test_imports_run_from_the_commands_down():
    edges = _imports()
    assert not [f for f in FOLDERS if "apps" in edges[f]], "a folder imports the commands (apps/)"
    assert "grade" not in edges["judge"] and "grade" not in edges["sandbox"]
    assert "judge" not in edges["sandbox"]
