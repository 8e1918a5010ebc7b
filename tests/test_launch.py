"""The book's buttons: launch on Binder, Colab and a JupyterHub, download the notebook, and
the repository and issue links; and the Binder environment that makes the launches run.

Every expected link is derived from `_config.yml` and from the files git tracks, so a link
that points at a file the repository does not hold, or at a service that cannot open it,
fails here rather than in a reader's browser.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
from urllib.parse import parse_qs, urlsplit

import nbformat
import pytest
import yaml

from conftest import ROOT

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
REPO = CONFIG["repository"]["url"].rstrip("/")
BRANCH = CONFIG["repository"]["branch"]
OWNER, NAME = urlsplit(REPO).path.strip("/").split("/")
LAUNCH = CONFIG["launch_buttons"]


def tracked() -> set[str]:
    return set(subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.split())


def notebook_sources() -> dict[str, str]:
    """page name -> the repository file it is built from, for every notebook page."""
    pages = {}
    for path in sorted(tracked()):
        if not path.startswith("chapters/"):
            continue
        if path.endswith(".ipynb") or (path.endswith(".md") and "kernelspec:" in (ROOT / path).read_text()):
            pages[path.rsplit(".", 1)[0]] = path
    return pages


def dropdown(html: str, name: str) -> dict[str, str]:
    """The links of one header dropdown (launch-buttons, source-buttons, download-buttons): text -> href."""
    block = re.search(rf'<div class="dropdown dropdown-{name}">(.*?)</ul>', html, re.S)
    if block is None:
        return {}
    return {text.strip(): href.replace("&amp;", "&") for href, text in re.findall(
        r'<a href="([^"]+)".*?btn__text-container">([^<]+)<', block.group(1), re.S)}


def test_the_repository_address_is_one_the_launch_services_understand():
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", REPO), REPO
    for key in ("binderhub_url", "colab_url"):
        assert LAUNCH.get(key, "").startswith("https://"), f"launch_buttons.{key} is not set"
    # a class's own hub is optional: no button until it is set (tests/test_book.py builds both)
    assert LAUNCH.get("jupyterhub_url") is None or LAUNCH["jupyterhub_url"].startswith("https://")


def test_every_notebook_page_launches_its_own_file_from_the_repository(book):
    sources = notebook_sources()
    assert sum(s.endswith(".ipynb") for s in sources.values()) >= 3    # the exercise notebooks
    assert sum(s.endswith(".md") for s in sources.values()) >= 6       # the narrative pages
    with_buttons = {p.relative_to(book).with_suffix("").as_posix() for p in book.rglob("*.html")
                    if "dropdown-launch-buttons" in p.read_text()}
    assert with_buttons == set(sources), "launch buttons on exactly the notebook pages"

    for page, source in sources.items():
        links = dropdown((book / f"{page}.html").read_text(), "launch-buttons")
        assert links["Binder"] == (f"{LAUNCH['binderhub_url']}/v2/gh/{OWNER}/{NAME}/{BRANCH}"
                                   f"?urlpath=lab/tree/{source}"), page
        if not LAUNCH.get("jupyterhub_url"):
            assert "JupyterHub" not in links, f"{page}: a JupyterHub button with no hub configured"
        else:
            hub = urlsplit(links["JupyterHub"])
            assert f"{hub.scheme}://{hub.netloc}" == LAUNCH["jupyterhub_url"].rstrip("/")
            assert hub.path == "/hub/user-redirect/git-pull"    # nbgitpuller clones, then opens the file
            assert parse_qs(hub.query) == {"repo": [REPO], "branch": [BRANCH],
                                           "urlpath": [f"lab/tree/{NAME}/{source}"]}, page
        if source.endswith(".ipynb"):
            assert links["Colab"] == f"{LAUNCH['colab_url']}/github/{OWNER}/{NAME}/blob/{BRANCH}/{source}"
        else:
            assert "Colab" not in links, f"{page}: Colab cannot open a MyST text notebook"


def test_every_page_links_the_repository_and_its_issue_tracker(book):
    pages = [p for p in book.rglob("*.html") if "_static" not in p.parts and "mathjax" not in p.parts
             and p.name not in {"search.html", "genindex.html", "index.html"}]   # index.html redirects
    assert len(pages) >= 15
    for path in pages:
        links = dropdown(path.read_text(), "source-buttons")
        name = path.relative_to(book).as_posix()
        assert links.get("Repository") == REPO, name
        issue = links.get("Open issue", "")
        assert issue.startswith(f"{REPO}/issues/new?"), name
        assert name in parse_qs(urlsplit(issue).query)["title"][0], "the issue names its page"


def test_every_notebook_page_offers_its_notebook_for_download(book):
    for page, source in notebook_sources().items():
        links = dropdown((book / f"{page}.html").read_text(), "download-buttons")
        href = links.get(".ipynb")
        assert href is not None, f"{page} has no .ipynb download"
        notebook = ((book / page).parent / href).resolve()
        assert notebook.is_file(), f"{page}: {href} is missing from the build"
        nb = nbformat.read(notebook, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        if source.endswith(".md"):
            # the narrative downloads as the book executed it, figures and all
            assert code and all(c.execution_count for c in code), page
            assert any(o.get("output_type") == "display_data" for c in code for o in c.outputs), page
        else:
            assert nbformat.read(ROOT / source, as_version=4).cells == nb.cells, \
                f"{page}: the download differs from the student notebook in the repository"


# ------------------------------------------------------------------ what the launch opens

def test_binder_installs_descentlab_and_opens_text_pages_as_notebooks(tmp_path):
    requirements = [ln.strip() for ln in (ROOT / "binder" / "requirements.txt").read_text().splitlines()
                    if ln.strip() and not ln.startswith("#")]
    assert ".[plot,torch]" in requirements, "Binder installs descentlab, with matplotlib and chapter 8's torch"
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in requirements, "torch's CPU wheel, not CUDA's"
    assert any(ln.startswith("jupytext") for ln in requirements)
    assert any(ln.startswith("jupyterlab-myst") for ln in requirements), "MyST directives render in JupyterLab"
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    assert runtime == "python-3.11", runtime
    assert {"binder/requirements.txt", "binder/runtime.txt", "binder/postBuild"} <= tracked()

    post_build = ROOT / "binder" / "postBuild"
    assert post_build.stat().st_mode & 0o111, "repo2docker runs postBuild only when it is executable"
    result = subprocess.run([str(post_build)], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    overrides = json.loads((tmp_path / ".jupyter" / "labconfig" / "default_setting_overrides.json").read_text())
    viewers = overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers["markdown"] == "Jupytext Notebook"


def test_jupytext_opens_each_page_with_the_code_the_book_runs():
    """Binder and JupyterHub open a MyST page through jupytext; the book executes it through
    myst-nb. Both must see the same code cells, or a reader launches something else."""
    jupytext = pytest.importorskip("jupytext")
    from myst_nb.core.read import read_myst_markdown_notebook

    pages = [ROOT / s for s in notebook_sources().values() if s.endswith(".md")]
    for path in pages:
        text = path.read_text()
        launched = [c.source for c in jupytext.reads(text, fmt="md:myst").cells if c.cell_type == "code"]
        built = [c.source for c in read_myst_markdown_notebook(text).cells if c.cell_type == "code"]
        assert launched and launched == built, path.relative_to(ROOT)


# ------------------------------------------------------------------ the extension that trims the buttons

def load_extension():
    spec = importlib.util.spec_from_file_location("page_buttons", ROOT / "_ext" / "page_buttons.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_colab_is_dropped_only_from_text_notebooks():
    ext = load_extension()

    def context(suffix):
        return {"page_source_suffix": suffix, "header_buttons": [
            {"label": "launch-buttons", "buttons": [{"text": t} for t in ("Binder", "JupyterHub", "Colab")]}]}

    md, ipynb = context(".md"), context(".ipynb")
    ext.drop_colab_from_text_notebooks(None, "page", "page.html", md, None)
    ext.drop_colab_from_text_notebooks(None, "page", "page.html", ipynb, None)
    assert [b["text"] for b in md["header_buttons"][0]["buttons"]] == ["Binder", "JupyterHub"]
    assert [b["text"] for b in ipynb["header_buttons"][0]["buttons"]] == ["Binder", "JupyterHub", "Colab"]


@pytest.mark.parametrize("url, warns", [
    ("https://github.com/descentlab/backprop-optimization", False),
    ("https://github.com/executablebooks/jupyter-book", False),
    ("https://gitlab.example.org/course/book", True),
    ("", True),
])
def test_a_repository_that_launch_services_cannot_use_is_reported(url, warns, monkeypatch):
    ext = load_extension()
    warnings = []
    monkeypatch.setattr(ext.logger, "warning", lambda *a, **k: warnings.append(a))

    class App:
        class config:
            html_theme_options = {"repository_url": url, "launch_buttons": {"binderhub_url": "https://mybinder.org"}}

    ext.check_repository(App)
    assert bool(warnings) == warns


# ------------------------------------------------------------------ in a real browser

def test_the_launch_menu_opens_on_an_exercise_page(book, server, browser):
    context = browser.new_context()
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server) else r.abort())
    page = context.new_page()
    page.goto(server + "chapters/01-gradients/exercises.html", wait_until="networkidle")
    menu = page.locator(".dropdown-launch-buttons .dropdown-menu a")
    assert not menu.first.is_visible()
    page.locator(".dropdown-launch-buttons button").click()
    menu.first.wait_for(state="visible", timeout=5000)
    texts = [t.strip() for t in menu.all_inner_texts()]
    context.close()
    assert texts == (["Binder", "JupyterHub", "Colab"] if LAUNCH.get("jupyterhub_url") else ["Binder", "Colab"])
