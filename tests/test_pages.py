"""The narrative pages as a reader takes them away: downloaded, run elsewhere, read.

A page downloaded from the book is a notebook with the page's code. It says, near its top,
the one line that installs what it imports; that line, run in a fresh environment, is
enough to run it. Its code fits in 88 columns (no sideways scrolling in the book), and
what it prints is plain text: TeX belongs in figure labels (matplotlib renders it) and in
the page's prose, not in printed output, where it shows as `$\\alpha$`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import jupytext
import pytest
import yaml

import descentlab
from conftest import ROOT, run

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
REPOSITORY = CONFIG["repository"]["url"].rstrip("/")
INSTALL = f'pip install "descentlab[plot] @ git+{REPOSITORY}"'
INSTALL_TORCH = f'pip install "descentlab[plot,torch] @ git+{REPOSITORY}"'   # chapter 8 needs PyTorch
WIDTH = 88
# The page the fresh environment runs: it draws (matplotlib) and imports descentlab,
# and runs in a few seconds.
REPRESENTATIVE = ROOT / "chapters" / "01-gradients" / "directional-derivatives.md"


def code_cells(page: Path) -> list[str]:
    return [c.source for c in jupytext.read(page).cells if c.cell_type == "code"]


PAGES = sorted(p for p in [*ROOT.glob("*.md"), *ROOT.glob("chapters/*/*.md")]
               if p.name != "README.md" and code_cells(p))


def name(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def test_the_pages_with_code_are_found():
    assert len(PAGES) >= 12, [name(p) for p in PAGES]
    assert REPRESENTATIVE in PAGES


def test_one_install_line_everywhere():
    # the library's own error message (descentlab.plots without matplotlib) says the same
    assert descentlab.INSTALL == INSTALL and descentlab.INSTALL_TORCH == INSTALL_TORCH
    assert REPOSITORY.startswith("https://github.com/")


def install_line(page: Path) -> str:
    """The line a page must show: chapter 8's pages import torch, every other page does not."""
    return INSTALL_TORCH if page.parent.name.startswith("08-") else INSTALL


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_the_page_says_how_to_run_it_near_its_top(page):
    notebook = jupytext.read(page)
    text = page.read_text()
    INSTALL = install_line(page)   # noqa: N806
    if INSTALL != INSTALL_TORCH:
        imports = re.compile(r"^\s*(import torch|from torch|from descentlab import torch)", re.M)
        assert not any(imports.search(c) for c in code_cells(page)), f"{name(page)} imports torch outside ch. 8"
    assert text.count(INSTALL) == 1, f"{name(page)} should say, once: {INSTALL}"
    others = [m for m in re.findall(r"pip install[^`\n]*", text) if m != INSTALL]
    assert not others, f"{name(page)}: another install line {others}"
    first_code = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code")
    before = "".join(c.source for c in notebook.cells[:first_code] if c.cell_type == "markdown")
    assert INSTALL in before, f"{name(page)}: the install line should come before the first code cell"
    # the downloaded notebook is this one: jupytext keeps markdown cells as they are
    assert INSTALL in "".join(c.source for c in jupytext.reads(jupytext.writes(notebook, "ipynb"), "ipynb").cells)


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_code_fits_in_88_columns(page):
    long = [(i, len(line)) for i, cell in enumerate(code_cells(page), 1)
            for line in cell.splitlines() if len(line) > WIDTH]
    assert not long, f"{name(page)}: code lines longer than {WIDTH} (cell, length): {long}"


# The student notebooks the book shows (chapters/<ch>/exercises.ipynb) fit too, their
# check-helper block (copied from tools/checks.py) included.
EXERCISES = sorted(ROOT.glob("chapters/*/exercises.ipynb"))


def long_notebook_lines(cells: list[str]) -> list[tuple[int, int]]:
    """(code cell number, length) of each line over WIDTH."""
    return [(i, len(line)) for i, cell in enumerate(cells, 1) for line in cell.splitlines()
            if len(line) > WIDTH]


def test_the_exercise_notebooks_are_found():
    assert len(EXERCISES) >= 6, [name(p) for p in EXERCISES]


@pytest.mark.parametrize("notebook", EXERCISES, ids=name)
def test_exercise_code_fits_in_88_columns(notebook):
    cells = [c.source for c in jupytext.read(notebook).cells if c.cell_type == "code"]
    long = long_notebook_lines(cells)
    assert not long, (f"{name(notebook)}: code lines longer than {WIDTH} (code cell, length): {long}; "
                      "rewrap the source in solutions/ and run tools/release.py")


def script(page: Path) -> str:
    """The page's code cells as one Python script, IPython magics left out."""
    lines = [line for cell in code_cells(page) for line in cell.splitlines() + [""]
             if not line.lstrip().startswith(("%", "!"))]
    return "\n".join(lines)


def test_the_script_of_a_page_is_its_code():
    text = script(REPRESENTATIVE)
    assert "%matplotlib" not in text and "import matplotlib" in text and "descentlab" in text
    compile(text, name(REPRESENTATIVE), "exec")


def test_descentlab_imports_without_matplotlib():
    """NumPy and scikit-learn are the only requirements; plots says what to install."""
    probe = ("import sys; sys.modules['matplotlib'] = None\n"
             "import descentlab\n"
             "from descentlab import grad, optim, train\n"
             "try:\n    from descentlab import plots\n"
             "except ImportError as e:\n    print('ImportError:', e)\n"
             "else:\n    print('imported')\n")
    out = run([sys.executable, "-c", probe]).stdout
    assert out.startswith("ImportError:") and INSTALL in out and "matplotlib" in out, out


