"""Build the course's website: `make site` (or `python site/build.py [--out DIR]`).

The pages come from the course as committed: the lessons (course/*.ipynb, with their stored outputs
and plots), the released exercises (exercises/, never solutions/), the instructors' docs (docs/*.md)
and the home page (site/index.md). They are laid out in a staging folder (build/site-src/), where
the exercise notebooks get their answer cells labelled for a reader of the web page, then Sphinx
(with myst-nb and sphinx-book-theme, settings in site/conf.py) writes the HTML to build/site/.
Nothing runs at build time, unless a lesson was committed without outputs: then that lesson alone
is executed, so its page still shows them.

The original notebooks are copied beside the pages (``notebooks/``), for the pages' download links.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

SITE = Path(__file__).resolve().parent
ROOT = SITE.parent

#: The instructors' pages, in reading order; any other doc in docs/ follows, by name.
INSTRUCTOR_DOCS = ["instructor.md", "classroom.md", "grading.md", "grading-safety.md", "judge.md",
                   "authoring.md", "site.md", "benchmarks.md", "testing.md"]
#: Docs that are not pages of the site (screenshots.md shows JupyterLab pictures kept in the repo).
NOT_ON_SITE = {"screenshots.md"}

#: What a reader of the exercise page sees above an answer cell (the notebook's own cell follows).
ANSWER_LABEL = "**Your answer** goes in this cell of the notebook:"
#: What replaces a free-text answer cell (nbgrader's "YOUR ANSWER HERE" placeholder).
FREE_TEXT_ANSWER = ("```{admonition} Your answer, in the notebook\n:class: mlse-answer\n\n"
                    "In the notebook, this cell is where you write your answer, in your own words; "
                    "your instructor grades it.\n```")


def lessons(root: Path) -> list[Path]:
    return sorted((root / "course").glob("*.ipynb"))


def exercises(root: Path) -> list[Path]:
    return sorted((root / "exercises").glob("*/*.ipynb"))


def never_run(notebook: dict) -> bool:
    """A notebook none of whose code cells has run: its page would show no output at all."""
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    return bool(code) and not any(c.get("outputs") or c.get("execution_count") for c in code)


def is_answer(cell: dict) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


def exercise_for_the_web(notebook: dict) -> dict:
    """The released exercise as a web page shows it: each code answer cell (nbgrader's stub, as the
    learner gets it) announced as the place to answer, each free-text answer cell replaced by a
    box that says so. The released notebook holds no solution and no hidden test to remove."""
    page = copy.deepcopy(notebook)
    cells = []
    for index, cell in enumerate(page["cells"]):
        if is_answer(cell) and cell["cell_type"] == "markdown":
            cells.append({"cell_type": "markdown", "id": f"mlse-answer-{index}", "metadata": {},
                          "source": FREE_TEXT_ANSWER})
            continue
        if is_answer(cell) and cell["cell_type"] == "code":
            cells.append({"cell_type": "markdown", "id": f"mlse-label-{index}", "metadata": {},
                          "source": ANSWER_LABEL})
            tags = cell.setdefault("metadata", {}).setdefault("tags", [])
            tags.append("mlse-answer")
        cells.append(cell)
    page["cells"] = cells
    return page


#: A Markdown link or image: [text](target) or ![alt](target).
LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)")


def doc_for_the_web(text: str, root: Path, on_site: set[str], staged_docs: Path) -> str:
    """A doc of docs/ as a page of the site: links to other docs stay links, the images it shows
    are copied beside it, and a link to a file of the repository that is not on the site (the
    README, a source file) becomes that file's path in the course folder, as text."""
    def rewrite(match: re.Match) -> str:
        bang, label, target = match.groups()
        if "://" in target or target.startswith(("#", "mailto:")):
            return match.group(0)
        path = target.split("#", 1)[0]
        cited = (root / "docs" / path).resolve()
        if bang and cited.is_file() and cited.is_relative_to(root / "docs"):
            (staged_docs / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(cited, staged_docs / path)
            return match.group(0)
        if not bang and path in on_site:
            return match.group(0)
        try:
            where = cited.relative_to(root).as_posix()
        except ValueError:
            where = path
        return f"{label} (`{where}` in the course folder)" if label and not bang else f"`{where}`"
    return LINK.sub(rewrite, text)


def instructors_index(docs: list[Path]) -> str:
    text = (SITE / "instructors.md").read_text()
    entries = "\n".join(doc.stem for doc in docs)
    return text.replace("{{ instructor_docs }}", entries)


def instructor_docs(root: Path) -> list[Path]:
    found = {p.name: p for p in sorted((root / "docs").glob("*.md")) if p.name not in NOT_ON_SITE}
    ordered = [found.pop(name) for name in INSTRUCTOR_DOCS if name in found]
    return ordered + list(found.values())


def stage(root: Path, staging: Path, extra: Path) -> list[str]:
    """Lay the site's sources out in ``staging`` and the original notebooks in ``extra``; return
    the lessons (staged paths) that must be executed because they were committed without outputs."""
    for folder in (staging, extra):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    shutil.copy2(SITE / "index.md", staging / "index.md")
    shutil.copytree(SITE / "images", staging / "images")
    to_run = []
    (staging / "course").mkdir()
    for lesson in lessons(root):
        shutil.copy2(lesson, staging / "course" / lesson.name)
        if never_run(json.loads(lesson.read_text())):
            to_run.append(f"course/{lesson.name}")
    for exercise in exercises(root):
        relative = exercise.relative_to(root)
        (staging / relative).parent.mkdir(parents=True, exist_ok=True)
        page = exercise_for_the_web(json.loads(exercise.read_text()))
        (staging / relative).write_text(json.dumps(page, indent=1, ensure_ascii=False))
    for notebook in lessons(root) + exercises(root):
        target = extra / "notebooks" / notebook.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(notebook, target)
    docs = instructor_docs(root)
    (staging / "instructors").mkdir()
    for doc in docs:
        text = doc_for_the_web(doc.read_text(), root, {d.name for d in docs}, staging / "instructors")
        (staging / "instructors" / doc.name).write_text(text)
    (staging / "instructors" / "index.md").write_text(instructors_index(docs))
    return to_run


def forget_builds_of_another_site_version(work: Path, out: Path) -> None:
    """Sphinx rebuilds a page when its source changes, not when site/'s own code does (the
    extension, the templates): after such a change, start from scratch."""
    digest = hashlib.sha256()
    for path in sorted(p for p in SITE.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(SITE).as_posix().encode() + b"\0" + path.read_bytes())
    stamp = work / "site-version"
    if not stamp.is_file() or stamp.read_text() != digest.hexdigest():
        shutil.rmtree(work, ignore_errors=True)
        if (out / ".buildinfo").is_file():  # only ever a folder Sphinx built
            shutil.rmtree(out)
        work.mkdir(parents=True)
        stamp.write_text(digest.hexdigest())


def build(root: Path = ROOT, out: Path | None = None, work: Path | None = None,
          quiet: bool = False) -> int:
    """Stage and build the site; Sphinx's exit status (0: built)."""
    from sphinx.cmd.build import build_main

    out = out or root / "build" / "site"
    work = work or root / "build" / "site-work"
    staging, extra, doctrees = work / "src", work / "extra", work / "doctrees"
    forget_builds_of_another_site_version(work, out)
    to_run = stage(root, staging, extra)
    args = ["-b", "html", "-c", str(SITE), "-d", str(doctrees), "-j", "auto",
            "-D", f"html_extra_path={extra}", str(staging), str(out)]
    # site/conf.py reads these (Sphinx's -D cannot set a list): run only the lessons in to_run.
    os.environ["MLSE_SITE_EXECUTION"] = "force" if to_run else "off"
    os.environ["MLSE_SITE_EXECUTION_SKIP"] = ",".join(
        f"*/{p}" for p in (staged.relative_to(staging).as_posix() for staged in staging.rglob("*.ipynb"))
        if p not in to_run)
    if to_run:
        print(f"Executing {', '.join(to_run)}: committed without outputs.")
        # One reader process: kernels are not started from Sphinx's forked parallel readers.
        args.remove("-j")
        args.remove("auto")
    if quiet:
        args.insert(0, "-q")
    return build_main(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the course folder (default: this one)")
    parser.add_argument("--out", type=Path, help="where the HTML goes (default: ROOT/build/site)")
    parser.add_argument("--work", type=Path, help="staging and cache (default: ROOT/build/site-work)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    options = parser.parse_args(argv)
    started = time.monotonic()
    status = build(options.root.resolve(), options.out, options.work, options.quiet)
    out = options.out or options.root.resolve() / "build" / "site"
    if status == 0:
        print(f"Site built in {time.monotonic() - started:.0f} s: open {out / 'index.html'} "
              f"(or serve it: python -m http.server -d {out})")
    return status


if __name__ == "__main__":
    sys.exit(main())
