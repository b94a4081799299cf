"""The course's website (issue 24): built by `make site`'s own command, then read in a real browser.

The site is built once per test run (a shared build, whichever worker asks first), with the command
`make site` runs, into the run's temporary folder, and timed. Then:

* from the files: every page is there; every figure has alt text that says what it shows (not its
  file name); headings go down one level at a time; the exercise pages (and the search index) hold
  no line of a solution or a hidden test from solutions/, and no nbgrader marker; every notebook
  page links to the committed notebook, and to the hub only when an instructor set one;
* in Debian's Chromium (Playwright, as tests/test_in_browser.py), the site served on a localhost
  port: every page renders without a console error, every link inside the site resolves (anchors
  too), no request leaves the site's origin, axe-core finds no serious or critical violation (light
  theme on every page, dark theme on one page of each kind), no page scrolls sideways at phone
  width, the lessons' solutions are folded, and the offline search finds a lesson.

MLSE_DOC_SCREENSHOTS=1 also saves the README's screenshots of the site to docs/screenshots/.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from bs4 import BeautifulSoup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from jupyterlab_browser import ROOT, browser_missing, launch_chromium

pytestmark = pytest.mark.slow

BUILD_COMMAND = [sys.executable, str(ROOT / "site" / "build.py")]  # what `make site` runs
BUILD_BUDGET_SECONDS = 120
AXE = ROOT / "tests" / "node_modules" / "axe-core" / "axe.min.js"
DOC_SHOTS = ROOT / "docs" / "screenshots" if os.environ.get("MLSE_DOC_SCREENSHOTS") else None
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}

LESSONS = sorted(p.relative_to(ROOT).with_suffix(".html").as_posix()
                 for p in (ROOT / "course").glob("*.ipynb"))
EXERCISES = sorted(p.relative_to(ROOT).with_suffix(".html").as_posix()
                   for p in (ROOT / "exercises").glob("*/*.ipynb"))
#: nbgrader's markers, which must never reach a page (the released notebooks have none either).
MARKERS = ["BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
           "YOUR ANSWER HERE"]


# -- Building ----------------------------------------------------------------------------------


def run_build(out: Path, work: Path, env: dict | None = None, root: Path = ROOT) -> dict:
    """Run the site's build command; its time, exit status and log."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    environment.update(env or {})
    started = time.monotonic()
    done = subprocess.run([*BUILD_COMMAND, "--root", str(root), "--out", str(out), "--work", str(work)],
                          capture_output=True, text=True, timeout=600, env=environment)
    return {"seconds": time.monotonic() - started, "returncode": done.returncode,
            "log": done.stdout + done.stderr}


def _build_site(folder: Path) -> None:
    result = run_build(folder / "html", folder / "work")
    (folder / "build.json").write_text(json.dumps(result))
    if result["returncode"]:
        raise RuntimeError(f"the site's build failed:\n{result['log'][-5000:]}")


class Site:
    def __init__(self, folder: Path):
        self.html = folder / "html"
        self.build = json.loads((folder / "build.json").read_text())

    def pages(self) -> list[str]:
        """Every page of the site (the theme's own files in _static/ are not pages)."""
        return sorted(p.relative_to(self.html).as_posix() for p in self.html.rglob("*.html")
                      if not p.relative_to(self.html).parts[0].startswith("_"))

    def soup(self, page: str) -> BeautifulSoup:
        return BeautifulSoup((self.html / page).read_text(), "html.parser")


@pytest.fixture(scope="session")
def site(shared) -> Site:
    return Site(shared("website", _build_site))


def article(soup: BeautifulSoup):
    """The page's own content (the theme's navigation left out)."""
    return soup.select_one("article.bd-article") or soup.body


# -- What the checks look for -------------------------------------------------------------------


