"""A local Sphinx extension that keeps every header button one that works.

Launch. sphinx-book-theme builds Binder, JupyterHub and Colab links for every notebook
page, including the MyST text notebooks (``.md``). Binder and a JupyterHub open those
as notebooks once jupytext is installed (``binder/`` does that), but Colab opens only
``.ipynb`` files from GitHub: its button on a text page would lead to an error, so it
is removed there. The repository address is checked once per build.

Download. The ``.ipynb`` a reader downloads from a text page is the copy myst-nb writes
to ``_build/jupyter_execute``. When myst-nb takes a page's outputs from its execution
cache, it writes that copy without them (it saves the notebook it read, not the one it
merged), so the download would hold code and no results. Before the theme copies the
file, the outputs are merged back from the same cache.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
from sphinx.util import logging

logger = logging.getLogger(__name__)

GITHUB_REPO = re.compile(r"^https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/?$")


def check_repository(app) -> None:
    options = app.config.html_theme_options
    url = options.get("repository_url", "")
    launch = options.get("launch_buttons", {})
    if any(launch.get(key) for key in ("binderhub_url", "colab_url", "jupyterhub_url")):
        if not GITHUB_REPO.match(url):
            logger.warning(
                "launch buttons need repository.url in _config.yml to be a GitHub "
                "repository (https://github.com/<owner>/<name>), got %r",
                url,
                type="page_buttons",
            )


def drop_colab_from_text_notebooks(app, pagename, templatename, context, doctree) -> None:
    if context.get("page_source_suffix") == ".ipynb":
        return
    for group in context.get("header_buttons", []):
        if group.get("label") == "launch-buttons":
            group["buttons"] = [b for b in group["buttons"] if b.get("text") != "Colab"]


def has_outputs(nb) -> bool:
    code = [c for c in nb.cells if c.cell_type == "code"]
    return not code or any(c.get("execution_count") for c in code)


def restore_executed_outputs(app, pagename, templatename, context, doctree) -> None:
    if context.get("page_source_suffix") != ".md" or app.config.nb_execution_mode != "cache":
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.is_file():
        return
    nb = nbformat.read(executed, as_version=4)
    if has_outputs(nb):
        return
    from jupyter_cache import get_cache

    cache = get_cache(str(Path(app.srcdir, app.config.nb_execution_cache_path or ".jupyter_cache")))
    try:
        _, merged = cache.merge_match_into_notebook(nb)
    except KeyError:
        logger.warning("%s: no executed copy in the cache for its download", pagename, type="page_buttons")
        return
    nbformat.write(merged, executed)


def setup(app):
    app.connect("builder-inited", check_repository)
    # Before the theme copies the download (priority 501); after it adds the launch buttons.
    app.connect("html-page-context", restore_executed_outputs, priority=500)
    app.connect("html-page-context", drop_colab_from_text_notebooks, priority=502)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
