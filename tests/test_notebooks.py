"""nbval: every stored notebook re-executes to the outputs it stores.

The exercise sources in solutions/ store their outputs; the narrative pages are
MyST Markdown executed by the book build, which writes the executed notebooks to
_build/jupyter_execute/. Re-running both with nbval (strict output comparison,
sanitised for memory addresses and float noise) proves the outputs are
deterministic and current.
"""

import json
import shutil
import sys
from pathlib import Path

from conftest import ROOT, run

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


def test_narrative_pages_reexecute_to_the_built_outputs(book):
    executed = sorted(p for p in (ROOT / "_build" / "jupyter_execute" / "chapters").rglob("*.ipynb")
                      if p.name != "exercises.ipynb")
    md_pages = [p for p in (ROOT / "chapters").rglob("*.md") if "code-cell" in p.read_text()]
    assert len(executed) == len(md_pages) > 0
    result = nbval(executed)
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


def test_each_narrative_page_executes_in_under_30_seconds(book):
    """A reader's build stays fast: every executed page re-runs in under 30 s on this machine."""
    import time

    import nbformat
    from nbclient import NotebookClient

    executed = sorted(p for p in (ROOT / "_build" / "jupyter_execute" / "chapters").rglob("*.ipynb")
                      if p.name != "exercises.ipynb")
    assert executed
    slow = []
    for path in executed:
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        NotebookClient(nb, timeout=120, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        seconds = time.perf_counter() - start
        print(f"{path.relative_to(ROOT)}: {seconds:.1f} s")
        if seconds >= 30:
            slow.append(f"{path.name}: {seconds:.1f} s")
    assert not slow, f"pages slower than 30 s: {slow}"
