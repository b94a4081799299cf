"""Broken and hostile submissions, built from the real exercises, for tests, demos and benchmarks.

Every case starts from a real released exercise with the solution's answers filled in (a student
who would score full marks), then breaks or attacks one thing. A :class:`Case` says which files
the student hands in and what a safe grader must make of them: the score of every autograded
cell (``expected``), and for attacks on the sandbox, that the hostile code found nothing
(``probe``: the notebook prints a JSON report that the test reads back from the graded notebook).

The runtime attacks are placed in the Part 2 answer cell, so a correct grader gives zero to
Part 2's tests and full marks to every other part: "the rest of the notebook is still graded".
The cases are written for ``m1_roles_warmup`` (short and fast to grade), but only rely on its
cells' grade_ids; :func:`build_cases` takes any solution/release pair with the same parts.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from mlse.notebook_cells import grade_id, is_autograded_test
from nbformat.v4 import new_code_cell

from simulated import answer_cells, fill_answers

__all__ = ["Case", "build_cases", "build_isolation_cases", "write_case", "PROBE_MARK", "read_probe",
           "SECRET_ENV"]

#: Variables a grader's environment may hold that must never reach student code (issue 12).
SECRET_ENV = {"JPY_API_TOKEN": "jpy-secret-token", "NBGRADER_DB_PASSWORD": "db-secret-password",
              "MLSE_SECRET_PROBE": "grader-only"}

PROBE_MARK = "MLSE-PROBE:"  # the line a hostile probe prints, followed by its JSON report

ATTACK_CELL = "part2_midpoint"    # the answer cell that carries runtime attacks
ATTACKED_TESTS = {"part2_visible", "part2_hidden"}


@dataclass
class Case:
    """One broken or hostile submission and what the grader must make of it."""

    name: str
    what: str                                # one line for a person
    files: dict[str, bytes]                  # file name -> content, as the student hands them in
    expected: dict[str, float] | None = None  # grade_id -> autograded score; None: not graded
    outcome: set[str] = field(default_factory=set)  # problem codes intake must report
    probe: bool = False                      # the notebook prints a PROBE_MARK report


def _tests(nb) -> dict[str, float]:
    return {grade_id(c): float(c.metadata["nbgrader"]["points"]) for c in nb.cells if is_autograded_test(c)}


def _dump(nb) -> bytes:
    seen = set()
    for i, cell in enumerate(nb.cells):  # a copied cell gets an id of its own, as Jupyter does
        if cell.get("id") in seen:
            cell["id"] = f"copy-{i:03d}"
        seen.add(cell.get("id"))
    return nbformat.writes(nb).encode()


def _cell(nb, gid):
    return next(c for c in nb.cells if grade_id(c) == gid)


def _index(nb, gid):
    return next(i for i, c in enumerate(nb.cells) if grade_id(c) == gid)


def _attack(full, code: str, before_answer: bool = True):
    """A copy of the full-marks notebook whose Part 2 answer cell runs ``code`` first."""
    nb = copy.deepcopy(full)
    cell = _cell(nb, ATTACK_CELL)
    cell.source = code + "\n" + cell.source if before_answer else cell.source + "\n" + code
    return nb


def _probe_code(targets: dict[str, str], port: int | None) -> str:
    """Code that tries to read ``targets`` and to open network connections, and reports."""
    return f'''
import json as _j, os as _o, socket as _s
_found = {{}}
for _name, _path in {targets!r}.items():
    try:
        with open(_path, "rb") as _f:
            _found[_name] = "READ " + str(len(_f.read())) + " bytes"
    except Exception as _e:
        _found[_name] = "blocked: " + type(_e).__name__
for _name, _addr in {{"loopback listener": ("127.0.0.1", {port or 9}), "internet": ("1.1.1.1", 53)}}.items():
    try:
        _c = _s.create_connection(_addr, timeout=3); _c.close()
        _found[_name] = "CONNECTED"
    except Exception as _e:
        _found[_name] = "blocked: " + type(_e).__name__
_found["uid"] = _o.getuid()
_found["env names"] = sorted(_o.environ)
_found["env secrets"] = sorted(_k for _k, _v in _o.environ.items()
                               if "secret" in _v or _k.startswith(("JPY_API", "NBGRADER_DB", "MLSE_SECRET")))
_found["/ entries"] = sorted(_o.listdir("/"))
_found["/ files"] = sorted(_n for _n in _o.listdir("/") if _o.path.isfile("/" + _n))
_found["cwd"] = _o.getcwd()
_found["visible /work, /home, /root, /tmp"] = sorted(_p for _d in ("/work", "/home", "/root", "/tmp")
                                                 if _o.path.isdir(_d) for _p in _o.listdir(_d))[:20]
print("{PROBE_MARK}" + _j.dumps(_found, sort_keys=True))
'''


@dataclass
class _Start:
    """What every case starts from: the notebook's file name, both notebooks, the release with every
    answer of the solution filled in, and the expected scores when all tests pass or Part 2's fail."""

    name: str
    solution_nb: object
    released_nb: object
    full: object
    tests: dict[str, float]
    part2_fails: dict[str, float]


