"""nbval: every stored notebook re-executes to the outputs it stores.

The exercise sources in solutions/ store their outputs; the narrative pages are
MyST Markdown executed by the book build, which keeps the executed notebooks in
jupyter-book's cache. Re-running both with nbval (strict output comparison,
sanitised for memory addresses and float noise) proves the outputs are
deterministic and current.
"""

import json
import sys
from pathlib import Path

import nbformat

from conftest import AFTER_BOOK, AFTER_BOOK_JOBS, ROOT, run

SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"


def nbval(paths, cwd=ROOT, check=True):
    return run([sys.executable, "-m", "pytest", "--nbval", "--nbval-sanitize-with", SANITIZE,
                "-p", "no:cacheprovider", "-q", "--rootdir", cwd, *paths], cwd=cwd, check=check)


def test_solution_notebooks_reexecute_to_their_outputs():
    sources = sorted((ROOT / "solutions").glob("*/*.ipynb"))
    assert sources
    for src in sources:
        nb = json.loads(src.read_text())
        outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
        assert outputs, f"{src} stores no outputs: run `make release`"
    result = nbval(sources)
    assert "passed" in result.stdout


def narrative_pages() -> list[Path]:
    return sorted(p for p in (ROOT / "chapters").rglob("*.md") if "code-cell" in p.read_text())


def executed_narrative(tmp_path: Path) -> list[Path]:
    """The narrative pages as the book build executed them, taken from jupyter-book's cache.

    (_build/jupyter_execute is not used: when a page's code is unchanged, myst-nb takes the
    outputs from the cache but writes that copy without them.)
    """
    from jupyter_cache import get_cache
    from myst_nb.core.read import read_myst_markdown_notebook

    cache = get_cache(str(ROOT / "_build" / ".jupyter_cache"))
    out = []
    for page in narrative_pages():
        nb = read_myst_markdown_notebook(page.read_text())
        _, executed = cache.merge_match_into_notebook(nb)
        outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])]
        assert outputs, f"{page.relative_to(ROOT)}: the cache holds no outputs for the current source"
        dest = tmp_path / page.parent.name / page.with_suffix(".ipynb").name
        dest.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(executed, dest)
        out.append(dest)
    return out


def reexecute_narrative(scratch: Path):
    """The executed pages from the cache, and nbval's re-execution of them: (pages, result)."""
    executed = executed_narrative(scratch)
    return executed, nbval(executed, cwd=scratch, check=False)


# started by the `book` fixture as soon as the book is built (conftest.AFTER_BOOK_JOBS)
AFTER_BOOK_JOBS["narrative-nbval"] = reexecute_narrative


def test_narrative_pages_reexecute_to_the_built_outputs(book):
    executed, result = AFTER_BOOK["narrative-nbval"].result(timeout=1800)
    assert len(executed) == len(narrative_pages()) >= 6
    assert result.returncode == 0, f"nbval failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    assert "passed" in result.stdout


def test_nbval_catches_a_stale_output(tmp_path):
    """The check can fail: a stored output that the code no longer produces is reported."""
    src = ROOT / "solutions" / "01-gradients" / "exercises.ipynb"
    nb = json.loads(src.read_text())
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            if out.get("name") == "stdout" and "tests passed" in "".join(out["text"]):
                out["text"] = ["central_difference: tests FAILED\n"]
                break
    stale = tmp_path / "stale.ipynb"
    stale.write_text(json.dumps(nb))
    result = nbval([stale], cwd=tmp_path, check=False)
    assert result.returncode != 0 and "failed" in result.stdout
