"""Student output made safe for feedback, and the raw bytes of feedback searched for leaks.

Everything in a graded notebook's outputs came from the student's kernel, and the student's
markdown cells from the student: a ``<script>``, an ``<img onerror=...>``, a ``javascript:``
link or an SVG with a script would run when a student or an instructor opens the feedback HTML.

:class:`SanitizeStudentOutputs` (an nbgrader preprocessor, listed first in
``GenerateFeedback.preprocessors`` in nbgrader_config.py) rewrites the notebook before nbconvert
renders it:

* ``text/html`` outputs are cleaned by `nh3 <https://nh3.readthedocs.io>`_ (the Python binding of
  the Rust sanitizer Ammonia): an allow-list of tags and attributes, no script, no event handler,
  no ``javascript:`` URL, no comment; ``<style>`` is dropped with its content;
* images are kept only as valid base64 PNG, JPEG or GIF (nbconvert writes them into an
  ``<img src="data:...">`` attribute: a quote would break out of it); their metadata only as
  numeric width and height (nbconvert writes those unquoted);
* every other rich type (JavaScript, SVG, markdown, LaTeX, widgets, anything unknown) is
  dropped, keeping the ``text/plain`` form;
* markdown cells are rendered to HTML as nbconvert would, cleaned the same way, and put back as
  one raw HTML block, so markdown cannot rebuild a dangerous link from cleaned text;
* a grade id that is not a plain identifier (nbconvert writes it into attributes) is replaced.

:func:`leak_views` is what the feedback leak check searches: the file's raw text, its text with
HTML entities decoded, with tags removed but the content of scripts, styles and comments kept,
URL-decoded, and every base64 run decoded, so a hidden-test line hidden in a script, a comment,
an attribute or an encoding is still found.
"""

from __future__ import annotations

import base64
import binascii
import html as html_lib
import re
import urllib.parse
from pathlib import Path

import nh3
from nbgrader.preprocessors import NbGraderPreprocessor

from ..notebook_cells import nbgrader_meta

__all__ = ["clean_html", "SanitizeStudentOutputs", "leak_views"]

SAFE_IMAGES = ("image/png", "image/jpeg", "image/gif")
_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]*$")
_GRADE_ID = re.compile(r"^[A-Za-z0-9_\-.]+$")
_ATTRIBUTES = {
    "*": {"class", "title", "align", "lang", "dir"},
    "a": {"href", "name"},
    "img": {"alt", "width", "height"},  # no src: nothing is fetched when feedback is opened
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "type"},
}
_URL_SCHEMES = {"http", "https", "mailto"}


def clean_html(text: str) -> str:
    """``text`` with everything that can run script removed (nh3/Ammonia, an allow-list)."""
    cleaned = nh3.clean(str(text), tags=set(nh3.ALLOWED_TAGS), attributes=_ATTRIBUTES,
                        url_schemes=_URL_SCHEMES, strip_comments=True,
                        clean_content_tags={"script", "style"}, link_rel="noopener noreferrer nofollow")
    return cleaned


def _safe_output(out: dict) -> dict:
    kind = out.get("output_type")
    if kind not in ("display_data", "execute_result"):
        return out
    data = dict(out.get("data") or {})
    kept: dict = {}
    for mime, value in data.items():
        if mime == "text/plain":
            kept[mime] = value if isinstance(value, str) else "".join(map(str, value))
        elif mime == "text/html":
            kept[mime] = clean_html(value if isinstance(value, str) else "".join(map(str, value)))
        elif mime in SAFE_IMAGES:
            text = value if isinstance(value, str) else "".join(map(str, value))
            if _BASE64.match(text):
                kept[mime] = text
    if not kept:
        kept["text/plain"] = "(an output the feedback cannot show safely was removed)"
    out["data"] = kept
    meta = {}
    for mime, m in (out.get("metadata") or {}).items():
        if mime in SAFE_IMAGES and isinstance(m, dict):
            dims = {k: int(v) for k, v in m.items()
                    if k in ("width", "height") and isinstance(v, (int, float)) and not isinstance(v, bool)}
            if dims:
                meta[mime] = dims
    out["metadata"] = meta
    return out


def _clean_markdown(source: str) -> str:
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    rendered = clean_html(markdown2html_mistune(source))
    # one raw HTML block (no blank line, no newline: markdown will not parse inside it again)
    return "<div>" + rendered.replace("\r", "").replace("\n", "&#10;") + "</div>"


class SanitizeStudentOutputs(NbGraderPreprocessor):
    """Make every output and markdown cell safe to open in a browser (see the module docstring)."""

    def preprocess_cell(self, cell, resources, index):
        meta = nbgrader_meta(cell)
        if isinstance(meta, dict) and "grade_id" in meta and not _GRADE_ID.match(str(meta["grade_id"])):
            meta["grade_id"] = f"cell-{index}"
        if cell.cell_type == "markdown":
            cell.source = _clean_markdown(cell.source)
            cell.pop("attachments", None)
        elif cell.cell_type == "code":
            cell.outputs = [_safe_output(o) for o in cell.get("outputs", [])]
        elif cell.cell_type == "raw":
            cell.source = html_lib.escape(cell.source)
            cell.metadata.pop("raw_mimetype", None)
            cell.metadata.pop("format", None)
        return cell, resources


# ---------------------------------------------------------------------------------------------
# What the leak check searches


_TAG = re.compile(r"<[^<>]*>")
_B64_RUN = re.compile(r"[A-Za-z0-9+/_\-]{16,}={0,2}")


def _b64_decoded(text: str, limit: int = 4000) -> list[str]:
    out = []
    for i, m in enumerate(_B64_RUN.finditer(text)):
        if i >= limit:
            break
        run = m.group(0)
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                raw = decode(run + "=" * (-len(run) % 4))
            except (binascii.Error, ValueError):
                continue
            decoded = raw.decode("utf-8", "ignore")
            if decoded and sum(ch.isprintable() or ch.isspace() for ch in decoded) > 0.9 * len(decoded):
                out.append(decoded)
                break
    return out


def leak_views(html_path: str | Path) -> list[str]:
    """Every reading of an HTML file that a hidden line could hide in (see the module docstring)."""
    raw = Path(html_path).read_bytes().decode("utf-8", "replace")
    views = [raw]
    unescaped = html_lib.unescape(raw)
    views.append(unescaped)
    # tags removed, but scripts', styles' and comments' content kept
    opened = unescaped.replace("<!--", " ").replace("-->", " ")
    views.append(_TAG.sub(" ", opened))
    views.append(html_lib.unescape(_TAG.sub(" ", raw.replace("<!--", " ").replace("-->", " "))))
    more = []
    for v in views:
        decoded = urllib.parse.unquote(v)
        if decoded != v:
            more.append(decoded)
            more.append(html_lib.unescape(_TAG.sub(" ", decoded)))
    views += more
    for v in list(views[:2]):
        for decoded in _b64_decoded(v):
            views.append(decoded)
            views.append(html_lib.unescape(_TAG.sub(" ", decoded)))
    return views