def figures_without_alt(soup: BeautifulSoup) -> list[str]:
    """The page's figures whose alt text does not say what they show: missing, empty, too short
    to describe a plot, or a file name (what myst-nb writes when the notebook says nothing)."""
    problems = []
    for img in article(soup).find_all("img"):
        alt, src = (img.get("alt") or "").strip(), img.get("src", "")
        name = src.rsplit("/", 1)[-1]
        if not alt:
            problems.append(f"{name}: no alt text")
        elif alt == src or alt == name or re.fullmatch(r"[\w./-]+\.(png|jpe?g|svg|gif)", alt):
            problems.append(f"{name}: its alt text is a file name ({alt!r})")
        elif len(alt.split()) < 4:
            problems.append(f"{name}: alt text {alt!r} is too short to say what the figure shows")
    return problems


def heading_jumps(soup: BeautifulSoup) -> list[str]:
    levels = [int(h.name[1]) for h in article(soup).find_all(re.compile(r"^h[1-6]$"))]
    problems = [] if levels[:1] == [1] and levels.count(1) == 1 else [f"h1s: {levels}"]
    problems += [f"h{a} then h{b}" for a, b in zip(levels, levels[1:]) if b > a + 1]
    return problems


def notebook_source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def between(text: str, begin: str, end: str) -> list[str]:
    inside, lines = False, []
    for line in text.splitlines():
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside:
            lines.append(line)
    return lines


def shown_lines(html: str, lines: list[str]) -> list[str]:
    """Those of ``lines`` that the page shows anywhere: in its text (a highlighted code line is
    split into many elements, joined again here) or in its HTML source."""
    text = BeautifulSoup(html, "html.parser").get_text()
    return [line for line in lines if line in text or line in html]


