"""A local Sphinx extension that keeps every page's scripts free of console errors.

sphinx-thebe (loaded by jupyter-book 1 whether or not thebe is used) registers its
inline configuration script once per read phase, so a page can carry two copies of
``const THEBE_JS_URL = ...`` and the browser logs "Identifier 'THEBE_JS_URL' has
already been declared". Dropping exact duplicates from each page's script list
fixes that without touching the packages.
"""

from __future__ import annotations


def _key(script) -> tuple:
    attributes = getattr(script, "attributes", {}) or {}
    # The same inline script is registered once with filename None and once with "".
    filename = getattr(script, "filename", script) or ""
    return (str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items())))


def dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    seen, unique = set(), []
    for script in context.get("script_files", []):
        key = _key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