def test_a_downloaded_page_runs_after_its_install_line(tmp_path):
    """A fresh virtual environment (no site packages), the page's install line with the
    repository's address replaced by this checkout, and the page's code as a script.
    The environment is pinned by constraints.txt, as `make` is, so the result does not
    change when a dependency releases."""
    # A copy of what pip builds from, so the build leaves nothing in this checkout.
    source = tmp_path / "descentlab-src"
    source.mkdir()
    for part in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / part, source / part)
    shutil.copytree(ROOT / "src" / "descentlab", source / "src" / "descentlab",
                    ignore=shutil.ignore_patterns("__pycache__"))
    requirement = INSTALL.removeprefix("pip install ").strip('"').replace(f"git+{REPOSITORY}", source.as_uri())
    assert requirement.startswith("descentlab[plot] @ file://")

    venv = tmp_path / "venv"
    started = time.monotonic()
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    # this environment's pip installs into the fresh one (saves installing pip there)
    run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-compile",
         "--disable-pip-version-check", "-c", ROOT / "constraints.txt", requirement], timeout=600)
    installed = time.monotonic() - started

    code = script(REPRESENTATIVE) + (
        "\nimport sys, matplotlib, numpy, descentlab\n"
        "print('FROM', sys.prefix, matplotlib.__file__, numpy.__file__, descentlab.__file__)\n")
    (tmp_path / "page.py").write_text(code)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "JUPYTER"))}
    env.update(MPLBACKEND="Agg", PYTHONHASHSEED="0")
    result = subprocess.run([python, tmp_path / "page.py"], cwd=REPRESENTATIVE.parent, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"the page failed in the fresh environment:\n{result.stderr[-4000:]}"
    assert result.stderr == "", f"the page wrote to stderr (the book build fails on that):\n{result.stderr}"
    where = result.stdout.rsplit("FROM ", 1)[1].split()
    assert where[0] == str(venv) and all(w.startswith(str(venv)) for w in where[1:]), where
    print(f"fresh environment installed in {installed:.0f} s")


# ------------------------------------------------------------------ printed output is plain text

TEX = re.compile(r"\$[^$\n]*\$|\\(?:alpha|beta|gamma|delta|epsilon|varepsilon|lambda|mu|eta|theta|rho|"
                 r"sigma|kappa|nabla|mathbf|boldsymbol|frac|sqrt|Vert|cdot|top|le|ge|leq|geq|ell)(?![A-Za-z])|\\\|")


class OutputText(HTMLParser):
    """The printed text of every cell output: the `<pre>` blocks inside MyST-NB's `div.cell_output`
    (a figure's caption there is typeset by MathJax, not printed)."""

    def __init__(self):
        super().__init__()
        self.depth, self.pre, self.outputs, self.current = 0, 0, [], None

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if self.depth:
            self.depth += tag == "div"
            self.pre += tag == "pre"
        elif tag == "div" and "cell_output" in classes:
            self.depth, self.current = 1, []

    def handle_endtag(self, tag):
        if self.depth and tag == "pre":
            self.pre -= 1
            self.current.append("\n")
        if self.depth and tag == "div":
            self.depth -= 1
            if not self.depth:
                self.outputs.append("".join(self.current))

    def handle_data(self, data):
        if self.depth and self.pre:
            self.current.append(data)


def tex_in_outputs(html: str) -> list[str]:
    parser = OutputText()
    parser.feed(html)
    return [line.strip() for text in parser.outputs for line in text.splitlines() if TEX.search(line)]


def test_the_scan_finds_tex_in_outputs_only():
    page = ('<p>Prose with <span class="math">\\(\\alpha\\)</span> and $x$.</p>'
            '<div class="cell docutils container"><div class="cell_input"><pre>print("$\\alpha$")</pre></div>'
            '<div class="cell_output docutils container"><div class="output stream highlight-myst-ansi">'
            '<div class="highlight"><pre><span></span>SGD, $\\alpha = 0.01$\nSGD, α = 0.1\n'
            'mean \\|w\\| 3.2\n</pre></div></div></div></div>')
    assert tex_in_outputs(page) == ["SGD, $\\alpha = 0.01$", "mean \\|w\\| 3.2"]
    assert tex_in_outputs(page.replace("$\\alpha = 0.01$", "α = 0.01").replace("\\|w\\|", "‖w‖")) == []
    assert tex_in_outputs('<div class="cell_output"><pre>step \\frac12 g</pre></div>') == ["step \\frac12 g"]
    caption = ('<div class="cell_output"><figure><img alt="a"/><figcaption><p>Loss for '
               '<span class="math">\\(\\alpha = 0.1\\)</span></p></figcaption></figure></div>')
    assert tex_in_outputs(caption) == []                   # captions are typeset, not printed


@pytest.mark.book
def test_printed_output_has_no_tex(book):
    found = {}
    for page in sorted(book.rglob("*.html")):
        if "_static" in page.parts or "mathjax" in page.parts:
            continue
        hits = tex_in_outputs(page.read_text())
        if hits:
            found[page.relative_to(book).as_posix()] = hits[:5]
    assert not found, ("printed output shows raw TeX; print plain words or Unicode (α, μ, β, ‖w‖) "
                       f"instead: {found}")
