"""The classroom, end to end: a real JupyterHub, real accounts, a real browser (docs/classroom.md).

One instructor and two students are real system accounts (names unique to this run). The
classroom is set up with ``mlse classroom setup`` and started with ``mlse classroom start`` on
ports from the OS (hub, its proxy from npm, students' servers from Debian's Python). Then what a
class does:

1. the instructor releases ``m1_roles_warmup`` to nbgrader's exchange, from their account;
2. each student logs in on the hub's login page in headless Chromium, fetches the assignment in
   the Assignments tab, answers in JupyterLab, saves and submits; Ada submits twice (the
   instructor collects in between, so her first version is replaced and kept), Ben after the
   due date;
3. the instructor (root) collects from the exchange with ``mlse collect --exchange``, grades with
   ``mlse grade`` (sandbox and judge on), writes feedback with ``mlse feedback`` and releases it
   with ``nbgrader release_feedback``;
4. each student fetches their feedback in the Assignments tab and reads their own score, which
   is the gradebook's; neither can list the exchange's submissions or feedback, read the other's
   home, or open the other's server.

Everything the test made (accounts with their homes, the hub, its proxy and servers, the
classroom's folder) is removed afterwards. MLSE_DOC_SCREENSHOTS=1 saves the documentation's
screenshots in docs/screenshots/.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from classroom_hub import BIN, Accounts, HubProcess, as_user, free_port
from conftest import ASSIGNMENTS, ROOT, copy_course
from jupyterlab_browser import (
    Steps, browser_missing, choose_from_menu, code_cell, launch_chromium, wait_kernel_idle,
)

pytestmark = [pytest.mark.hub, pytest.mark.slow]

A = "m1_roles_warmup"
NB = "roles_warmup"
DOC_SHOTS = ROOT / "docs" / "screenshots" if os.environ.get("MLSE_DOC_SCREENSHOTS") else None
#: What each version answers: (the answer cell's first line, the answer typed).
MIDPOINT = ("def salary_midpoint", "def salary_midpoint(low, high): return (low + high) / 2")
PROJECTED = ("def projected", "def projected(count, percent=22): return count * (1 + percent / 100)")


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "the classroom test makes system accounts and starts a hub: it runs as root (CI does)"
    for tool in ("useradd", "userdel", "chpasswd", "runuser"):
        if shutil.which(tool) is None:
            return f"{tool} is missing"
    if shutil.which("configurable-http-proxy") is None:
        return "configurable-http-proxy is missing: `npm install -g configurable-http-proxy@5.3`"
    if not os.access("/usr/bin/python3", os.X_OK):
        return "Debian's /usr/bin/python3 is missing (the students' servers run on it)"
    return browser_missing()


@pytest.fixture(scope="module")
def requirements():
    """Fail, never skip, where the classroom cannot run: a skipped hub test is a green run that
    checked nothing (run it as root with the proxy and Chromium installed, as .ci/run does)."""
    missing = _why_not()
    if missing:
        pytest.fail(f"The classroom test cannot run here: {missing}", pytrace=False)
    if A not in ASSIGNMENTS:
        pytest.fail(f"{A} is not an assignment of the course", pytrace=False)


class Class:
    """Everything the test set up: accounts, classroom folder, course folder, hub."""

    def __init__(self, accounts: Accounts, home: Path, course: Path, exchange: Path,
                 hub: HubProcess, instructor: str, ada: str, ben: str, env: Path):
        self.accounts, self.home, self.course, self.exchange = accounts, home, course, exchange
        self.hub, self.instructor, self.ada, self.ben, self.env = hub, instructor, ada, ben, env
        self.course_id = "mlse"

    def as_instructor(self, *args: str) -> subprocess.CompletedProcess:
        """A command the instructor types in a terminal of their server (their environment)."""
        return as_user(self.instructor, list(args), cwd=self.course, env={
            "PATH": f"{self.env}/bin:/usr/bin:/bin",
            "JUPYTER_CONFIG_PATH": str(self.home / "courses" / self.course_id / "jupyter" / "instructor"),
            "PYTHONPATH": str(self.home / "courses" / self.course_id / "src")})

    def mlse(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """``mlse`` as root in the course folder (the grading side: sandbox on)."""
        done = subprocess.run([str(BIN / "mlse"), *args], cwd=self.course, capture_output=True,
                              text=True, timeout=600,
                              env=dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}"))
        if check and done.returncode:
            raise AssertionError(f"mlse {' '.join(args)} exited {done.returncode}\n{done.stdout}\n"
                                 f"{done.stderr}")
        return done


@pytest.fixture(scope="module")
def klass(requirements, released_course):
    """Accounts, ``mlse classroom setup``, ``mlse classroom start``; all removed afterwards."""
    Accounts.left_by_killed_runs().remove()  # a run killed outright never reached its teardown
    accounts = Accounts()
    # Students' servers read the classroom's folder as themselves: not under the run's (private)
    # temporary folder.
    home = Path(tempfile.mkdtemp(prefix="mlse-classroom-", dir="/tmp"))
    os.chmod(home, 0o755)
    hub = None
    try:
        instructor = accounts.make("instructor", "Grace Hopper")
        ada = accounts.make("student", "Ada Lovelace")
        ben = accounts.make("student", "Ben Bitdiddle")
        course = Path(pwd.getpwnam(instructor).pw_dir) / "mlse"
        copy_course(released_course, course)  # the released course, with its gradebook
        exchange = home / "exchange"
        port, hub_port, api_port = free_port(), free_port(), free_port()
        started = time.monotonic()
        setup = subprocess.run(
            [str(BIN / "mlse"), "classroom", "setup", "--home", str(home / "hub"),
             "--course-id", "mlse", "--instructor", instructor, "--student", ada, "--student", ben,
             "--course-dir", str(course), "--exchange", str(exchange), "--ip", "127.0.0.1",
             "--port", str(port), "--hub-port", str(hub_port), "--proxy-api-port", str(api_port)],
            cwd=ROOT, capture_output=True, text=True, timeout=1800)
        assert setup.returncode == 0, f"mlse classroom setup failed:\n{setup.stdout}\n{setup.stderr}"
        print(f"classroom set up in {time.monotonic() - started:.1f} s")
        env = Path(json.loads((home / "hub" / "hub.json").read_text())["env"])
        started = time.monotonic()
        hub = HubProcess(home / "hub", port, home / "jupyterhub.log")
        print(f"hub up on {hub.base} in {time.monotonic() - started:.1f} s")
        yield Class(accounts, home / "hub", course, exchange, hub, instructor, ada, ben, env)
    finally:
        if hub is not None:
            hub.stop()
        problems = accounts.remove()
        shutil.rmtree(home, ignore_errors=True)
        assert not problems, problems


def test_accounts_of_a_killed_run_are_removed_and_a_live_runs_are_kept(requirements):
    dead_pid = subprocess.Popen(["true"])  # a pid that no longer runs, as a killed run's
    dead_pid.wait()
    killed, live = Accounts(), Accounts()
    try:
        gone = killed.make("student", "Killed Run")
        subprocess.run(["usermod", "--comment", f"Killed Run,,,,mlse-test-run={dead_pid.pid}", gone],
                       check=True)
        kept = live.make("student", "Live Run")  # marked with this (live) process
        stale = Accounts.left_by_killed_runs()
        assert gone in stale.made and kept not in stale.made, stale.made
        assert stale.remove() == []
        with pytest.raises(KeyError):
            pwd.getpwnam(gone)
        assert pwd.getpwnam(kept)
    finally:
        killed.remove(), live.remove()


@pytest.fixture(scope="module")
def chromium(requirements, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = launch_chromium(playwright, tmp_path_factory.mktemp("chromium"))
        context.set_default_timeout(60_000)
        yield context
        context.close()


class HubLog:
    """What :class:`Steps` shows after a failing step: the hub's log."""

    def __init__(self, hub: HubProcess):
        self.hub = hub

    def log_tail(self, lines: int = 40) -> str:
        return self.hub.log_tail(lines)


