"""Sphinx settings for the course's website (`make site`; see site/README.md).

site/build.py lays the pages out in a staging folder (the lessons, the released exercises, the
instructors' docs, the home page) and runs Sphinx on it with this file, so every path below is
relative to that staging folder. The site must work offline: no font, script or style from another
origin (the browser test checks every request).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

# -- Open on your hub -------------------------------------------------------------------------
# THE ONE PLACE an instructor sets their JupyterHub. With a hub address, every lesson and exercise
# page gets an "Open on your hub" link (nbgitpuller: the hub clones the course repository into the
# learner's home, or updates it, then opens the notebook in JupyterLab). Empty: no such link.
# The environment variables override these, e.g. `make site HUB_URL=https://hub.example.edu`.
# The hub needs nbgitpuller installed (`pip install nbgitpuller` in the users' environment).
hub_url = os.environ.get("HUB_URL", "")  # e.g. "https://hub.example.edu"
hub_repository = os.environ.get("HUB_REPOSITORY", "")  # the course's public git URL (https://...git)
hub_branch = os.environ.get("HUB_BRANCH", "main")

# -- The project --------------------------------------------------------------------------------
project = "ML Engineer vs Software Engineer, hands on"
author = "the course's authors"
copyright = "the course's authors (MIT licence)"
language = "en"

extensions = [
    "myst_nb",  # notebooks and Markdown (myst-parser comes with it)
    "mlse_site",  # site/_ext/mlse_site.py: download and hub links, alt text, exercise cells
]
templates_path = [str(Path(__file__).parent / "_templates")]
html_static_path = [str(Path(__file__).parent / "_static")]
html_css_files = ["mlse.css"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "_extra"]
root_doc = "index"

# -- Notebooks: shown as committed ----------------------------------------------------------------
# The lessons carry their outputs (plots included) in git, and the released exercises carry none,
# by design: nothing runs at build time. site/build.py switches execution on ("auto") only for a
# lesson that was never run, and never for an exercise.
nb_execution_mode = os.environ.get("MLSE_SITE_EXECUTION", "off")
nb_execution_excludepatterns = ["exercises/*/*"] + [
    p for p in os.environ.get("MLSE_SITE_EXECUTION_SKIP", "").split(",") if p]
nb_execution_timeout = 120
nb_execution_raise_on_error = True
nb_merge_streams = True
myst_enable_extensions = []  # no "$...$" maths: the lessons write salaries as $115,000-$160,000
myst_heading_anchors = 3

# -- HTML -----------------------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = "ML Engineer vs Software Engineer, hands on"
html_copy_source = False  # the notebooks are offered as downloads of the originals instead
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "use_download_button": False,  # our own "Download the notebook" links the exact file
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "show_prev_next": True,
    "navigation_with_keys": False,
    # pydata-sphinx-theme: nothing fetched from another origin
    "icon_links": [],
    "navbar_persistent": [],  # one search box (the sidebar's), not a second one in a header bar
}
html_context = {"default_mode": "auto"}  # light or dark as the reader's system says; a toggle too

mlse_hub = {"url": hub_url, "repository": hub_repository, "branch": hub_branch}
