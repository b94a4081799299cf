"""Drive a real JupyterLab in a real (headless) browser, for the end-to-end test.

Everything else in tests/ checks the course from Python; learners and instructors meet it in
JupyterLab. This module gives ``test_in_browser.py`` three things:

* :class:`LabServer`, a JupyterLab (with nbgrader's extensions) serving a *throwaway copy* of the
  course, with its own settings, so answers typed in a test and formgrader's gradebook never
  touch the checkout or the user's own JupyterLab set-up;
* :func:`launch_chromium`, Debian's Chromium driven by Playwright (Playwright's own browser
  download is never used: it cannot be fetched on the machines this course is built on);
* :class:`Steps`, which turns a failing step into a message that says what the page showed, keeps
  a screenshot in tests/artifacts/, and ends with the server's log.

It also holds the few JupyterLab moves the tests make (open a notebook, run a menu command,
wait for the kernel), written against JupyterLab 4's DOM: each waits on the page's state,
never on a fixed sleep, and gives up after a bounded time.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"  # failure screenshots (gitignored)

#: Where Debian's ``chromium`` package puts the browser (MLSE_CHROMIUM names another Chromium or
#: Chrome, for example on a Mac).
CHROMIUM = Path(os.environ.get("MLSE_CHROMIUM", "/usr/bin/chromium"))
#: Without the background-networking flags, Chromium's own calls home are refused on a closed
#: network and slow everything down; a fresh profile makes every run start from the same state.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
INSTALL_HINT = ("Install Debian's browser and the test extra: `sudo apt-get install chromium` and "
                "`make setup-test` (never `playwright install`: it downloads a browser of its own).")

#: What the test copies: the course as a learner and an instructor have it.
COURSE_PARTS = ["course", "exercises", "solutions", "nbgrader_config.py"]


def browser_missing() -> str | None:
    """Why the browser test cannot run here, or None when it can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return f"Python's playwright package is not installed. {INSTALL_HINT}"
    if not os.access(CHROMIUM, os.X_OK):
        return (f"Chromium is not installed at {CHROMIUM}. {INSTALL_HINT} "
                "Elsewhere, set MLSE_CHROMIUM to the path of a Chromium or Chrome.")
    return None