def secret_lines(solution: Path, released: Path) -> list[str]:
    """Lines of the instructor's notebook that students must not see (its solutions and hidden
    tests), less those that the released notebook shows anyway and those too short to tell."""
    nb = json.loads(solution.read_text())
    public = "\n".join(notebook_source(c) for c in json.loads(released.read_text())["cells"])
    lines = []
    for cell in nb["cells"]:
        source, grading = notebook_source(cell), cell.get("metadata", {}).get("nbgrader", {})
        if grading.get("solution") and cell["cell_type"] == "markdown":
            lines += source.splitlines()
        lines += between(source, "BEGIN SOLUTION", "END SOLUTION")
        lines += between(source, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
    return [line.strip() for line in lines if len(line.strip()) >= 12 and line.strip() not in public]


# -- From the files -------------------------------------------------------------------------------


def test_make_site_builds_every_page_in_time(site):
    build = site.build
    print(f"site built in {build['seconds']:.1f} s, {len(site.pages())} pages")
    assert build["seconds"] < BUILD_BUDGET_SECONDS, f"the build took {build['seconds']:.0f} s"
    pages = set(site.pages())
    docs = {f"instructors/{p.stem}.html" for p in (ROOT / "docs").glob("*.md") if p.name != "screenshots.md"}
    expected = {"index.html", "search.html", "instructors/index.html", *LESSONS, *EXERCISES, *docs}
    assert expected <= pages, f"pages missing: {sorted(expected - pages)}"
    # Nothing ran: every lesson was committed with its outputs.
    assert "Executing" not in build["log"], build["log"]
    # No warning but the figures' alt text (which test_every_figure_says_what_it_shows reports).
    warnings = [line for line in build["log"].splitlines()
                if "WARNING" in line and "[mlse.alt]" not in line]
    assert not warnings, "\n".join(warnings)


def test_every_figure_says_what_it_shows(site):
    """Fails until each plot cell of the lessons carries "mystnb": {"image": {"alt": "..."}}."""
    problems = {page: figures_without_alt(site.soup(page)) for page in site.pages()}
    problems = {page: found for page, found in problems.items() if found}
    assert not problems, (
        "figures without alt text that says what they show (add \"mystnb\": {\"image\": {\"alt\": "
        "\"...\"}} to the plot cell's metadata):\n" + "\n".join(
            f"  {page}: {problem}" for page, found in problems.items() for problem in found))


def test_headings_go_down_one_level_at_a_time(site):
    problems = {page: heading_jumps(site.soup(page)) for page in site.pages()
                if page not in ("genindex.html", "search.html")}
    assert not {p: j for p, j in problems.items() if j}, problems


def test_exercise_pages_and_search_hold_no_solution_nor_hidden_test(site):
    index = (site.html / "searchindex.js").read_text()
    checked = 0
    for page in EXERCISES:
        released = ROOT / Path(page).with_suffix(".ipynb")
        solution = ROOT / "solutions" / released.relative_to(ROOT / "exercises")
        secrets = secret_lines(solution, released)
        assert secrets, f"found no solution lines in {solution}: the check would prove nothing"
        html = (site.html / page).read_text()
        leaked = shown_lines(html, secrets)
        assert not leaked, f"{page} shows lines of {solution.relative_to(ROOT)}: {leaked[:5]}"
        assert not [line for line in secrets if line in index], f"the search index holds {solution}'s lines"
        for marker in MARKERS:
            assert marker not in html, f"{page} holds nbgrader's marker {marker!r}"
        # nbgrader's code stub is shown, as the learner gets it, only inside the answer cells.
        soup = BeautifulSoup(html, "html.parser")
        for answer in soup.select("div.cell.tag_mlse-answer"):
            answer.decompose()
        stubs = [pre for pre in article(soup).find_all("pre") if "NotImplementedError" in pre.get_text()]
        assert not stubs, f"{page} shows nbgrader's code stub outside an answer cell"
        checked += len(secrets)
    assert checked > 100, f"only {checked} solution lines compared"


def test_secret_lines_are_found_on_a_page_that_leaks_them(site, tmp_path):
    """The leak check above can fail: a page holding one solution line is caught."""
    page = EXERCISES[0]
    released = ROOT / Path(page).with_suffix(".ipynb")
    solution = ROOT / "solutions" / released.relative_to(ROOT / "exercises")
    secret = secret_lines(solution, released)[0]
    html = (site.html / page).read_text()
    assert not shown_lines(html, [secret])
    highlighted = highlight(secret, PythonLexer(), HtmlFormatter())  # as the pages show code
    assert shown_lines(html.replace("</article>", highlighted + "</article>", 1), [secret]) == [secret]


def test_lessons_follow_the_course_order_with_previous_and_next(site):
    order = ["index.html", *LESSONS]
    for before, page, after in zip(order, order[1:], order[2:] + [EXERCISES[0]]):
        soup = site.soup(page)
        here = (site.html / page).parent
        previous, following = soup.select_one("a.left-prev"), soup.select_one("a.right-next")
        assert previous is not None and following is not None, f"{page} has no previous/next links"
        assert (here / previous["href"]).resolve() == (site.html / before).resolve(), page
        assert (here / following["href"]).resolve() == (site.html / after).resolve(), page


def test_every_notebook_page_offers_the_committed_notebook_and_no_hub_by_default(site):
    for page in LESSONS + EXERCISES:
        soup = site.soup(page)
        link = soup.select_one("nav.mlse-actions a.mlse-download")
        assert link is not None, f"{page} has no download link"
        target = (site.html / page).parent / link["href"]
        original = ROOT / Path(page).with_suffix(".ipynb")
        assert target.read_bytes() == original.read_bytes(), f"{page}'s download is not {original}"
        assert soup.select_one("a.mlse-hub") is None, f"{page} links a hub, but none is set"


@pytest.fixture(scope="module")
def small_site(tmp_path_factory) -> Path:
    """A site of two lessons, built from a copy of the course: lesson 0 with alt text in its plot
    cells' metadata (as the lessons' authors add it), lesson 1 as committed; a hub set."""
    root = tmp_path_factory.mktemp("small-course")
    (root / "course").mkdir()
    (root / "docs").mkdir()
    shutil.copytree(ROOT / "exercises" / "m1_roles_warmup", root / "exercises" / "m1_roles_warmup")
    lesson = json.loads((ROOT / "course" / "00_start_here.ipynb").read_text())
    plots = [c for c in lesson["cells"] if any("image/png" in o.get("data", {}) for o in c.get("outputs", []))]
    assert plots, "lesson 0 has no plot to describe"
    for cell in plots:
        cell["metadata"].pop("mystnb", None)
        cell["metadata"]["mystnb"] = {"image": {"alt": "Bar chart of the minutes each module takes: "
                                                        "lesson and graded exercise, module by module."}}
    (root / "course" / "00_start_here.ipynb").write_text(json.dumps(lesson))
    lesson1 = json.loads((ROOT / "course" / "01_two_roles.ipynb").read_text())
    for cell in lesson1["cells"]:
        cell["metadata"].pop("mystnb", None)  # as committed before the lessons carried alt text
    (root / "course" / "01_two_roles.ipynb").write_text(json.dumps(lesson1))
    # A doc that links another doc, the README, a source file and shows a screenshot.
    (root / "docs" / "other.md").write_text("# Other\n\nSee [the classroom](classroom.md#hub).\n")
    (root / "docs" / "screenshots").mkdir()
    shutil.copy2(ROOT / "docs" / "screenshots" / "lesson.png", root / "docs" / "screenshots" / "lesson.png")
    (root / "docs" / "classroom.md").write_text(
        "# The classroom\n\n## Hub\n\nRead [the README](../README.md), [the settings](../nbgrader_config.py) "
        "and [the others](other.md).\n\n![A lesson in JupyterLab, after Run All](screenshots/lesson.png)\n")
    # A lesson committed without outputs: the one kind of notebook the build runs.
    never_run = {"cells": [
        {"cell_type": "markdown", "id": "title", "metadata": {}, "source": "# Module 9: never run"},
        {"cell_type": "code", "id": "answer", "metadata": {}, "execution_count": None, "outputs": [],
         "source": "print('the answer is', 6 * 7)"}],
        "metadata": lesson["metadata"], "nbformat": 4, "nbformat_minor": 5}
    (root / "course" / "09_never_run.ipynb").write_text(json.dumps(never_run))
    result = run_build(root / "html", root / "work", root=root,
                       env={"HUB_URL": "https://hub.example.edu/",
                            "HUB_REPOSITORY": "https://git.example.org/teach/mlse-course.git"})
    assert result["returncode"] == 0, result["log"][-3000:]
    assert "Executing course/09_never_run.ipynb" in result["log"], result["log"][-3000:]
    (root / "build.log").write_text(result["log"])
    return root / "html"


def test_a_lesson_committed_without_outputs_is_run_and_the_others_are_not(small_site):
    ran = (small_site / "course/09_never_run.html").read_text()
    assert "the answer is 42" in ran
    log = (small_site.parent / "build.log").read_text()
    for lesson in ["00_start_here", "01_two_roles"]:
        assert f"Excluded from execution by pattern: '*/course/{lesson}.ipynb'" in log, log[-3000:]
    assert "exercises/m1_roles_warmup/roles_warmup.ipynb: Excluded from execution" in log


def test_docs_link_each_other_show_their_images_and_name_repository_files(small_site):
    log = (small_site.parent / "build.log").read_text()
    warnings = [line for line in log.splitlines() if "WARNING" in line and "instructors/" in line]
    assert not warnings, "\n".join(warnings)
    page = BeautifulSoup((small_site / "instructors/classroom.html").read_text(), "html.parser")
    hrefs = [a["href"] for a in article(page).find_all("a", href=True)]
    assert "other.html" in hrefs and not [h for h in hrefs if "README" in h or "nbgrader_config" in h]
    assert "README.md" in article(page).get_text() and "nbgrader_config.py" in article(page).get_text()
    img = article(page).find("img")
    assert (small_site / "instructors" / img["src"]).is_file()
    other = BeautifulSoup((small_site / "instructors/other.html").read_text(), "html.parser")
    assert article(other).find("a", href="classroom.html#hub")


def test_alt_text_from_the_cell_metadata_reaches_the_page(small_site):
    described = BeautifulSoup((small_site / "course/00_start_here.html").read_text(), "html.parser")
    assert figures_without_alt(described) == []
    assert "Bar chart of the minutes each module takes" in str(article(described).find("img"))
    undescribed = BeautifulSoup((small_site / "course/01_two_roles.html").read_text(), "html.parser")
    problems = figures_without_alt(undescribed)
    assert problems and "file name" in problems[0], problems


def test_a_hub_set_in_one_place_gives_every_notebook_page_an_nbgitpuller_link(small_site):
    expected = ("https://hub.example.edu/hub/user-redirect/git-pull?"
                "repo=https%3A//git.example.org/teach/mlse-course.git&branch=main"
                "&urlpath=lab/tree/mlse-course/{path}")
    for page in ["course/00_start_here.html", "exercises/m1_roles_warmup/roles_warmup.html"]:
        link = BeautifulSoup((small_site / page).read_text(), "html.parser").select_one("a.mlse-hub")
        assert link is not None, f"{page} has no hub link"
        assert link["href"] == expected.format(path=page.replace(".html", ".ipynb"))
    home = BeautifulSoup((small_site / "index.html").read_text(), "html.parser")
    assert home.select_one("a.mlse-hub") is None


# -- In the browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser_available():
    missing = browser_missing() or (None if AXE.is_file() else
                                    f"axe-core is not installed at {AXE}: run `make setup-test` (needs npm)")
    if missing and os.environ.get("CI"):
        pytest.fail(f"CI must run the website's browser test, but it cannot run here: {missing}",
                    pytrace=False)
    if missing:
        pytest.skip(missing)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(site):
    """The built site over HTTP on 127.0.0.1, on a port the OS gives."""
    handler = functools.partial(_QuietHandler, directory=str(site.html))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser(browser_available, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = launch_chromium(playwright, tmp_path_factory.mktemp("chromium-site"))
        context.set_default_timeout(30_000)
        yield context
        context.close()


class Visit:
    """One page open in the browser, with what it asked for and what it complained about."""

    def __init__(self, browser, server: str):
        self.server = server
        self.page = browser.new_page()
        self.errors: list[str] = []
        self.elsewhere: list[str] = []
        self.failed: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.status} {r.url}"))
        self.page.route("**/*", self._route)

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.server + "/") or url.startswith(("data:", "blob:", "about:")):
            route.continue_()
        else:
            self.elsewhere.append(url)
            route.abort()

    def open(self, page: str, viewport=DESKTOP, dark: bool = False):
        self.page.set_viewport_size(viewport)
        self.page.goto(f"{self.server}/{page}", wait_until="load")
        mode = "dark" if dark else "light"
        if self.page.evaluate("() => document.documentElement.dataset.theme") != mode:
            # The theme keeps the reader's choice in localStorage: "mode" (what they chose) and
            # "theme" (what it resolved to). A script in <head> applies "theme" before the first
            # paint; with "mode" alone the page is drawn light and turned dark later by the
            # theme's script, through its 0.15 s colour transitions, which axe-core once measured
            # half way (CI on 2026-12-03: a search button at 2.07:1).
            self.page.evaluate(f"() => {{ localStorage.setItem('mode', '{mode}');"
                               f" localStorage.setItem('theme', '{mode}'); }}")
            self.page.reload(wait_until="load")
            self.page.wait_for_function(f"() => document.documentElement.dataset.theme === '{mode}'")
        # Whatever still moves (a transition, a fold opening) ends before anything is measured.
        self.page.evaluate("""() => Promise.all(document.getAnimations()
            .filter(a => a.effect && a.effect.getComputedTiming().endTime !== Infinity)
            .map(a => a.finished))""")
        return self.page

    def close(self):
        self.page.close()