def _shot(page, name: str) -> None:
    if DOC_SHOTS:
        DOC_SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOC_SHOTS / name))


def log_in(steps: Steps, page, klass: Class, user: str) -> None:
    with steps.step(f"log in as {user} on the hub's login page"):
        page.context.clear_cookies()
        page.goto(f"{klass.hub.base}/hub/login")
        page.locator("#username_input").fill(user)
        page.locator("#password_input").fill(klass.accounts.passwords[user])
        page.locator("#login_submit").click()
    with steps.step(f"wait for {user}'s JupyterLab (the hub starts their server)"):
        page.wait_for_url(re.compile(rf"/user/{user}/lab"), timeout=180_000)
        page.locator("#jp-main-dock-panel").wait_for(timeout=120_000)
        page.locator(".lm-MenuBar-item").filter(has_text="Nbgrader").wait_for(timeout=60_000)


def open_assignments(steps: Steps, page) -> None:
    with steps.step("Nbgrader > Assignment List, and wait for the lists to load"):
        tab = page.locator(".lm-TabBar-tab").filter(has_text="Assignments")
        if tab.count():
            tab.first.click()
            page.locator("#refresh_assignments_list").click()
        else:
            choose_from_menu(page, "Nbgrader", "Assignment List")
        page.wait_for_function(
            """() => ['released', 'fetched', 'submitted'].every(k => {
                const loading = document.getElementById(k + '_assignments_list_loading');
                return loading !== null && loading.hidden; })""", timeout=60_000)