def copy_course(dest: Path, root: Path = ROOT) -> Path:
    """Copy the course's folders and nbgrader config into ``dest`` (checkpoints left out)."""
    dest.mkdir(parents=True, exist_ok=True)
    skip = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    for part in COURSE_PARTS:
        source = root / part
        if source.is_dir():
            shutil.copytree(source, dest / part, ignore=skip)
        elif source.is_file():
            shutil.copy2(source, dest / part)
    return dest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """``jupyter lab`` on localhost over ``course_dir``, with a token and private settings.

    Its own config, data, runtime, settings and workspaces folders (under ``state_dir``) keep the
    user's JupyterLab set-up out of the test and the test out of it. The environment's bin/ is put
    first on PATH because formgrader creates its gradebook by running ``alembic``.
    """

    def __init__(self, course_dir: Path, state_dir: Path, start_timeout: float = 90):
        self.course_dir = course_dir
        self.token = secrets.token_hex(16)
        self.log_path = state_dir / "jupyterlab.log"
        dirs = {name: state_dir / name for name in ("config", "data", "runtime", "settings", "workspaces")}
        for folder in dirs.values():
            folder.mkdir(parents=True, exist_ok=True)
        # No "would you like news?" toast over the notebook (nor a fetch of it).
        news = dirs["settings"] / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
        news.parent.mkdir(parents=True, exist_ok=True)
        news.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        bindir = Path(sys.executable).parent
        env = dict(os.environ,
                   PATH=os.pathsep.join([str(bindir), os.environ.get("PATH", "")]),
                   JUPYTER_CONFIG_DIR=str(dirs["config"]), JUPYTER_DATA_DIR=str(dirs["data"]),
                   JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
                   JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
                   JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]),
                   PYTHONUNBUFFERED="1")
        # A free port can be taken by another process before the server binds it: then the server
        # exits (no silent move to another port, which the test would not know) and we try again.
        for attempt in range(3):
            self.port = free_port()
            self.base = f"http://127.0.0.1:{self.port}"
            cmd = [str(bindir / "jupyter"), "lab", "--no-browser", f"--port={self.port}",
                   "--ServerApp.port_retries=0",
                   "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={self.token}",
                   f"--ServerApp.root_dir={course_dir}",
                   "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
            if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI and containers run as root
                cmd.append("--allow-root")
            self._log = open(self.log_path, "w")
            self.process = subprocess.Popen(cmd, cwd=course_dir, env=env, stdout=self._log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
            try:
                self._wait_until_up(start_timeout)
                return
            except Exception:
                self.stop()
                if attempt == 2 or "already in use" not in self.log_tail():
                    raise

    def _wait_until_up(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with code {self.process.returncode} while "
                                   f"starting.\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"JupyterLab did not answer on {self.base} within {timeout:.0f} s.\n"
                           f"{self.log_tail()}")

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base}/{path.lstrip('/')}{sep}token={self.token}"

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        except OSError as exc:
            return f"(no JupyterLab log: {exc})"
        return f"--- JupyterLab log, last {len(text)} lines ({self.log_path}) ---\n" + "\n".join(text)

    def stop(self) -> None:
        """Stop the server and the kernels it started (its own process group), then close the log."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        try:  # kernels live in the server's session; end any it left behind
            os.killpg(self.process.pid, 9)
        except (ProcessLookupError, PermissionError):
            pass
        self._log.close()


def launch_chromium(playwright, profile_dir: Path):
    """Debian's Chromium, headless, with a fresh profile; a context with a fixed-size window."""
    return playwright.chromium.launch_persistent_context(
        str(profile_dir), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
        viewport={"width": 1280, "height": 860}, device_scale_factor=1)


class StepFailed(AssertionError):
    """A step of the browser test failed; the message says what the page showed."""


class Steps:
    """Named steps of one browser session: a failing step explains itself and keeps a screenshot.

    ``area`` is a function returning the text of the part of the page that matters for the step
    (a cell's output, a dialog); it is shown when the step fails.
    """

    def __init__(self, page, server: LabServer, name: str):
        self.page, self.server, self.name = page, server, name
        self.count = 0

    @contextmanager
    def step(self, description: str, area=None):
        self.count += 1
        try:
            yield
        except Exception as exc:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            slug = re.sub(r"[^a-z0-9]+", "-", description.lower()).strip("-")[:50]
            shot = ARTIFACTS / f"{self.name}-{self.count:02d}-{slug}.png"
            try:
                self.page.screenshot(path=str(shot))
            except Exception as shot_error:  # the page itself may be gone
                shot = f"(no screenshot: {shot_error})"
            seen = _safe_text(area or (lambda: self.page.locator("#jp-main-dock-panel, body").first.inner_text()))
            reason = "\n".join(str(exc).splitlines()[:8])
            raise StepFailed(
                f"Step {self.count} ({self.name}) failed: {description}\n"
                f"Why: {reason}\n"
                f"What the page showed there:\n{_indent(seen)}\n"
                f"Screenshot: {shot}\n{self.server.log_tail(40)}") from exc


def _safe_text(area, limit: int = 2500) -> str:
    try:
        text = area() or "(nothing)"
    except Exception as exc:
        return f"(could not read the page: {str(exc).splitlines()[0]})"
    text = re.sub(r"\n{3,}", "\n\n", str(text)).strip()
    return text if len(text) <= limit else text[:limit] + "\n[...]"


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


# --- JupyterLab moves -------------------------------------------------------------------------

NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook in the current tab
#: JupyterLab renders both errors and stderr with this MIME type.
STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'


def open_notebook(page, server: LabServer, path: str, workspace: str, timeout: float = 90_000) -> None:
    """Open ``path`` (relative to the course copy) in JupyterLab; wait until every cell is there
    and its kernel is idle. Each test names its own ``workspace``, so JupyterLab does not reopen
    the tabs an earlier test left open."""
    cells = len(json.loads((server.course_dir / path).read_text())["cells"])
    page.goto(server.url(f"lab/workspaces/{workspace}/tree/{path}"), timeout=timeout)
    page.wait_for_function(
        """([selector, n]) => document.querySelectorAll(selector + ' .jp-Notebook .jp-Cell').length === n""",
        arg=[NOTEBOOK, cells], timeout=timeout)
    wait_kernel_idle(page, timeout)


def wait_kernel_idle(page, timeout: float = 90_000) -> None:
    """Wait until the notebook's kernel is connected and idle.

    The toolbar's execution indicator alone is not enough: it says "idle" before any kernel is
    attached, and a Run All clicked then opens a "Select Kernel" dialog instead of running. The
    status bar says "No Kernel | Initializing" until the kernel is really there.
    """
    page.wait_for_function(
        """(selector) => {
            const indicator = document.querySelector(selector + ' .jp-Notebook-ExecutionIndicator');
            const kernel = [...document.querySelectorAll('.jp-StatusBar-TextItem')]
                .map(e => e.textContent.trim()).find(t => t.includes(' | '));
            return indicator !== null && indicator.dataset.status === 'idle' && kernel !== undefined
                && !kernel.startsWith('No Kernel') && kernel.endsWith('| Idle');
        }""", arg=NOTEBOOK, timeout=timeout)


def choose_from_menu(page, menu: str, item: str) -> None:
    """Click ``menu`` in the menu bar, then its ``item`` (both by the words a person reads)."""
    page.locator(".lm-MenuBar-item", has=page.get_by_text(menu, exact=True)).click()
    page.locator(".lm-Menu .lm-Menu-itemLabel").get_by_text(item, exact=True).click()


def code_cell(page, containing: str):
    """The code cell whose source contains ``containing`` (exactly one)."""
    return page.locator(f"{NOTEBOOK} .jp-CodeCell").filter(
        has=page.locator(".cm-content", has_text=containing))


def wait_run_all_finished(page, timeout: float) -> None:
    """Wait until Run All is over: no cell is running or queued (``[*]``), the kernel is idle, and
    either every code cell shows an execution count or a cell failed (which stops Run All)."""
    page.wait_for_function(
        """([selector, stderr]) => {
            const prompts = [...document.querySelectorAll(selector + ' .jp-CodeCell .jp-InputPrompt')]
                .map(p => p.textContent.trim());
            if (prompts.length === 0 || prompts.some(p => p.includes('*'))) return false;
            return prompts.every(p => /^\\[\\d+\\]:$/.test(p))
                || document.querySelector(selector + ' ' + stderr) !== null;
        }""", arg=[NOTEBOOK, STDERR], timeout=timeout)
    wait_kernel_idle(page, timeout)


def cells_not_run(page) -> list[str]:
    """The first line of every code cell that shows no execution count."""
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector + ' .jp-CodeCell')]
            .filter(c => !/^\\[\\d+\\]:$/.test(c.querySelector('.jp-InputPrompt').textContent.trim()))
            .map(c => (c.querySelector('.cm-line') || {}).textContent || '')""", NOTEBOOK)


def error_outputs(page) -> list[str]:
    """The text of every error or stderr output in the open notebook (JupyterLab renders both
    with the stderr MIME type)."""
    return page.locator(f"{NOTEBOOK} {STDERR}").all_text_contents()


def notebook_summary(page) -> str:
    """One line per code cell of the open notebook: its prompt, its first line and the start of
    its output (read from the DOM, so cells scrolled out of view are included)."""
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector + ' .jp-CodeCell')].map(cell => {
            const prompt = (cell.querySelector('.jp-InputPrompt') || {}).textContent || '';
            const line = (cell.querySelector('.cm-line') || {}).textContent || '';
            const out = [...cell.querySelectorAll('.jp-OutputArea-output')].map(o => {
                const text = o.textContent.replace(/\\s+/g, ' ').trim();  // an error ends with its message
                return o.dataset.mimeType === 'application/vnd.jupyter.stderr' ? '...' + text.slice(-160) : text.slice(0, 160);
            }).join(' | ');
            return `${prompt.trim() || '[?]'} ${line.slice(0, 70)}\\n      -> ${out || '(no output)'}`;
        }).join('\\n')""", NOTEBOOK)


def scroll_to_top(locator) -> None:
    """Scroll so that ``locator``'s element is at the top of its scrolling area, and wait until
    the browser has painted there (JupyterLab skips painting cells out of view until then)."""
    locator.evaluate("""element => new Promise(done => {
        element.scrollIntoView({block: 'start'});
        requestAnimationFrame(() => requestAnimationFrame(() => done()));
    })""")
    locator.page.wait_for_function(
        """(element) => { const r = element.getBoundingClientRect();
                         return r.height > 0 && r.top >= 0 && r.top < window.innerHeight; }""",
        arg=locator.element_handle(), timeout=10_000)
