"""Claims in the text are checked by the pages' own code, so a claim that stops holding fails the build.

Every narrative page states numbers, comparisons and causes; each is backed by an `assert` in the
page's code (often in a cell hidden from the reader, tagged `remove-cell`). The book executes every
page with errors raised (`_config.yml`: `allow_errors: false`, `nb_execution_raise_on_error`), so a
failing check is a failing `make book`. These tests show both halves: that a real page's checks
catch a changed experiment, and that the book's own configuration turns a failed check into a failed
build (and a true one into a built page).
"""

from __future__ import annotations

import re
import shutil

import jupytext
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from conftest import BIN, ROOT, run

PAGES = sorted(p for p in (ROOT / "chapters").glob("*/*.md") if p.name != "index.md")


def code_cells(page):
    return [c for c in jupytext.read(page).cells if c.cell_type == "code"]


def test_every_narrative_page_checks_claims_in_its_own_code():
    assert len(PAGES) >= 12
    for page in PAGES:
        checks = sum(len(re.findall(r"^\s*assert ", c.source, re.M)) for c in code_cells(page))
        assert checks >= 2, f"{page.relative_to(ROOT)} checks {checks} claims in its code; its text makes more"


def execute(nb, cwd):
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()


def test_a_changed_experiment_breaks_a_claim_check_on_the_page():
    """Chapter 6's stability page, with its training set halved: the text's numbers no longer hold."""
    page = ROOT / "chapters" / "06-sgdem" / "stability.md"
    text = page.read_text()
    original = "split = data.breast_cancer(np.random.default_rng(0))"
    assert text.count(original) == 1
    nb = jupytext.reads(text.replace(original, original[:-1] + ", test_fraction=0.5)"), fmt="md:myst")
    with pytest.raises(CellExecutionError) as failure:
        execute(nb, page.parent)
    assert "AssertionError" in str(failure.value)
    failed = next(c for c in nb.cells if c.cell_type == "code" and any(o.get("output_type") == "error"
                                                                       for o in c.get("outputs", [])))
    assert "remove-cell" in failed.metadata.get("tags", []) and "Checks of the claims" in failed.source


PAGE = """---
jupytext:
  text_representation: {{extension: .md, format_name: myst}}
kernelspec: {{display_name: Python 3, language: python, name: python3}}
---

# A page with one claim

The mean of 1, 2 and 3 is 2.

```{{code-cell}} ipython3
:tags: [remove-cell]
values = [1, 2, 3]
assert sum(values) / len(values) == {mean}, "text says 'the mean is 2'"
```
"""


@pytest.mark.parametrize("mean, builds", [(2, True), (3, False)])
def test_the_book_build_fails_when_a_claim_check_fails(tmp_path, mean, builds):
    """The book's own _config.yml, one page: a false check fails `jupyter-book build -W`, a true one builds."""
    for name in ("_config.yml", "references.bib"):
        shutil.copy(ROOT / name, tmp_path / name)
    for folder in ("_ext", "_static"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    (tmp_path / "_extra").mkdir()
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    (tmp_path / "page.md").write_text(PAGE.format(mean=mean))
    result = run([BIN / "jupyter-book", "build", tmp_path, "--path-output", tmp_path, "-W", "-n", "--keep-going"],
                 cwd=tmp_path, timeout=600, check=False)
    out = result.stdout + result.stderr
    if builds:
        assert result.returncode == 0, out[-3000:]
        assert "The mean of 1, 2 and 3 is 2." in (tmp_path / "_build" / "html" / "page.html").read_text()
    else:
        assert result.returncode != 0 and "AssertionError" in out, out[-3000:]