@pytest.fixture
def visit(browser, server):
    v = Visit(browser, server)
    yield v
    v.close()


def axe_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => `${v.impact} ${v.id}: ${v.help} (${v.nodes.length} element(s), e.g. ` +
                      `${v.nodes[0].target.join(' ')}: ${v.nodes[0].failureSummary.replace(/\\n/g, ' ')})`);
    }""")
    return result


def test_every_page_renders_offline_and_its_links_resolve(site, server, visit):
    problems: list[str] = []
    link_targets: dict[str, set[str]] = {}
    for page_name in site.pages():
        page = visit.open(page_name)
        page.wait_for_load_state("networkidle")
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        for href in hrefs:
            if href.startswith(server + "/"):
                link_targets.setdefault(href, set()).add(page_name)
    assert not visit.errors, f"console errors: {visit.errors[:10]}"
    assert not visit.elsewhere, f"requests that left the site's origin: {sorted(set(visit.elsewhere))[:10]}"
    assert not visit.failed, f"failed requests: {visit.failed[:10]}"
    ids: dict[Path, set[str]] = {}
    for href, pages in sorted(link_targets.items()):
        parts = urlsplit(href)
        path = site.html / unquote(parts.path).lstrip("/")
        if path.is_dir():
            path = path / "index.html"
        if not path.is_file():
            problems.append(f"{href} (linked from {sorted(pages)[0]}) does not exist")
        elif parts.fragment and path.suffix == ".html":
            if path not in ids:
                ids[path] = set(re.findall(r'\bid="([^"]+)"', path.read_text()))
            if unquote(parts.fragment) not in ids[path]:
                problems.append(f"{href} (linked from {sorted(pages)[0]}): no #{parts.fragment} there")
    assert not problems, "\n".join(problems)
    assert len(link_targets) > 50, f"only {len(link_targets)} internal links found"


def test_no_serious_or_critical_accessibility_violation(site, visit):
    found = {}
    for page_name in site.pages():
        found[page_name] = axe_violations(visit.open(page_name))
    # The dark theme on one page of each kind (the colours are the theme's, the same on all).
    for page_name in ["index.html", LESSONS[2], EXERCISES[0], "instructors/index.html"]:
        found[f"{page_name} (dark)"] = axe_violations(visit.open(page_name, dark=True))
    found = {p: v for p, v in found.items() if v}
    assert not found, "axe-core:\n" + "\n".join(f"{p}:\n  " + "\n  ".join(v) for p, v in found.items())


def test_every_page_is_usable_at_phone_width(site, visit):
    too_wide = {}
    for page_name in site.pages():
        page = visit.open(page_name, viewport=PHONE)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > PHONE["width"] + 1:
            too_wide[page_name] = width
    assert not too_wide, f"pages that scroll sideways at {PHONE['width']} px: {too_wide}"
    for page_name, shot in [("index.html", "site-home"), (LESSONS[2], "site-lesson")]:
        for viewport, suffix in [(DESKTOP, ""), (PHONE, "-phone")]:
            page = visit.open(page_name, viewport=viewport)
            if DOC_SHOTS:
                DOC_SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(DOC_SHOTS / f"{shot}{suffix}.png"))


def test_lesson_solutions_are_folded(visit):
    page = visit.open(LESSONS[2])
    details = page.locator("article details", has=page.get_by_text("Show a solution"))
    assert details.count() >= 1, "lesson 2a shows no folded solution"
    first = details.first
    assert first.evaluate("d => d.open") is False
    code = first.locator("pre").first
    assert not code.is_visible(), "a solution is visible before the learner unfolds it"
    first.locator("summary").click()
    assert code.is_visible(), "the solution does not unfold"


def test_search_finds_a_lesson_offline(visit):
    page = visit.open("search.html?q=pipeline")
    results = page.locator("#search-results ul.search li")
    results.first.wait_for(timeout=30_000)
    assert any("02a_ml_engineer_build" in (a or "") for a in
               results.locator("a").evaluate_all("els => els.map(e => e.getAttribute('href'))"))
    assert not visit.elsewhere, visit.elsewhere