def _honest_start(solution: str | Path, released: str | Path) -> _Start:
    solution_nb = nbformat.read(solution, as_version=4)
    released_nb = nbformat.read(released, as_version=4)
    ids = {grade_id(c) for c in answer_cells(solution_nb)}
    full = fill_answers(copy.deepcopy(released_nb), solution_nb, ids)
    tests = _tests(full)
    part2_fails = {g: (0.0 if g in ATTACKED_TESTS else p) for g, p in tests.items()}
    return _Start(Path(released).name, solution_nb, released_nb, full, tests, part2_fails)


def build_cases(solution: str | Path, released: str | Path, *, course_root: str | Path | None = None,
                assignment: str = "m1_roles_warmup", other_student: str = "other",
                listener_port: int | None = None) -> list[Case]:
    """Every broken or hostile submission, for the notebook ``released`` (its solution: ``solution``).

    ``course_root``, ``other_student`` and ``listener_port`` aim the snooping case at a real
    course folder, another student's submission and a socket the caller listens on.
    """
    start = _honest_start(solution, released)
    name, full, tests, part2_fails = start.name, start.full, start.tests, start.part2_fails
    solution_nb, released_nb, all_pass = start.solution_nb, start.released_nb, dict(start.tests)
    cases: list[Case] = []

    def add(case_name, what, nb_or_files, expected, outcome=(), probe=False):
        files = ({name: _dump(nb_or_files)} if isinstance(nb_or_files, nbformat.NotebookNode)
                 else nb_or_files)
        cases.append(Case(case_name, what, files, expected, set(outcome), probe))

    # -- a control: the honest student ---------------------------------------------------
    add("honest", "the solution's answers, untouched", full, all_pass)

    # -- files that are not what they should be -------------------------------------------
    add("not_json", "the notebook file is not JSON (a truncated download)",
        {name: _dump(full)[:700]}, {g: 0.0 for g in tests}, {"not_json", "missing_notebook"})
    add("not_notebook", "valid JSON, but not a notebook",
        {name: json.dumps({"answers": [1, 2, 3]}).encode()}, {g: 0.0 for g in tests},
        {"not_notebook", "missing_notebook"})
    add("missing", "no notebook at all, only a stray file",
        {"notes.txt": b"I could not finish, sorry"}, {g: 0.0 for g in tests}, {"missing_notebook"})
    add("renamed", "the notebook renamed by a download (\"roles_warmup (1).ipynb\")",
        {name.replace(".ipynb", " (1).ipynb"): _dump(full)}, all_pass, {"renamed_notebook"})
    extra = nbformat.v4.new_notebook(cells=[new_code_cell("print('my scratch work')")])
    add("extra", "the notebook, plus an extra scratch notebook",
        {name: _dump(full), "scratch.ipynb": _dump(extra)}, all_pass, {"extra_notebook"})

    # -- grade cells moved about --------------------------------------------------------------
    nb = copy.deepcopy(full)
    nb.cells = [c for c in nb.cells if grade_id(c) not in {"part2_hidden", "part3_visible"}]
    add("deleted_tests", "two test cells deleted (one hidden, one visible)", nb, all_pass,
        {"deleted_cell"})
    nb = copy.deepcopy(full)
    nb.cells = [c for c in nb.cells if grade_id(c) != "part4_projected"]
    add("deleted_answer", "the Part 4 answer cell deleted",
        nb, {g: (0.0 if g.startswith("part4") else p) for g, p in tests.items()}, {"deleted_cell"})
    nb = copy.deepcopy(full)
    i = _index(nb, "part1_visible")
    nb.cells.insert(i, copy.deepcopy(nb.cells[i]))
    i = _index(nb, "part3_widest")
    wrong = copy.deepcopy(nb.cells[i])
    wrong.source = "def widest_range(salaries):\n    return 'a first draft'"
    nb.cells.insert(i, wrong)
    add("duplicated", "a test cell and an answer cell duplicated (the later answer is the real one)",
        nb, all_pass, {"duplicate_cell"})
    nb = copy.deepcopy(full)
    i = _index(nb, "part2_midpoint")
    first, second = copy.deepcopy(nb.cells[i]), nb.cells[i]
    lines = second.source.splitlines()
    first.source, second.source = "import math  # the first half of a split cell", "\n".join(lines)
    nb.cells.insert(i, first)
    i = _index(nb, "part4_visible")
    top, bottom = copy.deepcopy(nb.cells[i]), nb.cells[i]
    top.source, bottom.source = nb.cells[i].source.splitlines()[0], "pass"
    nb.cells.insert(i, top)
    add("split", "an answer cell and a test cell split in two", nb, all_pass, {"duplicate_cell"})
    nb = copy.deepcopy(full)
    _cell(nb, "part2_visible").cell_type = "markdown"
    _cell(nb, "part2_visible").pop("outputs", None)
    _cell(nb, "part2_visible").pop("execution_count", None)
    raw = _cell(nb, "part5_hidden")
    raw.cell_type = "raw"
    raw.pop("outputs", None)
    raw.pop("execution_count", None)
    add("retyped", "two test cells changed to markdown and raw", nb, all_pass, {"retyped_cell"})

    # -- editing what is locked -------------------------------------------------------------------
    nb = copy.deepcopy(full)
    blank = fill_answers(copy.deepcopy(released_nb), solution_nb, set())
    for gid in ("part1_owners", "part2_midpoint"):  # wrong answers...
        _cell(nb, gid).source = _cell(blank, gid).source
    _cell(nb, "part1_visible").source = "print('all good')"   # ...and tests that no longer test
    _cell(nb, "part2_hidden").source = "pass"
    _cell(nb, "part2_visible").metadata["nbgrader"]["points"] = 100
    add("edited_tests", "wrong answers, with the tests that catch them edited away (and points raised)",
        nb, {g: (0.0 if g.startswith(("part1", "part2")) else p) for g, p in tests.items()},
        {"edited_locked_cell"})
    nb = copy.deepcopy(full)
    _cell(nb, "setup").source += ("\ndef check(*args, **kwargs):\n    pass\n"
                                  "check_equal = check_close = check_type = check")
    _cell(nb, "part3_widest").source = _cell(blank, "part3_widest").source
    add("edited_locked", "the locked set-up cell edited to disable every check, with a wrong answer",
        nb, {g: (0.0 if g.startswith("part3") else p) for g, p in tests.items()},
        {"edited_locked_cell"})

    # -- code that misbehaves at run time (Part 2's answer cell) -------------------------------
    add("infinite_loop", "an infinite loop", _attack(full, "while True:\n    pass"), part2_fails)
    add("infinite_loop_no_interrupt", "an infinite loop that ignores the interrupt",
        _attack(full, "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"),
        part2_fails)
    add("memory_bomb", "allocates memory until something gives",
        _attack(full, "_hog = []\nwhile True:\n    _hog.append(bytearray(64 * 1024 * 1024))"), part2_fails)
    add("fork_bomb", "forks without end",
        _attack(full, "import os\nwhile True:\n    os.fork()"), part2_fails)
    add("os_exit", "kills its own kernel with os._exit",
        _attack(full, "import os\nos._exit(3)"), part2_fails)
    add("segfault", "crashes the interpreter (a segmentation fault)",
        _attack(full, "import ctypes\nctypes.string_at(0)"), part2_fails)
    # A cell of its own at the end: whether the kernel survives building 100 MB of output under the
    # test's 1 GB memory limit depends on the host (memory_bomb is the case for limits); what this
    # case checks is that the flood is capped and grading goes on.
    nb = copy.deepcopy(full)
    nb.cells.append(new_code_cell("for _ in range(100):\n    print('x' * 1_000_000)"))
    add("huge_output", "prints a hundred megabytes", nb, all_pass)
    add("forged_messages", "sends the grader forged and malformed kernel messages, then answers right",
        _attack(full, "_k = get_ipython().kernel\n"
                      "from jupyter_client.session import Session\n"
                      "_parent = _k.get_parent()\n"
                      "Session(key=b'not-the-key').send(_k.iopub_socket, 'stream', "
                      "{'name': 'stdout', 'text': 'forged'}, parent=_parent)\n"
                      "for _ in range(2):  # the same signature twice\n"
                      "    _k.session.send(_k.iopub_socket, 'stream', {'name': 'stdout', 'text': 'x'}, "
                      "parent=_parent, header={'msg_id': 'same', 'msg_type': 'stream', 'date': '2026'})\n"
                      "_k.iopub_socket.send_multipart([b'<IDS|MSG>', b'not hex', b'{}'])",
                before_answer=False), all_pass)
    add("disk_filler", "writes a file as large as it can",
        _attack(full, "with open('big.bin', 'wb') as _f:\n    while True:\n        _f.write(b'0' * 1_048_576)"),
        part2_fails)
    nb = _attack(full, "get_ipython().showtraceback = lambda *a, **k: None\n"
                       "get_ipython()._showtraceback = lambda *a, **k: None", before_answer=False)
    _cell(nb, "part3_widest").source = _cell(blank, "part3_widest").source
    add("silenced_tracebacks", "silences IPython's traceback display, then fails Part 3",
        nb, {g: (0.0 if g.startswith("part3") else p) for g, p in tests.items()})

    # -- snooping ---------------------------------------------------------------------------------
    root = Path(course_root).resolve() if course_root else None
    targets = {
        "solutions (relative)": f"../../../solutions/{assignment}/{name}",
        "gradebook (relative)": "../../../gradebook.db",
        "other student (relative)": f"../../../submitted/{other_student}/{assignment}/{name}",
    }
    if root:
        targets.update({
            "solutions (absolute)": str(root / "solutions" / assignment / name),
            "gradebook (absolute)": str(root / "gradebook.db"),
            "other student (absolute)": str(root / "submitted" / other_student / assignment / name),
            "nbgrader config": str(root / "nbgrader_config.py"),
        })
    targets.update({"/etc/shadow": "/etc/shadow", "/proc/1/environ": "/proc/1/environ"})
    add("snoop", "reads solutions, the gradebook and another student's work; opens sockets",
        _attack(full, _probe_code(targets, listener_port), before_answer=False), all_pass, probe=True)
    return cases