def _row(page, listing: str):
    return page.locator(f"#{listing}_assignments_list > .list_item").filter(has_text=A)


def fetch_and_answer(steps: Steps, page, answers: list[tuple[str, str]]) -> None:
    """Fetch the assignment in the Assignments tab, open its notebook, type the answers, save."""
    with steps.step(f"fetch {A} from the released list"):
        _row(page, "released").get_by_role("button", name="fetch").click()
        _row(page, "fetched").wait_for(timeout=60_000)
    open_notebook_from_list(steps, page)
    type_answers(steps, page, answers)


def open_notebook_from_list(steps: Steps, page) -> None:
    with steps.step(f"open {NB} from the fetched list and wait for its kernel"):
        row = _row(page, "fetched")
        row.locator(".assignment-notebooks-link").click()
        row.locator(".assignment-notebooks a", has_text=NB).click()
        page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").first.wait_for(timeout=90_000)
        wait_kernel_idle(page, 120_000)


def type_answers(steps: Steps, page, answers: list[tuple[str, str]]) -> None:
    for first_line, answer in answers:
        with steps.step(f"type the answer {answer!r}"):
            editor = code_cell(page, first_line).locator(".cm-content")
            editor.click()
            page.keyboard.press("Control+A")
            page.keyboard.type(answer)
            assert editor.text_content().strip() == answer
    with steps.step("save the notebook (Ctrl+S) and wait until it is saved"):
        page.keyboard.press("Control+S")
        page.wait_for_function(
            """() => { const t = document.querySelector('.lm-TabBar-tab.jp-mod-current');
                      return t !== null && !t.classList.contains('jp-mod-dirty'); }""",
            timeout=30_000)


def submit(steps: Steps, page, times: int) -> None:
    open_assignments(steps, page)
    with steps.step(f"press Submit, and see submission {times} listed"):
        _row(page, "fetched").get_by_role("button", name="Submit").click()
        page.wait_for_function(
            """([n]) => { const rows = document.querySelectorAll(
                    '#submitted_assignments_list .assignment-notebooks > .list_item');
                  return rows.length >= n + 1; }""", arg=[times], timeout=60_000)


