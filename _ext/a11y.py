"""A local Sphinx extension that fixes the accessibility faults of the themes' HTML at build time.

axe-core finds these in the pages that pydata-sphinx-theme, sphinx-book-theme and
docutils write (tests/test_book.py runs it on every page):

* ``summary-name`` (serious): the sidebar's collapsible table of contents puts an
  icon-only ``<summary>`` (a chevron marked ``role="presentation"``) next to each
  chapter link, so a screen reader announces a nameless button. Each such summary is
  named after the chapter whose pages it shows or hides.
* ``aria-required-children`` (critical), ``aria-deprecated-role`` and
  ``aria-allowed-role``: docutils writes the bibliography as ``<div role="list">``
  whose entries carry ``role="doc-biblioentry"``, a role ARIA 1.2 deprecates and that
  a list does not accept as its child. The entries become ``role="listitem"``.

The fixes change the HTML as it is written, so the pages need no script to be
accessible. The colour contrast of links in tinted boxes and a visible keyboard focus
are CSS (``_static/custom.css``); the search snippets are ``_static/search_snippets.js``.
"""

from __future__ import annotations

import functools
import re

BIBLIOENTRY = re.compile(r'(<div class="citation"[^>]*?\s)role="doc-biblioentry"')


def name_toc_toggles(soup) -> None:
    """Give every text-less ``<summary>`` in a table of contents the name of its chapter."""
    for summary in soup.select("summary"):
        if summary.get_text(strip=True) or summary.get("aria-label"):
            continue
        item = summary.find_parent("li")
        link = item.find("a", recursive=False) if item is not None else None
        title = " ".join(link.get_text(" ", strip=True).split()) if link is not None else ""
        summary["aria-label"] = f"Pages in {title}" if title else "Pages in this section"


def label_toctree(app, pagename, templatename, context, doctree) -> None:
    generate = context.get("generate_toctree_html")
    if generate is None or getattr(generate, "_a11y", False):
        return

    @functools.wraps(generate)
    def generate_named(*args, **kwargs):
        out = generate(*args, **kwargs)
        if hasattr(out, "select"):          # a BeautifulSoup tree ("sidebar"), cached per page
            name_toc_toggles(out)
        return out

    generate_named._a11y = True
    context["generate_toctree_html"] = generate_named


def fix_bibliography_roles(app, pagename, templatename, context, doctree) -> None:
    body = context.get("body")
    if body and "doc-biblioentry" in body:
        context["body"] = BIBLIOENTRY.sub(r'\1role="listitem"', body)


def setup(app):
    # after pydata-sphinx-theme puts generate_toctree_html into the context (priority 500)
    app.connect("html-page-context", label_toctree, priority=800)
    app.connect("html-page-context", fix_bibliography_roles, priority=800)
    app.add_js_file("search_snippets.js")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