def build_isolation_cases(solution: str | Path, released: str | Path) -> list[Case]:
    """Issue 12's holes, each as a submission (the honest answers plus one attack), for graders
    that run one hostile submission and then an honest and a blank one after it."""
    start = _honest_start(solution, released)
    name, full, all_pass, part2_fails = start.name, start.full, dict(start.tests), start.part2_fails
    cases: list[Case] = []

    def add(case_name, what, nb, expected):
        cases.append(Case(case_name, what, {name: _dump(nb)}, expected))

    add("deep_dirs", "a directory chain 5,000 deep in its working folder (shutil.rmtree recursed)",
        _attack(full, "import os as _os\n_top = _os.getcwd()\nfor _ in range(5000):\n"
                      "    _os.mkdir('d'); _os.chdir('d')\n_os.chdir(_top)", before_answer=False), all_pass)
    add("many_files", "twelve files of 60 MB (each under the per-file limit)",
        _attack(full, "for _i in range(12):\n    with open(f'f{_i}.bin', 'wb') as _f:\n"
                      "        _f.write(b'0' * (60 * 1024 * 1024))"), part2_fails)
    add("children_memory", "three child processes of 400 MB each (each under the per-process limit)",
        _attack(full, "import os as _os, time as _t\n_kids = []\nfor _ in range(3):\n"
                      "    _pid = _os.fork()\n    if _pid == 0:\n"
                      "        try:\n            _x = b'x' * (400 * 1024 * 1024); _t.sleep(8)\n"
                      "        except MemoryError:\n            _os._exit(3)\n"
                      "        finally:\n            _os._exit(0)\n    _kids.append(_pid)\n"
                      "_killed = [_p for _p in _kids if _os.waitpid(_p, 0)[1] != 0]\n"
                      "if _killed:\n    raise MemoryError(f'{len(_killed)} child(ren) stopped by the memory limit')"),
        part2_fails)
    add("display_bomb", "200 small displays with one display id, then one 2 MB update with script in it",
        _attack(full, "from IPython.display import display as _d, HTML as _H, update_display as _u\n"
                      "for _ in range(200):\n    _d(_H('<b>x</b>'), display_id='mlse-bomb')\n"
                      "_u(_H('<script>document.title=\"pwned\"</script>' + 'y' * 2_000_000), "
                      "display_id='mlse-bomb')", before_answer=False), all_pass)
    nb = _attack(full, "from IPython.display import display as _d, HTML as _H, Javascript as _J\n"
                       "_d(_H('<script>document.title=\"pwned-script\"</script>'\n"
                       "      '<img src=x onerror=\"document.title=1\"><a href=\"javascript:alert(3)\">x</a>'\n"
                       "      '<svg><script>alert(4)</script></svg>'))\n"
                       "_d(_J('document.title=\"pwned-js\"'))", before_answer=False)
    nb.cells.insert(_index(nb, ATTACK_CELL) + 1, nbformat.v4.new_markdown_cell(
        "Notes <script>document.title='pwned-md'</script> [link](javascript:alert(5)) "
        "<img src=x onerror=alert(6)>"))
    add("html_script", "HTML, JavaScript and markdown output that would run script in feedback", nb, all_pass)
    nb = copy.deepcopy(full)
    for _ in range(12):
        nb.cells.append(new_code_cell("import time\ntime.sleep(2)"))
    add("slow_notebook", "twelve slow cells after the last test, each under the cell timeout",
        nb, all_pass)
    return cases


def write_case(case: Case, folder: str | Path) -> Path:
    """Write a case's files into ``folder`` (a student's submitted/STUDENT/ASSIGNMENT/)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for fname, content in case.files.items():
        (folder / fname).write_bytes(content)
    return folder


def read_probe(notebook: str | Path) -> dict | None:
    """The report a hostile probe printed in a graded notebook, or None if it printed none."""
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            for line in out.get("text", "").splitlines():
                if line.startswith(PROBE_MARK):
                    return json.loads(line[len(PROBE_MARK):])
    return None