def test_a_class_on_the_hub_fetches_submits_and_gets_feedback(klass, chromium, tmp_path):
    from nbgrader.api import Gradebook

    c = klass
    page = chromium.new_page()
    log = HubLog(c.hub)

    # -- 1. The instructor releases the assignment to the exchange (from their own account).
    released = c.as_instructor("nbgrader", "release_assignment", A, "--force")
    outbound = c.exchange / c.course_id / "outbound" / A / f"{NB}.ipynb"
    assert outbound.is_file(), f"release_assignment left no {outbound}\n{released.stderr}"

    # -- 2. Ada logs in, fetches, answers Part 2, submits.
    steps = Steps(page, log, "ada")
    log_in(steps, page, c, c.ada)
    open_assignments(steps, page)
    with steps.step("see the course's lessons copied into her home, and no formgrader"):
        ada_home = Path(pwd.getpwnam(c.ada).pw_dir)
        lessons = ada_home / "mlse" / "lessons"
        assert (lessons / "00_start_here.ipynb").is_file(), sorted(p.name for p in lessons.parent.iterdir())
        assert lessons.stat().st_uid == ada_home.stat().st_uid
        page.locator(".lm-MenuBar-item").filter(has_text="Nbgrader").click()
        items = page.locator(".lm-Menu .lm-Menu-itemLabel").all_text_contents()
        page.keyboard.press("Escape")
        assert "Assignment List" in items and "Formgrader" not in items, items
    fetch_and_answer(steps, page, [MIDPOINT])
    submit(steps, page, 1)

    # The instructor collects once: Ada's first version is in submitted/.
    first = c.mlse("collect", A, "--exchange", "--verbose")
    assert f"{A}: 1 collected" in first.stdout, first.stdout
    ada_folder = c.course / "submitted" / c.ada / A
    first_stamp = (ada_folder / "timestamp.txt").read_text()

    # Ada answers Part 4 too and submits again.
    with steps.step("reopen the notebook tab, answer Part 4 and save"):
        page.locator(".lm-TabBar-tab").filter(has_text=f"{NB}.ipynb").first.click()
    type_answers(steps, page, [PROJECTED])
    submit(steps, page, 2)

    # -- The due date passes; Ben submits after it.
    due_at = int(time.time()) + 2  # whole seconds, after Ada's second submission
    due = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(due_at))
    c.as_instructor("nbgrader", "db", "assignment", "add", A, f"--duedate={due}")
    time.sleep(max(0.0, due_at + 1 - time.time()))
    steps = Steps(page, log, "ben")
    log_in(steps, page, c, c.ben)
    open_assignments(steps, page)
    fetch_and_answer(steps, page, [PROJECTED])
    submit(steps, page, 1)

    # -- 3. The instructor (root) collects, grades, writes and releases feedback.
    collected = c.mlse("collect", A, "--exchange", "--verbose")
    out = collected.stdout
    assert f"{A}: 2 collected" in out, out
    assert re.search(rf"{c.ben}: late, submitted .* after the due date", out), out
    assert not re.search(rf"{c.ada}: late", out), out
    assert f"{c.ada}: submitted 2 times" in out, out
    versions = c.course / ".mlse" / "versions" / A / c.ada
    kept = [p for p in versions.iterdir() if (p / "timestamp.txt").is_file()]
    assert any((p / "timestamp.txt").read_text() == first_stamp for p in kept), \
        f"Ada's first version is not kept in {versions}"
    assert (ada_folder / "timestamp.txt").read_text() != first_stamp
    assert ada_folder.stat().st_uid == c.course.stat().st_uid, "collected files must be the instructor's"
    again = c.mlse("collect", A, "--exchange")
    assert f"{A}: 0 collected, 2 unchanged" in again.stdout, again.stdout

    from mlse.sandbox import isolation_available

    assert isolation_available()[0] == "root", "grading as root must isolate every kernel"
    graded = c.mlse("grade", A, "--verbose")  # exits 1 if any submission failed
    assert "reduced isolation" not in graded.stdout + graded.stderr, graded.stdout + graded.stderr
    log = json.loads(sorted((c.course / ".mlse" / "logs").glob(f"grade-{A}-*.json"))[-1].read_text())
    assert sorted((o["student"], o["status"]) for o in log["outcomes"]) == \
        sorted([(c.ada, "graded"), (c.ben, "graded")]), log["outcomes"]
    c.mlse("feedback", A)
    release = subprocess.run([str(BIN / "nbgrader"), "release_feedback", A], cwd=c.course,
                             capture_output=True, text=True, timeout=300)
    assert release.returncode == 0, release.stderr
    with Gradebook(f"sqlite:///{c.course / 'gradebook.db'}") as gb:
        scores = {s: gb.find_submission_notebook(NB, A, s).score for s in (c.ada, c.ben)}
        late = {s: gb.find_submission(A, s).total_seconds_late for s in (c.ada, c.ben)}
        sandboxed = gb.find_submission(A, c.ada).notebooks[0].grades
    assert late[c.ada] == 0 and late[c.ben] > 0, late
    assert scores[c.ada] > scores[c.ben] > 0, scores  # Ada answered two parts, Ben one
    assert sandboxed, "no grades recorded"

    # -- 4. Each student fetches their feedback and sees their own score.
    for student, name, submissions in ((c.ada, "ada", 2), (c.ben, "ben", 1)):
        steps = Steps(page, log, f"{name}-feedback")
        log_in(steps, page, c, student)
        open_assignments(steps, page)
        rows = page.locator("#submitted_assignments_list .assignment-notebooks > .list_item")
        with steps.step(f"see {submissions} submission(s) of her/his own and press Fetch Feedback"):
            assert rows.count() == submissions + 1, rows.all_text_contents()
            _row(page, "submitted").get_by_role("button", name="Fetch Feedback").click()
            rows.filter(has_text="view feedback").first.wait_for(timeout=60_000)
            _shot(page, f"classroom-student-assignments.png") if name == "ada" else None
        with steps.step("open the feedback page and read the score"):
            rows.locator("a", has_text="view feedback").first.click()
            listing = page.locator(".jp-DirListing-item").filter(has_text=f"{NB}.html")
            listing.first.wait_for(timeout=30_000)
            listing.first.dblclick()
            frame = page.frame_locator(".jp-HTMLViewer iframe").last
            heading = frame.locator("h4", has_text="Score").first
            heading.wait_for(timeout=60_000)
            shown = heading.text_content()
            want = f"(Score: {round(scores[student], 2)} / "
            assert want in shown, f"the feedback says {shown!r}; the gradebook has {scores[student]}"
            _shot(page, "classroom-student-feedback.png") if name == "ada" else None
        with steps.step("cannot open the other student's server"):
            other = c.ben if student == c.ada else c.ada
            response = page.request.get(f"{c.hub.base}/user/{other}/api/contents", max_redirects=0)
            assert response.status in (302, 403, 404) and "content" not in response.text()[:200], \
                (response.status, response.text()[:200])

    # Neither student can list the exchange's submissions or feedback, nor read the other's home.
    for student, other in ((c.ada, c.ben), (c.ben, c.ada)):
        for folder in (c.exchange / c.course_id / "inbound", c.exchange / c.course_id / "feedback",
                       Path(pwd.getpwnam(other).pw_dir), c.course):
            done = as_user(student, ["ls", str(folder)], check=False)
            assert done.returncode != 0 and "Permission denied" in done.stderr, \
                f"{student} could list {folder}: {done.stdout[:300]}"

    # -- The instructor's view: formgrader on the course, with the two submissions.
    steps = Steps(page, log, "instructor")
    log_in(steps, page, c, c.instructor)
    frame = page.frame_locator("#formgrader-iframe iframe")
    with steps.step("Nbgrader > Formgrader, and see the assignment with its 2 submissions",
                    lambda: frame.locator("body").inner_text()):
        choose_from_menu(page, "Nbgrader", "Formgrader")
        row = frame.locator("tr").filter(has_text=A).first
        row.wait_for(timeout=60_000)
        cells = [t.strip() for t in row.locator("td").all_text_contents()]
        assert "2" in cells, cells
        row.evaluate("r => r.scrollIntoView({block: 'center'})")
        _shot(page, "classroom-instructor-formgrader.png")
    page.close()


