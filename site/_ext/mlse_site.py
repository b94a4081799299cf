"""Sphinx extension for the course's website: the links on every notebook page, and the alt text check.

* Every lesson and exercise page gets, under its title, a "Download the notebook" link to the
  notebook exactly as committed (site/build.py copies the originals to ``notebooks/``), and, when
  an instructor has set a hub in site/conf.py, an "Open on your hub" nbgitpuller link.
* Every plot must say what it shows: myst-nb takes a figure's alt text from the plot cell's
  metadata ``"mystnb": {"image": {"alt": "..."}}`` (written in the notebook, so JupyterLab users
  have it too); without it the image's alt would be its file name. A plot without one is reported
  as a warning here, and the browser test fails on it.
"""

from __future__ import annotations

import functools
import posixpath
from urllib.parse import quote, urlencode

from docutils import nodes
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: Pages made from notebooks: the lessons and the released exercises.
NOTEBOOK_FOLDERS = ("course/", "exercises/")
#: Where site/build.py puts the original notebooks in the built site.
NOTEBOOKS_DIR = "notebooks"


def hub_link(hub: dict, notebook_path: str) -> str | None:
    """The nbgitpuller link that opens ``notebook_path`` (relative to the repository) on the hub,
    or None when no hub (or no repository) is set. nbgitpuller clones the repository into a folder
    named after it in the learner's home (or updates the clone), then opens JupyterLab there."""
    url, repository = (hub.get("url") or "").rstrip("/"), hub.get("repository") or ""
    if not url or not repository:
        return None
    folder = posixpath.basename(repository.rstrip("/"))
    folder = folder[:-4] if folder.endswith(".git") else folder
    query = urlencode({"repo": repository, "branch": hub.get("branch") or "main",
                       "urlpath": f"lab/tree/{folder}/{notebook_path}"}, quote_via=quote, safe="/")
    return f"{url}/hub/user-redirect/git-pull?{query}"


def _notebook_links(app, doctree) -> None:
    docname = app.env.docname
    if not docname.startswith(NOTEBOOK_FOLDERS) or not app.env.doc2path(docname).suffix == ".ipynb":
        return
    section = doctree.next_node(nodes.section)
    if section is None:
        return
    path = f"{docname}.ipynb"
    up = "../" * docname.count("/")
    name = posixpath.basename(path)
    links = [f'<a class="mlse-download" href="{up}{NOTEBOOKS_DIR}/{path}" download="{name}">'
             f'Download the notebook <span class="mlse-file">({name})</span></a>']
    hub = hub_link(app.config.mlse_hub, path)
    if hub:
        links.append(f'<a class="mlse-hub" href="{hub}">Open on your hub</a>')
    html = ('<nav class="mlse-actions" aria-label="This notebook">' + "".join(links) + "</nav>")
    section.insert(1, nodes.raw("", html, format="html"))


def _check_alt_text(app, doctree, docname) -> None:
    for image in doctree.findall(nodes.image):
        alt = (image.get("alt") or "").strip()
        if not alt or alt == image["uri"] or alt == posixpath.basename(image["uri"]):
            cell = image.parent
            while cell is not None and "cell_index" not in cell.attributes:
                cell = cell.parent
            where = f"cells[{cell['cell_index']}]" if cell is not None else "a figure"
            logger.warning(f"{where}: a figure without alt text that says what it shows: add "
                           '"mystnb": {"image": {"alt": "..."}} to the cell\'s metadata',
                           location=image, type="mlse", subtype="alt")


def _name_the_toctree_toggles(app, pagename, templatename, context, doctree) -> None:
    """pydata-sphinx-theme folds the navigation's sub-pages under a <summary> that holds only a
    chevron icon, which a screen reader announces as nothing (axe-core's summary-name): give each
    one a name."""
    generate = context.get("generate_toctree_html")
    if generate is None:
        return

    @functools.wraps(generate)
    def named(*args, **kwargs):
        html = generate(*args, **kwargs)
        if isinstance(html, str):
            return html
        for summary in html.select("summary"):
            if summary.get_text(strip=True) or summary.get("aria-label"):
                continue
            link = summary.find_parent("li").find("a") if summary.find_parent("li") else None
            section = link.get_text(" ", strip=True) if link else "this section"
            summary["aria-label"] = f"Show or hide the pages under {section}"
        return html

    context["generate_toctree_html"] = named


def setup(app):
    app.add_config_value("mlse_hub", {"url": "", "repository": "", "branch": "main"}, "html")
    app.connect("doctree-read", _notebook_links)
    app.connect("doctree-resolved", _check_alt_text)
    app.connect("html-page-context", _name_the_toctree_toggles, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
