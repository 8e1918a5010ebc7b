"""Time a cold book build and a rebuild with nothing changed.

    .venv/bin/python benchmarks/book_build.py

The repository is copied (without _build) to a scratch folder, where the book is
built twice with the same command `make book` runs: first cold (every page
executed, every page written), then again with nothing changed (the execution
cache is reused and Sphinx rewrites nothing). It prints both times and their
ratio. Run it with `make book` done once, so the venv and MathJax exist.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IGNORE = shutil.ignore_patterns("_build", ".venv", ".git", ".mathjax", "__pycache__", ".pytest_cache",
                                "submitted", "autograded", "feedback", "release", "gradebook.db")


def build(where: Path) -> float:
    jb = Path(sys.executable).parent / "jupyter-book"
    start = time.perf_counter()
    result = subprocess.run([str(jb), "build", ".", "--path-output", ".", "-W", "-n", "--keep-going"],
                            cwd=where, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"build failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return seconds


def main() -> None:
    if not (ROOT / "_extra" / "mathjax" / "tex-chtml.js").is_file():
        sys.exit("run `make book` once first (it fetches MathJax)")
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "book"
        shutil.copytree(ROOT, copy, ignore=IGNORE)
        cold = build(copy)
        warm = build(copy)
    print(f"cold build (executes every page): {cold:6.1f} s")
    print(f"rebuild with nothing changed:     {warm:6.1f} s   ({cold / warm:.1f}x faster)")


if __name__ == "__main__":
    main()