def test_bad_paths_say_what_to_do(klass):
    """A forged submission, a student not in the course, a missing exchange, a hub started
    without root, a port in use: each refused with a message that says what to do."""
    c = klass
    c.as_instructor("nbgrader", "release_assignment", A, "--force")
    exchange_opts = [f"--Exchange.root={c.exchange}", "--course", c.course_id]
    student_env = {"PATH": f"{c.env}/bin:/usr/bin:/bin"}

    # Someone not in the course fetches and submits with nbgrader in a terminal.
    outsider = c.accounts.make("outsider", "Eve Outsider")
    as_user(outsider, ["nbgrader", "fetch_assignment", A, *exchange_opts], env=student_env)
    as_user(outsider, ["nbgrader", "submit", A, *exchange_opts], env=student_env)
    # A student writes a submission folder in another student's name (inbound is writable by all).
    forged = c.exchange / c.course_id / "inbound" / f"{c.ben}+{A}+2099-01-01 00:00:00.000000 UTC+zz"
    as_user(c.ada, ["mkdir", str(forged)])
    done = c.mlse("collect", A, "--exchange", check=False)
    assert done.returncode == 1, done.stdout
    assert f"{outsider} is not a student of course {c.course_id} (not in the gradebook)" in done.stdout
    assert f"submitted in {c.ben}'s name by the account {c.ada}: not taken" in done.stdout
    assert not (c.course / "submitted" / outsider).exists()

    missing = c.mlse("collect", A, "--exchange", str(c.home / "no-exchange"), check=False)
    assert missing.returncode == 1 and "No nbgrader exchange at" in missing.stderr, missing.stderr

    # Collecting as an account that may only write into the inbound folder (a student).
    src = c.home / "courses" / c.course_id / "src"
    unreadable = as_user(c.ada, ["python", "-c", (
        "from pathlib import Path; from mlse.collect.exchange import inbound_folder; "
        f"inbound_folder(Path({str(c.exchange)!r}), {c.course_id!r})")],
        env=dict(student_env, PYTHONPATH=str(src)), check=False)
    assert unreadable.returncode == 1 and "Cannot read" in unreadable.stderr \
        and "run `mlse collect` as root" in unreadable.stderr, unreadable.stderr

    # The hub started by an account without root's rights.
    as_student = as_user(c.ada, ["python", "-m", "mlse.apps.cli", "classroom", "start", "--home",
                                 str(c.home)], env=dict(student_env, PYTHONPATH=str(
                                     c.home / "courses" / c.course_id / "src")), check=False)
    assert as_student.returncode == 1, as_student.stdout + as_student.stderr
    assert "must run as root (you are " in as_student.stderr, as_student.stderr

    # A second hub on the same port.
    second = subprocess.run([str(BIN / "mlse"), "classroom", "start", "--home", str(c.home)],
                            capture_output=True, text=True, timeout=120)
    assert second.returncode == 1 and f"Port {c.hub.port} (the hub) is in use" in second.stderr, \
        second.stderr
